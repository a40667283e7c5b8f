//! The page's state: one sub-state per concern (page, models, photo, evaluation subset, audit,
//! the user's own data), the actions that change it (methods, which send requests to the
//! inference worker), and the worker's events applied to it. Derived view data is in
//! [`derived`]. Nothing here renders.

mod audit;
mod backend_choice;
pub mod derived;
mod eval;
pub mod export;
mod models;
mod own_data;
mod page;
mod photo;
pub mod restart;
mod worker_link;

use leptos::prelude::*;

pub use audit::{audit_options, AuditState, AuditStatus};
pub use backend_choice::WebGpu;
pub use eval::{EvalState, EvalStatus, FolderStatus, BUNDLED_NOT_LOADED};
pub use models::{ModelChoice, ModelState};
pub use own_data::OwnDataState;
pub use page::{OfflineStatus, PageState, Status};
pub use photo::PhotoState;
pub use worker_link::WorkerModule;

use crate::protocol::Event;

/// Shared reactive state, provided as context; every part is `Copy`.
#[derive(Clone, Copy)]
pub struct AppState {
    /// Life cycle, backend, offline status, the error banner.
    pub page: PageState,
    /// The model index, the loaded model and a switch in progress.
    pub models: ModelState,
    /// The screened photo and θ.
    pub photo: PhotoState,
    /// The evaluation subset.
    pub eval: EvalState,
    /// Audits of the evaluation subset, by model.
    pub audit: AuditState,
    /// The user's own data (a predictions CSV) and its audit.
    pub own: OwnDataState,
}

impl AppState {
    /// A fresh state: loading, nothing screened or audited.
    pub fn new() -> Self {
        Self {
            page: PageState::new(),
            models: ModelState::new(),
            photo: PhotoState::new(),
            eval: EvalState::new(),
            audit: AuditState::new(),
            own: OwnDataState::new(),
        }
    }

    /// Registers the offline service worker and starts the inference worker, which picks the
    /// backend and loads the default model.
    pub fn start(self) {
        if let Some(notice) = restart::take_restart_notice() {
            self.page.error.set(Some(notice));
        }
        self.start_offline();
        self.follow_theta_deeper();
        worker_link::expose_debug_hooks();
        self.start_worker();
    }

    /// Applies one event of the worker.
    fn apply(self, event: Event) {
        match event {
            Event::Ready => {}
            Event::Step(step) => self.page.status.set(Status::Loading(step)),
            Event::Backend(info) => self.page.backend.set(Some(info)),
            Event::ModelIndex { assets, default: _ } => self.models.set_index(assets),
            Event::PeekedCard { name, card } => self.models.set_card(&name, card),
            Event::ModelLoaded {
                entry,
                card,
                precision,
                reclassified,
            } => {
                self.commit_model(entry, card, precision, reclassified);
                self.load_webgpu_on_the_side();
            }
            Event::ModelFailed { name, error, fatal } => self.model_failed(name, error, fatal),
            Event::Screened(outcome) => self.screened(outcome),
            Event::EvalProgress { done, total } => {
                self.eval_progress(EvalStatus::Fetching(done, total))
            }
            Event::EvalDecoding => self.eval_progress(EvalStatus::Decoding),
            Event::EvalReady(meta) => self.eval_ready(*meta),
            Event::EvalFailed(e) => self.eval_failed(e),
            Event::AuditProgress { model, done, total } => self.audit_progress(model, done, total),
            Event::AuditDone(result) => self.audit_done(*result),
            Event::AuditFailed { model, error } => self.audit_failed(model, error),
            Event::Reports {
                model,
                theta,
                reports,
            } => self.reports_arrived(model, theta, reports),
            Event::FolderProgress { done, total } => self.folder_progress(done, total),
            Event::FolderRead(outcome) => self.folder_read(outcome),
            Event::PredictionsAudited(outcome) => self.predictions_audited(outcome),
            Event::PredictionsProgress(progress) => self.predictions_progress(progress),
            // Only the peer benchmark's page asks for a benchmark.
            Event::Benched(_) => {}
            Event::Panic(message) => self.worker_panicked(message),
            Event::ModuleFailed(why) => self.module_failed(why),
            Event::GpuLost { reason, model } => self.gpu_lost(reason, model),
        }
    }
}

impl AppState {
    /// The worker panicked and answers no more: a fresh one replaces it and loads the default
    /// model. What lived only in the old worker (the evaluation data, audits, a model file of the
    /// user's, the screened photo) is dropped, and the banner says so; the page goes on.
    fn worker_panicked(self, message: String) {
        self.page.error.set(Some(format!(
            "the inference worker stopped on an internal error ({message}); a new one was \
             started with the default model: screen your photo again (the evaluation data and \
             audits load again when asked for)"
        )));
        self.restart_worker("restarting the inference worker");
    }
}

impl AppState {
    /// The worker lost its WebGPU device and moved to the CPU: the banner says so, and the page
    /// waits for the model being loaded again there (a worker started later uses the CPU too).
    fn gpu_lost(self, reason: String, model: Option<String>) {
        self.page.gpu_lost.set(Some(reason.clone()));
        let Some(model) = model else {
            return self.page.error.set(Some(format!("{reason}.")));
        };
        self.page.error.set(Some(format!(
            "{reason}: {model} is being loaded again there; its answers are the same, only slower"
        )));
        self.photo.rescreening.set(false);
        self.models.switching.set(Some(model.clone()));
        self.page.status.set(Status::Loading(format!(
            "loading {model} again on the CPU (the GPU was lost)"
        )));
    }
}

impl Default for AppState {
    fn default() -> Self {
        Self::new()
    }
}
