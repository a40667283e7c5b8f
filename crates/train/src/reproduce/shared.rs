//! What both reproductions share: their common options, the render-only path, and the three
//! SynthDerm splits they train, choose and report on.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use fairscreen_core::exit_analysis::{ThetaRule, THETA_GRID};
use fairscreen_synth::SynthConfig;
use serde::de::DeserializeOwned;

use crate::synth_data::{generate, TEST_SEED};
use crate::training::Dataset;

/// Options of every `reproduce` subcommand.
#[derive(clap::Args)]
pub struct SharedArgs {
    /// Small data and short training: checks the pipeline end to end in about a minute (CI).
    #[arg(long)]
    pub quick: bool,
    /// Results directory (default `docs/results/<paper>`).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Seed: training data and initialisation; validation uses seed + 1, test the test stream 123.
    #[arg(long, default_value_t = 121)]
    pub seed: u64,
    /// Training images (default 5000; quick: fme 384, scp 256).
    #[arg(long)]
    pub train_images: Option<usize>,
    /// Validation images (default 1000, quick 128).
    #[arg(long)]
    pub val_images: Option<usize>,
    /// Test images (default 1500; quick: fme 256, scp 128).
    #[arg(long)]
    pub test_images: Option<usize>,
    /// Models trained at the same time (one core each).
    #[arg(long, default_value_t = 2)]
    pub jobs: usize,
    /// Re-render `results.md` and the plots from an existing `<out>/results.json` (no training).
    #[arg(long)]
    pub render_only: bool,
}

impl SharedArgs {
    /// The results directory: `--out`, else `docs/results/<paper>`.
    pub fn out_dir(&self, paper: &str) -> PathBuf {
        self.out
            .clone()
            .unwrap_or_else(|| Path::new("docs/results").join(paper))
    }
}

/// `--render-only`: re-renders the report in `out_dir` from its `results.json` with `write`
/// (no training).
pub fn rerender<R: DeserializeOwned>(
    out_dir: &Path,
    write: impl FnOnce(&Path, &R) -> Result<()>,
) -> Result<()> {
    let path = out_dir.join("results.json");
    let r: R = serde_json::from_slice(
        &std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?,
    )
    .with_context(|| format!("parsing {}", path.display()))?;
    write(out_dir, &r)?;
    println!("re-rendered {}", out_dir.display());
    Ok(())
}

/// The SynthDerm images of a reproduction.
pub struct Splits {
    /// Training images: the training distribution, stream `seed`.
    pub train: Dataset,
    /// Validation images: the training distribution, stream `seed + 1`.
    pub val: Dataset,
    /// Test images: the test distribution (balanced groups and classes, clean labels), the test
    /// stream.
    pub test: Dataset,
}

impl Splits {
    /// Generates the three splits, of these sizes.
    pub fn generate(seed: u64, train: usize, val: usize, test: usize) -> Self {
        Self {
            train: generate(&SynthConfig::train(), seed, train, "training data"),
            val: generate(&SynthConfig::train(), seed + 1, val, "validation data"),
            test: generate(&SynthConfig::test(), TEST_SEED, test, "test data"),
        }
    }
}

/// A card's `theta_selection`: θ, the rule and the grid it was chosen by, and the validation
/// images it was chosen on.
pub fn theta_selection_note(
    theta: f32,
    rule: &ThetaRule,
    val_images: usize,
    val_seed: u64,
) -> String {
    format!(
        "θ = {theta} chosen {} over {:?}, on {val_images} validation images (seed {val_seed})",
        rule.describe(),
        THETA_GRID,
    )
}
