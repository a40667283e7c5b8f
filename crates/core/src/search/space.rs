//! Search spaces (named bits and log-uniform floats), sampled values and uniform random sampling.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::error::SearchError;
use super::rng::Stream;
use super::trial::ParamValue;

/// How one parameter is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum ParamKind {
    /// A categorical choice of 0 or 1 (e.g. "fine-tune block i").
    Bit,
    /// A float whose logarithm is uniform on [ln low, ln high] (e.g. a learning rate).
    LogUniform {
        /// Smallest value (> 0).
        low: f64,
        /// Largest value (> low).
        high: f64,
    },
}

/// A named parameter of a search space.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Param {
    /// Its name, unique in the space.
    pub name: String,
    /// How it is drawn.
    pub kind: ParamKind,
}

impl Param {
    /// A bit named `name`.
    pub fn bit(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            kind: ParamKind::Bit,
        }
    }

    /// A log-uniform float on [low, high] named `name` (bounds are checked by [`SearchSpace::new`]).
    pub fn log_uniform(name: impl Into<String>, low: f64, high: f64) -> Self {
        Self {
            name: name.into(),
            kind: ParamKind::LogUniform { low, high },
        }
    }
}

/// An ordered list of uniquely named parameters; trials list their values in this order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SearchSpace {
    params: Vec<Param>,
}

impl SearchSpace {
    /// A space of `params`: at least one, names unique, log-uniform bounds `0 < low < high < ∞`.
    pub fn new(params: Vec<Param>) -> Result<Self, SearchError> {
        if params.is_empty() {
            return Err(SearchError::EmptySpace);
        }
        let mut names = BTreeSet::new();
        for p in &params {
            if !names.insert(p.name.as_str()) {
                return Err(SearchError::DuplicateParam(p.name.clone()));
            }
            if let ParamKind::LogUniform { low, high } = p.kind {
                if !(low > 0.0 && low < high && high.is_finite()) {
                    return Err(SearchError::BadBounds {
                        name: p.name.clone(),
                        low,
                        high,
                    });
                }
            }
        }
        Ok(Self { params })
    }

    /// The parameters, in order.
    pub fn params(&self) -> &[Param] {
        &self.params
    }

    /// The position of the parameter named `name`.
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.params.iter().position(|p| p.name == name)
    }

    /// One value per parameter, each uniform: bits 50/50, floats log-uniform.
    pub(crate) fn sample_uniform(&self, stream: &mut Stream) -> Vec<ParamValue> {
        self.params
            .iter()
            .map(|p| match p.kind {
                ParamKind::Bit => ParamValue::Bit(stream.coin()),
                ParamKind::LogUniform { low, high } => {
                    let (ln_low, ln_high) = (low.ln(), high.ln());
                    let x = ln_low + stream.uniform() * (ln_high - ln_low);
                    ParamValue::Float(x.exp().clamp(low, high))
                }
            })
            .collect()
    }
}
