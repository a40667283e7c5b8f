//! Audits of the evaluation subset: the one running, the finished ones by model (their logits
//! are reused when θ moves or a model is chosen again), and the loaded model's reports.

use std::collections::BTreeMap;
use std::sync::Arc;

use fairscreen_core::metrics::{FairnessReport, ReportOptions};
use leptos::prelude::*;

use super::AppState;
use crate::protocol::{AuditResult, ExitLogits, GroupHeat, Request};

/// Bootstrap settings of the in-browser audit (the same as `fairscreen-train audit`'s defaults).
pub fn audit_options() -> ReportOptions {
    ReportOptions::default()
}

/// The loaded model's audit (mirrored in `#dashboard[data-state]`).
#[derive(Clone, Debug, PartialEq)]
pub enum AuditStatus {
    /// Not run yet.
    Idle,
    /// Running the model over the subset: images done of the total.
    Running(usize, usize),
    /// Audited; its reports are being computed for the current θ.
    Updating,
    /// Reports, and the θ they are computed at.
    Ready(Arc<Vec<FairnessReport>>, f32),
    /// Failed: why.
    Failed(String),
}

impl AuditStatus {
    /// The `data-state` attribute value.
    pub fn state(&self) -> &'static str {
        match self {
            AuditStatus::Idle => "idle",
            AuditStatus::Running(..) => "running",
            AuditStatus::Updating => "updating",
            AuditStatus::Ready(..) => "ready",
            AuditStatus::Failed(_) => "error",
        }
    }
}

/// A finished audit of one model.
#[derive(Clone, Debug, PartialEq)]
pub struct AuditEntry {
    /// Exit logits on every evaluation image.
    pub logits: ExitLogits,
    /// Wall time of the run in the worker, in ms.
    pub ms: f64,
    /// Mean heatmaps per group.
    pub group_heat: Vec<GroupHeat>,
}

/// The audit in progress: model, images done, images in all.
pub type AuditRun = (String, usize, usize);

/// Every audit of this page.
#[derive(Clone, Copy)]
pub struct AuditState {
    /// The loaded model's audit.
    pub status: RwSignal<AuditStatus>,
    /// The audit in progress (one at a time; it goes on if another model is chosen).
    pub running: RwSignal<Option<AuditRun>>,
    /// Finished audits on the active evaluation data by model name (kept across switches).
    pub cache: RwSignal<BTreeMap<String, Arc<AuditEntry>>>,
    /// Finished audits on the other evaluation data, by data name.
    pub other_data: RwSignal<BTreeMap<String, BTreeMap<String, Arc<AuditEntry>>>>,
    /// How many times a model ran over the evaluation subset (switching back must not add one).
    pub runs: RwSignal<u32>,
    /// Index of the grouping shown in the dashboard.
    pub grouping: RwSignal<usize>,
    /// An audit was asked for before the evaluation subset was loaded: it runs once it is.
    pub after_eval: RwSignal<bool>,
}

impl AuditState {
    /// Forgets every audit (the worker that held their logits is gone); the run count stays.
    pub fn reset(self) {
        self.status.set(AuditStatus::Idle);
        self.running.set(None);
        self.cache.set(BTreeMap::new());
        self.other_data.set(BTreeMap::new());
        self.after_eval.set(false);
    }

    /// Nothing audited.
    pub fn new() -> Self {
        Self {
            status: RwSignal::new(AuditStatus::Idle),
            running: RwSignal::new(None),
            cache: RwSignal::new(BTreeMap::new()),
            other_data: RwSignal::new(BTreeMap::new()),
            runs: RwSignal::new(0),
            grouping: RwSignal::new(0),
            after_eval: RwSignal::new(false),
        }
    }

    /// The finished audit of `model`, if any.
    pub fn entry(self, model: &str) -> Option<Arc<AuditEntry>> {
        self.cache.with(|c| c.get(model).cloned())
    }
}

impl AppState {
    /// Runs the loaded model over the whole evaluation subset in the worker (batched, with
    /// progress); the reports come back computed at the current θ.
    pub fn run_audit(self) {
        if self.eval.bundle.with_untracked(|b| b.is_none()) && self.eval.can_load() {
            // The subset is fetched on first use; the audit follows it.
            self.audit.after_eval.set(true);
            self.load_eval();
            return;
        }
        if self.eval.bundle.with_untracked(|b| b.is_none()) {
            self.audit.status.set(AuditStatus::Failed(
                "the model and the evaluation subset must be loaded first".into(),
            ));
            return;
        }
        if self.audit.running.with_untracked(|r| r.is_some()) {
            return;
        }
        let model = self.models.name.get_untracked();
        let total = self
            .eval
            .bundle
            .with_untracked(|b| b.as_ref().map_or(0, |b| b.len()));
        self.audit.running.set(Some((model, 0, total)));
        self.audit.status.set(AuditStatus::Running(0, total));
        let theta = self.photo.theta.get_untracked();
        super::worker_link::send(Request::Audit { theta }, None);
    }

    /// Asks the worker for the loaded model's reports at the current θ (no inference).
    pub fn request_reports(self) {
        let model = self.models.name.get_untracked();
        if self.audit.cache.with_untracked(|c| !c.contains_key(&model)) {
            return;
        }
        if !matches!(self.audit.status.get_untracked(), AuditStatus::Ready(..)) {
            self.audit.status.set(AuditStatus::Updating);
        }
        let theta = self.photo.theta.get_untracked();
        super::worker_link::send(Request::Reports { model, theta }, None);
    }

    pub(super) fn audit_progress(self, model: String, done: usize, total: usize) {
        if model == self.models.name.get_untracked() {
            self.audit.status.set(AuditStatus::Running(done, total));
        }
        self.audit.running.set(Some((model, done, total)));
    }

    pub(super) fn audit_done(self, result: AuditResult) {
        let AuditResult {
            model,
            logits,
            ms,
            group_heat,
            reports,
            theta,
        } = result;
        self.audit.cache.update(|c| {
            c.insert(
                model.clone(),
                Arc::new(AuditEntry {
                    logits,
                    ms,
                    group_heat,
                }),
            );
        });
        self.audit.running.set(None);
        self.audit.runs.update(|n| *n += 1);
        if model == self.models.name.get_untracked() {
            // The chart, comparison and heatmaps render in this task, the reports in the next:
            // two shorter tasks keep the page responsive.
            leptos::task::spawn_local(async move {
                super::page::next_task().await;
                self.reports_arrived(model, theta, reports);
            });
        }
    }

    pub(super) fn audit_failed(self, model: String, error: String) {
        self.audit.running.set(None);
        self.audit.runs.update(|n| *n += 1);
        if model.is_empty() || model == self.models.name.get_untracked() {
            self.audit.status.set(AuditStatus::Failed(error));
        }
    }

    /// Shows reports if they are the loaded model's; asks again if θ moved meanwhile.
    pub(super) fn reports_arrived(self, model: String, theta: f32, reports: Vec<FairnessReport>) {
        if model != self.models.name.get_untracked() {
            return;
        }
        self.audit
            .status
            .set(AuditStatus::Ready(Arc::new(reports), theta));
        if theta != self.photo.theta.get_untracked() {
            self.request_reports();
        }
    }
}
