//! Buttons that save an audit as JSON, CSV or a printable HTML page (from memory, on the device).

use leptos::prelude::*;

use crate::state::export::{AuditExport, ExportFormat};
use crate::state::AppState;

/// One button per format (`#<id>-json`, `#<id>-csv`, `#<id>-html`); `export` builds the audit
/// from the state when a button is pressed (None: nothing to export yet).
#[component]
pub fn ExportButtons(
    /// Prefix of the buttons' ids.
    id: &'static str,
    /// The page's state.
    state: AppState,
    /// Whether there is an audit to export (the buttons are disabled until there is).
    #[prop(into)]
    ready: Signal<bool>,
    /// Builds the export.
    export: fn(AppState) -> Option<AuditExport>,
) -> impl IntoView {
    let error = RwSignal::new(None::<String>);
    let buttons = ExportFormat::ALL
        .into_iter()
        .map(|format| {
            let ext = format.extension();
            let save = move |_| {
                let outcome = export(state)
                    .ok_or_else(|| "nothing to export yet".to_string())
                    .and_then(|e| e.save(format));
                error.set(outcome.err());
            };
            view! {
                <button id=format!("{id}-{ext}") prop:disabled=move || !ready.get() on:click=save>
                    {format!("Save {}", ext.to_uppercase())}
                </button>
            }
        })
        .collect::<Vec<_>>();
    view! {
        <div class="export" role="group" aria-label="Save this report">
            {buttons}
            <span class="error" role="alert">{move || error.get()}</span>
        </div>
    }
}
