//! Metrics of one group (or of everyone): accuracy, macro scores, per-class rates and AUC.

use serde::{Deserialize, Serialize};

use super::confusion::Confusion;

/// Metrics of one group (or of everyone).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GroupMetrics {
    /// Group name, e.g. `Fitzpatrick IV–VI` or `all`.
    pub name: String,
    /// Samples.
    pub n: usize,
    /// Samples per true class.
    pub class_counts: Vec<usize>,
    /// Accuracy.
    pub accuracy: f64,
    /// Macro precision over the classes seen in the group.
    pub precision: f64,
    /// Macro recall over the classes seen in the group.
    pub recall: f64,
    /// Macro F1 over the classes seen in the group.
    pub f1: f64,
    /// TPR per class (0 for a class absent from the group).
    pub tpr: Vec<f64>,
    /// TNR per class.
    pub tnr: Vec<f64>,
    /// FPR per class.
    pub fpr: Vec<f64>,
    /// Share predicted as each class.
    pub selection_rate: Vec<f64>,
    /// AUC (binary or one-vs-rest macro), when defined and probabilities were given.
    pub auc: Option<f64>,
}

/// The metrics of one group from its confusion matrix, sample count, samples per true class and
/// AUC.
pub(super) fn metrics_from(
    name: &str,
    c: &Confusion,
    n: usize,
    class_counts: Vec<usize>,
    auc: Option<f64>,
) -> GroupMetrics {
    let k = class_counts.len();
    let (precision, recall, f1) = c.macro_prf();
    GroupMetrics {
        name: name.into(),
        n,
        class_counts,
        accuracy: c.accuracy(),
        precision,
        recall,
        f1,
        tpr: (0..k).map(|i| c.tpr(i)).collect(),
        tnr: (0..k).map(|i| c.tnr(i)).collect(),
        fpr: (0..k).map(|i| c.fpr(i)).collect(),
        selection_rate: (0..k).map(|i| c.selection_rate(i)).collect(),
        auc,
    }
}
