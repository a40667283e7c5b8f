//! FairTune's validation objectives (papers.md §4.3, `--objective_metric`), computed once on the
//! whole set. The reference code averages per-batch values over shuffled batches, which depends on
//! batch composition and mishandles batches missing a group (papers.md §4.4); this does not.
//! Values are fractions in [0, 1], not percentages. `max_loss` is not offered (papers.md §4.3:
//! its ad-hoc estimate is not to be replicated).

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::auc::auc;
use crate::search::Direction;

/// What FairTune's search optimises on the validation set.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FairnessObjective {
    /// Worst-group AUC, maximised (the default here: the usual choice, papers.md §4.3; the
    /// reference CLI defaults to `min_acc`).
    #[default]
    MinAuc,
    /// Worst-group accuracy, maximised.
    MinAcc,
    /// Best-group minus worst-group AUC, minimised.
    AucDiff,
    /// Best-group minus worst-group accuracy, minimised.
    AccDiff,
    /// AUC on every sample, maximised.
    OverallAuc,
    /// Accuracy on every sample, maximised.
    OverallAcc,
}

/// Why an objective could not be parsed or evaluated.
#[derive(Clone, Debug, PartialEq)]
pub enum ObjectiveError {
    /// A name that is not one of [`FairnessObjective::ALL`]'s.
    UnknownName(String),
    /// No samples.
    Empty,
    /// Labels, probability rows and group ids differ in number.
    LengthMismatch {
        /// Labels.
        labels: usize,
        /// Probability rows.
        probs: usize,
        /// Group ids.
        groups: usize,
    },
    /// Probability rows have fewer than two classes.
    TooFewClasses(usize),
    /// A probability row's length differs from the first row's.
    RaggedRow {
        /// The sample.
        sample: usize,
        /// Its row's length.
        len: usize,
        /// The first row's length.
        expected: usize,
    },
    /// A probability that is NaN or infinite.
    NonFiniteProbability {
        /// The sample.
        sample: usize,
    },
    /// A label not below the number of classes.
    LabelOutOfRange {
        /// The sample.
        sample: usize,
        /// Its label.
        label: usize,
        /// The number of classes.
        classes: usize,
    },
    /// A group objective with a single group present.
    FewerThanTwoGroups {
        /// The only group present.
        group: usize,
    },
    /// A group (None: the whole set) whose samples all have one label, so AUC is undefined.
    UndefinedAuc {
        /// The group, or None for the whole set.
        group: Option<usize>,
        /// The single label present.
        label: usize,
    },
}

impl fmt::Display for ObjectiveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnknownName(name) => {
                let valid: Vec<&str> = FairnessObjective::ALL.iter().map(|o| o.name()).collect();
                write!(f, "unknown objective '{name}': expected one of {}", valid.join(", "))
            }
            Self::Empty => write!(f, "no samples to evaluate the objective on"),
            Self::LengthMismatch {
                labels,
                probs,
                groups,
            } => write!(
                f,
                "{labels} labels, {probs} probability rows and {groups} group ids: they must match"
            ),
            Self::TooFewClasses(k) => {
                write!(f, "probability rows have {k} classes: at least 2 are needed")
            }
            Self::RaggedRow {
                sample,
                len,
                expected,
            } => write!(
                f,
                "sample {sample}: probability row has {len} classes, the first row has {expected}"
            ),
            Self::NonFiniteProbability { sample } => {
                write!(f, "sample {sample}: a probability is not finite")
            }
            Self::LabelOutOfRange {
                sample,
                label,
                classes,
            } => write!(
                f,
                "sample {sample}: label {label} is out of range for {classes} classes"
            ),
            Self::FewerThanTwoGroups { group } => write!(
                f,
                "only group {group} is present: worst-group and gap objectives need at least two groups"
            ),
            Self::UndefinedAuc {
                group: Some(group),
                label,
            } => write!(
                f,
                "group {group}: AUC is undefined: every sample of the group has label {label}"
            ),
            Self::UndefinedAuc { group: None, label } => write!(
                f,
                "AUC is undefined: every sample has label {label}"
            ),
        }
    }
}

impl std::error::Error for ObjectiveError {}

impl FairnessObjective {
    /// Every objective, in the order of the enum.
    pub const ALL: [Self; 6] = [
        Self::MinAuc,
        Self::MinAcc,
        Self::AucDiff,
        Self::AccDiff,
        Self::OverallAuc,
        Self::OverallAcc,
    ];

    /// The reference code's `--objective_metric` spelling.
    pub fn name(self) -> &'static str {
        match self {
            Self::MinAuc => "min_auc",
            Self::MinAcc => "min_acc",
            Self::AucDiff => "auc_diff",
            Self::AccDiff => "acc_diff",
            Self::OverallAuc => "overall_auc",
            Self::OverallAcc => "overall_acc",
        }
    }

    /// Minimise the gaps, maximise everything else (as the reference code).
    pub fn direction(self) -> Direction {
        match self {
            Self::AucDiff | Self::AccDiff => Direction::Minimize,
            _ => Direction::Maximize,
        }
    }

    /// The objective on the whole set. Accuracy: argmax (first among equals) against the label.
    /// AUC: [`auc`] with `k = probs[0].len()` (binary on class 1 for two classes, one-vs-rest
    /// macro otherwise). Group objectives take every group id present, and need at least two;
    /// the overall ones ignore the group ids (but not their number).
    pub fn evaluate(
        self,
        labels: &[usize],
        probs: &[Vec<f64>],
        groups: &[usize],
    ) -> Result<f64, ObjectiveError> {
        let classes = check_inputs(labels, probs, groups)?;
        let use_auc = matches!(self, Self::MinAuc | Self::AucDiff | Self::OverallAuc);
        let score = |members: &[usize], group: Option<usize>| -> Result<f64, ObjectiveError> {
            if use_auc {
                let y: Vec<usize> = members.iter().map(|&i| labels[i]).collect();
                let p: Vec<Vec<f64>> = members.iter().map(|&i| probs[i].clone()).collect();
                auc(&y, &p, classes).ok_or(ObjectiveError::UndefinedAuc { group, label: y[0] })
            } else {
                let correct = members
                    .iter()
                    .filter(|&&i| argmax(&probs[i]) == labels[i])
                    .count();
                Ok(correct as f64 / members.len() as f64)
            }
        };
        if matches!(self, Self::OverallAuc | Self::OverallAcc) {
            let everyone: Vec<usize> = (0..labels.len()).collect();
            return score(&everyone, None);
        }
        let mut members: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        for (i, &g) in groups.iter().enumerate() {
            members.entry(g).or_default().push(i);
        }
        if members.len() < 2 {
            return Err(ObjectiveError::FewerThanTwoGroups { group: groups[0] });
        }
        let mut worst = f64::INFINITY;
        let mut best = f64::NEG_INFINITY;
        for (group, idx) in &members {
            let value = score(idx, Some(*group))?;
            worst = worst.min(value);
            best = best.max(value);
        }
        Ok(match self {
            Self::MinAuc | Self::MinAcc => worst,
            _ => best - worst,
        })
    }
}

/// Checks the inputs and returns the number of classes.
fn check_inputs(
    labels: &[usize],
    probs: &[Vec<f64>],
    groups: &[usize],
) -> Result<usize, ObjectiveError> {
    if labels.len() != probs.len() || labels.len() != groups.len() {
        return Err(ObjectiveError::LengthMismatch {
            labels: labels.len(),
            probs: probs.len(),
            groups: groups.len(),
        });
    }
    let Some(first) = probs.first() else {
        return Err(ObjectiveError::Empty);
    };
    let classes = first.len();
    if classes < 2 {
        return Err(ObjectiveError::TooFewClasses(classes));
    }
    for (sample, (row, &label)) in probs.iter().zip(labels).enumerate() {
        if row.len() != classes {
            return Err(ObjectiveError::RaggedRow {
                sample,
                len: row.len(),
                expected: classes,
            });
        }
        if row.iter().any(|p| !p.is_finite()) {
            return Err(ObjectiveError::NonFiniteProbability { sample });
        }
        if label >= classes {
            return Err(ObjectiveError::LabelOutOfRange {
                sample,
                label,
                classes,
            });
        }
    }
    Ok(classes)
}

/// The index of the largest entry (the first among equals).
fn argmax(row: &[f64]) -> usize {
    let mut best = 0;
    for (i, p) in row.iter().enumerate() {
        if *p > row[best] {
            best = i;
        }
    }
    best
}

impl fmt::Display for FairnessObjective {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for FairnessObjective {
    type Err = ObjectiveError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|o| o.name() == s)
            .ok_or_else(|| ObjectiveError::UnknownName(s.to_string()))
    }
}
