//! The comparison of every model audited in this browser, side by side.

use fairscreen_core::exit_analysis::parameter_count;
use leptos::prelude::*;

use super::format::{csv, megabytes, mmac, pct, thousands};
use crate::state::derived::{comparison, on_user_data, ComparisonRow};
use crate::state::AppState;

const EXPLANATION: &str =
    "Every model audited in this browser on the evaluation data chosen above, each \
     under the early-exit policy at its own θ (the loaded model's follows the slider). Skin \
     groups: Fitzpatrick I–III vs IV–VI. Choose another model above and compute its fairness \
     statistics to add it: audit a model and its int8 twin (…-int8, the default precision) or \
     f16 twin (…-f16) to see what reduced precision does to each group, or the FairTune model \
     and the baselines shipped with it (…-vs-full-ft, …-vs-readout, …-vs-scratch) to compare \
     fine-tuning masks by worst skin group AUC, the objective its mask was searched for.";
const FOLDER_DISCLAIMER: &str = "Not a diagnosis: research models trained on generated images, \
     audited here on your photos as your labels.csv labels them.";
const DISCLAIMER: &str = "Not a diagnosis: research models trained and evaluated on generated \
     images; these numbers describe how they treat synthetic groups, not real patients.";
const HEADERS: [&str; 13] = [
    "model (weights)",
    "training",
    "θ",
    "accuracy",
    "macro F1",
    "EOdd (abs)",
    "worst skin group acc.",
    "worst skin group AUC",
    "acc. I–III / IV–VI",
    "exits used, % (shallow → final)",
    "compute saved",
    "mean compute per image",
    "images/s in this browser",
];

fn comparison_row(r: &ComparisonRow) -> impl IntoView {
    let eodds = r.report.fme.as_ref().map(|f| f.eodds_abs);
    let worst_auc = r.report.worst_group_auc;
    let shares = r
        .policy
        .exit_share
        .iter()
        .map(|v| format!("{:.0}", 100.0 * v))
        .collect::<Vec<_>>()
        .join(" / ")
        + " %";
    let method = r.card.training.method.clone();
    let title = method.clone();
    let short_method = method.split(" (").next().unwrap_or_default().to_string();
    let parameters = parameter_count(&r.card.config);
    let group_acc = r
        .report
        .groups
        .iter()
        .map(|g| format!("{:.3}", g.accuracy))
        .collect::<Vec<_>>()
        .join(" / ");
    let speed = r
        .audit_ms
        .map(|ms| format!("{:.0}", r.report.overall.n as f64 / (ms / 1000.0)))
        .unwrap_or("—".into());
    view! {
        <tr
            class:active=r.active
            data-model=r.model.clone()
            data-method=method
            data-theta=r.theta.to_string()
            data-bytes=r.bytes.to_string()
            data-accuracy=r.report.overall.accuracy.to_string()
            data-f1=r.report.overall.f1.to_string()
            data-eodds=eodds.map(|v| v.to_string()).unwrap_or_default()
            data-worst-group-accuracy=r.report.worst_group_accuracy.to_string()
            data-worst-group-auc=worst_auc.map(|v| v.to_string()).unwrap_or_default()
            data-exit-share=csv(r.policy.exit_share.iter().copied())
            data-compute-saved=r.policy.compute_saved.to_string()
            data-parameters=parameters.to_string()
            data-precision=r.card.quantization.clone()
            data-group-accuracy=csv(r.report.groups.iter().map(|g| g.accuracy))
            data-audit-ms=r.audit_ms.map(|m| m.to_string()).unwrap_or_default()
        >
            <th>
                {r.model.clone()}
                {r.active.then_some(" (loaded)")}
                <span class="weights">
                    {format!("{} · {}", r.card.quantization, megabytes(r.bytes))}
                </span>
                <span class="weights">{format!("{} parameters", thousands(parameters))}</span>
            </th>
            <td title=title>{short_method}</td>
            <td class="num">{format!("{:.3}", r.theta)}</td>
            <td class="num">{format!("{:.3}", r.report.overall.accuracy)}</td>
            <td class="num">{format!("{:.3}", r.report.overall.f1)}</td>
            <td class="num">{eodds.map(|v| format!("{v:.3}")).unwrap_or("—".into())}</td>
            <td class="num">{format!("{:.3}", r.report.worst_group_accuracy)}</td>
            <td class="num">{worst_auc.map(|v| format!("{v:.3}")).unwrap_or("—".into())}</td>
            <td class="num">{group_acc}</td>
            <td class="shares">{shares}</td>
            <td class="num">{pct(r.policy.compute_saved)}</td>
            <td class="num">{mmac(r.policy.mean_macs)}</td>
            <td class="num">{speed}</td>
        </tr>
    }
}

/// One line per training set, naming the models trained on it.
fn trained_on(rows: &[ComparisonRow]) -> Vec<String> {
    let mut by_data: Vec<(String, Vec<String>)> = Vec::new();
    for r in rows {
        match by_data.iter_mut().find(|(d, _)| *d == r.card.training.data) {
            Some((_, names)) => names.push(r.model.clone()),
            None => by_data.push((r.card.training.data.clone(), vec![r.model.clone()])),
        }
    }
    by_data
        .into_iter()
        .map(|(data, names)| format!("{}: {data}", names.join(", ")))
        .collect()
}

/// Side-by-side comparison (`#model-comparison`) of every audited model, each at its own θ,
/// from the audits' logits (switching models does not re-run an audit).
#[component]
pub fn Comparison(state: AppState) -> impl IntoView {
    let rows = Memo::new(move |_| comparison(state));
    let models = move || {
        rows.with(|r| {
            r.iter()
                .map(|r| r.model.clone())
                .collect::<Vec<_>>()
                .join(",")
        })
    };
    let headers = HEADERS
        .iter()
        .map(|h| view! { <th>{*h}</th> })
        .collect::<Vec<_>>();
    view! {
        <section
            id="comparison"
            class="panel"
            class:hidden=move || rows.with(|r| r.is_empty())
            data-models=models
        >
            <h2>"Models side by side"</h2>
            <p class="hint">{EXPLANATION}</p>
            <div class="scroll" tabindex="0" role="region" aria-label="Models side by side (scrolls sideways)">
                <table id="model-comparison">
                    <tr>{headers}</tr>
                    {move || rows.with(|r| r.iter().map(comparison_row).collect::<Vec<_>>())}
                </table>
            </div>
            <p class="hint">"Trained on:"</p>
            <ul class="trained-on">
                {move || {
                    rows.with(|r| {
                        trained_on(r).into_iter().map(|t| view! { <li>{t}</li> }).collect::<Vec<_>>()
                    })
                }}
            </ul>
            <p class="disclaimer">
                {move || if on_user_data(state) { FOLDER_DISCLAIMER } else { DISCLAIMER }}
            </p>
        </section>
    }
}
