//! A trained model on disk: the burnpack weights (`<stem>.bpk`, BatchNorm not folded) and the
//! JSON next to them (`<stem>.json`) that `export` turns into the model card.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result};
use burn::prelude::*;
use fairscreen_core::format::TrainingInfo;
use fairscreen_core::{ModelConfig, MultiExitCnn};
use serde::{Deserialize, Serialize};

/// What `train` records next to the weights, and `export` turns into the model card.
#[derive(Serialize, Deserialize)]
pub struct CheckpointMeta {
    /// Architecture.
    pub config: ModelConfig,
    /// How it was trained.
    pub training: TrainingInfo,
    /// Default early-exit threshold θ.
    pub default_theta: f32,
    /// How θ was chosen, when by a stated rule.
    #[serde(default)]
    pub theta_selection: Option<String>,
    /// Sensitive attributes of the fairness terms.
    #[serde(default)]
    pub sensitive_attributes: Vec<String>,
    /// Validation metrics ([`fairscreen_core::card_keys`]).
    pub metrics: BTreeMap<String, f64>,
}

impl CheckpointMeta {
    /// Writes `<stem>.json`.
    pub fn save(&self, stem: &Path) -> Result<()> {
        std::fs::write(
            stem.with_extension("json"),
            serde_json::to_vec_pretty(self)?,
        )?;
        Ok(())
    }

    /// Reads `<stem>.json`.
    pub fn load(stem: &Path) -> Result<Self> {
        let path = stem.with_extension("json");
        serde_json::from_slice(
            &std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?,
        )
        .with_context(|| format!("parsing {}", path.display()))
    }
}

/// Saves a trained (BN) model as a burnpack checkpoint.
pub fn save_checkpoint(model: MultiExitCnn, path: &std::path::Path) -> Result<()> {
    model
        .save_file(path)
        .map_err(|e| anyhow::anyhow!("saving checkpoint {}: {e:?}", path.display()))
}

/// Loads a trained (BN) model checkpoint for `config` on the CPU backend.
pub fn load_checkpoint(config: &ModelConfig, path: &std::path::Path) -> Result<MultiExitCnn> {
    MultiExitCnn::new(config, true, &Device::flex())
        .try_load_file(path)
        .map_err(|e| anyhow::anyhow!("loading checkpoint {}: {e:?}", path.display()))
}
