//! The fairness dashboard: runs the model over the evaluation subset (in the worker) and shows
//! per-group metrics with bootstrap intervals, gap metrics and warnings.

use std::sync::Arc;

use fairscreen_core::metrics::FairnessReport;
use leptos::prelude::*;

use super::exit_chart::ExitChart;
use crate::state::{AppState, AuditStatus};

/// Definitions shown next to the gap metrics (papers.md §1 and §6).
const DEFINITIONS: [(&str, &str, &str); 11] = [
    (
        "worst_group_accuracy",
        "worst-group accuracy",
        "the lowest accuracy of any group",
    ),
    (
        "accuracy_gap",
        "accuracy gap",
        "highest minus lowest group accuracy",
    ),
    (
        "worst_group_auc",
        "worst-group AUC",
        "the lowest AUC (one-vs-rest macro) of any group",
    ),
    ("auc_gap", "AUC gap", "highest minus lowest group AUC"),
    (
        "fme/eopp0_abs",
        "EOpp0 (abs)",
        "mean over classes of |TNR(group 0) − TNR(group 1)| (FME/SCP code; two groups \
         only)",
    ),
    (
        "fme/eopp1_abs",
        "EOpp1 (abs)",
        "mean over classes of |TPR(group 0) − TPR(group 1)| (FME/SCP code; two groups \
         only)",
    ),
    (
        "fme/eodds_abs",
        "EOdd (abs)",
        "mean over classes of |ΔTPR + ΔFPR| / 2 — the absolute value of the sum, as the \
         FME/SCP code (opposite gaps cancel)",
    ),
    (
        "fme/dp_abs",
        "DP (abs)",
        "sum over classes of |P(ŷ = c | group 0) − P(ŷ = c | group 1)|",
    ),
    (
        "fairlearn/demographic_parity_difference",
        "demographic parity difference",
        "fairlearn: max − min over groups of the selection rate (one-vs-rest, averaged \
         over classes)",
    ),
    (
        "fairlearn/equalized_odds_difference",
        "equalized odds difference",
        "fairlearn (worst case): max of the TPR and FPR differences between groups \
         (one-vs-rest, averaged over classes)",
    ),
    (
        "fairlearn/equal_opportunity_difference",
        "equal opportunity difference",
        "fairlearn: max − min over groups of the TPR (one-vs-rest, averaged over \
         classes)",
    ),
];

const IDLE_TEXT: &str = "Runs the model on every image of the evaluation subset, here on your \
     device, and computes accuracy and fairness statistics per skin type and sex.";
const DASHBOARD_DISCLAIMER: &str = "Statistics of a model trained and evaluated on generated \
     images: they show how it treats these synthetic groups, not how it would treat real patients.";

fn interval_text(r: &FairnessReport, key: &str, v: f64) -> String {
    match r.intervals.get(key) {
        Some(i) => format!("{v:.3} [{:.3}, {:.3}]", i.lo, i.hi),
        None => format!("{v:.3}"),
    }
}

/// A horizontal bar (0–1) with the bootstrap interval as a whisker.
fn ci_bar(r: &FairnessReport, key: String, v: f64) -> impl IntoView {
    let whisker = r.intervals.get(&key).map(|i| {
        format!(
            "left: {:.1}%; width: {:.1}%",
            100.0 * i.lo,
            (100.0 * (i.hi - i.lo)).max(0.3)
        )
    });
    view! {
        <div class="cibar" data-key=key.clone() data-value=v.to_string()>
            <div class="fill" style=format!("width: {:.1}%", 100.0 * v)></div>
            {whisker.map(|w| view! { <div class="whisker" style=w></div> })}
        </div>
        <span class="cival">{interval_text(r, &key, v)}</span>
    }
}

/// One report: the groups table, its warnings and the gaps table.
fn report_view(r: &FairnessReport) -> impl IntoView {
    let rows = std::iter::once(&r.overall)
        .chain(&r.groups)
        .map(|g| {
            let prefix = if g.name == "all" {
                "overall".to_string()
            } else {
                format!("group/{}", g.name)
            };
            let auc = g.auc.map(|a| interval_text(r, &format!("{prefix}/auc"), a));
            view! {
                <tr class:overall=g.name == "all" class:small=g.n < r.options.min_group_size>
                    <th>{g.name.clone()}</th>
                    <td class="n">{g.n}</td>
                    <td class="acc">{ci_bar(r, format!("{prefix}/accuracy"), g.accuracy)}</td>
                    <td>{interval_text(r, &format!("{prefix}/f1"), g.f1)}</td>
                    <td>{auc.unwrap_or_else(|| "—".into())}</td>
                </tr>
            }
        })
        .collect::<Vec<_>>();
    let gaps = DEFINITIONS
        .iter()
        .filter_map(|(key, label, def)| {
            let v = *r.scalars.get(*key)?;
            Some(view! {
                <tr data-metric=*key>
                    <td>
                        <details>
                            <summary>{*label}</summary>
                            <p class="hint">{*def}</p>
                        </details>
                    </td>
                    <td class="num">{interval_text(r, key, v)}</td>
                </tr>
            })
        })
        .collect::<Vec<_>>();
    let warnings = r
        .warnings
        .iter()
        .map(|w| view! { <li>{w.clone()}</li> })
        .collect::<Vec<_>>();
    view! {
        <table class="groups">
            <tr>
                <th>"group"</th>
                <th>"n"</th>
                <th>"accuracy (95 % interval)"</th>
                <th>"macro F1"</th>
                <th>"AUC"</th>
            </tr>
            {rows}
        </table>
        <ul class="warnings">{warnings}</ul>
        <table class="gaps">
            <caption>"Gaps between groups (click a name for its definition)"</caption>
            {gaps}
        </table>
    }
}

/// How long the last audit took and on what.
fn audit_speed(state: AppState) -> String {
    let model = state.models.name.get();
    let (Some(entry), Some(bundle)) = (state.audit.entry(&model), state.eval.bundle.get()) else {
        return String::new();
    };
    let backend = match state.page.backend.get() {
        Some(b) if b.kind == "webgpu" && b.software => {
            format!("WebGPU on {} (a software adapter, not a GPU)", b.adapter)
        }
        Some(b) if b.kind == "webgpu" => format!("WebGPU on {}", b.adapter),
        Some(b) => format!("the CPU ({})", b.adapter),
        None => "this backend".into(),
    };
    format!(
        "The last run took {:.1} s for {} images ({:.0} images/s, preprocessing and read-back \
         included) on {backend}, in the inference worker.",
        entry.ms / 1000.0,
        bundle.len(),
        bundle.len() as f64 / (entry.ms / 1000.0)
    )
}

/// The reports with their grouping tabs.
fn reports_view(state: AppState, reports: Arc<Vec<FairnessReport>>, theta: f32) -> AnyView {
    let opts = crate::state::audit_options();
    let grouping = state.audit.grouping;
    let tabs = reports
        .iter()
        .enumerate()
        .map(|(i, r)| {
            view! {
                <button
                    class="tab"
                    class:active=move || grouping.get() == i
                    data-grouping=i.to_string()
                    on:click=move |_| grouping.set(i)
                >
                    {r.attribute.clone()}
                </button>
            }
        })
        .collect::<Vec<_>>();
    let shown = move || {
        let i = grouping.get().min(reports.len().saturating_sub(1));
        reports.get(i).map(report_view)
    };
    let how = format!(
        "Computed in this browser at θ = {theta:.3} (the exits' policy decides each prediction). \
         Intervals: {} % bootstrap, {} resamples stratified by group, seed {}.",
        (opts.level * 100.0).round(),
        opts.bootstrap,
        opts.seed
    );
    view! {
        <p class="hint">{how}</p>
        <p class="hint" id="audit-speed">
            {move || audit_speed(state)}
        </p>
        <ExitChart state=state />
        <div class="tabs">{tabs}</div>
        {shown}
    }
    .into_any()
}

/// A note when an audit of another model runs in the background.
fn background_note(state: AppState) -> Option<String> {
    let (model, done, total) = state.audit.running.get()?;
    (model != state.models.name.get())
        .then(|| format!("Auditing {model} in the background: {done} / {total} images."))
}

/// The fairness dashboard (`#dashboard`).
#[component]
pub fn Dashboard(state: AppState) -> impl IntoView {
    let audit = state.audit;
    let can_run = move || {
        state.eval.is_ready() && state.page.status.get().is_idle() && audit.running.get().is_none()
    };
    let report_json = move || match audit.status.get() {
        AuditStatus::Ready(r, _) => serde_json::to_string(&*r).unwrap_or_default(),
        _ => String::new(),
    };
    let report_theta = move || match audit.status.get() {
        AuditStatus::Ready(_, theta) => theta.to_string(),
        _ => String::new(),
    };
    let audit_ms = move || {
        audit
            .entry(&state.models.name.get())
            .map(|e| e.ms.to_string())
            .unwrap_or_default()
    };
    let body = move || match audit.status.get() {
        AuditStatus::Idle => view! { <p>{IDLE_TEXT}</p> }.into_any(),
        AuditStatus::Running(done, total) => {
            let text =
                format!("Running the model on the evaluation subset: {done} / {total} images");
            view! {
                <p>{text}</p>
                <progress id="audit-progress" max=total.to_string() value=done.to_string()></progress>
            }
            .into_any()
        }
        AuditStatus::Updating => view! { <p>"Computing the reports at this θ…"</p> }.into_any(),
        AuditStatus::Failed(e) => view! { <p class="error" id="audit-error">{e}</p> }.into_any(),
        AuditStatus::Ready(reports, theta) => reports_view(state, reports, theta),
    };
    let button = move || {
        if matches!(audit.status.get(), AuditStatus::Ready(..)) {
            "Run again"
        } else {
            "Compute fairness statistics"
        }
    };
    view! {
        <section
            id="dashboard"
            class="panel"
            data-state=move || audit.status.get().state()
            data-report=report_json
            data-model=move || state.models.name.get()
            data-theta=report_theta
            data-audit-runs=move || audit.runs.get().to_string()
            data-audit-ms=audit_ms
        >
            <h2>"Fairness on the evaluation subset"</h2>
            <button id="run-audit" prop:disabled=move || !can_run() on:click=move |_| state.run_audit()>
                {button}
            </button>
            <p class="note">{move || background_note(state)}</p>
            {body}
            <p class="disclaimer">{DASHBOARD_DISCLAIMER}</p>
        </section>
    }
}
