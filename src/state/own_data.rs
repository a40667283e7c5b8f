//! The user's own data: a labelled folder read into evaluation data (and the choice of the data
//! audits run on), and a predictions CSV of any model, both handled in the worker.

use std::sync::Arc;

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::eval::{DataChoice, FolderStatus, BUNDLED_NOT_LOADED};
use super::{AppState, AuditStatus};
use crate::protocol::{AuditProgress, FolderData, PredictionsAudit, Request};

/// The predictions audit: the last result, a file being read, the last fault.
#[derive(Clone, Copy)]
pub struct OwnDataState {
    /// The last audited predictions CSV (kept when a later file fails).
    pub predictions: RwSignal<Option<Arc<PredictionsAudit>>>,
    /// The file being audited now.
    pub busy: RwSignal<Option<String>>,
    /// Why the last file could not be audited.
    pub error: RwSignal<Option<String>>,
    /// The report tab shown (index into the reports).
    pub grouping: RwSignal<usize>,
    /// How far the audit in progress has resampled.
    pub progress: RwSignal<Option<AuditProgress>>,
}

impl OwnDataState {
    /// Nothing read yet.
    pub fn new() -> Self {
        Self {
            predictions: RwSignal::new(None),
            busy: RwSignal::new(None),
            error: RwSignal::new(None),
            grouping: RwSignal::new(0),
            progress: RwSignal::new(None),
        }
    }

    /// `idle`, `running`, `ready` or `failed`, for the page's `data-state`.
    pub fn state(self) -> &'static str {
        if self.busy.get().is_some() {
            "running"
        } else if self.error.get().is_some() {
            "failed"
        } else if self.predictions.get().is_some() {
            "ready"
        } else {
            "idle"
        }
    }
}

impl AppState {
    /// Audits a predictions CSV in the worker (no model needed).
    pub fn audit_predictions_file(self, file: web_sys::File) {
        let own = self.own;
        // One audit at a time: its progress and its Cancel button are about one file.
        if let Some(busy) = own.busy.get_untracked() {
            own.error.set(Some(format!(
                "{}: not audited — {busy} is still being audited (wait for it, or cancel it)",
                file.name()
            )));
            return;
        }
        own.busy.set(Some(file.name()));
        own.error.set(None);
        spawn_local(async move {
            match super::worker_link::file_bytes(&file).await {
                Ok(bytes) => super::worker_link::send(
                    Request::AuditPredictions { file: file.name() },
                    Some(bytes),
                ),
                Err(e) => {
                    own.busy.set(None);
                    own.error.set(Some(e));
                }
            }
        });
    }

    /// Stops the predictions audit in progress (the last result stays).
    pub fn cancel_predictions_audit(self) {
        if self.own.busy.get_untracked().is_some() {
            super::worker_link::send(Request::CancelPredictionsAudit, None);
        }
    }

    /// The predictions audit's bootstrap progressed.
    pub(super) fn predictions_progress(self, progress: AuditProgress) {
        if self.own.busy.get_untracked().is_some() {
            self.own.progress.set(Some(progress));
        }
    }

    /// The worker's answer for a predictions CSV.
    pub(super) fn predictions_audited(self, outcome: Result<PredictionsAudit, String>) {
        let own = self.own;
        own.busy.set(None);
        own.progress.set(None);
        match outcome {
            Ok(audit) => {
                own.error.set(None);
                own.grouping.set(0);
                own.predictions.set(Some(Arc::new(audit)));
            }
            Err(e) => own.error.set(Some(e)),
        }
    }
}

/// A chosen file's path inside the chosen folder (`webkitRelativePath`), or its name.
fn path_in_folder(file: &web_sys::File) -> String {
    js_sys::Reflect::get(file, &"webkitRelativePath".into())
        .ok()
        .and_then(|p| p.as_string())
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| file.name())
}

impl AppState {
    /// Reads a chosen folder (or several chosen files with a `labels.csv`: the folder's name is
    /// then empty) into evaluation data in the worker, for the loaded model's classes; it becomes
    /// the data audits run on.
    pub fn read_folder(self, files: Vec<web_sys::File>) {
        let refuse = |why: &str| self.eval.folder.set(FolderStatus::Failed(why.into()));
        if self.models.card.with_untracked(|c| c.is_none()) {
            return refuse("the model is not loaded yet");
        }
        if self.audit.running.with_untracked(|r| r.is_some()) {
            return refuse("wait for the running audit to finish");
        }
        if files.is_empty() {
            return refuse("no file chosen");
        }
        let paths: Vec<String> = files.iter().map(path_in_folder).collect();
        let folder = paths
            .iter()
            .find_map(|p| p.split_once('/').map(|(top, _)| top.to_string()))
            .unwrap_or_default();
        self.eval
            .folder
            .set(FolderStatus::Reading(folder.clone(), 0, 0));
        super::worker_link::send_files(Request::ReadFolder { folder, paths }, &files);
    }

    pub(super) fn folder_progress(self, done: usize, total: usize) {
        self.eval.folder.update(|f| {
            if let FolderStatus::Reading(_, d, t) = f {
                (*d, *t) = (done, total);
            }
        });
    }

    /// The worker read a folder (and made it the active data), or could not.
    pub(super) fn folder_read(self, outcome: Result<Box<FolderData>, String>) {
        match outcome {
            Ok(data) => {
                let FolderData { meta, skipped } = *data;
                let choice = DataChoice {
                    name: meta.card.name.clone(),
                    bundle: Arc::new(meta.to_bundle()),
                    bytes: 0,
                    skipped,
                    user_folder: true,
                };
                let name = choice.name.clone();
                // A folder read again replaces its earlier data and audits.
                self.eval.datasets.update(|d| {
                    d.retain(|c| c.name != name);
                    d.push(choice);
                });
                self.audit.other_data.update(|o| {
                    o.remove(&name);
                });
                if self.eval.active.get_untracked() == name {
                    self.audit.cache.set(Default::default());
                }
                self.eval.folder.set(FolderStatus::Idle);
                self.activate_data(&name);
            }
            Err(e) => self.eval.folder.set(FolderStatus::Failed(e)),
        }
    }

    /// Makes the named evaluation data the one the dashboard audits (not while an audit runs).
    pub fn select_data(self, name: String) {
        if name == BUNDLED_NOT_LOADED {
            // Fetched on first use: it becomes the active data once it is in.
            self.eval.bundled_wanted.set(true);
            self.load_eval();
            return;
        }
        if self.audit.running.with_untracked(|r| r.is_some()) {
            self.page.error.set(Some(format!(
                "cannot switch the evaluation data to {name} now: wait for the running audit"
            )));
            self.eval.active.notify();
            return;
        }
        super::worker_link::send(Request::SelectData { name: name.clone() }, None);
        self.activate_data(&name);
    }

    /// The page's side of a data switch: the audits of the data left are kept with it, the
    /// loaded model's audit on the new data is shown if there is one.
    fn activate_data(self, name: &str) {
        let Some(choice) = self
            .eval
            .datasets
            .with_untracked(|d| d.iter().find(|c| c.name == name).cloned())
        else {
            return;
        };
        let old = self.eval.active.get_untracked();
        if old != name {
            let kept = self.audit.cache.get_untracked();
            let restored = self.audit.other_data.try_update(|o| {
                o.insert(old, kept);
                o.remove(name).unwrap_or_default()
            });
            self.audit.cache.set(restored.unwrap_or_default());
        }
        self.eval.show(&choice);
        let model = self.models.name.get_untracked();
        if self.audit.cache.with_untracked(|c| c.contains_key(&model)) {
            self.request_reports();
        } else {
            self.audit.status.set(AuditStatus::Idle);
        }
    }
}
