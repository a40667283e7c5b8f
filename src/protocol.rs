//! The typed messages between the page and the inference worker. Each message travels as one
//! JSON string (serde) plus, for a photo, its bytes as a `Uint8Array` beside it.

use fairscreen_core::cam::ClassMap;
use fairscreen_core::exit::{exit_policy_computed, ExitDecision};
use fairscreen_core::folder_bundle::SkippedItem;
use fairscreen_core::format::AssetEntry;
use fairscreen_core::metrics::FairnessReport;
use fairscreen_core::{DataCard, EvalBundle, ModelCard};
use serde::{Deserialize, Serialize};

pub use fairscreen_core::exit::ExitLogits;

/// What the page asks the worker to do.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum Request {
    /// Choose a backend, read the model index, load the default model (the evaluation subset
    /// waits for [`Request::LoadEval`]).
    Start {
        /// Why the CPU backend must be used, if it must: the page URL asks for it
        /// (`?backend=cpu`), or an earlier worker lost its WebGPU device.
        cpu: Option<String>,
    },
    /// Fetch, verify and decode the bundled evaluation subset (once; again after a failure).
    LoadEval,
    /// Load the named model of the index on the same backend and re-screen the last photo.
    LoadModel {
        /// Index name of the model.
        name: String,
    },
    /// Screen the photo whose bytes travel with this message, stage by stage, stopping at the
    /// exit that fires at `theta`.
    Classify {
        /// File name, for messages.
        file: String,
        /// Early-exit threshold the pass stops at.
        theta: f32,
    },
    /// Screen the last photo again with the loaded model: stage by stage at `theta` (θ moved
    /// past the exits computed), or every exit in one pass (to compare them all).
    Rescreen {
        /// Early-exit threshold the pass stops at.
        theta: f32,
        /// Compute every exit in one pass instead.
        every_exit: bool,
    },
    /// Run the loaded model over the evaluation subset and report at `theta`.
    Audit {
        /// Early-exit threshold of the reports.
        theta: f32,
    },
    /// The fairness reports of an audited model at another θ (from its cached logits).
    Reports {
        /// Index name of the audited model.
        model: String,
        /// Early-exit threshold.
        theta: f32,
    },
    /// Validate and load a model file the user chose (its bytes travel with this message); it
    /// joins the picker as `your file <file>`.
    LoadOwnModel {
        /// File name.
        file: String,
    },
    /// Read a labelled folder the user chose (its files travel with this message, in `paths`
    /// order) into evaluation data for the loaded model's classes, then make it the data audits
    /// run on.
    ReadFolder {
        /// The folder's name, for messages and the data's name.
        folder: String,
        /// Each file's path inside the folder (`webkitRelativePath`, or its name).
        paths: Vec<String>,
    },
    /// Make the named evaluation data (the bundled subset or a folder read before) the one
    /// audits and reports run on.
    SelectData {
        /// Its name.
        name: String,
    },
    /// Audit any model's predictions: the CSV's bytes travel with this message.
    AuditPredictions {
        /// File name, for messages.
        file: String,
    },
    /// Stop the predictions audit in progress (at its next step; the last result stays).
    CancelPredictionsAudit,
    /// The peer benchmark (`tests/bench/peer.html` only): time a model on prepared inputs
    /// (their f32 bytes travel with this message).
    Bench(BenchRequest),
    /// Panic inside the worker (a debug hook: the page's recovery from a worker panic is
    /// tested with it; `window.fairscreenPanicWorker()`).
    DebugPanic,
    /// Destroy the worker's WebGPU device as a lost one would be (a debug hook: the page's
    /// switch to the CPU is tested with it; `window.fairscreenLoseGpu()`).
    DebugLoseGpu,
}

/// What the peer benchmark asks the worker to time.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct BenchRequest {
    /// The CPU backend (else WebGPU).
    pub cpu: bool,
    /// Index name of the model.
    pub model: String,
    /// Inputs whose every-exit logits are returned (the first ones).
    pub check: usize,
    /// Untimed single-input passes first.
    pub warmup: usize,
    /// Timed single-input passes (every exit, one read-back).
    pub runs: usize,
    /// Inputs screened stage by stage and with every exit (the first ones).
    pub early_exit_images: usize,
    /// θ of the stage-by-stage passes (the card's default when `None`).
    pub theta: Option<f32>,
    /// Batch size of the throughput pass over every input.
    pub batch: usize,
}

/// The worker's measurements for a [`BenchRequest`] (milliseconds).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct BenchResult {
    /// The backend measured.
    pub backend: BackendInfo,
    /// Index name of the model.
    pub model: String,
    /// Fetching, verifying, uploading and warming up the model.
    pub load_ms: f64,
    /// Inputs received.
    pub images: usize,
    /// Every exit's logits of the first inputs.
    pub check_logits: Vec<Vec<Vec<f32>>>,
    /// Each timed single-input pass.
    pub single_ms: Vec<f64>,
    /// θ of the stage-by-stage passes.
    pub theta: f32,
    /// Each input screened stage by stage (logits and maps of the exits computed).
    pub staged_ms: Vec<f64>,
    /// The same inputs with every exit computed in one pass (logits and maps).
    pub every_exit_ms: Vec<f64>,
    /// Exits the stage-by-stage pass computed, per input.
    pub exits_computed: Vec<usize>,
    /// The exit the policy picks from every exit, per input.
    pub policy_exits: Vec<usize>,
    /// Batch size of the throughput pass.
    pub batch: usize,
    /// Every input in batches of `batch`.
    pub throughput_ms: f64,
}

/// A labelled folder read into evaluation data.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FolderData {
    /// The data: labels, groups and card, without pixels.
    pub meta: BundleMeta,
    /// Rows and photos left out, with their line and reason.
    pub skipped: Vec<SkippedItem>,
}

/// An audited predictions CSV (no model involved).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PredictionsAudit {
    /// File name.
    pub file: String,
    /// What was read: rows, classes, attributes.
    pub summary: String,
    /// One report per attribute (and the first two intersected).
    pub reports: Vec<FairnessReport>,
}

/// How far a predictions audit's bootstrap is.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditProgress {
    /// The attribute (grouping) being resampled.
    pub attribute: String,
    /// Its place among the groupings, from 1.
    pub grouping: usize,
    /// Groupings in all.
    pub groupings: usize,
    /// Resamples done for this grouping.
    pub done: usize,
    /// Resamples per grouping.
    pub total: usize,
}

/// Which backend runs the model, and on what.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BackendInfo {
    /// `webgpu` or `cpu`.
    pub kind: String,
    /// Adapter vendor / architecture (WebGPU) or a description of the CPU path.
    pub adapter: String,
    /// True when the WebGPU adapter is a software rasteriser (SwiftShader, llvmpipe, WARP…).
    pub software: bool,
    /// Why the CPU fallback is in use, if it is.
    pub note: Option<String>,
    /// True when the WebGPU device computes in f16 (adapter feature `shader-f16`).
    pub shader_f16: bool,
    /// Where the model runs: `worker` (a dedicated Web Worker) or `page`.
    pub thread: String,
}

/// A class activation map as it travels (the core type without serde).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WireMap {
    /// Rows.
    pub height: usize,
    /// Columns.
    pub width: usize,
    /// Row-major values.
    pub values: Vec<f32>,
}

impl From<ClassMap> for WireMap {
    fn from(m: ClassMap) -> Self {
        Self {
            height: m.height,
            width: m.width,
            values: m.values,
        }
    }
}

impl From<WireMap> for ClassMap {
    fn from(m: WireMap) -> Self {
        Self {
            height: m.height,
            width: m.width,
            values: m.values,
        }
    }
}

/// One screened photo: the logits of each exit computed, and each one's class activation map for
/// the class it predicts, as numbers and drawn over the photo as the model saw it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PhotoResult {
    /// File name.
    pub file: String,
    /// Exits of the model.
    pub exits: usize,
    /// Logits of each exit computed, shallow to deep: a prefix of the exits (a stage-by-stage
    /// pass stops at the exit that fires; the stages after it never ran).
    pub logits: Vec<Vec<f32>>,
    /// Per exit computed, the map of the class that exit predicts (its argmax).
    pub cams: Vec<WireMap>,
    /// Per exit computed, that map over the photo as a PNG `data:` URL (drawn in the worker).
    pub overlays: Vec<String>,
    /// θ the stage-by-stage pass stopped at; `None` when every exit was computed in one pass.
    pub stopped_at: Option<f32>,
    /// Measured wall time of the model on this photo (input upload, the stages run, read-backs),
    /// in milliseconds.
    pub model_ms: f64,
    /// The latest measured time of this model computing every exit in one pass on this backend
    /// (ms), if it has.
    pub full_network_ms: Option<f64>,
    /// Measured wall time of decoding the photo and preparing the model's input (crop, resize,
    /// normalise), in milliseconds.
    pub prepare_ms: f64,
    /// The worker's wasm memory after this photo, in bytes (it grows and never shrinks: flat
    /// across photos means nothing leaks).
    pub worker_memory_bytes: f64,
}

impl PhotoResult {
    /// The early-exit decision at `theta` from the exits computed; `None` when it needs exits
    /// that were not computed.
    pub fn decision(&self, theta: f32) -> Option<ExitDecision> {
        exit_policy_computed(&self.logits, self.exits, theta)
    }

    /// Every exit was computed.
    pub fn complete(&self) -> bool {
        self.logits.len() == self.exits
    }
}

/// The evaluation subset without its pixels: what the page needs for reports and charts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BundleMeta {
    /// The data card.
    pub card: DataCard,
    /// Class label per image.
    pub labels: Vec<u8>,
    /// Fitzpatrick type per image.
    pub skin_types: Vec<u8>,
    /// Sex per image.
    pub sexes: Vec<u8>,
    /// Age per image.
    pub ages: Vec<u8>,
    /// Source id per image.
    pub ids: Vec<u32>,
    /// File size in bytes.
    pub bytes: usize,
}

impl BundleMeta {
    /// The metadata of `bundle` (a file of `bytes` bytes).
    pub fn of(bundle: &EvalBundle, bytes: usize) -> Self {
        Self {
            card: bundle.card.clone(),
            labels: bundle.labels.clone(),
            skin_types: bundle.skin_types.clone(),
            sexes: bundle.sexes.clone(),
            ages: bundle.ages.clone(),
            ids: bundle.ids.clone(),
            bytes,
        }
    }

    /// A bundle without pixels or masks, for the report functions (they read labels and groups).
    pub fn to_bundle(&self) -> EvalBundle {
        EvalBundle {
            card: self.card.clone(),
            images: Vec::new(),
            labels: self.labels.clone(),
            skin_types: self.skin_types.clone(),
            sexes: self.sexes.clone(),
            ages: self.ages.clone(),
            ids: self.ids.clone(),
            lesion_masks: None,
        }
    }
}

/// The mean final-head heatmap of one group of the evaluation subset.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GroupHeat {
    /// Group name (`I–III`, `type 4`, …).
    pub group: String,
    /// Images in the group.
    pub images: usize,
    /// Mean positive-unit map.
    pub mean: WireMap,
    /// The mean map drawn as a PNG `data:` URL (in the worker).
    pub image: String,
    /// Mean share of the heat on the lesion, when the subset has lesion masks.
    pub lesion_share: Option<f64>,
    /// Mean lesion area (share of the image), when the subset has lesion masks.
    pub lesion_area: Option<f64>,
}

/// A finished audit of one model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditResult {
    /// Index name of the model.
    pub model: String,
    /// Its exit logits on every evaluation image.
    pub logits: ExitLogits,
    /// Wall time of the run over the subset in ms (inference, preprocessing, read-back).
    pub ms: f64,
    /// Mean heatmaps per skin group and per Fitzpatrick type.
    pub group_heat: Vec<GroupHeat>,
    /// The reports at `theta`.
    pub reports: Vec<FairnessReport>,
    /// θ of the reports.
    pub theta: f32,
}

/// What the worker tells the page.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum Event {
    /// The worker's wasm is running and takes requests.
    Ready,
    /// A loading step, in words.
    Step(String),
    /// The backend in use (sent again if WebGPU fails and the CPU takes over).
    Backend(BackendInfo),
    /// `models/index.json`: every model and the default's name.
    ModelIndex {
        /// Every listed model.
        assets: Vec<AssetEntry>,
        /// The default model.
        default: String,
    },
    /// A listed model's card, read from its file header.
    PeekedCard {
        /// Index name.
        name: String,
        /// The card.
        card: ModelCard,
    },
    /// A model is loaded and verified (with the last photo re-screened by it, if there was one).
    ModelLoaded {
        /// Its index entry.
        entry: AssetEntry,
        /// Its verified card.
        card: ModelCard,
        /// What its weights are and what it computes in, in words.
        precision: String,
        /// The last photo, screened by this model.
        reclassified: Option<Result<PhotoResult, String>>,
    },
    /// A model could not be loaded; the previous one (if any) stays.
    ModelFailed {
        /// Index name.
        name: String,
        /// Why.
        error: String,
        /// True when no model is loaded at all (the page cannot screen).
        fatal: bool,
    },
    /// A screened photo, or why it could not be screened.
    Screened(Result<PhotoResult, String>),
    /// Evaluation subset download progress in bytes.
    EvalProgress {
        /// Received.
        done: usize,
        /// Total.
        total: usize,
    },
    /// The evaluation images are being decoded.
    EvalDecoding,
    /// The evaluation subset is loaded and verified.
    EvalReady(Box<BundleMeta>),
    /// The evaluation subset could not be loaded.
    EvalFailed(String),
    /// Audit progress in images.
    AuditProgress {
        /// Index name of the audited model.
        model: String,
        /// Images done.
        done: usize,
        /// Images in all.
        total: usize,
    },
    /// An audit finished.
    AuditDone(Box<AuditResult>),
    /// An audit failed.
    AuditFailed {
        /// Index name of the audited model.
        model: String,
        /// Why.
        error: String,
    },
    /// Reports of an audited model at θ.
    Reports {
        /// Index name.
        model: String,
        /// θ.
        theta: f32,
        /// One report per grouping.
        reports: Vec<FairnessReport>,
    },
    /// Folder reading progress in rows of `labels.csv`.
    FolderProgress {
        /// Rows done.
        done: usize,
        /// Rows in all.
        total: usize,
    },
    /// A folder read (and made the active data), or why it could not be.
    FolderRead(Result<Box<FolderData>, String>),
    /// A predictions CSV audited, or why it could not be.
    PredictionsAudited(Result<PredictionsAudit, String>),
    /// The predictions audit's bootstrap progressed.
    PredictionsProgress(AuditProgress),
    /// The peer benchmark's measurements, or why it could not run.
    Benched(Result<BenchResult, String>),
    /// The worker's wasm panicked: it no longer answers.
    Panic(String),
    /// The worker could not load its module (posted by `www/worker.js`: say, the WebGPU module
    /// is not reachable offline); it never answers.
    ModuleFailed(String),
    /// The WebGPU device was lost: the worker now runs on the CPU and loads `model` there again
    /// (a [`Event::ModelLoaded`] follows, or a fatal [`Event::ModelFailed`]).
    GpuLost {
        /// What happened, for the page.
        reason: String,
        /// The model that was loaded, being loaded again on the CPU.
        model: Option<String>,
    },
}

impl Event {
    /// The event's name, for logs.
    pub fn kind(&self) -> &'static str {
        match self {
            Event::Ready => "Ready",
            Event::Step(_) => "Step",
            Event::Backend(_) => "Backend",
            Event::ModelIndex { .. } => "ModelIndex",
            Event::PeekedCard { .. } => "PeekedCard",
            Event::ModelLoaded { .. } => "ModelLoaded",
            Event::ModelFailed { .. } => "ModelFailed",
            Event::Screened(_) => "Screened",
            Event::EvalProgress { .. } => "EvalProgress",
            Event::EvalDecoding => "EvalDecoding",
            Event::EvalReady(_) => "EvalReady",
            Event::EvalFailed(_) => "EvalFailed",
            Event::AuditProgress { .. } => "AuditProgress",
            Event::AuditDone(_) => "AuditDone",
            Event::AuditFailed { .. } => "AuditFailed",
            Event::Reports { .. } => "Reports",
            Event::FolderProgress { .. } => "FolderProgress",
            Event::FolderRead(_) => "FolderRead",
            Event::PredictionsAudited(_) => "PredictionsAudited",
            Event::PredictionsProgress(_) => "PredictionsProgress",
            Event::Benched(_) => "Benched",
            Event::Panic(_) => "Panic",
            Event::ModuleFailed(_) => "ModuleFailed",
            Event::GpuLost { .. } => "GpuLost",
        }
    }
}

/// Packs a message (and optional bytes) into the object that crosses `postMessage`.
pub fn pack<T: Serialize>(message: &T, bytes: Option<&[u8]>) -> wasm_bindgen::JsValue {
    let object = js_sys::Object::new();
    let json =
        serde_json::to_string(message).unwrap_or_else(|e| format!("\"unserialisable: {e}\""));
    let _ = js_sys::Reflect::set(&object, &"json".into(), &json.into());
    if let Some(bytes) = bytes {
        let array = js_sys::Uint8Array::from(bytes);
        let _ = js_sys::Reflect::set(&object, &"bytes".into(), &array.into());
    }
    object.into()
}

/// Packs a message with files (`File` objects travel by reference: the receiver reads them).
pub fn pack_files<T: Serialize>(message: &T, files: &[web_sys::File]) -> wasm_bindgen::JsValue {
    let object = pack(message, None);
    let array: js_sys::Array = files.iter().collect();
    let _ = js_sys::Reflect::set(&object, &"files".into(), &array.into());
    object
}

/// The files of a message made by [`pack_files`] (none otherwise).
pub fn unpack_files(data: &wasm_bindgen::JsValue) -> Vec<web_sys::File> {
    use wasm_bindgen::JsCast;
    js_sys::Reflect::get(data, &"files".into())
        .ok()
        .and_then(|f| f.dyn_into::<js_sys::Array>().ok())
        .map(|a| a.iter().filter_map(|f| f.dyn_into().ok()).collect())
        .unwrap_or_default()
}

/// Unpacks what [`pack`] made: the message and its bytes, or why it is not one.
pub fn unpack<T: for<'de> Deserialize<'de>>(
    data: &wasm_bindgen::JsValue,
) -> Result<(T, Option<Vec<u8>>), String> {
    let json = js_sys::Reflect::get(data, &"json".into())
        .ok()
        .and_then(|j| j.as_string())
        .ok_or("a message without its JSON part")?;
    let message = serde_json::from_str(&json).map_err(|e| format!("a malformed message: {e}"))?;
    let bytes = js_sys::Reflect::get(data, &"bytes".into())
        .ok()
        .filter(|b| !b.is_undefined())
        .map(|b| js_sys::Uint8Array::new(&b).to_vec());
    Ok((message, bytes))
}
