//! FairScreen core: the multi-exit CNN, early-exit policy, model file format and preprocessing.
//! No I/O: the native trainer and the browser app share every function here.

pub mod exit;
pub mod format;
pub mod infer;
pub mod model;
pub mod preprocess;

pub use exit::{exit_policy, exit_policy_batch, ComputeCost, ExitDecision};
pub use format::{read_model, write_model, FormatError, ModelCard, ModelFile, TrainingInfo};
pub use model::{HostTensor, ModelConfig, MultiExitCnn};
