//! `fairscreen-train`: trains the multi-exit models the app ships and exports them as model files.

mod toy;
mod train;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use fairscreen_core::format::{
    write_model, ModelCard, ModelIndex, ModelIndexEntry, TrainingInfo, FORMAT_VERSION,
};
use fairscreen_core::preprocess::{encode_png, square_resize, to_input};
use fairscreen_core::ModelConfig;
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
    /// Train the tiny multi-exit model (cross-entropy at every exit) on generated ToyDerm images.
    Train(TrainArgs),
    /// Fold BatchNorm and write a checkpoint as `<out-dir>/<name>.safetensors` (+ models index).
    Export(ExportArgs),
    /// Write held-out ToyDerm images as PNG test fixtures.
    Fixtures(FixtureArgs),
}

#[derive(clap::Args)]
struct TrainArgs {
    /// Checkpoint path stem: writes `<out>.bpk` (weights) and `<out>.json` (config, metrics).
    #[arg(long, default_value = "checkpoints/tiny-me")]
    out: PathBuf,
    /// Training images.
    #[arg(long, default_value_t = 3000)]
    train_images: usize,
    /// Validation images (disjoint seed).
    #[arg(long, default_value_t = 600)]
    val_images: usize,
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
    /// Seed (disjoint from training's 121 / validation's 122 by default).
    #[arg(long, default_value_t = 9001)]
    seed: u64,
}

/// What `train` records next to the weights, and `export` turns into the model card.
#[derive(Serialize, Deserialize)]
struct CheckpointMeta {
    config: ModelConfig,
    training: TrainingInfo,
    default_theta: f32,
    metrics: BTreeMap<String, f64>,
}

fn toy_dataset(seed: u64, count: usize, config: &ModelConfig) -> train::Dataset {
    let mut inputs = Vec::with_capacity(count);
    let mut labels = Vec::with_capacity(count);
    for i in 0..count {
        let s = toy::toy_sample(seed, i as u64, config.input_size as u32);
        inputs.push(to_input(&s.image, config));
        labels.push(s.label);
    }
    train::Dataset { inputs, labels }
}

fn cmd_train(a: TrainArgs) -> Result<()> {
    let config = ModelConfig::tiny(toy::CLASS_NAMES.iter().map(|s| s.to_string()).collect());
    eprintln!(
        "generating {} training and {} validation images…",
        a.train_images, a.val_images
    );
    let train_set = toy_dataset(a.seed, a.train_images, &config);
    let val_set = toy_dataset(a.seed + 1, a.val_images, &config);
    let opts = train::TrainOptions {
        epochs: a.epochs,
        batch_size: a.batch_size,
        lr: a.lr,
        lr_step: a.lr_step,
        seed: a.seed,
    };
    let start = std::time::Instant::now();
    let model = train::train_multi_exit(&config, &train_set, &opts);
    let secs = start.elapsed().as_secs_f64();
    let logits = train::predict(&model, &config, &val_set.inputs);
    let ev = train::evaluate(&logits, &val_set.labels, a.theta);
    let mut metrics = BTreeMap::new();
    for (e, acc) in ev.exit_accuracy.iter().enumerate() {
        metrics.insert(format!("val/exit{e}/accuracy"), *acc);
        metrics.insert(format!("val/theta/exit{e}/share"), ev.exit_share[e]);
    }
    metrics.insert("val/theta/accuracy".into(), ev.policy_accuracy);
    metrics.insert("train/seconds".into(), secs);
    println!(
        "trained in {secs:.0} s; validation ({} images):",
        a.val_images
    );
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
    let command = format!(
        "fairscreen-train train --out {} --train-images {} --val-images {} --epochs {} --batch-size {} --lr {} --lr-step {} --seed {} --theta {}",
        a.out.display(), a.train_images, a.val_images, a.epochs, a.batch_size, a.lr, a.lr_step, a.seed, a.theta
    );
    let meta = CheckpointMeta {
        config,
        training: TrainingInfo {
            method: "me (cross-entropy at every exit, equal weights)".into(),
            data: format!(
                "ToyDerm: {} simple generated lesion images (seed {}), 3 classes, no real patients; \
                 the skeleton's stand-in until the SynthDerm benchmark",
                a.train_images, a.seed
            ),
            seed: a.seed,
            epochs: a.epochs,
            train_images: a.train_images,
            command,
        },
        default_theta: a.theta,
        metrics,
    };
    if let Some(dir) = a.out.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    train::save_checkpoint(model, &a.out.with_extension("bpk")).map_err(anyhow::Error::msg)?;
    std::fs::write(
        a.out.with_extension("json"),
        serde_json::to_vec_pretty(&meta)?,
    )?;
    println!("wrote {}.bpk and {}.json", a.out.display(), a.out.display());
    Ok(())
}

fn cmd_export(a: ExportArgs) -> Result<()> {
    let meta_path = a.checkpoint.with_extension("json");
    let meta: CheckpointMeta = serde_json::from_slice(
        &std::fs::read(&meta_path).with_context(|| format!("reading {}", meta_path.display()))?,
    )
    .with_context(|| format!("parsing {}", meta_path.display()))?;
    let model = train::load_checkpoint(&meta.config, &a.checkpoint.with_extension("bpk"))
        .map_err(anyhow::Error::msg)?;
    let tensors = model
        .fold_batchnorm()
        .named_tensors()
        .map_err(anyhow::Error::msg)?;
    let card = ModelCard {
        format_version: FORMAT_VERSION,
        name: a.name.clone(),
        config: meta.config,
        sensitive_attributes: vec![],
        default_theta: meta.default_theta,
        training: meta.training,
        metrics: meta.metrics,
        quantization: "f32".into(),
        tensors_sha256: String::new(),
        disclaimer:
            "Research demo trained on generated images only. Not a medical device and not a \
                     diagnosis: see a clinician about any skin lesion that worries you."
                .into(),
    };
    let bytes = write_model(card, &tensors)?;
    std::fs::create_dir_all(&a.out_dir)?;
    let file = format!("{}.safetensors", a.name);
    let path = a.out_dir.join(&file);
    std::fs::write(&path, &bytes).with_context(|| format!("writing {}", path.display()))?;
    update_index(
        &a.out_dir,
        ModelIndexEntry {
            name: a.name.clone(),
            file,
            bytes: bytes.len(),
            sha256: fairscreen_core::format::sha256_hex(&bytes),
        },
    )?;
    println!("wrote {} ({} bytes)", path.display(), bytes.len());
    Ok(())
}

fn update_index(dir: &Path, entry: ModelIndexEntry) -> Result<()> {
    let path = dir.join("index.json");
    let mut index: ModelIndex = match std::fs::read(&path) {
        Ok(b) => {
            serde_json::from_slice(&b).with_context(|| format!("parsing {}", path.display()))?
        }
        Err(_) => ModelIndex::default(),
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
    for i in 0..(a.per_class * 3) as u64 {
        let s = toy::toy_sample(a.seed, i, a.side);
        let img = square_resize(&s.image, a.side);
        let path = a.out.join(format!(
            "lesion-{}-{}.png",
            toy::CLASS_NAMES[s.label],
            i / 3
        ));
        std::fs::write(&path, encode_png(&img))?;
        println!("wrote {}", path.display());
    }
    Ok(())
}

fn main() -> Result<()> {
    match Cli::parse().command {
        Command::Train(a) => cmd_train(a),
        Command::Export(a) => cmd_export(a),
        Command::Fixtures(a) => cmd_fixtures(a),
    }
}
