//! Application state and the top-level view. Components only render this state; the runtime
//! module owns the backend and the model.

use std::rc::Rc;

use fairscreen_core::infer::LoadedModel;
use fairscreen_core::metrics::{bundle_reports, FairnessReport, ReportOptions};
use fairscreen_core::{DataCard, EvalBundle, ModelCard};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::components::{
    BackendBadge, Dashboard, DataCardView, ErrorBanner, ExitStrip, ModelCardView, Prediction,
    UploadZone,
};
use crate::runtime::{self, BackendInfo};

/// Where the page is in its life cycle (mirrored in `#status[data-state]`).
#[derive(Clone, Debug, PartialEq)]
pub enum Status {
    /// Backend and model are being set up; the text says which step.
    Loading(String),
    /// Ready for a photo.
    Ready,
    /// A photo is being classified.
    Running,
    /// A result is shown; ready for the next photo.
    Done,
    /// The model could not be loaded; uploads are disabled.
    Failed,
}

impl Status {
    fn state(&self) -> &'static str {
        match self {
            Status::Loading(_) => "loading",
            Status::Ready => "ready",
            Status::Running => "running",
            Status::Done => "done",
            Status::Failed => "error",
        }
    }
}

/// Where the bundled evaluation subset is (mirrored in `#data-card[data-state]`).
#[derive(Clone, Debug, PartialEq)]
pub enum EvalStatus {
    /// Not started (waits for the model).
    Waiting,
    /// Downloading: bytes received of the total.
    Fetching(usize, usize),
    /// Decoding the images.
    Decoding,
    /// Loaded and verified; its card, and its size in bytes.
    Ready(Box<DataCard>, usize),
    /// Could not be loaded: why.
    Failed(String),
}

impl EvalStatus {
    /// The `data-state` attribute value.
    pub fn state(&self) -> &'static str {
        match self {
            EvalStatus::Waiting => "waiting",
            EvalStatus::Fetching(..) => "fetching",
            EvalStatus::Decoding => "decoding",
            EvalStatus::Ready(..) => "ready",
            EvalStatus::Failed(_) => "error",
        }
    }
}

/// The fairness audit of the evaluation subset (mirrored in `#dashboard[data-state]`).
#[derive(Clone, Debug, PartialEq)]
pub enum AuditStatus {
    /// Not run yet.
    Idle,
    /// Running the model over the subset: images done of the total.
    Running(usize, usize),
    /// Reports for the current θ.
    Ready(std::sync::Arc<Vec<FairnessReport>>),
    /// Failed: why.
    Failed(String),
}

impl AuditStatus {
    /// The `data-state` attribute value.
    pub fn state(&self) -> &'static str {
        match self {
            AuditStatus::Idle => "idle",
            AuditStatus::Running(..) => "running",
            AuditStatus::Ready(_) => "ready",
            AuditStatus::Failed(_) => "error",
        }
    }
}

/// Bootstrap settings of the in-browser audit (the same as `fairscreen-train audit`'s defaults).
pub fn audit_options() -> ReportOptions {
    ReportOptions::default()
}

/// Per sample, per exit, the logits of every class.
pub type ExitLogits = Vec<Vec<Vec<f32>>>;

/// The latest classified photo: its name and every exit's logits.
#[derive(Clone, Debug, PartialEq)]
pub struct Classified {
    /// Uploaded file name.
    pub file: String,
    /// Logits per exit, shallow to deep.
    pub logits: Vec<Vec<f32>>,
}

/// Shared reactive state, provided as context.
#[derive(Clone, Copy)]
pub struct AppState {
    /// Life-cycle status.
    pub status: RwSignal<Status>,
    /// Backend in use.
    pub backend: RwSignal<Option<BackendInfo>>,
    /// Card of the loaded model.
    pub card: RwSignal<Option<ModelCard>>,
    /// Latest result.
    pub result: RwSignal<Option<Classified>>,
    /// Number of completed classifications.
    pub runs: RwSignal<u32>,
    /// Early-exit threshold θ.
    pub theta: RwSignal<f32>,
    /// Current error message, if any.
    pub error: RwSignal<Option<String>>,
    /// The loaded model (not reactive; lives on this thread).
    pub model: StoredValue<Option<Rc<LoadedModel>>, LocalStorage>,
    /// The evaluation subset's loading state and card.
    pub eval: RwSignal<EvalStatus>,
    /// The decoded evaluation subset (not reactive; lives on this thread).
    pub bundle: StoredValue<Option<Rc<EvalBundle>>, LocalStorage>,
    /// The audit's state and reports.
    pub audit: RwSignal<AuditStatus>,
    /// The model's exit logits on every evaluation image (reused when θ moves).
    pub audit_logits: StoredValue<Option<Rc<ExitLogits>>, LocalStorage>,
    /// Index of the grouping shown in the dashboard.
    pub grouping: RwSignal<usize>,
}

impl AppState {
    fn new() -> Self {
        Self {
            status: RwSignal::new(Status::Loading("starting".into())),
            backend: RwSignal::new(None),
            card: RwSignal::new(None),
            result: RwSignal::new(None),
            runs: RwSignal::new(0),
            theta: RwSignal::new(0.8),
            error: RwSignal::new(None),
            model: StoredValue::new_local(None),
            eval: RwSignal::new(EvalStatus::Waiting),
            bundle: StoredValue::new_local(None),
            audit: RwSignal::new(AuditStatus::Idle),
            audit_logits: StoredValue::new_local(None),
            grouping: RwSignal::new(0),
        }
    }

    /// Runs the model over the whole evaluation subset on the active backend (batched, with
    /// progress), then computes the fairness reports in the browser.
    pub fn run_audit(self) {
        let (Some(model), Some(bundle)) = (self.model.get_value(), self.bundle.get_value()) else {
            self.audit.set(AuditStatus::Failed(
                "the model and the evaluation subset must be loaded first".into(),
            ));
            return;
        };
        if matches!(self.audit.get_untracked(), AuditStatus::Running(..)) {
            return;
        }
        self.audit.set(AuditStatus::Running(0, bundle.len()));
        spawn_local(async move {
            let outcome = runtime::bundle_logits(&model, &bundle, |done, total| {
                self.audit.set(AuditStatus::Running(done, total))
            })
            .await;
            match outcome {
                Ok(logits) => {
                    self.audit_logits.set_value(Some(Rc::new(logits)));
                    self.recompute_audit();
                }
                Err(e) => self.audit.set(AuditStatus::Failed(e)),
            }
        });
    }

    /// Recomputes the reports from the cached logits at the current θ (no inference).
    pub fn recompute_audit(self) {
        let (Some(bundle), Some(logits)) = (self.bundle.get_value(), self.audit_logits.get_value())
        else {
            return;
        };
        let theta = self.theta.get_untracked();
        let reports = bundle_reports(&bundle, &logits, theta, &audit_options());
        self.audit
            .set(AuditStatus::Ready(std::sync::Arc::new(reports)));
    }

    /// Fetches, verifies and decodes the bundled evaluation subset; a failure is shown and
    /// leaves photo screening untouched.
    async fn load_eval(self) {
        let entry = match runtime::eval_bundle_entry().await {
            Ok(e) => e,
            Err(e) => return self.eval.set(EvalStatus::Failed(e)),
        };
        let outcome = runtime::load_eval_bundle(&entry, |done, total| {
            self.eval.set(if done < total {
                EvalStatus::Fetching(done, total)
            } else {
                EvalStatus::Decoding
            })
        })
        .await;
        match outcome {
            Ok(bundle) => {
                self.eval.set(EvalStatus::Ready(
                    Box::new(bundle.card.clone()),
                    entry.bytes,
                ));
                self.bundle.set_value(Some(Rc::new(bundle)));
            }
            Err(e) => self.eval.set(EvalStatus::Failed(e)),
        }
    }

    /// Classifies an uploaded file; errors are shown and the app stays usable.
    pub fn classify_file(self, file: web_sys::File) {
        let Some(model) = self.model.get_value() else {
            self.error.set(Some("the model is not loaded yet".into()));
            return;
        };
        self.status.set(Status::Running);
        spawn_local(async move {
            let name = file.name();
            let outcome = match runtime::file_bytes(&file).await {
                Ok(bytes) => runtime::classify(&model, &bytes).await,
                Err(e) => Err(e),
            };
            match outcome {
                Ok(logits) => {
                    self.result.set(Some(Classified {
                        file: name,
                        logits: logits.sample(0),
                    }));
                    self.error.set(None);
                    self.runs.update(|r| *r += 1);
                    self.status.set(Status::Done);
                }
                Err(e) => {
                    self.error.set(Some(format!("{name}: {e}")));
                    // The previous result (if any) stays on screen; the app is ready for another file.
                    let shown = self.result.with_untracked(|r| r.is_some());
                    self.status
                        .set(if shown { Status::Done } else { Status::Ready });
                }
            }
        });
    }

    async fn start(self) {
        self.status
            .set(Status::Loading("choosing a backend".into()));
        let (device, info) = runtime::pick_backend().await;
        let gpu = info.kind == "webgpu";
        self.backend.set(Some(info));
        self.status.set(Status::Loading("loading the model".into()));
        let loaded = match runtime::load_default_model(&device).await {
            Err(e) if gpu => {
                // A WebGPU failure (e.g. a driver problem) falls back to the CPU backend.
                let (cpu, info) =
                    runtime::cpu_fallback(Some(format!("WebGPU failed, using the CPU: {e}")));
                self.backend.set(Some(info));
                runtime::load_default_model(&cpu).await
            }
            other => other,
        };
        match loaded {
            Ok(model) => {
                self.theta.set(model.card.default_theta);
                self.card.set(Some(model.card.clone()));
                self.model.set_value(Some(Rc::new(model)));
                self.status.set(Status::Ready);
                self.load_eval().await;
            }
            Err(e) => {
                self.error.set(Some(e));
                self.status.set(Status::Failed);
            }
        }
    }
}

/// The whole page.
#[component]
pub fn App() -> impl IntoView {
    let state = AppState::new();
    provide_context(state);
    spawn_local(state.start());
    let status_text = move || match state.status.get() {
        Status::Loading(step) => format!("Loading: {step}…"),
        Status::Ready => "Ready: choose or drop a photo.".into(),
        Status::Running => "Classifying…".into(),
        Status::Done => "Done. Choose another photo to classify it.".into(),
        Status::Failed => "The model could not be loaded; see the error above.".into(),
    };
    view! {
        <header>
            <h1>"FairScreen"</h1>
            <p class="tagline">
                "Screens a skin photo on your device with a multi-exit CNN. The photo never leaves this page."
            </p>
            <p class="disclaimer">
                <strong>"Not a diagnosis. "</strong>
                "A research demo trained on generated images, not on patients. See a clinician about any lesion that worries you."
            </p>
        </header>
        <main>
            <ErrorBanner />
            <section class="panel">
                <BackendBadge />
                <p id="status" data-state=move || state.status.get().state()>{status_text}</p>
                <UploadZone />
            </section>
            <Prediction />
            <ExitStrip />
            <ModelCardView />
            <Dashboard />
            <DataCardView />
        </main>
    }
}
