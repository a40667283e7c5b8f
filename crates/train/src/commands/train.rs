//! `train`: one multi-exit model (any of the fair multi-exit paper's methods) on SynthDerm,
//! ISIC 2019, Fitzpatrick-17k or a labelled folder, saved as a checkpoint for `export`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use fairscreen_core::card_keys;
use fairscreen_core::format::TrainingInfo;
use fairscreen_core::preprocess::to_input;
use fairscreen_core::ModelConfig;
use fairscreen_datasets::{
    load_images, read_fitzpatrick17k, read_isic2019, read_labelled_folder, OnBadRow,
    UnknownFitzpatrick,
};
use fairscreen_synth::SynthConfig;

use crate::knobs::KnobArgs;
use crate::progress::progress;
use crate::provenance::invocation;
use crate::synth_data::{class_names, synth_dataset};
use crate::training::{self, CheckpointMeta};

/// `fairscreen-train train`.
#[derive(clap::Args)]
pub struct TrainArgs {
    /// Checkpoint path stem: writes `<out>.bpk` (weights) and `<out>.json` (config, metrics).
    #[arg(long, default_value = "checkpoints/tiny-me")]
    out: PathBuf,
    /// Where the images come from.
    #[arg(long, value_enum, default_value = "synth")]
    dataset: DatasetKind,
    /// SynthDerm training images.
    #[arg(long, default_value_t = 3000)]
    train_images: usize,
    /// SynthDerm validation images (seed + 1: a disjoint stream).
    #[arg(long, default_value_t = 600)]
    val_images: usize,
    /// ISIC 2019 / Fitzpatrick-17k: the training split CSV (the FME/SCP split files).
    #[arg(long)]
    train_csv: Option<PathBuf>,
    /// ISIC 2019 / Fitzpatrick-17k: the validation split CSV.
    #[arg(long)]
    val_csv: Option<PathBuf>,
    /// ISIC 2019 / Fitzpatrick-17k: the image root (ISIC: holds ISIC_2019_Training_Input/).
    #[arg(long)]
    root: Option<PathBuf>,
    /// Labelled folder (labels.csv: file,label[,skin_type,sex,age]) for training.
    #[arg(long)]
    train_dir: Option<PathBuf>,
    /// Labelled folder for validation.
    #[arg(long)]
    val_dir: Option<PathBuf>,
    /// Fitzpatrick-17k rows with unknown skin type (−1): `dark-group` (FME/SCP code) or `drop` (MEDFAIR).
    #[arg(long, value_enum, default_value = "dark-group")]
    fitz_unknown: FitzUnknownArg,
    /// A bad CSV row or unreadable image: `skip` (report and count it) or `fail`.
    #[arg(long, value_enum, default_value = "skip")]
    on_bad_row: OnBadRowArg,
    /// SynthDerm generator settings.
    #[command(flatten)]
    knobs: KnobArgs,
    /// Epochs.
    #[arg(long, default_value_t = 8)]
    epochs: usize,
    /// Batch size.
    #[arg(long, default_value_t = 64)]
    batch_size: usize,
    /// Initial learning rate (×0.1 every `lr-step` epochs).
    #[arg(long, default_value_t = 0.05)]
    lr: f64,
    /// Epochs between learning-rate steps.
    #[arg(long, default_value_t = 6)]
    lr_step: usize,
    /// Seed: training data uses it, validation data uses seed+1, initialisation and shuffling too.
    #[arg(long, default_value_t = 121)]
    seed: u64,
    /// Early-exit threshold θ stored as the model's default.
    #[arg(long, default_value_t = 0.8)]
    theta: f32,
    /// Training objective (papers.md §2.2).
    #[arg(long, value_enum, default_value = "me")]
    method: training::Method,
    /// Loss weight per exit, shallow to deep: `equal`, `fme` (0.3 … 0.9 evenly spaced, after the
    /// FME code's VGG weights) or a comma list.
    #[arg(long, default_value = "equal")]
    exit_weights: String,
    /// HSIC weight λ (hsic, me-hsic).
    #[arg(long, default_value_t = 0.5)]
    lambda: f64,
    /// MMD weight α (mfd, me-mfd).
    #[arg(long, default_value_t = 0.02)]
    alpha: f64,
    /// Teacher checkpoint stem for mfd / me-mfd (a CE-trained model of the same config).
    #[arg(long)]
    teacher: Option<PathBuf>,
    /// Sensitive attribute for the fairness terms: `skin` (I–III vs IV–VI) or `sex`.
    #[arg(long, value_enum, default_value = "skin")]
    sensitive: Sensitive,
    /// Batch sampling: `shuffle` or `balanced` (∝ 1/class count, as the FME code).
    #[arg(long, value_enum, default_value = "shuffle")]
    sampling: Sampling,
    /// Augmentation: none, flips, full (flips, 90° rotations, brightness/saturation jitter).
    #[arg(long, value_enum, default_value = "flips")]
    augment: training::Augment,
    /// Methods that train only the final head (baseline, hsic, mfd): leave the internal exits
    /// untrained instead of training them as probes on detached features.
    #[arg(long)]
    no_exit_probes: bool,
    /// Backend that trains: `cpu` (burn flex) or `wgpu` (a GPU; build with `--features wgpu`).
    #[arg(long, value_enum, default_value = "cpu")]
    backend: training::Backend,
}

/// Sensitive attribute used by the fairness terms.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum Sensitive {
    /// Skin group: Fitzpatrick I–III (0) vs IV–VI (1).
    Skin,
    /// Sex: female (0) vs male (1).
    Sex,
}

/// Batch sampling.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum Sampling {
    /// A shuffle per epoch.
    Shuffle,
    /// With replacement, probability ∝ 1/class count.
    Balanced,
}

/// Training data sources.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum DatasetKind {
    /// SynthDerm, generated on the fly.
    Synth,
    /// ISIC 2019 with the FME/SCP split CSVs.
    Isic2019,
    /// Fitzpatrick-17k with the FME/SCP split CSVs.
    Fitzpatrick17k,
    /// A labelled folder.
    Folder,
}

/// `--fitz-unknown`.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum FitzUnknownArg {
    /// Unknown skin type joins the dark group (as the FME/SCP code).
    DarkGroup,
    /// Rows with unknown skin type are dropped (as MEDFAIR).
    Drop,
}

/// `--on-bad-row`.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum OnBadRowArg {
    /// Report and skip.
    Skip,
    /// Stop with the error.
    Fail,
}

impl OnBadRowArg {
    fn policy(self) -> OnBadRow {
        match self {
            Self::Skip => OnBadRow::Skip,
            Self::Fail => OnBadRow::Fail,
        }
    }
}

/// A training or validation split, decoded and normalised.
struct LoadedSplit {
    data: training::Dataset,
    class_names: Vec<String>,
    description: String,
}

fn synth_split(a: &TrainArgs, seed: u64, count: usize, side: u32) -> Result<LoadedSplit> {
    let config = a.knobs.apply(SynthConfig::train())?;
    let data = synth_dataset(&config, seed, count, side, "generating", |m| {
        match a.sensitive {
            Sensitive::Skin => usize::from(m.skin_type >= 4),
            Sensitive::Sex => m.sex as usize,
        }
    });
    Ok(LoadedSplit {
        data,
        class_names: class_names(),
        description: format!(
            "SynthDerm ({}; seed {seed}, {count} generated images, no patients; light skin share {}, \
             contrast drop {}, artefact|malignant light skin {}, halo|malignant male {}, label noise {})",
            fairscreen_synth::GENERATOR_VERSION,
            config.knobs.light_share,
            config.knobs.contrast_drop,
            config.knobs.artefact_malignant_light,
            config.knobs.halo_malignant_male,
            config.knobs.label_noise
        ),
    })
}

/// `--exit-weights`: `equal`, `fme` (0.3 … 0.9 evenly spaced) or a comma list of `exits` numbers.
fn parse_exit_weights(s: &str, exits: usize) -> Result<Vec<f32>> {
    match s {
        "equal" => Ok(vec![1.0; exits]),
        "fme" => Ok((0..exits)
            .map(|e| 0.3 + 0.6 * e as f32 / (exits.max(2) - 1) as f32)
            .collect()),
        list => {
            let v: Vec<f32> = list
                .split(',')
                .map(|x| x.trim().parse::<f32>())
                .collect::<Result<_, _>>()
                .with_context(|| {
                    format!("--exit-weights '{list}' is not a comma list of numbers")
                })?;
            if v.len() != exits || v.iter().any(|w| !w.is_finite() || *w < 0.0) {
                bail!("--exit-weights needs {exits} non-negative numbers, got '{list}'");
            }
            Ok(v)
        }
    }
}

fn real_split(a: &TrainArgs, which: &str) -> Result<LoadedSplit> {
    let need = |v: &Option<PathBuf>, flag: &str| {
        v.clone()
            .with_context(|| format!("--dataset {:?} needs {flag}", a.dataset))
    };
    let bad = a.on_bad_row.policy();
    let val = which == "validation";
    let index = match a.dataset {
        DatasetKind::Isic2019 => read_isic2019(
            &need(
                if val { &a.val_csv } else { &a.train_csv },
                if val { "--val-csv" } else { "--train-csv" },
            )?,
            &need(&a.root, "--root")?,
            bad,
        )?,
        DatasetKind::Fitzpatrick17k => read_fitzpatrick17k(
            &need(
                if val { &a.val_csv } else { &a.train_csv },
                if val { "--val-csv" } else { "--train-csv" },
            )?,
            &need(&a.root, "--root")?,
            match a.fitz_unknown {
                FitzUnknownArg::DarkGroup => UnknownFitzpatrick::DarkGroup,
                FitzUnknownArg::Drop => UnknownFitzpatrick::Drop,
            },
            bad,
        )?,
        DatasetKind::Folder => read_labelled_folder(
            &need(
                if val { &a.val_dir } else { &a.train_dir },
                if val { "--val-dir" } else { "--train-dir" },
            )?,
            None,
            bad,
        )?,
        DatasetKind::Synth => unreachable!("SynthDerm is generated"),
    };
    let r = &index.report;
    eprintln!(
        "{which}: {} rows, {} kept, {} bad rows skipped, {} dropped without sex, {} with unknown skin type ({} dropped)",
        r.rows,
        r.kept,
        r.problems.len(),
        r.dropped_no_sex,
        r.unknown_skin_type,
        r.dropped_unknown_skin_type
    );
    for p in r.problems.iter().take(10) {
        eprintln!("  skipped {p}");
    }
    let model_config = ModelConfig::tiny(index.class_names.clone());
    let pb = progress(index.items.len() as u64, "decoding");
    let loaded = load_images(&index, model_config.input_size as u32, bad, |done, _| {
        pb.set_position(done as u64)
    })?;
    pb.finish_and_clear();
    let (images, items) = (loaded.images, loaded.items);
    for p in loaded.problems.iter().take(10) {
        eprintln!("  skipped {p}");
    }
    let unknown = items
        .iter()
        .filter(|it| match a.sensitive {
            Sensitive::Skin => it.skin_group.is_none(),
            Sensitive::Sex => it.sex.is_none(),
        })
        .count();
    if unknown > 0 {
        eprintln!(
            "  {unknown} images have no {:?} value: counted in group 0",
            a.sensitive
        );
    }
    let data = training::Dataset {
        inputs: images
            .iter()
            .map(|img| to_input(img, &model_config))
            .collect(),
        labels: items.iter().map(|it| it.label).collect(),
        groups: items
            .iter()
            .map(|it| match a.sensitive {
                Sensitive::Skin => it.skin_group.unwrap_or(0) as usize,
                Sensitive::Sex => it.sex.unwrap_or(0) as usize,
            })
            .collect(),
    };
    Ok(LoadedSplit {
        description: format!("{} ({} images from {})", index.name, items.len(), which),
        class_names: index.class_names,
        data,
    })
}

/// Runs `train`.
pub fn run(a: TrainArgs) -> Result<()> {
    let side = ModelConfig::tiny(class_names()).input_size as u32;
    let (train_split, val_split) = match a.dataset {
        DatasetKind::Synth => (
            synth_split(&a, a.seed, a.train_images, side)?,
            synth_split(&a, a.seed + 1, a.val_images, side)?,
        ),
        _ => (real_split(&a, "training")?, real_split(&a, "validation")?),
    };
    if train_split.class_names != val_split.class_names {
        bail!(
            "training classes {:?} differ from validation classes {:?}",
            train_split.class_names,
            val_split.class_names
        );
    }
    let config = ModelConfig::tiny(train_split.class_names.clone());
    let (train_set, val_set) = (train_split.data, val_split.data);
    let val_images = val_set.labels.len();
    let exits = config.num_exits();
    let exit_weights = parse_exit_weights(&a.exit_weights, exits)?;
    let opts = training::TrainOptions {
        batch_size: a.batch_size,
        lr: a.lr,
        lr_step: a.lr_step,
        exit_weights,
        lambda: a.lambda,
        alpha: a.alpha,
        class_balanced: matches!(a.sampling, Sampling::Balanced),
        augment: a.augment,
        probe_exits: !a.no_exit_probes,
        backend: a.backend,
        ..training::TrainOptions::new(a.method, a.epochs, a.seed, exits)
    };
    let teacher = match &a.teacher {
        Some(stem) => Some(training::load_checkpoint(
            &config,
            &stem.with_extension("bpk"),
        )?),
        None => None,
    };
    let start = std::time::Instant::now();
    let (model, _history) = training::train_model(&config, &train_set, &opts, teacher.as_ref())?;
    let secs = start.elapsed().as_secs_f64();
    let logits = training::predict(&model, &config, &val_set.inputs);
    let ev = training::evaluate(&logits, &val_set.labels, a.theta);
    let mut metrics = BTreeMap::new();
    for (e, acc) in ev.exit_accuracy.iter().enumerate() {
        metrics.insert(card_keys::exit_accuracy(e), *acc);
        metrics.insert(card_keys::theta_exit_share(e), ev.exit_share[e]);
    }
    metrics.insert(card_keys::THETA_ACCURACY.into(), ev.policy_accuracy);
    metrics.insert(card_keys::TRAIN_SECONDS.into(), secs);
    println!("trained in {secs:.0} s; validation ({val_images} images):");
    for (e, acc) in ev.exit_accuracy.iter().enumerate() {
        println!(
            "  exit {e}: accuracy {:.3}, share at θ={} {:.3}",
            acc, a.theta, ev.exit_share[e]
        );
    }
    println!(
        "  early-exit policy at θ={}: accuracy {:.3}",
        a.theta, ev.policy_accuracy
    );
    let command = invocation();
    let meta = CheckpointMeta {
        config,
        training: TrainingInfo {
            method: a.method.describe(&opts),
            data: train_split.description,
            seed: a.seed,
            epochs: a.epochs,
            train_images: train_set.labels.len(),
            command,
        },
        default_theta: a.theta,
        theta_selection: None,
        sensitive_attributes: vec![format!("{:?}", a.sensitive).to_lowercase()],
        metrics,
    };
    if let Some(dir) = a.out.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    training::save_checkpoint(model, &a.out.with_extension("bpk"))?;
    meta.save(&a.out)?;
    println!("wrote {}.bpk and {}.json", a.out.display(), a.out.display());
    Ok(())
}
