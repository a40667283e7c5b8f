//! The search module's errors.

use std::fmt;

use super::trial::{TrialId, TrialState};

/// Why a search space, study setting or study call was refused.
#[derive(Clone, Debug, PartialEq)]
pub enum SearchError {
    /// The space has no parameters.
    EmptySpace,
    /// Two parameters share a name.
    DuplicateParam(String),
    /// A log-uniform parameter's bounds are not `0 < low < high < ∞`.
    BadBounds {
        /// The parameter.
        name: String,
        /// Its lower bound.
        low: f64,
        /// Its upper bound.
        high: f64,
    },
    /// A sampler or pruner setting is out of range.
    BadSetting {
        /// The setting, e.g. `reduction_factor`.
        setting: &'static str,
        /// Its value, as written.
        value: String,
        /// What it must be.
        requirement: &'static str,
    },
    /// No trial has this id.
    UnknownTrial(TrialId),
    /// The trial is already finished.
    NotRunning {
        /// The trial.
        trial: TrialId,
        /// Its state.
        state: TrialState,
    },
    /// A final value that is NaN or infinite.
    NonFiniteValue {
        /// The trial.
        trial: TrialId,
        /// The value.
        value: f64,
    },
}

impl fmt::Display for SearchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::EmptySpace => write!(f, "the search space has no parameters"),
            Self::DuplicateParam(name) => write!(f, "parameter '{name}' is declared twice"),
            Self::BadBounds { name, low, high } => write!(
                f,
                "parameter '{name}': log-uniform bounds [{low}, {high}] must satisfy 0 < low < high < inf"
            ),
            Self::BadSetting {
                setting,
                value,
                requirement,
            } => write!(f, "{setting} = {value}: must be {requirement}"),
            Self::UnknownTrial(trial) => write!(f, "{trial} does not exist"),
            Self::NotRunning { trial, state } => {
                write!(f, "{trial} is {state}, not running")
            }
            Self::NonFiniteValue { trial, value } => {
                write!(f, "{trial}: final value {value} is not finite")
            }
        }
    }
}

impl std::error::Error for SearchError {}
