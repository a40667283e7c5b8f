//! The model card: what the loaded model is, what it was trained on, its size, compute and
//! validation numbers.

use fairscreen_core::exit_analysis::parameter_count;
use fairscreen_core::{ComputeCost, ModelCard};
use leptos::prelude::*;

use fairscreen_core::exit::exit_name;

use super::format::{megabytes, mmac, saved_text, thousands};
use super::peft_mask::{fine_tuning_summary, PeftMaskPicture};
use crate::state::derived::exit_chart;
use crate::state::AppState;

/// Size and compute of a model for the card: parameters, file, MACs of the full network and of
/// each exit under the policy.
fn size_facts(c: &ModelCard, bytes: Option<usize>) -> (String, String) {
    let cost = ComputeCost::of(&c.config);
    let per_exit = cost.macs_per_exit(&c.config.exit_stages);
    let weights = format!(
        "{} · {} parameters{}",
        c.quantization,
        thousands(parameter_count(&c.config)),
        bytes
            .map(|b| format!(" · {} file (sha256 verified)", megabytes(b)))
            .unwrap_or_default()
    );
    let exits = per_exit
        .iter()
        .enumerate()
        .map(|(e, m)| format!("{} {}", exit_name(e, per_exit.len()), mmac(*m as f64)))
        .collect::<Vec<_>>()
        .join(", ");
    let compute = format!(
        "{} for the full network (all stages + final head); leaving at {exits} under the \
         early-exit policy",
        mmac(cost.full_network() as f64)
    );
    (weights, compute)
}

/// The architecture line.
fn architecture(c: &ModelCard) -> String {
    let stages: Vec<usize> = c.config.exit_stages.iter().map(|s| s + 1).collect();
    format!(
        "{} · {} px · widths {:?} · exits after stages {stages:?} + final head · {}",
        c.config.arch, c.config.input_size, c.config.widths, c.quantization
    )
}

/// The pruning line: from which model, which channels, how.
fn pruning(p: &fairscreen_core::format::PruningInfo) -> String {
    let channels: Vec<String> = p.channels.iter().map(|c| c.to_string()).collect();
    format!(
        "from {}: {} of the {} channels of {} removed ({}) — {}",
        p.base,
        p.channels.len(),
        p.base_width,
        p.layer,
        channels.join(", "),
        p.method
    )
}

/// The card body for `c` (a file of `bytes` bytes, shipped with the models `baselines` as its
/// baselines); `policy` is the audit's policy sentence.
fn card_body(
    c: ModelCard,
    bytes: Option<usize>,
    baselines: Vec<String>,
    precision: Signal<String>,
    policy: Signal<Option<String>>,
) -> impl IntoView {
    let metrics = c
        .metrics
        .iter()
        .filter(|(k, _)| k.starts_with(fairscreen_core::card_keys::VALIDATION))
        .map(|(k, v)| {
            view! {
                <tr>
                    <td>{k.clone()}</td>
                    <td>{format!("{v:.3}")}</td>
                </tr>
            }
        })
        .collect::<Vec<_>>();
    let summary = format!(
        "Validation metrics at export ({}, generated images)",
        metrics.len()
    );
    let (weights, compute) = size_facts(&c, bytes);
    let pruned = c.pruning.as_ref().map(|p| {
        view! {
            <dt>"Pruned"</dt>
            <dd id="card-pruning">{pruning(p)}</dd>
        }
    });
    let fine_tuned = c.fine_tuning.clone().map(|f| {
        let summary = fine_tuning_summary(&f, &c.config);
        let baseline_of = f.baseline_of.clone().unwrap_or_default();
        let title = match &f.baseline_of {
            Some(model) => format!("Baseline of {model} (FairTune)"),
            None => "Fine-tuned (FairTune)".to_string(),
        };
        view! {
            <dt>{title}</dt>
            <dd id="card-fine-tuning" data-baseline-of=baseline_of>
                {summary}
                <PeftMaskPicture fine_tuning=f config=c.config.clone() />
            </dd>
        }
    });
    let baselines = (!baselines.is_empty()).then(|| {
        let text = format!(
            "{}. Choose each in the picker and compute its fairness statistics: the comparison \
             table below then sets them side by side with this model.",
            baselines.join(", ")
        );
        view! {
            <dt>"Shipped with its baselines"</dt>
            <dd id="card-baselines" data-models=baselines.join(",")>{text}</dd>
        }
    });
    let theta = format!("{:.3}", c.default_theta);
    let theta_how = c.theta_selection.clone().map(|t| format!(" — {t}"));
    view! {
        <h2>"Model card: " {c.name.clone()}</h2>
        <dl>
            <dt>"Trained on"</dt>
            <dd id="trained-on">{c.training.data.clone()}</dd>
            <dt>"Method"</dt>
            <dd>{c.training.method.clone()}</dd>
            <dt>"Architecture"</dt>
            <dd>{architecture(&c)}</dd>
            <dt>"Weights"</dt>
            <dd id="card-weights">{weights}</dd>
            <dt>"Precision"</dt>
            <dd id="card-precision">{move || precision.get()}</dd>
            <dt>"Compute"</dt>
            <dd id="card-compute">{compute} ". " {move || policy.get()}</dd>
            {pruned}
            {fine_tuned}
            {baselines}
            <dt>"Default θ"</dt>
            <dd id="card-theta">{theta} {theta_how}</dd>
            <dt>"Classes"</dt>
            <dd>{c.config.class_names.join(", ")}</dd>
            <dt>"Rebuild with"</dt>
            <dd>
                <code>{c.training.command.clone()}</code>
            </dd>
        </dl>
        <details class="card-metrics">
            <summary>{summary}</summary>
            <table class="metrics">{metrics}</table>
        </details>
        <p class="disclaimer">{c.disclaimer.clone()}</p>
    }
}

/// The model card (`#card`).
#[component]
pub fn ModelCardView(state: AppState) -> impl IntoView {
    let models = state.models;
    // Mean compute of the policy at θ over the evaluation subset, once the audit has run.
    let policy = Signal::derive(move || {
        exit_chart(state).map(|d| {
            format!(
                "At θ = {:.3} on the evaluation subset: {} per image on average ({}).",
                d.theta,
                mmac(d.policy.mean_macs),
                saved_text(d.policy.compute_saved)
            )
        })
    });
    let precision = Signal::derive(move || models.precision.get());
    let body = move || {
        let card = models.card.get()?;
        let bytes = models.loaded_entry().map(|e| e.bytes);
        // A twin (…-int8, …-f16) was shipped with the baselines of the model it was quantized from.
        let origin = card.quantized_from.clone().unwrap_or(card.name.clone());
        let baselines = models.models.with(|all| {
            all.iter()
                .filter(|m| {
                    m.card
                        .as_ref()
                        .and_then(|c| c.fine_tuning.as_ref())
                        .and_then(|f| f.baseline_of.as_deref())
                        == Some(origin.as_str())
                })
                .map(|m| m.entry.name.clone())
                .collect()
        });
        Some(card_body(card, bytes, baselines, precision, policy))
    };
    view! {
        <section
            id="card"
            class="panel"
            data-name=move || models.card.get().map(|c| c.name).unwrap_or_default()
            data-default-theta=move || {
                models.card.get().map(|c| c.default_theta.to_string()).unwrap_or_default()
            }
        >
            {body}
        </section>
    }
}
