//! `fairscreen-train reproduce fairtune`: FairTune (seed paper 002, papers.md §4) on SynthDerm —
//! a model pretrained on a source clinic (the stand-in for ImageNet), a search over which groups
//! of it to fine-tune on a small biased target set and at which learning rate (TPE with successive
//! halving, and random search as the control) scored by a fairness objective on validation, then
//! stage 2: the best masks retrained against full fine-tuning, linear readout and training from
//! scratch, several seeds each, reported once on the test split.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Result};
use fairscreen_core::metrics::FairnessObjective;
use fairscreen_core::peft::PeftMask;
use fairscreen_core::search::{Sampler, TpeOptions};
use fairscreen_synth::{SynthConfig, SynthMeta};

use super::fairtune_data::{FairtuneSettings, Sensitive, Split, SplitData};
use super::fairtune_report::{write_results, FairtuneResults};
use super::fairtune_search::{mask_from_bits, run_search, SearchSettings};
use super::fairtune_stage2::{run_stage2, ship, Stage2Config, Stage2Init};
use super::shared::{rerender, SharedArgs};
use crate::provenance::{invocation, machine, utc_now};
use crate::synth_data::{class_names, synth_dataset, TEST_SEED};
use crate::training::{train_model, Method, TrainOptions};
use fairscreen_core::ModelConfig;

/// `fairscreen-train reproduce fairtune`.
#[derive(clap::Args)]
pub struct FairtuneArgs {
    /// Options of every reproduction (target images: training default 1200, validation 600,
    /// test 1500; quick 160 / 96 / 96).
    #[command(flatten)]
    shared: SharedArgs,
    /// Source-clinic images for pretraining (default 4000, quick 192).
    #[arg(long)]
    source_images: Option<usize>,
    /// Pretraining epochs (default 6, quick 1).
    #[arg(long)]
    source_epochs: Option<usize>,
    /// Trials per sampler (default 20, quick 3).
    #[arg(long)]
    trials: Option<usize>,
    /// Fine-tuning epochs: the most a search trial trains, and every stage-2 run (default 4,
    /// quick 1).
    #[arg(long)]
    epochs: Option<usize>,
    /// Validation objective: min_auc, min_acc, auc_diff, acc_diff, overall_auc, overall_acc.
    #[arg(long, default_value = "min_auc")]
    objective: String,
    /// Sensitive attribute of the objective and the report.
    #[arg(long, value_enum, default_value = "skin")]
    sensitive: Sensitive,
    /// Lower end of the learning rate's log-uniform range.
    #[arg(long, default_value_t = 1e-3)]
    lr_low: f64,
    /// Upper end of the learning rate's log-uniform range.
    #[arg(long, default_value_t = 0.1)]
    lr_high: f64,
    /// Stage 2's fixed learning rate (the reference code's CLI `--lr`): the baselines, and a
    /// variant of the searched mask.
    #[arg(long, default_value_t = 0.01)]
    stage2_lr: f64,
    /// Stage-2 seeds per configuration (default 3, quick 1).
    #[arg(long)]
    stage2_seeds: Option<usize>,
    /// Batch size (32, as the reference code).
    #[arg(long, default_value_t = 32)]
    batch_size: usize,
    /// Ship the FairTune model (TPE's mask and lr, stage-2 seed 0) into this models directory.
    #[arg(long)]
    ship_dir: Option<PathBuf>,
}

/// Runs `reproduce fairtune`.
pub fn run(a: FairtuneArgs) -> Result<()> {
    let out_dir = a.shared.out_dir("fairtune");
    if a.shared.render_only {
        return rerender(&out_dir, write_results);
    }
    let start = Instant::now();
    let quick = a.shared.quick;
    let pick =
        |v: Option<usize>, full: usize, small: usize| v.unwrap_or(if quick { small } else { full });
    let objective: FairnessObjective = a.objective.parse()?;
    if !(a.lr_low > 0.0 && a.lr_low < a.lr_high) {
        bail!(
            "--lr-low {} must be positive and below --lr-high {}",
            a.lr_low,
            a.lr_high
        );
    }
    let settings = FairtuneSettings {
        seed: a.shared.seed,
        source_images: pick(a.source_images, 4000, 192),
        source_epochs: pick(a.source_epochs, 6, 1),
        train_images: pick(a.shared.train_images, 1200, 160),
        val_images: pick(a.shared.val_images, 600, 96),
        test_images: pick(a.shared.test_images, 1500, 96),
        stage2_seeds: pick(a.stage2_seeds, 3, 1),
        stage2_lr: a.stage2_lr,
        sensitive: a.sensitive,
        search: SearchSettings {
            trials: pick(a.trials, 20, 3),
            max_epochs: pick(a.epochs, 4, 1),
            batch_size: a.batch_size,
            lr_range: (a.lr_low, a.lr_high),
            objective: objective.name().into(),
            seed: a.shared.seed,
        },
        source_distribution: serde_json::to_value(SynthConfig::source())?,
    };
    let config = ModelConfig::tiny(class_names());
    let side = config.input_size as u32;
    let group = |m: &SynthMeta| a.sensitive.group(m);
    let seed = settings.seed;
    let source = synth_dataset(
        &SynthConfig::source(),
        seed + 10,
        settings.source_images,
        side,
        "source images",
        group,
    );
    let train = SplitData {
        split: Split::Train,
        data: synth_dataset(
            &SynthConfig::train(),
            seed,
            settings.train_images,
            side,
            "target training images",
            group,
        ),
    };
    let val = SplitData {
        split: Split::Validation,
        data: synth_dataset(
            &SynthConfig::train(),
            seed + 1,
            settings.val_images,
            side,
            "validation images",
            group,
        ),
    };
    let test = SplitData {
        split: Split::Test,
        data: synth_dataset(
            &SynthConfig::test(),
            TEST_SEED,
            settings.test_images,
            side,
            "test images",
            group,
        ),
    };

    // Pretraining on the source clinic: CE at every exit, the training defaults.
    let pretrain_start = Instant::now();
    let pretrain_opts = TrainOptions {
        label: "pretraining (source clinic)".into(),
        ..TrainOptions::new(
            Method::Me,
            settings.source_epochs,
            seed + 10,
            config.num_exits(),
        )
    };
    let (pretrained, _) = train_model(&config, &source, &pretrain_opts, None)?;
    let pretrain_seconds = pretrain_start.elapsed().as_secs_f64();
    eprintln!(
        "pretrained on {} source images in {pretrain_seconds:.0} s",
        settings.source_images
    );

    // Stage 1: TPE and random search side by side (one core each, each study sequential, so
    // both repeat exactly).
    let val_data = val.for_selection()?;
    let (tpe, random) = std::thread::scope(|scope| {
        let run = |name: &'static str, sampler: Sampler, seed_offset: u64| {
            let s = SearchSettings {
                seed: settings.search.seed + seed_offset,
                ..settings.search.clone()
            };
            let (pretrained, config, train) = (&pretrained, &config, &train.data);
            scope.spawn(move || {
                run_search(
                    name, sampler, &s, objective, pretrained, config, train, val_data,
                )
            })
        };
        let tpe = run("tpe", Sampler::Tpe(TpeOptions::default()), 0);
        let random = run("random", Sampler::Random, 1);
        (
            tpe.join().expect("TPE search thread panicked"),
            random.join().expect("random search thread panicked"),
        )
    });
    let (tpe, random) = (tpe?, random?);

    // Stage 2: the searched masks and the baselines, several seeds each.
    let tpe_best = tpe.best_trial().clone();
    let random_best = random.best_trial().clone();
    let mut configs = vec![Stage2Config {
        name: "fairtune-tpe".into(),
        description: "FairTune: TPE's best mask and its searched lr".into(),
        init: Stage2Init::Pretrained,
        mask: Some(mask_from_bits(&config, &tpe_best.mask)?),
        lr: tpe_best.lr,
    }];
    if (tpe_best.lr - settings.stage2_lr).abs() > 1e-12 {
        configs.push(Stage2Config {
            name: "fairtune-tpe-cli-lr".into(),
            description: format!(
                "TPE's best mask at the fixed stage-2 lr {} (the reference code's stage 2 uses its CLI lr, not the searched one)",
                settings.stage2_lr
            ),
            init: Stage2Init::Pretrained,
            mask: Some(mask_from_bits(&config, &tpe_best.mask)?),
            lr: settings.stage2_lr,
        });
    }
    configs.extend([
        Stage2Config {
            name: "random-search".into(),
            description: "random search's best mask and its lr (the control)".into(),
            init: Stage2Init::Pretrained,
            mask: Some(mask_from_bits(&config, &random_best.mask)?),
            lr: random_best.lr,
        },
        Stage2Config {
            name: "full-fine-tuning".into(),
            description: "every group trains (= the all-ones mask, bit for bit)".into(),
            init: Stage2Init::Pretrained,
            mask: Some(PeftMask::all(&config)),
            lr: settings.stage2_lr,
        },
        Stage2Config {
            name: "linear-readout".into(),
            description: "only the final head trains".into(),
            init: Stage2Init::Pretrained,
            mask: Some(PeftMask::head_only(&config)),
            lr: settings.stage2_lr,
        },
        Stage2Config {
            name: "from-scratch".into(),
            description: "random initialisation, every group trains, same data, epochs and lr"
                .into(),
            init: Stage2Init::Scratch,
            mask: None,
            lr: settings.stage2_lr,
        },
    ]);
    let stage2 = run_stage2(
        &configs,
        &settings,
        objective,
        &pretrained,
        &config,
        &train.data,
        &val,
        &test,
        a.shared.jobs,
    )?;

    let shipped = match &a.ship_dir {
        Some(dir) => ship(dir, &stage2, &configs, &settings, &tpe, &config, &val)?,
        None => Vec::new(),
    };
    let results = FairtuneResults {
        quick,
        command: invocation(),
        machine: machine(),
        finished: utc_now(),
        wall_seconds: start.elapsed().as_secs_f64(),
        pretrain_seconds,
        settings,
        configs,
        searches: vec![tpe, random],
        stage2: stage2.runs,
        shipped,
    };
    write_results(&out_dir, &results)?;
    println!(
        "reproduce fairtune finished in {:.1} min; results in {}",
        results.wall_seconds / 60.0,
        out_dir.display()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::training::Dataset;

    fn split(split: Split) -> SplitData {
        SplitData {
            split,
            data: Dataset {
                inputs: vec![],
                labels: vec![],
                groups: vec![],
            },
        }
    }

    #[test]
    fn selection_refuses_every_split_but_validation() {
        assert!(split(Split::Validation).for_selection().is_ok());
        for s in [Split::Test, Split::Train] {
            let e = match split(s).for_selection() {
                Ok(_) => panic!("selection accepted the {s:?} split"),
                Err(e) => e.to_string(),
            };
            assert!(e.contains(&format!("{s:?} split")), "{e}");
        }
    }
}
