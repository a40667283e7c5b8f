//! Univariate TPE (Bergstra et al. 2011) as optuna's `TPESampler` 3.x runs it with its defaults:
//! `multivariate=False`, `consider_prior=True`, `consider_magic_clip=True`,
//! `consider_endpoints=False`, `constant_liar=False`, `gamma=default_gamma`,
//! `weights=default_weights`.

use std::cmp::Ordering;

use super::error::SearchError;
use super::parzen::ParzenEstimator;
use super::rng::Stream;
use super::space::{ParamKind, SearchSpace};
use super::trial::{ParamValue, Trial, TrialState};
use super::Direction;

/// TPE settings; each default is `optuna.samplers.TPESampler`'s (optuna 3.x documentation).
#[derive(Clone, Debug, PartialEq)]
pub struct TpeOptions {
    /// Finished trials sampled at random before TPE takes over (optuna: 10).
    pub n_startup_trials: usize,
    /// Candidates drawn from l(x) per parameter; the one maximising l(x)/g(x) wins (optuna: 24).
    pub n_ei_candidates: usize,
    /// Weight of the prior component of each Parzen estimator (optuna: 1.0).
    pub prior_weight: f64,
}

impl Default for TpeOptions {
    fn default() -> Self {
        Self {
            n_startup_trials: 10,
            n_ei_candidates: 24,
            prior_weight: 1.0,
        }
    }
}

impl TpeOptions {
    /// Checks `n_ei_candidates ≥ 1` and a finite `prior_weight > 0`.
    pub(crate) fn validate(&self) -> Result<(), SearchError> {
        if self.n_ei_candidates == 0 {
            return Err(SearchError::BadSetting {
                setting: "n_ei_candidates",
                value: "0".into(),
                requirement: "at least 1",
            });
        }
        if !(self.prior_weight > 0.0 && self.prior_weight.is_finite()) {
            return Err(SearchError::BadSetting {
                setting: "prior_weight",
                value: self.prior_weight.to_string(),
                requirement: "positive and finite",
            });
        }
        Ok(())
    }
}

/// Optuna's `default_gamma`: the number of "good" trials among `n` finished ones,
/// `min(ceil(0.1·n), 25)`, in floating point as optuna computes it.
pub fn default_gamma(n: usize) -> usize {
    ((0.1 * n as f64).ceil() as usize).min(25)
}

/// Optuna's ranking of pruned trials: those with reports first, later last steps first, then by
/// their value at that step (best first, NaN last); those without reports after all.
fn pruned_order(direction: Direction, a: &Trial, b: &Trial) -> Ordering {
    match (a.last_step(), b.last_step()) {
        (Some((sa, va)), Some((sb, vb))) => sb.cmp(&sa).then(direction.best_first(va, vb)),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
}

/// Splits finished trials into the `n_below` best ("good", for l) and the rest ("bad", for g),
/// each in trial order. Complete trials rank by value (earlier first among equals); pruned trials
/// rank after every complete one, by [`pruned_order`] — optuna's `_split_trials`.
fn split<'a>(
    finished: &[&'a Trial],
    direction: Direction,
    n_below: usize,
) -> (Vec<&'a Trial>, Vec<&'a Trial>) {
    let mut complete: Vec<&Trial> = finished
        .iter()
        .copied()
        .filter(|t| t.state == TrialState::Complete)
        .collect();
    complete.sort_by(|a, b| {
        direction.best_first(a.value.unwrap_or(f64::NAN), b.value.unwrap_or(f64::NAN))
    });
    let mut pruned: Vec<&Trial> = finished
        .iter()
        .copied()
        .filter(|t| t.state == TrialState::Pruned)
        .collect();
    pruned.sort_by(|a, b| pruned_order(direction, a, b));
    let mut ranked = complete;
    ranked.extend(pruned);
    let above = ranked.split_off(n_below.min(ranked.len()));
    let mut below = ranked;
    let mut above = above;
    below.sort_by_key(|t| t.id);
    above.sort_by_key(|t| t.id);
    (below, above)
}

/// A value in the estimators' space: a bit as 0/1, a float as its logarithm.
fn internal(value: ParamValue) -> f64 {
    match value {
        ParamValue::Bit(b) => f64::from(u8::from(b)),
        ParamValue::Float(x) => x.ln(),
    }
}

/// The value of `kind` at internal `x`.
fn external(kind: ParamKind, x: f64) -> ParamValue {
    match kind {
        ParamKind::Bit => ParamValue::Bit(x >= 0.5),
        ParamKind::LogUniform { low, high } => ParamValue::Float(x.exp().clamp(low, high)),
    }
}

/// The values of a new trial: uniform while fewer than `n_startup_trials` trials are finished
/// (complete or pruned), else, per parameter in order, the best of `n_ei_candidates` draws from
/// l by log l(x) − log g(x) (the first among equals).
pub(crate) fn sample(
    space: &SearchSpace,
    direction: Direction,
    options: &TpeOptions,
    trials: &[Trial],
    stream: &mut Stream,
) -> Vec<ParamValue> {
    let finished: Vec<&Trial> = trials
        .iter()
        .filter(|t| t.state != TrialState::Running)
        .collect();
    if finished.len() < options.n_startup_trials {
        return space.sample_uniform(stream);
    }
    let (below, above) = split(&finished, direction, default_gamma(finished.len()));
    let observations = |set: &[&Trial], j: usize| -> Vec<f64> {
        set.iter().map(|t| internal(t.params[j])).collect()
    };
    space
        .params()
        .iter()
        .enumerate()
        .map(|(j, param)| {
            let good =
                ParzenEstimator::new(param.kind, &observations(&below, j), options.prior_weight);
            let bad =
                ParzenEstimator::new(param.kind, &observations(&above, j), options.prior_weight);
            let candidates: Vec<f64> = (0..options.n_ei_candidates)
                .map(|_| good.sample(stream))
                .collect();
            let mut best = (f64::NEG_INFINITY, candidates[0]);
            for x in candidates {
                let score = good.log_pdf(x) - bad.log_pdf(x);
                if score > best.0 {
                    best = (score, x);
                }
            }
            external(param.kind, best.1)
        })
        .collect()
}
