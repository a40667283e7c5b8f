//! The model picker: every model of `models/index.json`, choosing one loads it.

use fairscreen_core::exit_analysis::parameter_count;
use fairscreen_core::ComputeCost;
use leptos::prelude::*;

use super::format::{megabytes, mmac, thousands};
use crate::state::{AppState, ModelChoice};

/// One picker option's text: name, method, file size, parameters, full-network compute.
fn option_label(m: &ModelChoice) -> String {
    match &m.card {
        Some(c) => format!(
            "{} · {} · {} {} · {} parameters · {} full network",
            m.entry.name,
            c.training.method.split(' ').next().unwrap_or_default(),
            c.quantization,
            megabytes(m.entry.bytes),
            thousands(parameter_count(&c.config)),
            mmac(ComputeCost::of(&c.config).full_network() as f64)
        ),
        None => format!("{} · {}", m.entry.name, megabytes(m.entry.bytes)),
    }
}

const OWN_MODEL: &str = "Or load your own model file (.safetensors written by fairscreen-train; \
     it is checked like ours and stays on this device): ";
const NOT_A_DIAGNOSIS: &str =
    " Not a diagnosis: every model here is a research demo trained on generated images.";

/// The model picker (`#model-picker`): every model with its size and compute; choosing one loads
/// it on the same backend. Says what the loaded model was trained on. It stays usable while an
/// audit runs (the audit goes on for the model it started with).
#[component]
pub fn ModelPicker(state: AppState) -> impl IntoView {
    let (models, page) = (state.models, state.page);
    let locked = move || models.switching.get().is_some() || !page.status.get().is_idle();
    let options = move || {
        models
            .models
            .get()
            .into_iter()
            .map(|m| {
                let name = m.entry.name.clone();
                let selected = {
                    let name = name.clone();
                    move || models.name.get() == name
                };
                let facts = m.card.as_ref().map(|c| {
                    (
                        parameter_count(&c.config).to_string(),
                        ComputeCost::of(&c.config).full_network().to_string(),
                    )
                });
                let (params, macs) = facts.unwrap_or_default();
                view! {
                    <option
                        value=name.clone()
                        prop:selected=selected
                        data-bytes=m.entry.bytes.to_string()
                        data-parameters=params
                        data-macs-full=macs
                    >
                        {option_label(&m)}
                    </option>
                }
            })
            .collect::<Vec<_>>()
    };
    let on_change = move |ev: leptos::ev::Event| state.switch_model(event_target_value(&ev));
    let on_file = move |ev: leptos::ev::Event| {
        let input: web_sys::HtmlInputElement = event_target(&ev);
        if let Some(file) = input.files().and_then(|f| f.get(0)) {
            state.load_own_model_file(file);
        }
        input.set_value("");
    };
    let note = move || {
        models
            .switching
            .get()
            .map(|name| format!("Loading {name}…"))
            .unwrap_or_default()
    };
    let trained_on = move || {
        models
            .card
            .get()
            .map(|c| format!("{} was trained on {}.", c.name, c.training.data))
            .unwrap_or_default()
    };
    view! {
        <div class="picker">
            <label for="model-picker">"Model: "</label>
            <select
                id="model-picker"
                data-model=move || models.name.get()
                data-state=move || {
                    if models.switching.get().is_some() { "switching" } else { "idle" }
                }
                prop:disabled=locked
                on:change=on_change
            >
                {options}
            </select>
            <span class="note">{note}</span>
            <label class="own-model" for="own-model-file">{OWN_MODEL}</label>
            <input
                id="own-model-file"
                type="file"
                accept=".safetensors"
                prop:disabled=locked
                on:change=on_file
            />
            <p class="hint" id="picker-trained-on">
                {trained_on}
                {NOT_A_DIAGNOSIS}
            </p>
        </div>
    }
}
