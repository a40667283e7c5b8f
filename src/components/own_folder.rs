//! Your labelled photos: a folder (or several files with a `labels.csv`) read on this device into
//! evaluation data — what was read and what was skipped, with line and reason — which the
//! dashboard, the per-exit chart, the group heatmaps and the comparison then audit.

use leptos::prelude::*;

use crate::state::{AppState, FolderStatus};

const FORMAT: &str = "A folder of photos (JPEG, PNG, WebP) with a labels.csv: columns file and \
     label (the loaded model's class names, or their numbers), optionally skin_type (Fitzpatrick \
     1–6), sex (female/male) and age — the layout fairscreen-train synth writes and \
     fairscreen-train audit --data reads. The photos are read here and never leave this device; \
     a row or photo that cannot be used is listed and skipped.";

/// The files an `<input type=file>` holds.
fn chosen_files(ev: &leptos::ev::Event) -> Vec<web_sys::File> {
    let input: web_sys::HtmlInputElement = event_target(ev);
    let files = input.files();
    let out = (0..files.as_ref().map_or(0, |f| f.length()))
        .filter_map(|i| files.as_ref()?.get(i))
        .collect();
    input.set_value("");
    out
}

/// The folder reader (`#own-folder`).
#[component]
pub fn OwnFolder(state: AppState) -> impl IntoView {
    let eval = state.eval;
    let on_files = move |ev: leptos::ev::Event| state.read_folder(chosen_files(&ev));
    let busy = move || matches!(eval.folder.get(), FolderStatus::Reading(..));
    let status = move || match eval.folder.get() {
        FolderStatus::Idle => None,
        FolderStatus::Reading(_, done, total) => Some(format!(
            "Reading your photos: {done} / {total} rows of labels.csv"
        )),
        FolderStatus::Failed(e) => Some(e),
    };
    let read = move || {
        let choice = eval.active_choice().filter(|c| c.user_folder)?;
        let b = &choice.bundle;
        let summary = format!(
            "{}: {} photos read ({}), {} rows or photos skipped. The dashboard below now \
             audits this data; choose the bundled subset again in its data picker.",
            choice.name,
            b.len(),
            b.card
                .class_names
                .iter()
                .zip(&b.card.counts_by_class)
                .map(|(c, n)| format!("{n} {c}"))
                .collect::<Vec<_>>()
                .join(", "),
            choice.skipped.len()
        );
        let rows = choice
            .skipped
            .iter()
            .map(|s| {
                view! {
                    <tr data-line=s.line.to_string() data-file=s.file.clone()>
                        <td>{s.line}</td>
                        <td>{s.file.clone()}</td>
                        <td>{s.reason.clone()}</td>
                    </tr>
                }
            })
            .collect::<Vec<_>>();
        let table = (!rows.is_empty()).then(|| {
            view! {
                <table id="folder-skipped" class="cells">
                    <caption>"Skipped"</caption>
                    <tr>
                        <th scope="col">"labels.csv line"</th>
                        <th scope="col">"file"</th>
                        <th scope="col">"reason"</th>
                    </tr>
                    {rows}
                </table>
            }
        });
        Some(view! {
            <p class="hint" id="folder-summary">{summary}</p>
            {table}
        })
    };
    view! {
        <section
            id="own-folder"
            class="panel"
            data-state=move || match eval.folder.get() {
                FolderStatus::Idle => "idle",
                FolderStatus::Reading(..) => "reading",
                FolderStatus::Failed(_) => "failed",
            }
        >
            <h2>"Audit your labelled photos"</h2>
            <p class="hint">{FORMAT}</p>
            <label class="file">
                "A folder: "
                <input
                    id="folder-input"
                    type="file"
                    prop:webkitdirectory=true
                    multiple=""
                    prop:disabled=busy
                    on:change=on_files
                />
            </label>
            <label class="file">
                "Or photos and their labels.csv: "
                <input
                    id="folder-files"
                    type="file"
                    multiple=""
                    accept="image/jpeg,image/png,image/webp,.csv,text/csv"
                    prop:disabled=busy
                    on:change=on_files
                />
            </label>
            <p class="hint" id="folder-status" role="status">{status}</p>
            {read}
        </section>
    }
}
