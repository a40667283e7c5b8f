//! `export`: folds BatchNorm of a trained checkpoint and writes it as a model file of the app,
//! listed in the models index.

use std::path::PathBuf;

use anyhow::Result;

use crate::artifacts::{export_model, update_index};

/// `fairscreen-train export`.
#[derive(clap::Args)]
pub struct ExportArgs {
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

/// Runs `export`.
pub fn run(a: ExportArgs) -> Result<()> {
    let entry = export_model(&a.checkpoint, &a.name, &a.out_dir)?;
    println!(
        "wrote {} ({} bytes)",
        a.out_dir.join(&entry.file).display(),
        entry.bytes
    );
    update_index(&a.out_dir, entry)
}
