//! The study: trials, the ask/report/tell protocol and a sequential driver.

use std::collections::BTreeMap;

use super::error::SearchError;
use super::halving::{MinResource, SuccessiveHalving};
use super::rng::Stream;
use super::space::SearchSpace;
use super::tpe::{self, TpeOptions};
use super::trial::{ParamValue, PruneDecision, Pruned, Trial, TrialId, TrialState};
use super::Direction;

/// How a study draws new trials.
#[derive(Clone, Debug, PartialEq)]
pub enum Sampler {
    /// Univariate TPE with these settings.
    Tpe(TpeOptions),
    /// Every parameter uniform (bits 50/50, floats log-uniform).
    Random,
}

/// A seeded search: the space, direction, sampler, optional pruner and every trial so far.
#[derive(Clone, Debug)]
pub struct Study {
    space: SearchSpace,
    direction: Direction,
    sampler: Sampler,
    pruner: Option<SuccessiveHalving>,
    auto_min_resource: Option<u64>,
    seed: u64,
    trials: Vec<Trial>,
}

impl Study {
    /// A study with no trials; refuses out-of-range sampler or pruner settings.
    pub fn new(
        space: SearchSpace,
        direction: Direction,
        sampler: Sampler,
        pruner: Option<SuccessiveHalving>,
        seed: u64,
    ) -> Result<Self, SearchError> {
        if let Sampler::Tpe(options) = &sampler {
            options.validate()?;
        }
        if let Some(p) = &pruner {
            p.validate()?;
        }
        Ok(Self {
            space,
            direction,
            sampler,
            pruner,
            auto_min_resource: None,
            seed,
            trials: Vec::new(),
        })
    }

    /// The search space.
    pub fn space(&self) -> &SearchSpace {
        &self.space
    }

    /// The direction.
    pub fn direction(&self) -> Direction {
        self.direction
    }

    /// Every trial, in order of asking.
    pub fn trials(&self) -> &[Trial] {
        &self.trials
    }

    /// Starts a trial: its id and values, drawn from the stream of (seed, trial number) by the
    /// sampler, which sees the finished trials only.
    pub fn ask(&mut self) -> (TrialId, Vec<ParamValue>) {
        let id = TrialId(self.trials.len());
        let mut stream = Stream::for_trial(self.seed, id.0 as u64);
        let params = match &self.sampler {
            Sampler::Random => self.space.sample_uniform(&mut stream),
            Sampler::Tpe(options) => tpe::sample(
                &self.space,
                self.direction,
                options,
                &self.trials,
                &mut stream,
            ),
        };
        self.trials.push(Trial {
            id,
            params: params.clone(),
            intermediate_values: BTreeMap::new(),
            value: None,
            state: TrialState::Running,
            rung_values: Vec::new(),
        });
        (id, params)
    }

    /// Records `value` at `step` for a running trial (a repeated step keeps its first value) and
    /// returns the pruner's verdict (always Continue without a pruner). Pruning is the caller's
    /// move: stop the trial and call [`Study::tell_pruned`].
    pub fn report(
        &mut self,
        id: TrialId,
        step: u64,
        value: f64,
    ) -> Result<PruneDecision, SearchError> {
        self.running(id)?;
        self.trials[id.0]
            .intermediate_values
            .entry(step)
            .or_insert(value);
        let Some(pruner) = self.pruner else {
            return Ok(PruneDecision::Continue);
        };
        let min_resource = match pruner.min_resource {
            MinResource::Steps(steps) => steps,
            MinResource::Auto => {
                if self.auto_min_resource.is_none() {
                    self.auto_min_resource = SuccessiveHalving::estimate_min_resource(&self.trials);
                }
                match self.auto_min_resource {
                    Some(steps) => steps,
                    None => return Ok(PruneDecision::Continue),
                }
            }
        };
        Ok(pruner.decide(min_resource, id.0, &mut self.trials, self.direction))
    }

    /// Completes a running trial with its final (finite) value.
    pub fn tell(&mut self, id: TrialId, value: f64) -> Result<(), SearchError> {
        self.running(id)?;
        if !value.is_finite() {
            return Err(SearchError::NonFiniteValue { trial: id, value });
        }
        let trial = &mut self.trials[id.0];
        trial.value = Some(value);
        trial.state = TrialState::Complete;
        Ok(())
    }

    /// Marks a running trial pruned.
    pub fn tell_pruned(&mut self, id: TrialId) -> Result<(), SearchError> {
        self.running(id)?;
        self.trials[id.0].state = TrialState::Pruned;
        Ok(())
    }

    /// The best complete trial (the earliest among equals), None before any completes.
    pub fn best(&self) -> Option<&Trial> {
        let complete = self
            .trials
            .iter()
            .filter(|t| t.state == TrialState::Complete);
        let mut best: Option<(&Trial, f64)> = None;
        for (trial, value) in complete.filter_map(|t| t.value.map(|v| (t, v))) {
            if best.is_none_or(|(_, b)| self.direction.is_better(value, b)) {
                best = Some((trial, value));
            }
        }
        best.map(|(trial, _)| trial)
    }

    /// Errs unless `id` names a running trial.
    fn running(&self, id: TrialId) -> Result<(), SearchError> {
        let trial = self.trials.get(id.0).ok_or(SearchError::UnknownTrial(id))?;
        match trial.state {
            TrialState::Running => Ok(()),
            state => Err(SearchError::NotRunning { trial: id, state }),
        }
    }
}

/// Runs `n_trials` trials one after another. The objective gets the trial's values and a reporter
/// `(step, value) -> PruneDecision`, and returns the final value or [`Pruned`] (after a Prune
/// verdict, or on its own account).
pub fn run_sequential<F>(
    study: &mut Study,
    n_trials: usize,
    mut objective: F,
) -> Result<(), SearchError>
where
    F: FnMut(&[ParamValue], &mut dyn FnMut(u64, f64) -> PruneDecision) -> Result<f64, Pruned>,
{
    for _ in 0..n_trials {
        let (id, params) = study.ask();
        let mut failure = None;
        let outcome = {
            let mut reporter = |step: u64, value: f64| match study.report(id, step, value) {
                Ok(decision) => decision,
                Err(e) => {
                    failure.get_or_insert(e);
                    PruneDecision::Prune
                }
            };
            objective(&params, &mut reporter)
        };
        if let Some(e) = failure {
            return Err(e);
        }
        match outcome {
            Ok(value) => study.tell(id, value)?,
            Err(Pruned) => study.tell_pruned(id)?,
        }
    }
    Ok(())
}
