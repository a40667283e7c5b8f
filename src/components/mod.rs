//! The views, one file each: every view takes the parts of the state it renders and formats
//! them; none owns logic beyond formatting.

mod app;
mod chart;
mod comparison;
mod dashboard;
mod data_card;
mod error_banner;
mod exit_chart;
mod exits;
mod export_buttons;
mod format;
mod group_heatmaps;
mod heatmap;
mod model_card;
mod model_picker;
mod own_folder;
mod own_predictions;
mod peft_mask;
mod pruning;
mod report_tables;
mod result;
mod status;
mod upload;

pub use app::App;
pub use comparison::Comparison;
pub use dashboard::Dashboard;
pub use data_card::DataCardView;
pub use error_banner::{report_panic, ErrorBanner};
pub use exits::ExitStrip;
pub use group_heatmaps::GroupHeatmaps;
pub use heatmap::Heatmap;
pub use model_card::ModelCardView;
pub use model_picker::ModelPicker;
pub use own_folder::OwnFolder;
pub use own_predictions::OwnPredictions;
pub use pruning::PruningLevels;
pub use result::Prediction;
pub use status::{BackendBadge, OfflineBadge, StatusLine};
pub use upload::UploadZone;
