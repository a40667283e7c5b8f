//! One module per subcommand of `fairscreen-train` (except `reproduce`, a module of its own):
//! its clap arguments and its `run`.

pub mod audit;
pub mod catalogue;
pub mod eval_bundle;
pub mod export;
pub mod export_onnx;
pub mod fixtures;
pub mod heatmaps;
pub mod quantize;
pub mod synth;
pub mod train;
