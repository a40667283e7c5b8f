//! Seeded, reproducible hyper-parameter search for FairTune's outer loop (papers.md §4.3): a space
//! of named bits and log-uniform floats, a [`Study`] with an ask/tell interface, a univariate TPE
//! sampler with optuna's defaults (or plain random search), and optuna's successive-halving pruner.
//!
//! Every trial draws from its own random stream, derived from the study's seed and the trial's
//! number only, so a study gives the same trials whatever number of trials are in flight, as long
//! as the asks and tells come in the same order. TPE, like optuna without `constant_liar`, ignores
//! running trials.
//!
//! Differences from optuna 3.x, all deliberate:
//! * a bit is a categorical {0, 1}; FairTune's `suggest_int(name, 0, 1)` is, in optuna, a
//!   discretised numerical parameter (a truncated Gaussian mixture over [−0.5, 1.5]);
//! * candidates and densities come from this crate's generator, not numpy's, so a seed does not
//!   reproduce an optuna run, only the algorithm;
//! * the pruner is asked on every [`Study::report`] (optuna asks on `should_prune`), and a trial
//!   told pruned keeps no value of its own (TPE reads its last intermediate value);
//! * [`SuccessiveHalving::default`] starts rungs at 1 step; optuna's default `min_resource` is
//!   `"auto"`, available as [`MinResource::Auto`].

mod error;
mod halving;
mod parzen;
mod rng;
mod space;
mod study;
mod tpe;
mod trial;

use serde::{Deserialize, Serialize};

pub use error::SearchError;
pub use halving::{MinResource, SuccessiveHalving};
pub use parzen::default_weights;
pub use space::{Param, ParamKind, SearchSpace};
pub use study::{run_sequential, Sampler, Study};
pub use tpe::{default_gamma, TpeOptions};
pub use trial::{ParamValue, PruneDecision, Pruned, Trial, TrialId, TrialState};

/// Whether a study seeks the largest or the smallest objective value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Direction {
    /// Larger is better.
    Maximize,
    /// Smaller is better.
    Minimize,
}

impl Direction {
    /// Whether `a` is strictly better than `b` in this direction.
    pub fn is_better(self, a: f64, b: f64) -> bool {
        match self {
            Self::Maximize => a > b,
            Self::Minimize => a < b,
        }
    }

    /// The best-first order of two values (NaN last, whatever the direction).
    pub(crate) fn best_first(self, a: f64, b: f64) -> std::cmp::Ordering {
        match (a.is_nan(), b.is_nan()) {
            (true, true) => std::cmp::Ordering::Equal,
            (true, false) => std::cmp::Ordering::Greater,
            (false, true) => std::cmp::Ordering::Less,
            (false, false) => match self {
                Self::Maximize => b.total_cmp(&a),
                Self::Minimize => a.total_cmp(&b),
            },
        }
    }
}
