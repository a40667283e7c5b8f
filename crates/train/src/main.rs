//! `fairscreen-train`: trains the multi-exit models the app ships and exports them as model files.

mod audit;
mod bench_data;
mod heatmaps;
mod onnx;
mod plot;
mod quantize;
mod reproduce;
mod reproduce_scp;
mod scp;
mod train;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use fairscreen_core::card_keys;
use fairscreen_core::format::{
    write_model, AssetEntry, AssetIndex, ModelCard, TrainingInfo, FORMAT_VERSION,
};
use fairscreen_core::preprocess::{encode_png, to_input};
use fairscreen_core::ModelConfig;
use fairscreen_datasets::{
    load_images, read_fitzpatrick17k, read_isic2019, read_labelled_folder, OnBadRow,
    UnknownFitzpatrick,
};
use fairscreen_synth::{SampleSpec, SynthConfig};
use serde::{Deserialize, Serialize};

#[derive(Parser)]
#[command(
    name = "fairscreen-train",
    version,
    about = "Train and export FairScreen's multi-exit models"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Train the tiny multi-exit model (cross-entropy at every exit) on SynthDerm, ISIC 2019,
    /// Fitzpatrick-17k or a labelled folder.
    Train(TrainArgs),
    /// Fold BatchNorm and write a checkpoint as `<out-dir>/<name>.safetensors` (+ models index).
    Export(ExportArgs),
    /// Write held-out SynthDerm images as PNG test fixtures.
    Fixtures(FixtureArgs),
    /// Generate SynthDerm images as a labelled folder and/or a contact sheet.
    Synth(bench_data::SynthArgs),
    /// Build the evaluation bundle the app ships (from SynthDerm or a labelled folder).
    EvalBundle(bench_data::EvalBundleArgs),
    /// Fairness report of a model on a dataset, or of any model's predictions (CSV).
    Audit(audit::AuditArgs),
    /// Reproduce a paper's experiments on SynthDerm and write the results (`fme`, `scp`).
    Reproduce(reproduce::ReproduceArgs),
    /// Write int8 and f16 twins of the f32 models and the f32 vs twin report.
    Quantize(quantize::QuantizeArgs),
    /// Write a model as ONNX (opset 13, every exit an output) for other runtimes.
    ExportOnnx(ExportOnnxArgs),
    /// Per-group heatmap analysis: share of each exit's class activation map on the lesion.
    Heatmaps(heatmaps::HeatmapsArgs),
}

#[derive(clap::Args)]
struct ExportOnnxArgs {
    /// Model file (an int8 or f16 file exports its weights as f32).
    #[arg(long, default_value = "www/models/tiny-fair-me.safetensors")]
    model: PathBuf,
    /// ONNX file to write.
    #[arg(long)]
    out: PathBuf,
}

fn cmd_export_onnx(a: ExportOnnxArgs) -> Result<()> {
    let file = fairscreen_core::read_model(
        &std::fs::read(&a.model).with_context(|| format!("reading {}", a.model.display()))?,
    )
    .with_context(|| a.model.display().to_string())?;
    if file.card.quantization != fairscreen_core::quant::F32 {
        eprintln!(
            "note: {} is {}; the ONNX file holds its weights as f32",
            a.model.display(),
            file.card.quantization
        );
    }
    let bytes = onnx::export(&file.card, &file.tensors)?;
    if let Some(dir) = a.out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&a.out, &bytes).with_context(|| format!("writing {}", a.out.display()))?;
    println!(
        "wrote {} ({} bytes; outputs {})",
        a.out.display(),
        bytes.len(),
        onnx::output_names(file.card.config.num_exits()).join(", ")
    );
    Ok(())
}

#[derive(clap::Args)]
struct TrainArgs {
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
    knobs: bench_data::KnobArgs,
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
    method: train::Method,
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
    augment: train::Augment,
    /// Methods that train only the final head (baseline, hsic, mfd): leave the internal exits
    /// untrained instead of training them as probes on detached features.
    #[arg(long)]
    no_exit_probes: bool,
    /// Backend that trains: `cpu` (burn flex) or `wgpu` (a GPU; build with `--features wgpu`).
    #[arg(long, value_enum, default_value = "cpu")]
    backend: train::Backend,
}

#[derive(clap::Args)]
struct ExportArgs {
    /// Checkpoint path stem written by `train`.
    #[arg(long, default_value = "checkpoints/tiny-me")]
    checkpoint: PathBuf,
    /// Model name (file stem in the app).
    #[arg(long, default_value = "tiny-me")]
    name: String,
    /// Output directory of the app's models.
    #[arg(long, default_value = "www/models")]
    out_dir: PathBuf,
}

#[derive(clap::Args)]
struct FixtureArgs {
    /// Output directory.
    #[arg(long, default_value = "tests/fixtures")]
    out: PathBuf,
    /// Images per class.
    #[arg(long, default_value_t = 1)]
    per_class: usize,
    /// Image side in pixels (the app resizes to the model's input).
    #[arg(long, default_value_t = 128)]
    side: u32,
    /// Seed of the SynthDerm test-distribution stream (disjoint from 121/122/123 by default).
    #[arg(long, default_value_t = 9001)]
    seed: u64,
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
    data: train::Dataset,
    class_names: Vec<String>,
    description: String,
}

/// What `train` records next to the weights, and `export` turns into the model card.
#[derive(Serialize, Deserialize)]
pub(crate) struct CheckpointMeta {
    pub(crate) config: ModelConfig,
    pub(crate) training: TrainingInfo,
    pub(crate) default_theta: f32,
    #[serde(default)]
    pub(crate) theta_selection: Option<String>,
    #[serde(default)]
    pub(crate) sensitive_attributes: Vec<String>,
    pub(crate) metrics: BTreeMap<String, f64>,
}

/// `count` SynthDerm images of `config` from stream `seed`, as model inputs of `side` px, with
/// the sensitive group `group` gives each image's metadata (progress bar labelled `what`).
pub(crate) fn synth_dataset(
    config: &SynthConfig,
    seed: u64,
    count: usize,
    side: u32,
    what: &str,
    group: impl Fn(&fairscreen_synth::SynthMeta) -> usize,
) -> train::Dataset {
    let mut cfg = config.clone();
    cfg.side = side;
    let model_config = ModelConfig::tiny(class_names());
    let pb = bench_data::progress(count as u64, what);
    let mut data = train::Dataset {
        inputs: Vec::with_capacity(count),
        labels: Vec::with_capacity(count),
        groups: Vec::with_capacity(count),
    };
    for i in 0..count as u64 {
        let s = fairscreen_synth::generate(&cfg, seed, i);
        data.inputs.push(to_input(&s.image, &model_config));
        data.labels.push(s.meta.label as usize);
        data.groups.push(group(&s.meta));
        pb.inc(1);
    }
    pb.finish_and_clear();
    data
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

fn class_names() -> Vec<String> {
    fairscreen_synth::CLASS_NAMES
        .iter()
        .map(|s| s.to_string())
        .collect()
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
    let pb = bench_data::progress(index.items.len() as u64, "decoding");
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
    let data = train::Dataset {
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

fn cmd_train(a: TrainArgs) -> Result<()> {
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
    let opts = train::TrainOptions {
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
        ..train::TrainOptions::new(a.method, a.epochs, a.seed, exits)
    };
    let teacher = match &a.teacher {
        Some(stem) => Some(train::load_checkpoint(
            &config,
            &stem.with_extension("bpk"),
        )?),
        None => None,
    };
    let start = std::time::Instant::now();
    let (model, _history) = train::train_model(&config, &train_set, &opts, teacher.as_ref())?;
    let secs = start.elapsed().as_secs_f64();
    let logits = train::predict(&model, &config, &val_set.inputs);
    let ev = train::evaluate(&logits, &val_set.labels, a.theta);
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
    let command = bench_data::invocation();
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
    train::save_checkpoint(model, &a.out.with_extension("bpk"))?;
    std::fs::write(
        a.out.with_extension("json"),
        serde_json::to_vec_pretty(&meta)?,
    )?;
    println!("wrote {}.bpk and {}.json", a.out.display(), a.out.display());
    Ok(())
}

fn cmd_export(a: ExportArgs) -> Result<()> {
    let entry = export_model(&a.checkpoint, &a.name, &a.out_dir)?;
    println!(
        "wrote {} ({} bytes)",
        a.out_dir.join(&entry.file).display(),
        entry.bytes
    );
    update_index(&a.out_dir, entry)
}

/// Folds BN of checkpoint `checkpoint` and writes `<out_dir>/<name>.safetensors`; returns its
/// index entry (the index itself is not touched).
pub(crate) fn export_model(checkpoint: &Path, name: &str, out_dir: &Path) -> Result<AssetEntry> {
    let meta_path = checkpoint.with_extension("json");
    let meta: CheckpointMeta = serde_json::from_slice(
        &std::fs::read(&meta_path).with_context(|| format!("reading {}", meta_path.display()))?,
    )
    .with_context(|| format!("parsing {}", meta_path.display()))?;
    let model = train::load_checkpoint(&meta.config, &checkpoint.with_extension("bpk"))?;
    let tensors = model.fold_batchnorm().named_tensors()?;
    let card = ModelCard {
        format_version: FORMAT_VERSION,
        name: name.to_string(),
        config: meta.config,
        sensitive_attributes: meta.sensitive_attributes,
        default_theta: meta.default_theta,
        theta_selection: meta.theta_selection,
        pruning: None,
        quantized_from: None,
        training: meta.training,
        metrics: meta.metrics,
        quantization: "f32".into(),
        tensors_sha256: String::new(),
        disclaimer: DISCLAIMER.into(),
    };
    write_model_asset(card, &tensors, out_dir)
}

/// The disclaimer every model card carries.
pub(crate) const DISCLAIMER: &str =
    "Research demo trained on generated images only. Not a medical device and not a \
     diagnosis: see a clinician about any skin lesion that worries you.";

/// Writes `card` + folded `tensors` as `<out_dir>/<card.name>.safetensors`; returns its index
/// entry (the index itself is not touched).
pub(crate) fn write_model_asset(
    card: ModelCard,
    tensors: &BTreeMap<String, fairscreen_core::HostTensor>,
    out_dir: &Path,
) -> Result<AssetEntry> {
    let name = card.name.clone();
    let bytes = write_model(card, tensors)?;
    std::fs::create_dir_all(out_dir)?;
    let file = format!("{name}.safetensors");
    let path = out_dir.join(&file);
    std::fs::write(&path, &bytes).with_context(|| format!("writing {}", path.display()))?;
    Ok(AssetEntry {
        name: name.to_string(),
        file,
        bytes: bytes.len(),
        sha256: fairscreen_core::format::sha256_hex(&bytes),
    })
}

pub(crate) fn update_index(dir: &Path, entry: AssetEntry) -> Result<()> {
    let path = dir.join("index.json");
    let mut index: AssetIndex = match std::fs::read(&path) {
        Ok(b) => {
            serde_json::from_slice(&b).with_context(|| format!("parsing {}", path.display()))?
        }
        Err(_) => AssetIndex::default(),
    };
    index.upsert(entry);
    std::fs::write(&path, serde_json::to_vec_pretty(&index)?)?;
    Ok(())
}

fn cmd_fixtures(a: FixtureArgs) -> Result<()> {
    if a.per_class == 0 {
        bail!("--per-class must be at least 1");
    }
    std::fs::create_dir_all(&a.out)?;
    let mut config = SynthConfig::test();
    config.side = a.side;
    for i in 0..(a.per_class * 3) as u64 {
        // Classes in turn; skin types and sexes cycle so the fixtures cover light and dark skin.
        let spec = SampleSpec {
            class: (i % 3) as u8,
            skin_type: (1 + (i * 5 / 3) % 6) as u8,
            sex: ((i / 3) % 2) as u8,
        };
        let s = fairscreen_synth::generate_with(&config, a.seed, i, spec);
        let path = a.out.join(format!(
            "lesion-{}-{}.png",
            fairscreen_synth::CLASS_NAMES[s.meta.label as usize],
            i / 3
        ));
        std::fs::write(&path, encode_png(&s.image))?;
        println!(
            "wrote {} (Fitzpatrick {}, {})",
            path.display(),
            s.meta.skin_type,
            fairscreen_synth::SEX_NAMES[s.meta.sex as usize]
        );
    }
    Ok(())
}

fn main() -> Result<()> {
    match Cli::parse().command {
        Command::Train(a) => cmd_train(a),
        Command::Export(a) => cmd_export(a),
        Command::Fixtures(a) => cmd_fixtures(a),
        Command::Synth(a) => bench_data::cmd_synth(a),
        Command::EvalBundle(a) => bench_data::cmd_eval_bundle(a),
        Command::Audit(a) => audit::cmd_audit(a),
        Command::Reproduce(a) => reproduce::cmd_reproduce(a),
        Command::Quantize(a) => quantize::cmd_quantize(a),
        Command::ExportOnnx(a) => cmd_export_onnx(a),
        Command::Heatmaps(a) => heatmaps::cmd_heatmaps(a),
    }
}
