//! The user's own data, in the worker: a labelled folder read into evaluation data, and any
//! model's predictions as a CSV audited.

use std::cell::Cell;
use std::collections::HashMap;

use fairscreen_core::folder_bundle::{FolderBundle, SkippedItem, NO_SUCH_FILE};
use fairscreen_core::labels::read_labels_csv;
use fairscreen_core::metrics::{read_predictions_csv, ReportOptions};
use fairscreen_core::{EvalBundle, ModelConfig};

use wasm_bindgen::JsCast;

use super::screen::now_ms;
use super::send;
use crate::protocol::{AuditProgress, Event, PredictionsAudit};

thread_local! {
    /// The page asked the predictions audit in progress to stop.
    static CANCELLED: Cell<bool> = const { Cell::new(false) };
}

/// How long the bootstrap computes before it reports progress and lets messages (a cancel) in.
const STEP_MS: f64 = 100.0;

/// Asks the predictions audit in progress to stop at its next step.
pub fn cancel_predictions_audit() {
    CANCELLED.with(|c| c.set(true));
}

/// Reads a predictions CSV with core's reader (the CLI's `audit --predictions`) and reports every
/// attribute with the CLI's default options (200 bootstrap resamples, seed 121, groups under 30
/// flagged); a fault names the file and line. The bootstrap reports its progress about every
/// [`STEP_MS`] and stops when the page cancels it.
pub async fn audit_predictions(file: String, bytes: &[u8]) -> Result<PredictionsAudit, String> {
    CANCELLED.with(|c| c.set(false));
    let table = read_predictions_csv(bytes).map_err(|e| e.located(&file))?;
    let opts = ReportOptions::default();
    let runs = table.bootstrap_runs(&opts);
    let groupings = runs.len();
    let mut reports = Vec::with_capacity(groupings);
    for (g, mut run) in runs.into_iter().enumerate() {
        let mut last = now_ms();
        while run.done() < run.total() {
            run.step(1);
            if now_ms() - last >= STEP_MS || run.done() == run.total() {
                send(&Event::PredictionsProgress(AuditProgress {
                    attribute: table.groupings[g].attribute.clone(),
                    grouping: g + 1,
                    groupings,
                    done: run.done(),
                    total: run.total(),
                }));
                next_task().await;
                if CANCELLED.with(|c| c.get()) {
                    return Err(format!(
                        "{file}: the audit was cancelled (the last audit's results stay)"
                    ));
                }
                last = now_ms();
            }
        }
        reports.push(run.finish());
    }
    Ok(PredictionsAudit {
        summary: format!("{} from {file}", table.describe()),
        reports,
        file,
    })
}

/// Resolves in a later task of the worker's event loop (messages that arrived meanwhile run first).
async fn next_task() {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        let scope: web_sys::WorkerGlobalScope = js_sys::global().unchecked_into();
        let _ = scope.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, 0);
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}

/// Reads a labelled folder's files (`paths[i]` is `files[i]`'s path in the folder) into
/// evaluation data named `name` for a model of `config`: `labels.csv` by core's rules, each
/// photo decoded like any photo; rows and photos that cannot be used are listed, not fatal.
pub async fn read_folder(
    name: &str,
    paths: &[String],
    files: &[web_sys::File],
    config: &ModelConfig,
) -> Result<(EvalBundle, Vec<SkippedItem>), String> {
    if paths.len() != files.len() {
        return Err(format!(
            "{} paths for {} files: the page sent a broken folder",
            paths.len(),
            files.len()
        ));
    }
    // labels.csv: the shallowest one; the photos' paths are relative to its folder.
    let (csv_at, csv_path) = paths
        .iter()
        .enumerate()
        .filter(|(_, p)| p.rsplit('/').next() == Some("labels.csv"))
        .min_by_key(|(_, p)| p.matches('/').count())
        .ok_or_else(|| {
            format!("{name} have no labels.csv (columns file,label[,skin_type,sex,age])")
        })?;
    let prefix = &csv_path[..csv_path.len() - "labels.csv".len()];
    let csv_bytes = read_file(&files[csv_at]).await?;
    let labels =
        read_labels_csv(&csv_bytes, &config.class_names).map_err(|e| format!("{csv_path}: {e}"))?;
    let by_path: HashMap<&str, usize> = paths
        .iter()
        .enumerate()
        .map(|(i, p)| (p.as_str(), i))
        .collect();
    let mut bundle = FolderBundle::new(
        name,
        config.class_names.clone(),
        config.input_size as u32,
        &labels,
    );
    let total = labels.rows.len();
    for (done, row) in labels.rows.iter().enumerate() {
        let path = format!("{prefix}{}", row.file.trim_start_matches("./"));
        let bytes = match by_path.get(path.as_str()) {
            Some(&i) => read_file(&files[i]).await,
            None => Err(NO_SUCH_FILE.to_string()),
        };
        bundle.add(row, bytes.as_deref().map_err(|e| e.clone()));
        if done % 16 == 15 || done + 1 == total {
            send(&Event::FolderProgress {
                done: done + 1,
                total,
            });
        }
    }
    bundle.finish(&format!("{name} (read on this device)"))
}

/// A file's bytes, read in the worker.
async fn read_file(file: &web_sys::File) -> Result<Vec<u8>, String> {
    wasm_bindgen_futures::JsFuture::from(file.array_buffer())
        .await
        .map(|b| js_sys::Uint8Array::new(&b).to_vec())
        .map_err(|e| format!("cannot read it: {}", super::assets::js_err(e)))
}
