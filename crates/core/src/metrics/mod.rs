//! Classification and fairness metrics from (labels, predictions, probabilities, group ids), for
//! any number of classes and groups. Two families, both as in papers.md:
//! * the FME/SCP forms (§1): EOpp0/EOpp1/EOdd/DP between groups 0 and 1, signed and `_abs`, with
//!   `K = max(max y, max ŷ) + 1` classes and zero division → 0;
//! * the fairlearn forms (§6): demographic parity, equalized odds (worst case and mean) and equal
//!   opportunity differences (max − min over groups) and ratios (min / max), for the positive class
//!   when there are two classes and averaged one-vs-rest over classes otherwise.
//!
//! Plus per-group accuracy, macro precision/recall/F1, per-class TPR/TNR/FPR, AUC, worst-group and
//! gap summaries, FATE against a baseline, and seeded, group-stratified bootstrap intervals.

mod auc;
mod audit;
mod bootstrap;
mod confusion;
mod fairlearn;
mod fate;
mod fme;
mod group;
mod grouping;
mod objective;
mod predictions_csv;
mod report;
mod report_csv;
mod weighted;

pub use auc::{auc, binary_auc};
pub use audit::{bundle_reports, policy_predictions};
pub use bootstrap::{fairness_report, BootstrapRun};
pub use confusion::Confusion;
pub use fairlearn::{fairlearn_metrics, FairlearnMetrics};
pub use fate::{fate, FateBaseline};
pub use fme::{fme_metrics, FmeMetrics};
pub use group::GroupMetrics;
pub use grouping::{standard_groupings, Grouping};
pub use objective::{FairnessObjective, ObjectiveError};
pub use predictions_csv::{read_predictions_csv, PredictionsCsvError, PredictionsTable};
pub use report::{FairnessReport, Interval, Predictions, ReportOptions};
pub use report_csv::{reports_csv, REPORT_CSV_HEADER};
