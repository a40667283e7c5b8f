//! FairTune's stage 1 (papers.md §4.3, §4.6): a search over fine-tuning masks and the learning
//! rate, each trial fine-tuning the pretrained model on the target training set and scored by a
//! fairness objective on the whole validation set after every epoch, with successive halving
//! stopping the weak trials early. TPE and random search run with the same budget.

use anyhow::{anyhow, Context, Result};
use fairscreen_core::metrics::FairnessObjective;
use fairscreen_core::peft::{peft_groups, PeftMask};
use fairscreen_core::search::{
    Param, ParamValue, PruneDecision, Sampler, SearchSpace, Study, SuccessiveHalving, TrialState,
};
use fairscreen_core::{ModelConfig, MultiExitCnn};
use serde::{Deserialize, Serialize};

use crate::training::{
    predict, train_model_observed, Augment, Dataset, EpochControl, Method, TrainOptions,
};

/// How each search runs.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SearchSettings {
    /// Trials per sampler.
    pub trials: usize,
    /// Most fine-tuning epochs of a trial (the successive-halving resource).
    pub max_epochs: usize,
    /// Batch size of the fine-tuning.
    pub batch_size: usize,
    /// The learning rate's log-uniform range.
    pub lr_range: (f64, f64),
    /// The validation objective.
    pub objective: String,
    /// The studies' seed (TPE and random search draw from their own streams of it).
    pub seed: u64,
}

/// One trial as the report shows it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TrialRecord {
    /// Trial number, 0-based.
    pub number: usize,
    /// The mask's bits as `0`/`1`, in `peft_groups` order.
    pub mask: String,
    /// The learning rate.
    pub lr: f64,
    /// `complete` or `pruned`.
    pub state: String,
    /// The validation objective after each epoch trained.
    pub values: Vec<f64>,
    /// The final value (complete trials).
    pub value: Option<f64>,
}

/// One sampler's search.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SearchOutcome {
    /// `tpe` or `random`.
    pub sampler: String,
    /// Every trial, in order.
    pub trials: Vec<TrialRecord>,
    /// The best complete trial's number.
    pub best: usize,
    /// Best complete value after each trial (NaN until one completes).
    pub best_so_far: Vec<f64>,
    /// Wall-clock seconds of the search.
    pub seconds: f64,
}

impl SearchOutcome {
    /// The best trial's record.
    pub fn best_trial(&self) -> &TrialRecord {
        &self.trials[self.best]
    }
}

/// The search space over `config`'s network: one bit per group, then the learning rate.
pub fn search_space(config: &ModelConfig, lr_range: (f64, f64)) -> Result<SearchSpace> {
    let mut params: Vec<Param> = peft_groups(config)
        .iter()
        .map(|g| Param::bit(g.to_string()))
        .collect();
    params.push(Param::log_uniform("lr", lr_range.0, lr_range.1));
    Ok(SearchSpace::new(params)?)
}

/// A mask from `0`/`1` bits (as in [`TrialRecord::mask`]).
pub fn mask_from_bits(config: &ModelConfig, bits: &str) -> Result<PeftMask> {
    Ok(PeftMask::new(
        config,
        bits.chars().map(|c| c == '1').collect(),
    )?)
}

/// The schedule of one fine-tuning run.
#[derive(Clone, Copy, Debug)]
pub struct Schedule {
    /// Learning rate (constant).
    pub lr: f64,
    /// Epochs.
    pub epochs: usize,
    /// Batch size.
    pub batch_size: usize,
    /// Seed of shuffling and augmentation (and initialisation from scratch).
    pub seed: u64,
}

/// The fine-tuning options of a trial or a stage-2 run: CE at the trained exits, plain shuffling
/// (no class balancing: ordinary CE, as the reference code), flips, constant lr.
pub fn fine_tune_options(
    config: &ModelConfig,
    init: Option<&MultiExitCnn>,
    mask: Option<PeftMask>,
    schedule: Schedule,
    label: String,
) -> TrainOptions {
    TrainOptions {
        batch_size: schedule.batch_size,
        lr: schedule.lr,
        lr_step: schedule.epochs + 1,
        class_balanced: false,
        augment: Augment::Flips,
        probe_exits: false,
        init: init.cloned(),
        peft: mask,
        label,
        ..TrainOptions::new(
            Method::Me,
            schedule.epochs,
            schedule.seed,
            config.num_exits(),
        )
    }
}

/// The objective on `data` for `model`'s final head (softmax probabilities), on the whole set.
pub fn objective_value(
    objective: FairnessObjective,
    model: &MultiExitCnn,
    config: &ModelConfig,
    data: &Dataset,
) -> Result<f64> {
    let logits = predict(model, config, &data.inputs);
    let k = logits.classes;
    let last = logits.exits.last().context("no exits")?;
    let probs: Vec<Vec<f64>> = last.chunks(k).map(softmax).collect();
    objective
        .evaluate(&data.labels, &probs, &data.groups)
        .map_err(|e| anyhow!("{}: {e}", objective.name()))
}

/// Softmax of one sample's logits.
pub fn softmax(logits: &[f32]) -> Vec<f64> {
    let max = logits.iter().copied().fold(f32::MIN, f32::max) as f64;
    let e: Vec<f64> = logits.iter().map(|l| (*l as f64 - max).exp()).collect();
    let sum: f64 = e.iter().sum();
    e.iter().map(|v| v / sum).collect()
}

/// Runs one sampler's search from `pretrained` on `train`, scored on `val`.
#[allow(clippy::too_many_arguments)]
pub fn run_search(
    name: &str,
    sampler: Sampler,
    settings: &SearchSettings,
    objective: FairnessObjective,
    pretrained: &MultiExitCnn,
    config: &ModelConfig,
    train: &Dataset,
    val: &Dataset,
) -> Result<SearchOutcome> {
    let start = std::time::Instant::now();
    let space = search_space(config, settings.lr_range)?;
    let mut study = Study::new(
        space,
        objective.direction(),
        sampler,
        Some(SuccessiveHalving::default()),
        settings.seed,
    )?;
    let mut records = Vec::new();
    let mut best_so_far = Vec::new();
    for number in 0..settings.trials {
        let (id, params) = study.ask();
        let bits: Vec<bool> = params.iter().filter_map(|p| p.as_bit()).collect();
        let lr = params
            .iter()
            .rev()
            .find_map(|p: &ParamValue| p.as_float())
            .context("no lr sampled")?;
        let mask = PeftMask::new(config, bits)?;
        let mask_text = mask.bit_string();
        let opts = fine_tune_options(
            config,
            Some(pretrained),
            Some(mask),
            Schedule {
                lr,
                epochs: settings.max_epochs,
                batch_size: settings.batch_size,
                seed: settings.seed + number as u64,
            },
            format!("{name} trial {number}"),
        );
        let mut values = Vec::new();
        let mut pruned = false;
        train_model_observed(config, train, &opts, None, &mut |epoch, model| {
            let value = objective_value(objective, model, config, val)?;
            values.push(value);
            match study.report(id, epoch as u64, value)? {
                PruneDecision::Prune => {
                    pruned = true;
                    Ok(EpochControl::Stop)
                }
                PruneDecision::Continue => Ok(EpochControl::Continue),
            }
        })
        .with_context(|| format!("{name} trial {number}"))?;
        let value = if pruned {
            study.tell_pruned(id)?;
            None
        } else {
            let v = *values.last().context("no epoch trained")?;
            study.tell(id, v)?;
            Some(v)
        };
        eprintln!(
            "  {name} trial {number}: mask {mask_text} lr {lr:.5} → {} ({})",
            values
                .iter()
                .map(|v| format!("{v:.4}"))
                .collect::<Vec<_>>()
                .join(" → "),
            if pruned { "pruned" } else { "complete" }
        );
        records.push(TrialRecord {
            number,
            mask: mask_text,
            lr,
            state: if pruned { "pruned" } else { "complete" }.into(),
            values,
            value,
        });
        best_so_far.push(study.best().and_then(|t| t.value).unwrap_or(f64::NAN));
    }
    let best = study
        .best()
        .filter(|t| t.state == TrialState::Complete)
        .map(|t| t.id.0)
        .context("no trial completed")?;
    Ok(SearchOutcome {
        sampler: name.into(),
        trials: records,
        best,
        best_so_far,
        seconds: start.elapsed().as_secs_f64(),
    })
}
