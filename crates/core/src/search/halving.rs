//! Optuna's `SuccessiveHalvingPruner` (asynchronous successive halving, Li et al. 2020), rule for
//! rule.

use super::error::SearchError;
use super::trial::{PruneDecision, Trial};
use super::Direction;

/// Where the first rung sits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MinResource {
    /// A fixed number of steps (≥ 1).
    Steps(u64),
    /// Optuna's `"auto"`: no pruning until a trial completes, then
    /// `max(1, last_step // 100)` of the completed trials' largest last step, fixed from then on.
    Auto,
}

/// Successive halving. A trial's rungs are reached in order: rung `k` at
/// `step ≥ min_resource · η^(min_early_stopping_rate + k)`, with `step` the trial's last reported
/// step. At each rung reached, the value reported at that step is recorded as the trial's value at
/// the rung and gathered with every other trial's value recorded at the same rung (`n` values,
/// its own included). Let `i = n // η − 1`, or `i = 0` when that is −1 (then only the best
/// survives). Maximising, the trial survives when its value is ≥ the `(i+1)`-th largest; minimising,
/// when it is ≤ the `(i+1)`-th smallest (ties survive). Otherwise it is pruned, and later rungs are
/// not recorded. A NaN value at a reached rung is pruned without being recorded.
///
/// Defaults: `min_resource` 1 (optuna's default is [`MinResource::Auto`], which FairTune's
/// `SuccessiveHalvingPruner()` gets), `reduction_factor` 4 and `min_early_stopping_rate` 0
/// (optuna's defaults, from its documentation).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SuccessiveHalving {
    /// Steps before the first rung.
    pub min_resource: MinResource,
    /// η: the factor between rungs and the share kept (≥ 2).
    pub reduction_factor: u64,
    /// Rungs skipped before the first comparison.
    pub min_early_stopping_rate: u32,
}

impl Default for SuccessiveHalving {
    fn default() -> Self {
        Self {
            min_resource: MinResource::Steps(1),
            reduction_factor: 4,
            min_early_stopping_rate: 0,
        }
    }
}

impl SuccessiveHalving {
    /// Checks `min_resource ≥ 1` and `reduction_factor ≥ 2`.
    pub(crate) fn validate(&self) -> Result<(), SearchError> {
        if self.min_resource == MinResource::Steps(0) {
            return Err(SearchError::BadSetting {
                setting: "min_resource",
                value: "0".into(),
                requirement: "at least 1 (or auto)",
            });
        }
        if self.reduction_factor < 2 {
            return Err(SearchError::BadSetting {
                setting: "reduction_factor",
                value: self.reduction_factor.to_string(),
                requirement: "at least 2",
            });
        }
        Ok(())
    }

    /// Optuna's automatic first rung from the trials so far, None before any trial completes.
    pub(crate) fn estimate_min_resource(trials: &[Trial]) -> Option<u64> {
        trials
            .iter()
            .filter(|t| t.state == super::TrialState::Complete)
            .filter_map(|t| t.last_step().map(|(step, _)| step))
            .max()
            .map(|last| (last / 100).max(1))
    }

    /// Decides on trial `index` after a report, recording its values at the rungs it reaches.
    pub(crate) fn decide(
        &self,
        min_resource: u64,
        index: usize,
        trials: &mut [Trial],
        direction: Direction,
    ) -> PruneDecision {
        let Some((step, value)) = trials[index].last_step() else {
            return PruneDecision::Continue;
        };
        let eta = self.reduction_factor;
        let mut rung = trials[index].rung_values.len();
        loop {
            let exponent = u32::try_from(rung)
                .unwrap_or(u32::MAX)
                .saturating_add(self.min_early_stopping_rate);
            let promotion_step = min_resource.saturating_mul(eta.saturating_pow(exponent));
            if step < promotion_step {
                return PruneDecision::Continue;
            }
            if value.is_nan() {
                return PruneDecision::Prune;
            }
            let mut competing: Vec<f64> = trials
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != index)
                .filter_map(|(_, t)| t.rung_values.get(rung).copied())
                .collect();
            competing.push(value);
            trials[index].rung_values.push(value);
            if !promotable(value, &mut competing, eta, direction) {
                return PruneDecision::Prune;
            }
            rung += 1;
        }
    }
}

/// Optuna's `_is_trial_promotable_to_next_rung`.
fn promotable(value: f64, competing: &mut [f64], eta: u64, direction: Direction) -> bool {
    let n = competing.len() as u64;
    let index = (n / eta).saturating_sub(1) as usize;
    competing.sort_by(f64::total_cmp);
    match direction {
        Direction::Maximize => value >= competing[competing.len() - 1 - index],
        Direction::Minimize => value <= competing[index],
    }
}
