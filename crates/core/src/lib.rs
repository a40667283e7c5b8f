//! FairScreen core: the multi-exit CNN, early-exit policy, model file and evaluation bundle formats,
//! fairness metrics, per-exit analysis, class activation maps, SNNL, channel pruning, int8 quantization, and preprocessing.
//! No I/O: the native trainer and the browser app share every function here.

#![warn(missing_docs)]

pub mod assets;
pub mod bundle;
pub mod cam;
pub mod card_keys;
pub mod config;
pub mod exit;
pub mod exit_analysis;
pub mod folder_bundle;
pub mod format;
pub mod infer;
pub mod kernel_dependence;
pub mod labels;
pub mod metrics;
pub mod model;
pub mod peft;
pub mod preprocess;
pub mod prune;
pub mod quant;
pub mod report_html;
mod safetensors;
pub mod search;
pub mod snnl;

pub use bundle::{
    encode_webp_lossless, read_eval_bundle, write_eval_bundle, write_eval_bundle_with, BundleError,
    DataCard, EvalBundle,
};
pub use config::{ConvLayer, ModelConfig};
pub use exit::{exit_policy, exit_policy_batch, ComputeCost, ExitDecision, ExitLogits};
pub use format::{
    read_model, write_model, FineTuningInfo, FormatError, ModelCard, ModelFile, TrainingInfo,
};
pub use model::{HostTensor, MultiExitCnn};
