//! The fairness dashboard: runs the model over the evaluation subset (in the worker) and shows
//! per-group metrics with bootstrap intervals, gap metrics and warnings.

use std::sync::Arc;

use fairscreen_core::metrics::FairnessReport;
use leptos::prelude::*;

use super::exit_chart::ExitChart;
use super::export_buttons::ExportButtons;
use super::report_tables::grouped_reports;
use crate::state::export::dashboard_export;
use crate::state::{AppState, AuditStatus, FolderStatus, BUNDLED_NOT_LOADED};

const IDLE_TEXT: &str = "Runs the model on every image of the evaluation subset, here on your \
     device, and computes accuracy and fairness statistics per skin type and sex. The audit \
     computes every exit of every image (the per-exit chart needs them all; early exit saves work \
     on a single photo, not here).";
const FETCHING_FIRST: &str =
    "Fetching the evaluation subset first (its data card shows the progress)…";
const DASHBOARD_DISCLAIMER: &str = "Statistics of a model trained and evaluated on generated \
     images: they show how it treats these synthetic groups, not how it would treat real patients.";

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
        {grouped_reports(reports, state.audit.grouping)}
    }
    .into_any()
}

/// A note when an audit of another model runs in the background.
fn background_note(state: AppState) -> Option<String> {
    let (model, done, total) = state.audit.running.get()?;
    (model != state.models.name.get())
        .then(|| format!("Auditing {model} in the background: {done} / {total} images."))
}

const FOLDER_DISCLAIMER: &str = "Statistics on your photos as labelled in your labels.csv, \
     computed on this device: they are as good as the labels and the number of photos per group \
     (see the warnings). The model was trained on generated images; it is not a diagnosis.";

fn eval_is_folder(state: AppState) -> bool {
    state.eval.active_choice().is_some_and(|c| c.user_folder)
}

/// What the dashboard audits, in words.
fn data_title(state: AppState) -> String {
    match state.eval.active_choice() {
        Some(c) if c.user_folder => c.name,
        _ => "the evaluation subset".into(),
    }
}

/// The evaluation data picker (`#data-picker`): the bundled subset and every folder read.
#[component]
fn DataPicker(state: AppState) -> impl IntoView {
    let eval = state.eval;
    let options = move || {
        eval.datasets
            .get()
            .into_iter()
            .map(|c| {
                let name = c.name.clone();
                let selected = move || eval.active.get() == name;
                let label = if c.user_folder {
                    format!("{} ({} photos)", c.name, c.bundle.len())
                } else {
                    format!("{} (bundled, {} images)", c.name, c.bundle.len())
                };
                view! {
                    <option value=c.name.clone() prop:selected=selected>
                        {label}
                    </option>
                }
            })
            .collect::<Vec<_>>()
    };
    // The bundled subset before it is loaded: choosing it fetches it.
    let bundled = move || {
        eval.can_load().then(|| {
            view! {
                <option value=BUNDLED_NOT_LOADED prop:selected=false>
                    "the bundled evaluation subset (fetched when chosen)"
                </option>
            }
        })
    };
    let shown = move || eval.datasets.with(|d| d.len()) + usize::from(eval.can_load());
    view! {
        <label class="picker" class:hidden=move || shown() < 2>
            "Evaluation data: "
            <select
                id="data-picker"
                data-active=move || eval.active.get()
                prop:disabled=move || state.audit.running.get().is_some()
                on:change=move |ev| state.select_data(event_target_value(&ev))
            >
                {options}
                {bundled}
            </select>
        </label>
    }
}

/// The fairness dashboard (`#dashboard`).
#[component]
pub fn Dashboard(state: AppState) -> impl IntoView {
    let audit = state.audit;
    let can_run = move || {
        let reading = matches!(state.eval.folder.get(), FolderStatus::Reading(..));
        !reading
            && (state.eval.is_ready() || state.eval.can_load())
            && state.page.status.get().is_idle()
            && audit.running.get().is_none()
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
        AuditStatus::Idle if audit.after_eval.get() => view! { <p>{FETCHING_FIRST}</p> }.into_any(),
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
            <h2>{move || format!("Fairness on {}", data_title(state))}</h2>
            <DataPicker state=state />
            <button id="run-audit" prop:disabled=move || !can_run() on:click=move |_| state.run_audit()>
                {button}
            </button>
            <p class="note">{move || background_note(state)}</p>
            {body}
            <ExportButtons
                id="audit-export"
                state=state
                ready=Signal::derive(move || matches!(audit.status.get(), AuditStatus::Ready(..)))
                export=dashboard_export
            />
            <p class="disclaimer">
                {move || {
                    if eval_is_folder(state) { FOLDER_DISCLAIMER } else { DASHBOARD_DISCLAIMER }
                }}
            </p>
        </section>
    }
}
