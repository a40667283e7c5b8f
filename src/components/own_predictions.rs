//! Your model's predictions: a CSV of any model's predictions audited on this device, with the
//! same report tables as the dashboard, and saved as JSON, CSV or HTML.

use leptos::prelude::*;
use wasm_bindgen::JsCast;

use super::export_buttons::ExportButtons;
use super::report_tables::grouped_reports;
use crate::state::export::predictions_export;
use crate::state::AppState;

const FORMAT: &str = "One row per image: columns label and prediction (class names or numbers), \
     optionally prob_<class> for every class (for AUC), and every other column a group to \
     compare (e.g. skin_type, sex, site). The same format as fairscreen-train audit \
     --predictions; the same functions compute the report. The file is read here and never \
     leaves this device.";

/// The predictions audit (`#own-predictions`).
#[component]
pub fn OwnPredictions(state: AppState) -> impl IntoView {
    let own = state.own;
    let on_change = move |ev: web_sys::Event| {
        let input: Option<web_sys::HtmlInputElement> = ev.target().and_then(|t| t.dyn_into().ok());
        if let Some(file) = input
            .as_ref()
            .and_then(|i| i.files())
            .and_then(|f| f.get(0))
        {
            state.audit_predictions_file(file);
        }
        // Choosing the same file again audits it again.
        if let Some(i) = input {
            i.set_value("");
        }
    };
    let status = move || {
        if let Some(file) = own.busy.get() {
            return Some(match own.progress.get() {
                Some(p) => format!(
                    "Auditing {file}: bootstrap intervals for {} (grouping {} of {}): {} of {} \
                     resamples…",
                    p.attribute, p.grouping, p.groupings, p.done, p.total
                ),
                None => format!("Auditing {file}…"),
            });
        }
        own.predictions.get().map(|a| a.summary.clone())
    };
    let reports = move || {
        own.predictions
            .get()
            .map(|a| grouped_reports(std::sync::Arc::new(a.reports.clone()), own.grouping))
    };
    let report_json = move || {
        own.predictions
            .get()
            .map(|a| serde_json::to_string(&a.reports).unwrap_or_default())
            .unwrap_or_default()
    };
    view! {
        <section
            id="own-predictions"
            class="panel"
            data-state=move || own.state()
            data-report=report_json
        >
            <h2>"Audit your model's predictions"</h2>
            <p class="hint">{FORMAT}</p>
            <label class="file">
                "Predictions CSV: "
                <input id="predictions-file" type="file" accept=".csv,text/csv" on:change=on_change />
            </label>
            <p class="error" id="predictions-error" role="alert">{move || own.error.get()}</p>
            <p class="hint" id="predictions-summary">{status}</p>
            <Show when=move || own.busy.get().is_some()>
                <progress
                    id="predictions-progress"
                    max=move || own.progress.get().map_or(1, |p| p.total * p.groupings)
                    value=move || {
                        own.progress
                            .get()
                            .map_or(0, |p| (p.grouping - 1) * p.total + p.done)
                    }
                    aria-label="Bootstrap resamples done"
                ></progress>
                <button
                    id="predictions-cancel"
                    type="button"
                    on:click=move |_| state.cancel_predictions_audit()
                >
                    "Cancel"
                </button>
            </Show>
            {reports}
            <ExportButtons
                id="predictions-export"
                state=state
                ready=Signal::derive(move || own.predictions.get().is_some())
                export=predictions_export
            />
        </section>
    }
}
