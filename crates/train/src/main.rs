//! `fairscreen-train`: trains the multi-exit models the app ships and exports them as model files.

mod artifacts;
mod bundles;
mod commands;
mod knobs;
mod onnx;
mod plot;
mod progress;
mod provenance;
mod pruning;
mod report;
mod reproduce;
mod synth_data;
mod training;

use anyhow::Result;
use clap::{Parser, Subcommand};

use crate::commands::{
    audit, catalogue, eval_bundle, export, export_onnx, fixtures, heatmaps, quantize, synth, train,
};

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
    Train(train::TrainArgs),
    /// Fold BatchNorm and write a checkpoint as `<out-dir>/<name>.safetensors` (+ models index).
    Export(export::ExportArgs),
    /// Write held-out SynthDerm images as PNG test fixtures.
    Fixtures(fixtures::FixtureArgs),
    /// Generate SynthDerm images as a labelled folder and/or a contact sheet.
    Synth(synth::SynthArgs),
    /// Build the evaluation bundle the app ships (from SynthDerm or a labelled folder).
    EvalBundle(eval_bundle::EvalBundleArgs),
    /// Fairness report of a model on a dataset, or of any model's predictions (CSV).
    Audit(audit::AuditArgs),
    /// Reproduce a paper's experiments on SynthDerm and write the results (`fme`, `scp`).
    Reproduce(reproduce::ReproduceArgs),
    /// Write int8 and f16 twins of the f32 models and the f32 vs twin report.
    Quantize(quantize::QuantizeArgs),
    /// Write a model as ONNX (opset 13, every exit an output) for other runtimes.
    ExportOnnx(export_onnx::ExportOnnxArgs),
    /// Per-group heatmap analysis: share of each exit's class activation map on the lesion.
    Heatmaps(heatmaps::HeatmapsArgs),
    /// Put every model's card into the models index (the page's catalogue).
    Catalogue(catalogue::CatalogueArgs),
}

fn main() -> Result<()> {
    match Cli::parse().command {
        Command::Train(a) => train::run(a),
        Command::Export(a) => export::run(a),
        Command::Fixtures(a) => fixtures::run(a),
        Command::Synth(a) => synth::run(a),
        Command::EvalBundle(a) => eval_bundle::run(a),
        Command::Audit(a) => audit::run(a),
        Command::Reproduce(a) => reproduce::run(a),
        Command::Quantize(a) => quantize::run(a),
        Command::ExportOnnx(a) => export_onnx::run(a),
        Command::Heatmaps(a) => heatmaps::run(a),
        Command::Catalogue(a) => catalogue::run(a),
    }
}
