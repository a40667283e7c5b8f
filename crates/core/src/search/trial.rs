//! A study's trial records: ids, states, each trial's sampled values, and the pruner's verdicts.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

/// A trial's number: its position in the study, from 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct TrialId(pub usize);

impl fmt::Display for TrialId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "trial {}", self.0)
    }
}

/// Where a trial stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TrialState {
    /// Asked, not yet told.
    Running,
    /// Told a final value.
    Complete,
    /// Told pruned.
    Pruned,
}

impl fmt::Display for TrialState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Running => "running",
            Self::Complete => "complete",
            Self::Pruned => "pruned",
        })
    }
}

/// One trial of a study.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Trial {
    /// Its id.
    pub id: TrialId,
    /// Its sampled values, in the space's order.
    pub params: Vec<ParamValue>,
    /// Values reported per step (the first report of a step is kept, as in optuna).
    pub intermediate_values: BTreeMap<u64, f64>,
    /// The final value, once complete.
    pub value: Option<f64>,
    /// Its state.
    pub state: TrialState,
    /// The value the pruner recorded at each rung reached, rung 0 first.
    pub rung_values: Vec<f64>,
}

impl Trial {
    /// The last (largest) reported step and its value.
    pub fn last_step(&self) -> Option<(u64, f64)> {
        self.intermediate_values
            .iter()
            .next_back()
            .map(|(step, value)| (*step, *value))
    }
}

/// The pruner's verdict on a running trial.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PruneDecision {
    /// Keep training.
    Continue,
    /// Stop now and tell the study the trial was pruned.
    Prune,
}

/// An objective's answer when it stopped a trial on the pruner's verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pruned;

/// One sampled value, of the kind its parameter declares.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum ParamValue {
    /// A bit's value.
    Bit(bool),
    /// A log-uniform float's value.
    Float(f64),
}

impl ParamValue {
    /// The bit, if this is one.
    pub fn as_bit(self) -> Option<bool> {
        match self {
            Self::Bit(b) => Some(b),
            Self::Float(_) => None,
        }
    }

    /// The float, if this is one.
    pub fn as_float(self) -> Option<f64> {
        match self {
            Self::Float(x) => Some(x),
            Self::Bit(_) => None,
        }
    }
}
