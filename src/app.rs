//! Application state and the top-level view. Components only render this state; the runtime
//! module owns the backend and the model.

use std::collections::BTreeMap;
use std::rc::Rc;
use std::sync::Arc;

use fairscreen_core::cam::ClassMap;
use fairscreen_core::exit_analysis::{
    exit_points, parameter_count, policy_point, skin_groups, standalone_macs, OperatingPoint,
};
use fairscreen_core::format::AssetEntry;
use fairscreen_core::infer::{ExitMaps, LoadedModel};
use fairscreen_core::metrics::{bundle_reports, FairnessReport, ReportOptions};
use fairscreen_core::quant::precision_description;
use fairscreen_core::{ComputeCost, DataCard, EvalBundle, ModelCard};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::components::{
    BackendBadge, Comparison, Dashboard, DataCardView, ErrorBanner, ExitStrip, GroupHeatmaps,
    Heatmap, ModelCardView, ModelPicker, OfflineBadge, Prediction, PruningLevels, UploadZone,
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

/// The latest classified photo: its name, every exit's logits and maps, and the photo as the
/// model saw it (for the heatmap).
#[derive(Clone, Debug, PartialEq)]
pub struct Classified {
    /// Uploaded file name.
    pub file: String,
    /// Logits per exit, shallow to deep.
    pub logits: Vec<Vec<f32>>,
    /// Pooled maps `[C, H, W]` per exit, shallow to deep.
    pub maps: Arc<ExitMaps>,
    /// The centre-cropped, resized photo.
    pub image: Arc<image::RgbImage>,
}

impl Classified {
    /// From a screened photo named `file`.
    pub fn new(file: String, screened: runtime::Screened) -> Self {
        Self {
            file,
            logits: screened.logits.sample(0),
            maps: Arc::new(screened.maps),
            image: Arc::new(screened.image),
        }
    }
}

/// An uploaded photo: file name and bytes.
pub type Photo = (String, Rc<Vec<u8>>);

/// A model of `models/index.json`: its index entry and, once read, its card.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelChoice {
    /// Name, file, size and sha256 from the index.
    pub entry: AssetEntry,
    /// The card: from the file's header until the model is loaded, then from the verified file.
    pub card: Option<ModelCard>,
}

/// Each exit alone and the early-exit policy at θ for the loaded model on the evaluation subset
/// (groups: Fitzpatrick I–III vs IV–VI), for the per-exit chart.
#[derive(Clone, Debug, PartialEq)]
pub struct ExitChartData {
    /// Model name.
    pub model: String,
    /// θ of the policy point.
    pub theta: f32,
    /// Every exit alone, shallow to deep (final head last).
    pub exits: Vec<OperatingPoint>,
    /// Compute of each exit alone as a share of the full network.
    pub exit_compute: Vec<f64>,
    /// The early-exit policy at θ.
    pub policy: OperatingPoint,
    /// Evaluation images.
    pub samples: usize,
}

/// One shipped pruning level of a model family (the unpruned base and the models pruned from it).
#[derive(Clone, Debug, PartialEq)]
pub struct PruningLevel {
    /// Index name.
    pub name: String,
    /// Channels removed from the base's pruned layer (0 for the base).
    pub removed: usize,
    /// Channels the base layer had.
    pub base_width: usize,
    /// How it was pruned, in words (empty for the base).
    pub method: String,
    /// Parameters of the file.
    pub parameters: usize,
    /// MACs of the full network.
    pub macs_full: u64,
    /// File bytes.
    pub bytes: usize,
    /// Validation macro F1 at export (card; the base's from its pruned models' cards).
    pub val_f1: Option<f64>,
    /// Validation EOdd (abs, skin groups) at export.
    pub val_eodds: Option<f64>,
    /// Validation accuracy at export.
    pub val_accuracy: Option<f64>,
}

/// The loaded model's pruning family, smallest pruning first.
#[derive(Clone, Debug, PartialEq)]
pub struct PruningFamily {
    /// The unpruned model's name.
    pub base: String,
    /// Pruned layer.
    pub layer: String,
    /// Every shipped level, by channels removed (the base first).
    pub levels: Vec<PruningLevel>,
    /// Index of the loaded model in `levels`.
    pub current: usize,
}

/// One audited model in the side-by-side comparison, at that model's current θ.
#[derive(Clone, Debug, PartialEq)]
pub struct ComparisonRow {
    /// Model name.
    pub model: String,
    /// Whether it is the loaded model.
    pub active: bool,
    /// The card (method, data, weights).
    pub card: ModelCard,
    /// File size in bytes.
    pub bytes: usize,
    /// θ the row is computed at (the slider's for the loaded model, else the last one used).
    pub theta: f32,
    /// The dashboard's report for skin type in two groups at θ (point estimates).
    pub report: FairnessReport,
    /// The early-exit policy at θ (exits used, compute saved).
    pub policy: OperatingPoint,
    /// Wall time of its last run over the evaluation subset in this browser, in ms.
    pub audit_ms: Option<f64>,
}

/// Whether the offline service worker has stored the site on this device.
#[derive(Clone, Debug, PartialEq)]
pub enum OfflineStatus {
    /// Registering and caching.
    Pending,
    /// The app, the default model and the evaluation subset work without a network.
    Ready,
    /// Not available, and why.
    Unavailable(String),
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
    /// Every model of `models/index.json`, in index order.
    pub models: RwSignal<Vec<ModelChoice>>,
    /// Index name of the loaded model.
    pub model_name: RwSignal<String>,
    /// The model being switched to, while it loads.
    pub switching: RwSignal<Option<String>>,
    /// The last classified photo's file name and bytes (re-classified when the model changes).
    pub photo: StoredValue<Option<Photo>, LocalStorage>,
    /// Exit logits on the evaluation subset of every audited model, by name (kept across switches).
    pub audit_cache: StoredValue<BTreeMap<String, Rc<ExitLogits>>, LocalStorage>,
    /// Final-head class activation maps on the evaluation subset, by model name (from its audit).
    pub audit_cams: StoredValue<BTreeMap<String, Rc<Vec<ClassMap>>>, LocalStorage>,
    /// θ each model was last used at, by name (the loaded model's is `theta`).
    pub model_theta: RwSignal<BTreeMap<String, f32>>,
    /// Changes whenever `audit_cache` or `audit_logits` change (they are not reactive).
    pub audit_version: RwSignal<u32>,
    /// How many times the model ran over the evaluation subset (switching back must not add one).
    pub audit_runs: RwSignal<u32>,
    /// Wall time in ms of each model's last run over the evaluation subset, by name (inference,
    /// preprocessing and read-back on the active backend).
    pub audit_ms: RwSignal<BTreeMap<String, f64>>,
    /// What the loaded model's weights are and what precision it computes in, in words.
    pub precision: RwSignal<String>,
    /// Whether the site is stored for offline use.
    pub offline: RwSignal<OfflineStatus>,
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
            audit_cams: StoredValue::new_local(BTreeMap::new()),
            grouping: RwSignal::new(0),
            models: RwSignal::new(Vec::new()),
            model_name: RwSignal::new(String::new()),
            switching: RwSignal::new(None),
            photo: StoredValue::new_local(None),
            audit_cache: StoredValue::new_local(BTreeMap::new()),
            model_theta: RwSignal::new(BTreeMap::new()),
            audit_version: RwSignal::new(0),
            audit_runs: RwSignal::new(0),
            audit_ms: RwSignal::new(BTreeMap::new()),
            precision: RwSignal::new(String::new()),
            offline: RwSignal::new(OfflineStatus::Pending),
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
        let name = self.model_name.get_untracked();
        self.audit.set(AuditStatus::Running(0, bundle.len()));
        spawn_local(async move {
            let started = js_sys::Date::now();
            let outcome = runtime::bundle_logits(&model, &bundle, |done, total| {
                self.audit.set(AuditStatus::Running(done, total))
            })
            .await;
            let elapsed = js_sys::Date::now() - started;
            self.audit_runs.update(|n| *n += 1);
            if outcome.is_ok() {
                self.audit_ms.update(|m| {
                    m.insert(name.clone(), elapsed);
                });
            }
            match outcome {
                Ok((logits, cams)) => {
                    let logits = Rc::new(logits);
                    self.audit_cache.update_value(|c| {
                        c.insert(name.clone(), logits.clone());
                    });
                    self.audit_cams.update_value(|c| {
                        c.insert(name.clone(), Rc::new(cams));
                    });
                    // The picker is locked while the audit runs, so this is still the loaded model.
                    if self.model_name.get_untracked() == name {
                        self.audit_logits.set_value(Some(logits));
                        self.recompute_audit();
                    }
                    self.audit_version.update(|v| *v += 1);
                }
                Err(e) => self.audit.set(AuditStatus::Failed(e)),
            }
        });
    }

    /// Each exit alone and the policy at the current θ for the loaded model's cached audit logits
    /// (reactive: follows θ, the model and new audits; no inference).
    pub fn exit_chart(self) -> Option<ExitChartData> {
        self.audit_version.track();
        let theta = self.theta.get();
        let model = self.model_name.get();
        let config = self.card.with(|c| c.as_ref().map(|c| c.config.clone()))?;
        let logits = self.audit_logits.get_value()?;
        let bundle = self.bundle.get_value()?;
        let labels: Vec<usize> = bundle.labels.iter().map(|&l| l as usize).collect();
        // The cached logits must be this model's (exit count) and this subset's (sample count).
        if logits.len() != labels.len()
            || logits.iter().any(|s| s.len() != config.num_exits())
            || labels.is_empty()
        {
            return None;
        }
        let groups = skin_groups(&bundle.skin_types);
        let full = ComputeCost::of(&config).full_network() as f64;
        Some(ExitChartData {
            model,
            theta,
            exits: exit_points(&config, &logits, &labels, &groups),
            exit_compute: standalone_macs(&config)
                .iter()
                .map(|&m| m as f64 / full)
                .collect(),
            policy: policy_point(&config, &logits, &labels, &groups, theta),
            samples: labels.len(),
        })
    }

    /// The shipped pruning levels of the loaded model's family, when it has more than one
    /// (reactive; from the cards, no inference).
    pub fn pruning_family(self) -> Option<PruningFamily> {
        let loaded = self.model_name.get();
        let models = self.models.get();
        let card_of = |name: &str| {
            models
                .iter()
                .find(|m| m.entry.name == name)
                .and_then(|m| m.card.clone())
        };
        let loaded_card = card_of(&loaded)?;
        let base = loaded_card
            .pruning
            .as_ref()
            .map_or(loaded.clone(), |p| p.base.clone());
        let pruned: Vec<&ModelChoice> = models
            .iter()
            .filter(|m| {
                m.card
                    .as_ref()
                    .and_then(|c| c.pruning.as_ref())
                    .is_some_and(|p| p.base == base)
            })
            .collect();
        let first = pruned.first()?.card.as_ref()?.pruning.clone()?;
        let metric = |c: &ModelCard, key: &str| c.metrics.get(key).copied();
        let reference = pruned[0].card.clone()?;
        let mut levels = Vec::new();
        if let Some(b) = models.iter().find(|m| m.entry.name == base) {
            let card = b.card.clone()?;
            levels.push(PruningLevel {
                name: base.clone(),
                removed: 0,
                base_width: first.base_width,
                method: String::new(),
                parameters: parameter_count(&card.config),
                macs_full: ComputeCost::of(&card.config).full_network(),
                bytes: b.entry.bytes,
                val_f1: metric(&reference, "val/base/f1"),
                val_eodds: metric(&reference, "val/base/eodds_abs"),
                val_accuracy: metric(&reference, "val/base/accuracy"),
            });
        }
        for m in pruned {
            let card = m.card.clone()?;
            let p = card.pruning.clone()?;
            levels.push(PruningLevel {
                name: m.entry.name.clone(),
                removed: p.channels.len(),
                base_width: p.base_width,
                method: p.method,
                parameters: parameter_count(&card.config),
                macs_full: ComputeCost::of(&card.config).full_network(),
                bytes: m.entry.bytes,
                val_f1: metric(&card, "val/point/f1"),
                val_eodds: metric(&card, "val/point/eodds_abs"),
                val_accuracy: metric(&card, "val/point/accuracy"),
            });
        }
        levels.sort_by(|a, b| a.removed.cmp(&b.removed).then(a.name.cmp(&b.name)));
        let current = levels.iter().position(|l| l.name == loaded)?;
        Some(PruningFamily {
            base,
            layer: first.layer,
            levels,
            current,
        })
    }

    /// One row per audited model, in index order, each at its own θ (reactive; no inference).
    pub fn comparison(self) -> Vec<ComparisonRow> {
        self.audit_version.track();
        let active = self.model_name.get();
        let theta = self.theta.get();
        let thetas = self.model_theta.get();
        let Some(bundle) = self.bundle.get_value() else {
            return Vec::new();
        };
        let labels: Vec<usize> = bundle.labels.iter().map(|&l| l as usize).collect();
        let groups = skin_groups(&bundle.skin_types);
        let cache = self.audit_cache.get_value();
        let times = self.audit_ms.get();
        // Point estimates only: the bootstrap is for the dashboard of the loaded model.
        let opts = ReportOptions {
            bootstrap: 0,
            ..audit_options()
        };
        self.models
            .get()
            .into_iter()
            .filter_map(|m| {
                let name = m.entry.name;
                let logits = cache.get(&name)?;
                let card = m.card?;
                let ok = logits.len() == labels.len()
                    && logits.iter().all(|s| s.len() == card.config.num_exits());
                if !ok {
                    return None;
                }
                let theta = if name == active {
                    theta
                } else {
                    thetas.get(&name).copied().unwrap_or(card.default_theta)
                };
                // bundle_reports' first report is skin type in two groups (I–III / IV–VI).
                let report = bundle_reports(&bundle, logits, theta, &opts)
                    .into_iter()
                    .next()?;
                let policy = policy_point(&card.config, logits, &labels, &groups, theta);
                Some(ComparisonRow {
                    audit_ms: times.get(&name).copied(),
                    active: name == active,
                    model: name,
                    bytes: m.entry.bytes,
                    card,
                    theta,
                    report,
                    policy,
                })
            })
            .collect()
    }

    /// Loads another model of the index on the same backend (verified like the default), sets θ
    /// to its default, reuses its cached audit if any and re-classifies the last photo. On any
    /// failure the error is shown and the previous model stays loaded.
    pub fn switch_model(self, name: String) {
        let refuse = |why: &str| {
            self.error
                .set(Some(format!("cannot switch to {name} now: {why}")));
            // Puts the picker back on the loaded model.
            self.model_name.notify();
        };
        if name == self.model_name.get_untracked() {
            return;
        }
        if self.switching.get_untracked().is_some() {
            return refuse("another model is loading");
        }
        if matches!(self.audit.get_untracked(), AuditStatus::Running(..)) {
            return refuse("the fairness audit is running");
        }
        let previous = self.status.get_untracked();
        if !matches!(previous, Status::Ready | Status::Done) {
            return refuse("wait for the current step to finish");
        }
        let Some(current) = self.model.get_value() else {
            return refuse("no model is loaded");
        };
        let entry = self.models.with_untracked(|m| {
            m.iter()
                .find(|c| c.entry.name == name)
                .map(|c| c.entry.clone())
        });
        let Some(entry) = entry else {
            return refuse("it is not in models/index.json");
        };
        self.switching.set(Some(name.clone()));
        self.status
            .set(Status::Loading(format!("switching to the model {name}")));
        spawn_local(async move {
            let outcome = async {
                let f16 = self
                    .backend
                    .with_untracked(|b| b.as_ref().is_some_and(|b| b.shader_f16));
                let model = runtime::load_model(&current.device, f16, &entry).await?;
                let photo = self.photo.get_value();
                let reclassified = match photo {
                    Some((file, bytes)) => Some(
                        runtime::classify(&model, &bytes)
                            .await
                            .map(|l| Classified::new(file.clone(), l))
                            .map_err(|e| format!("{file}: {e}")),
                    ),
                    None => None,
                };
                Ok::<_, String>((model, reclassified))
            }
            .await;
            match outcome {
                Ok((model, reclassified)) => self.commit_model(entry, model, reclassified),
                Err(e) => {
                    self.error
                        .set(Some(format!("could not switch to {name}: {e}")));
                    self.status.set(previous);
                }
            }
            self.switching.set(None);
            self.model_name.notify();
        });
    }

    /// Makes `model` the loaded one (all state at once, so no view sees a mix of two models).
    fn commit_model(
        self,
        entry: AssetEntry,
        model: LoadedModel,
        reclassified: Option<Result<Classified, String>>,
    ) {
        let name = entry.name.clone();
        let old = self.model_name.get_untracked();
        if !old.is_empty() {
            let theta = self.theta.get_untracked();
            self.model_theta.update(|t| {
                t.insert(old, theta);
            });
        }
        let card = model.card.clone();
        self.precision.set(precision_description(
            &card.quantization,
            model.compute_dtype() == burn::tensor::FloatDType::F16,
        ));
        self.models.update(|m| {
            if let Some(c) = m.iter_mut().find(|c| c.entry.name == name) {
                c.card = Some(card.clone());
            }
        });
        self.theta.set(card.default_theta);
        self.card.set(Some(card));
        self.model.set_value(Some(Rc::new(model)));
        self.model_name.set(name.clone());
        let cached = self.audit_cache.with_value(|c| c.get(&name).cloned());
        match cached {
            Some(logits) => {
                self.audit_logits.set_value(Some(logits));
                self.recompute_audit();
            }
            None => {
                self.audit_logits.set_value(None);
                self.audit.set(AuditStatus::Idle);
            }
        }
        self.audit_version.update(|v| *v += 1);
        match reclassified {
            Some(Ok(result)) => {
                self.result.set(Some(result));
                self.error.set(None);
                self.runs.update(|r| *r += 1);
            }
            Some(Err(e)) => {
                // Never show one model's answer under another model's card.
                self.result.set(None);
                self.photo.set_value(None);
                self.error.set(Some(e));
            }
            None => {}
        }
        let shown = self.result.with_untracked(|r| r.is_some());
        self.status
            .set(if shown { Status::Done } else { Status::Ready });
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
                Ok(bytes) => runtime::classify(&model, &bytes).await.map(|l| (l, bytes)),
                Err(e) => Err(e),
            };
            match outcome {
                Ok((logits, bytes)) => {
                    self.photo.set_value(Some((name.clone(), Rc::new(bytes))));
                    self.result.set(Some(Classified::new(name, logits)));
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
        spawn_local(async move {
            self.offline
                .set(match runtime::register_offline_worker().await {
                    Ok(()) => OfflineStatus::Ready,
                    Err(e) => {
                        log::warn!("offline use unavailable: {e}");
                        OfflineStatus::Unavailable(e)
                    }
                });
        });
        self.status
            .set(Status::Loading("choosing a backend".into()));
        let (device, info) = runtime::pick_backend().await;
        let gpu = info.kind == "webgpu";
        let f16 = info.shader_f16;
        self.backend.set(Some(info));
        self.status.set(Status::Loading("loading the model".into()));
        let index = match runtime::model_index().await {
            Ok(index) => index,
            Err(e) => {
                self.error.set(Some(e));
                self.status.set(Status::Failed);
                return;
            }
        };
        self.models.set(
            index
                .assets
                .iter()
                .map(|entry| ModelChoice {
                    entry: entry.clone(),
                    card: None,
                })
                .collect(),
        );
        let Ok(entry) = index.default_entry().cloned() else {
            return;
        };
        let loaded = match runtime::load_model(&device, f16, &entry).await {
            Err(e) if gpu => {
                // A WebGPU failure (e.g. a driver problem) falls back to the CPU backend.
                let (cpu, info) =
                    runtime::cpu_fallback(Some(format!("WebGPU failed, using the CPU: {e}")));
                self.backend.set(Some(info));
                runtime::load_model(&cpu, false, &entry).await
            }
            other => other,
        };
        match loaded {
            Ok(model) => {
                self.commit_model(entry, model, None);
                spawn_local(self.peek_cards());
                self.load_eval().await;
            }
            Err(e) => {
                self.error.set(Some(e));
                self.status.set(Status::Failed);
            }
        }
    }

    /// Reads the cards of the models not loaded yet from their file headers, for the picker.
    async fn peek_cards(self) {
        let missing: Vec<AssetEntry> = self.models.with_untracked(|m| {
            m.iter()
                .filter(|c| c.card.is_none())
                .map(|c| c.entry.clone())
                .collect()
        });
        for entry in missing {
            match runtime::peek_model_card(&entry).await {
                Ok(card) => self.models.update(|m| {
                    if let Some(c) = m
                        .iter_mut()
                        .find(|c| c.entry.name == entry.name && c.card.is_none())
                    {
                        c.card = Some(card);
                    }
                }),
                Err(e) => log::warn!("could not read the card of {}: {e}", entry.file),
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
                <OfflineBadge />
                <p id="status" data-state=move || state.status.get().state()>{status_text}</p>
                <ModelPicker />
                <UploadZone />
            </section>
            <Prediction />
            <Heatmap />
            <ExitStrip />
            <ModelCardView />
            <PruningLevels />
            <Dashboard />
            <Comparison />
            <GroupHeatmaps />
            <DataCardView />
        </main>
    }
}
