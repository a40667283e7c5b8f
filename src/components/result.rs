//! The prediction: the top classes of the exit that fired at θ.

use fairscreen_core::exit::softmax;
use leptos::prelude::*;

use fairscreen_core::exit::{exit_name_as, ExitNaming};

use super::format::pct;
use crate::state::{ModelState, PhotoState};

const RESULT_DISCLAIMER: &str =
    "Not a diagnosis: a model trained on generated images can be wrong about any real photo.";

/// Top classes of the exit that fired (`#result`, with the raw logits as data attributes).
#[component]
pub fn Prediction(photo: PhotoState, models: ModelState) -> impl IntoView {
    let decision = move || {
        let r = photo.result.get()?;
        r.decision(photo.theta.get())
    };
    let logits_json = move || {
        photo
            .result
            .get()
            .map(|r| serde_json::to_string(&r.logits).unwrap_or_default())
            .unwrap_or_default()
    };
    let names = move || {
        models
            .card
            .get()
            .map(|c| c.config.class_names)
            .unwrap_or_default()
    };
    let rows = move || {
        let r = photo.result.get()?;
        let d = decision()?;
        let probs = softmax(&r.logits[d.exit]);
        let mut order: Vec<usize> = (0..probs.len()).collect();
        order.sort_by(|&a, &b| probs[b].total_cmp(&probs[a]));
        let names = names();
        let items = order
            .into_iter()
            .map(|c| {
                let p = probs[c];
                let name = names
                    .get(c)
                    .cloned()
                    .unwrap_or_else(|| format!("class {c}"));
                view! {
                    <li class="prob">
                        <span class="name">{name}</span>
                        <span class="bar">
                            <span style=format!("width:{:.1}%", 100.0 * p)></span>
                        </span>
                        <span class="value">{pct(p as f64)}</span>
                    </li>
                }
            })
            .collect::<Vec<_>>();
        Some(items)
    };
    let prediction = move || names().get(decision()?.class).cloned();
    let file = move || {
        photo
            .result
            .get()
            .map(|r| r.file.clone())
            .unwrap_or_default()
    };
    let answered_by = move || {
        let exits = photo.result.get()?.exits;
        let d = decision()?;
        let name = exit_name_as(ExitNaming::Sentence, d.exit, exits);
        Some(format!(" (answered by {name})"))
    };
    view! {
        <section
            id="result"
            class="panel"
            class:hidden=move || photo.result.get().is_none()
            data-run=move || photo.runs.get().to_string()
            data-logits=logits_json
            data-exit-fired=move || decision().map(|d| d.exit.to_string()).unwrap_or_default()
            data-prediction=move || prediction().unwrap_or_default()
            data-file=file
            data-theta=move || photo.theta.get().to_string()
        >
            <h2>"Result for " {file}</h2>
            <p class="headline" class:hidden=move || decision().is_none()>
                "Most likely: " <strong>{move || prediction().unwrap_or_default()}</strong>
                {answered_by}
            </p>
            <p class="headline" class:hidden=move || decision().is_some()>
                {move || format!(
                    "Computing deeper exits: none of the exits computed reaches θ = {:.3}…",
                    photo.theta.get(),
                )}
            </p>
            <ol class="probs">{rows}</ol>
            <p class="disclaimer">{RESULT_DISCLAIMER}</p>
        </section>
    }
}
