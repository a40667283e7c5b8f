//! Training and evaluating the multi-exit models natively: options, the training loop, whole-
//! dataset predictions and checkpoints.

mod checkpoint;
mod fit;
mod options;
mod peft;
mod predict;

pub use checkpoint::{load_checkpoint, save_checkpoint, CheckpointMeta};
pub use fit::{train_model, train_model_observed, EpochControl};
pub use options::{Augment, Backend, Dataset, EpochLosses, Method, TrainOptions};
pub use predict::{evaluate, predict, predict_with_features};
