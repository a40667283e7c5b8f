//! The fairness report of one grouping: its inputs, options and point estimates, and the
//! stable scalar names its metrics are keyed by.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::fairlearn::FairlearnMetrics;
use super::fate::FateBaseline;
use super::fme::FmeMetrics;
use super::group::GroupMetrics;

/// One evaluated set of predictions: what every metric is computed from.
#[derive(Clone, Debug, PartialEq)]
pub struct Predictions {
    /// True class per sample.
    pub labels: Vec<usize>,
    /// Predicted class per sample.
    pub predicted: Vec<usize>,
    /// Class probabilities per sample (optional; AUC needs them).
    pub probs: Option<Vec<Vec<f64>>>,
    /// Number of classes.
    pub classes: usize,
}

/// How the report is computed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReportOptions {
    /// Groups with fewer samples get a warning.
    pub min_group_size: usize,
    /// Bootstrap resamples (0 = no intervals).
    pub bootstrap: usize,
    /// Bootstrap seed.
    pub seed: u64,
    /// Confidence level of the intervals (e.g. 0.95).
    pub level: f64,
    /// FATE baseline, if any.
    pub fate_baseline: Option<FateBaseline>,
}

impl Default for ReportOptions {
    fn default() -> Self {
        Self {
            min_group_size: 30,
            bootstrap: 200,
            seed: 121,
            level: 0.95,
            fate_baseline: None,
        }
    }
}

/// A confidence interval.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    /// Lower bound.
    pub lo: f64,
    /// Upper bound.
    pub hi: f64,
}

/// Metrics of one grouping (one sensitive attribute or an intersection).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FairnessReport {
    /// The grouping, e.g. `skin type (I–III / IV–VI)`.
    pub attribute: String,
    /// Class names.
    pub class_names: Vec<String>,
    /// Everyone.
    pub overall: GroupMetrics,
    /// Each group, in group-id order (empty groups left out).
    pub groups: Vec<GroupMetrics>,
    /// FME/SCP forms between the first two groups, when there are exactly two.
    pub fme: Option<FmeMetrics>,
    /// fairlearn forms over all groups.
    pub fairlearn: FairlearnMetrics,
    /// Lowest group accuracy.
    pub worst_group_accuracy: f64,
    /// Highest minus lowest group accuracy.
    pub accuracy_gap: f64,
    /// Lowest group AUC (when every group's AUC is defined).
    pub worst_group_auc: Option<f64>,
    /// Highest minus lowest group AUC.
    pub auc_gap: Option<f64>,
    /// FATE against the options' baseline (needs exactly two groups).
    pub fate: Option<f64>,
    /// Every scalar metric by name (see [`FairnessReport::scalars`]).
    pub scalars: BTreeMap<String, f64>,
    /// Bootstrap interval per scalar metric.
    pub intervals: BTreeMap<String, Interval>,
    /// Bootstrap settings used (resamples, seed, level).
    pub options: ReportOptions,
    /// Groups below the minimum size, and other caveats.
    pub warnings: Vec<String>,
}

impl FairnessReport {
    /// Every scalar metric by a stable name: `overall/accuracy`, `group/<name>/f1`,
    /// `fme/eodds_abs`, `fairlearn/equalized_odds_difference`, `worst_group_accuracy`, …
    pub fn scalars(&self) -> BTreeMap<String, f64> {
        let mut m = BTreeMap::new();
        let mut put_group = |prefix: String, g: &GroupMetrics| {
            m.insert(format!("{prefix}/accuracy"), g.accuracy);
            m.insert(format!("{prefix}/precision"), g.precision);
            m.insert(format!("{prefix}/recall"), g.recall);
            m.insert(format!("{prefix}/f1"), g.f1);
            if let Some(a) = g.auc {
                m.insert(format!("{prefix}/auc"), a);
            }
        };
        put_group("overall".into(), &self.overall);
        for g in &self.groups {
            put_group(format!("group/{}", g.name), g);
        }
        if let Some(f) = &self.fme {
            for (k, v) in [
                ("eopp0", f.eopp0),
                ("eopp0_abs", f.eopp0_abs),
                ("eopp1", f.eopp1),
                ("eopp1_abs", f.eopp1_abs),
                ("eodds", f.eodds),
                ("eodds_abs", f.eodds_abs),
                ("dp", f.dp),
                ("dp_abs", f.dp_abs),
            ] {
                m.insert(format!("fme/{k}"), v);
            }
        }
        let fl = &self.fairlearn;
        for (k, v) in [
            (
                "demographic_parity_difference",
                fl.demographic_parity_difference,
            ),
            ("demographic_parity_ratio", fl.demographic_parity_ratio),
            ("equalized_odds_difference", fl.equalized_odds_difference),
            (
                "equalized_odds_difference_mean",
                fl.equalized_odds_difference_mean,
            ),
            ("equalized_odds_ratio", fl.equalized_odds_ratio),
            ("equalized_odds_ratio_mean", fl.equalized_odds_ratio_mean),
            (
                "equal_opportunity_difference",
                fl.equal_opportunity_difference,
            ),
            ("equal_opportunity_ratio", fl.equal_opportunity_ratio),
        ] {
            m.insert(format!("fairlearn/{k}"), v);
        }
        m.insert("worst_group_accuracy".into(), self.worst_group_accuracy);
        m.insert("accuracy_gap".into(), self.accuracy_gap);
        if let Some(a) = self.worst_group_auc {
            m.insert("worst_group_auc".into(), a);
        }
        if let Some(a) = self.auc_gap {
            m.insert("auc_gap".into(), a);
        }
        if let Some(f) = self.fate {
            m.insert("fate".into(), f);
        }
        m
    }
}
