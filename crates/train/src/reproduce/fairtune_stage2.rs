//! FairTune's stage 2 (papers.md §4.6): each configuration (searched masks, baselines) fine-tuned
//! again from the pretrained model for several seeds, then evaluated once on the test split with
//! bootstrap intervals; and the shipped model, its θ chosen on validation.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result};
use fairscreen_core::card_keys;
use fairscreen_core::exit_analysis::{select_theta, theta_sweep, ThetaRule, THETA_GRID};
use fairscreen_core::metrics::{
    fairness_report, FairnessObjective, FairnessReport, Predictions, ReportOptions,
};
use fairscreen_core::peft::PeftMask;
use fairscreen_core::{FineTuningInfo, ModelCard, ModelConfig, MultiExitCnn, TrainingInfo};
use serde::{Deserialize, Serialize};

use super::fairtune_data::{FairtuneSettings, SplitData};
use super::fairtune_search::{
    fine_tune_options, objective_value, softmax, Schedule, SearchOutcome,
};
use super::scp_runs::{in_parallel, Task};
use super::shared::theta_selection_note;
use crate::artifacts::{update_index, write_model_asset, DISCLAIMER};
use crate::provenance::invocation;
use crate::synth_data::class_names;
use crate::training::{predict, predict_with_features, train_model, Dataset};

/// Where a stage-2 run starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Stage2Init {
    /// The pretrained (source-clinic) model.
    Pretrained,
    /// A random initialisation (training from scratch).
    Scratch,
}

/// One configuration of stage 2.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Stage2Config {
    /// Short name (`fairtune-tpe`, `full-fine-tuning`, …).
    pub name: String,
    /// What it is.
    pub description: String,
    /// Where it starts.
    pub init: Stage2Init,
    /// Its mask (None: no mask, every group trains).
    pub mask: Option<PeftMask>,
    /// Its learning rate.
    pub lr: f64,
}

/// One stage-2 run: a configuration at one seed.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Stage2Run {
    /// The configuration's name.
    pub config: String,
    /// Seed index (0-based).
    pub seed: usize,
    /// The validation objective of the retrained model (for information: stage 2 selects nothing).
    pub val_objective: f64,
    /// The test report for the sensitive attribute (final head), with 95 % bootstrap intervals.
    pub test: FairnessReport,
}

/// Every stage-2 run, and the models of seed 0 by configuration (for shipping).
pub struct Stage2 {
    /// The runs, configuration by configuration, seed by seed.
    pub runs: Vec<Stage2Run>,
    /// Seed 0's model of each configuration.
    pub models: BTreeMap<String, MultiExitCnn>,
}

/// Runs every configuration × seed, `jobs` at a time.
#[allow(clippy::too_many_arguments)]
pub fn run_stage2(
    configs: &[Stage2Config],
    settings: &FairtuneSettings,
    objective: FairnessObjective,
    pretrained: &MultiExitCnn,
    config: &ModelConfig,
    train: &Dataset,
    val: &SplitData,
    test: &SplitData,
    jobs: usize,
) -> Result<Stage2> {
    let val_data = val.for_selection()?;
    let mut tasks: Vec<Task<'_, Result<(Stage2Run, MultiExitCnn)>>> = Vec::new();
    for c in configs {
        for seed in 0..settings.stage2_seeds {
            tasks.push(Box::new(move || {
                let init = match c.init {
                    Stage2Init::Pretrained => Some(pretrained),
                    Stage2Init::Scratch => None,
                };
                let opts = fine_tune_options(
                    config,
                    init,
                    c.mask.clone(),
                    Schedule {
                        lr: c.lr,
                        epochs: settings.search.max_epochs,
                        batch_size: settings.search.batch_size,
                        seed: settings.seed + 1000 + seed as u64,
                    },
                    format!("stage 2 {} seed {seed}", c.name),
                );
                let (model, _) = train_model(config, train, &opts, None)
                    .with_context(|| format!("stage 2 {} seed {seed}", c.name))?;
                let val_objective = objective_value(objective, &model, config, val_data)?;
                let test = test_report(&model, config, test, settings)?;
                eprintln!(
                    "  stage 2 {} seed {seed}: validation {} {val_objective:.4}; test worst-group AUC {:.4}",
                    c.name,
                    objective.name(),
                    test.worst_group_auc.unwrap_or(f64::NAN)
                );
                Ok((
                    Stage2Run {
                        config: c.name.clone(),
                        seed,
                        val_objective,
                        test,
                    },
                    model,
                ))
            }));
        }
    }
    let mut runs = Vec::new();
    let mut models = BTreeMap::new();
    for outcome in in_parallel(jobs, tasks) {
        let (run, model) = outcome?;
        if run.seed == 0 {
            models.insert(run.config.clone(), model);
        }
        runs.push(run);
    }
    Ok(Stage2 { runs, models })
}

/// The test report of `model`'s final head: the test split, once.
fn test_report(
    model: &MultiExitCnn,
    config: &ModelConfig,
    test: &SplitData,
    settings: &FairtuneSettings,
) -> Result<FairnessReport> {
    let logits = predict(model, config, &test.data.inputs);
    let k = logits.classes;
    let last = logits.exits.last().context("no exits")?;
    let probs: Vec<Vec<f64>> = last.chunks(k).map(softmax).collect();
    let predicted = probs
        .iter()
        .map(|p| (0..k).max_by(|&a, &b| p[a].total_cmp(&p[b])).unwrap_or(0))
        .collect();
    let p = Predictions {
        labels: test.data.labels.clone(),
        predicted,
        probs: Some(probs),
        classes: k,
    };
    Ok(fairness_report(
        settings.sensitive.describe(),
        &class_names(),
        &p,
        &test.data.groups,
        &settings.sensitive.group_names(),
        &ReportOptions::default(),
    ))
}

/// The shipped FairTune model's name.
pub const FAIRTUNE_MODEL: &str = "tiny-fairtune";

/// The stage-2 baselines shipped beside the FairTune model: (stage-2 configuration, model name).
pub const SHIPPED_BASELINES: [(&str, &str); 3] = [
    ("full-fine-tuning", "tiny-fairtune-vs-full-ft"),
    ("linear-readout", "tiny-fairtune-vs-readout"),
    ("from-scratch", "tiny-fairtune-vs-scratch"),
];

/// Writes the FairTune model (TPE's mask and lr, stage-2 seed 0) into `dir` as `tiny-fairtune`
/// and the baselines of [`SHIPPED_BASELINES`] (seed 0 of the same stage 2) beside it, each with
/// its θ chosen on validation, and adds them to the index. Returns their names.
#[allow(clippy::too_many_arguments)]
pub fn ship(
    dir: &Path,
    stage2: &Stage2,
    configs: &[Stage2Config],
    settings: &FairtuneSettings,
    tpe: &SearchOutcome,
    config: &ModelConfig,
    val: &SplitData,
) -> Result<Vec<String>> {
    let objective: FairnessObjective = settings.search.objective.parse()?;
    let best = tpe.best_trial();
    let searched = FineTuningInfo {
        pretrained: "the source-clinic model of the same run (not shipped)".into(),
        mask: mask_of(config, &best.mask)?,
        lr: best.lr,
        objective: objective.name().into(),
        validation_value: best.value.context("best trial has no value")?,
        selection: format!(
            "TPE (optuna's defaults: 10 random start-up trials, γ(n) = min(⌈0.1 n⌉, 25), 24 candidates, prior \
             weight 1) with successive halving (min resource 1 epoch, η = 4), {} trials of at most {} epochs, \
             lr log-uniform in [{}, {}]; the best complete trial by {} on {} validation images (seed {}); \
             {}, whole validation set",
            settings.search.trials,
            settings.search.max_epochs,
            settings.search.lr_range.0,
            settings.search.lr_range.1,
            objective.name(),
            settings.val_images,
            settings.seed + 1,
            settings.sensitive.describe()
        ),
        baseline_of: None,
    };
    let mut shipped = vec![ship_one(
        dir,
        FAIRTUNE_MODEL,
        stage2,
        "fairtune-tpe",
        format!(
            "FairTune: pretrained on {} source-clinic images ({} epochs, CE at every exit), then fine-tuned \
             {} epochs with the searched mask (CE at the final head and the exits whose heads train)",
            settings.source_images, settings.source_epochs, settings.search.max_epochs
        ),
        searched,
        settings,
        config,
        val,
    )?];
    let val_data = val.for_selection()?;
    for (stage2_name, name) in SHIPPED_BASELINES {
        let c = configs
            .iter()
            .find(|c| c.name == stage2_name)
            .with_context(|| format!("stage 2 has no {stage2_name} configuration"))?;
        let model = stage2
            .models
            .get(stage2_name)
            .with_context(|| format!("stage 2 has no {stage2_name} model"))?;
        let (pretrained, method) = match c.init {
            Stage2Init::Pretrained => (
                "the source-clinic model of the same run (not shipped)".to_string(),
                format!(
                    "Baseline of {FAIRTUNE_MODEL} ({stage2_name}: {}): pretrained on {} source-clinic images, then \
                     fine-tuned {} epochs",
                    c.description, settings.source_images, settings.search.max_epochs
                ),
            ),
            Stage2Init::Scratch => (
                "nothing: a random initialisation".to_string(),
                format!(
                    "Baseline of {FAIRTUNE_MODEL} ({stage2_name}: {}): trained {} epochs on the fine-tuning set only",
                    c.description, settings.search.max_epochs
                ),
            ),
        };
        let info = FineTuningInfo {
            pretrained,
            mask: c.mask.clone().unwrap_or_else(|| PeftMask::all(config)),
            lr: c.lr,
            objective: objective.name().into(),
            validation_value: objective_value(objective, model, config, val_data)?,
            selection: format!(
                "no search: the {stage2_name} baseline of stage 2 (seed 0), shipped with {FAIRTUNE_MODEL} to \
                 compare with it; the fixed stage-2 lr {}; the validation value is its {} on {} validation \
                 images (seed {})",
                c.lr,
                objective.name(),
                settings.val_images,
                settings.seed + 1
            ),
            baseline_of: Some(FAIRTUNE_MODEL.into()),
        };
        shipped.push(ship_one(
            dir,
            name,
            stage2,
            stage2_name,
            method,
            info,
            settings,
            config,
            val,
        )?);
    }
    Ok(shipped)
}

/// Writes stage 2's seed-0 model of `stage2_name` as `name`, its θ chosen on validation.
#[allow(clippy::too_many_arguments)]
fn ship_one(
    dir: &Path,
    name: &str,
    stage2: &Stage2,
    stage2_name: &str,
    method: String,
    fine_tuning: FineTuningInfo,
    settings: &FairtuneSettings,
    config: &ModelConfig,
    val: &SplitData,
) -> Result<String> {
    let model = stage2
        .models
        .get(stage2_name)
        .with_context(|| format!("stage 2 has no {stage2_name} model"))?;
    let val_data = val.for_selection()?;
    let v = predict_with_features(model, config, &val_data.inputs);
    let rule = ThetaRule::default();
    let sweep = theta_sweep(
        config,
        &v.logits,
        &val_data.labels,
        &val_data.groups,
        &THETA_GRID,
        &rule,
    );
    let chosen = select_theta(&sweep).context("empty θ grid")?;
    let theta = sweep[chosen].theta;
    let tensors = model.clone().fold_batchnorm().named_tensors()?;
    let card = ModelCard {
        format_version: fairscreen_core::format::FORMAT_VERSION,
        name: name.to_string(),
        config: config.clone(),
        sensitive_attributes: vec!["skin".into()],
        default_theta: theta,
        theta_selection: Some(theta_selection_note(
            theta,
            &rule,
            settings.val_images,
            settings.seed + 1,
        )),
        training: TrainingInfo {
            method,
            data: format!(
                "{} SynthDerm training-distribution images (seed {}) for fine-tuning; source clinic: seed {}",
                settings.train_images,
                settings.seed,
                settings.seed + 10
            ),
            seed: settings.seed + 1000,
            epochs: settings.search.max_epochs,
            train_images: settings.train_images,
            command: invocation(),
        },
        pruning: None,
        fine_tuning: Some(fine_tuning),
        quantized_from: None,
        metrics: BTreeMap::from([(
            card_keys::THETA_ACCURACY.to_string(),
            sweep[chosen].point.accuracy,
        )]),
        quantization: "f32".into(),
        tensors_sha256: String::new(),
        disclaimer: DISCLAIMER.into(),
    };
    let entry = write_model_asset(card, &tensors, dir)?;
    update_index(dir, entry)?;
    eprintln!("shipped {name} into {}", dir.display());
    Ok(name.to_string())
}

/// The mask of a trial record's bits.
fn mask_of(config: &ModelConfig, bits: &str) -> Result<PeftMask> {
    super::fairtune_search::mask_from_bits(config, bits)
}
