//! The fairlearn between-group forms (papers.md §6): differences and ratios over groups.

use serde::{Deserialize, Serialize};

use super::group::GroupMetrics;

/// The fairlearn between-group forms (papers.md §6). With two classes they concern the positive
/// class 1; with more, each is computed one-vs-rest per class and averaged over classes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FairlearnMetrics {
    /// max_g − min_g of the selection rate.
    pub demographic_parity_difference: f64,
    /// min_g / max_g of the selection rate.
    pub demographic_parity_ratio: f64,
    /// max(TPR difference, FPR difference) (`agg='worst_case'`).
    pub equalized_odds_difference: f64,
    /// (TPR difference + FPR difference) / 2 (`agg='mean'`).
    pub equalized_odds_difference_mean: f64,
    /// min(TPR ratio, FPR ratio).
    pub equalized_odds_ratio: f64,
    /// (TPR ratio + FPR ratio) / 2.
    pub equalized_odds_ratio_mean: f64,
    /// max_g − min_g of the TPR.
    pub equal_opportunity_difference: f64,
    /// min_g / max_g of the TPR.
    pub equal_opportunity_ratio: f64,
}

/// (max − min, min / max) of `values`, the ratio 1 when the max is 0.
fn spread(values: &[f64]) -> (f64, f64) {
    let max = values.iter().copied().fold(f64::MIN, f64::max);
    let min = values.iter().copied().fold(f64::MAX, f64::min);
    (max - min, if max == 0.0 { 1.0 } else { min / max })
}

/// fairlearn forms over `groups` (each group's metrics must have the same class count).
pub fn fairlearn_metrics(groups: &[GroupMetrics]) -> FairlearnMetrics {
    let k = groups.first().map_or(0, |g| g.tpr.len());
    let classes: Vec<usize> = if k == 2 { vec![1] } else { (0..k).collect() };
    let mut m = FairlearnMetrics {
        demographic_parity_difference: 0.0,
        demographic_parity_ratio: 0.0,
        equalized_odds_difference: 0.0,
        equalized_odds_difference_mean: 0.0,
        equalized_odds_ratio: 0.0,
        equalized_odds_ratio_mean: 0.0,
        equal_opportunity_difference: 0.0,
        equal_opportunity_ratio: 0.0,
    };
    if groups.is_empty() || classes.is_empty() {
        return m;
    }
    let n = classes.len() as f64;
    for &c in &classes {
        let per = |f: fn(&GroupMetrics, usize) -> f64| -> Vec<f64> {
            groups.iter().map(|g| f(g, c)).collect()
        };
        let (dp_d, dp_r) = spread(&per(|g, c| g.selection_rate[c]));
        let (tpr_d, tpr_r) = spread(&per(|g, c| g.tpr[c]));
        let (fpr_d, fpr_r) = spread(&per(|g, c| g.fpr[c]));
        m.demographic_parity_difference += dp_d / n;
        m.demographic_parity_ratio += dp_r / n;
        m.equalized_odds_difference += tpr_d.max(fpr_d) / n;
        m.equalized_odds_difference_mean += (tpr_d + fpr_d) / 2.0 / n;
        m.equalized_odds_ratio += tpr_r.min(fpr_r) / n;
        m.equalized_odds_ratio_mean += (tpr_r + fpr_r) / 2.0 / n;
        m.equal_opportunity_difference += tpr_d / n;
        m.equal_opportunity_ratio += tpr_r / n;
    }
    m
}
