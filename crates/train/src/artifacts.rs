//! The files the trainer ships: model files written from checkpoints or tensors, and the asset
//! index (`index.json`) that lists them.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result};
use fairscreen_core::format::{
    read_model, sha256_hex, write_model, AssetEntry, AssetIndex, ModelCard, FORMAT_VERSION,
};
use fairscreen_core::HostTensor;

use crate::training::{load_checkpoint, CheckpointMeta};

/// Folds BN of checkpoint `checkpoint` and writes `<out_dir>/<name>.safetensors`; returns its
/// index entry (the index itself is not touched).
pub fn export_model(checkpoint: &Path, name: &str, out_dir: &Path) -> Result<AssetEntry> {
    let meta = CheckpointMeta::load(checkpoint)?;
    let model = load_checkpoint(&meta.config, &checkpoint.with_extension("bpk"))?;
    let tensors = model.fold_batchnorm().named_tensors()?;
    let card = ModelCard {
        format_version: FORMAT_VERSION,
        name: name.to_string(),
        config: meta.config,
        sensitive_attributes: meta.sensitive_attributes,
        default_theta: meta.default_theta,
        theta_selection: meta.theta_selection,
        pruning: None,
        fine_tuning: None,
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
pub const DISCLAIMER: &str =
    "Research demo trained on generated images only. Not a medical device and not a \
     diagnosis: see a clinician about any skin lesion that worries you.";

/// Writes `card` + folded `tensors` as `<out_dir>/<card.name>.safetensors`; returns its index
/// entry (the index itself is not touched).
pub fn write_model_asset(
    card: ModelCard,
    tensors: &BTreeMap<String, HostTensor>,
    out_dir: &Path,
) -> Result<AssetEntry> {
    let name = card.name.clone();
    let bytes = write_model(card, tensors)?;
    std::fs::create_dir_all(out_dir)?;
    let file = format!("{name}.safetensors");
    let path = out_dir.join(&file);
    std::fs::write(&path, &bytes).with_context(|| format!("writing {}", path.display()))?;
    model_entry(&file, &bytes)
}

/// The index entry of model file `file` with contents `bytes`, its card included (as read back
/// from the file, so it equals what the page would read from it).
pub fn model_entry(file: &str, bytes: &[u8]) -> Result<AssetEntry> {
    let card = read_model(bytes)
        .with_context(|| format!("reading back {file}"))?
        .card;
    Ok(AssetEntry {
        name: card.name.clone(),
        file: file.to_string(),
        bytes: bytes.len(),
        sha256: sha256_hex(bytes),
        card: Some(Box::new(card)),
    })
}

/// Adds or replaces `entry` in `<dir>/index.json` (a new index when there is none).
pub fn update_index(dir: &Path, entry: AssetEntry) -> Result<()> {
    let path = dir.join("index.json");
    let mut index: AssetIndex = match std::fs::read(&path) {
        Ok(b) => {
            serde_json::from_slice(&b).with_context(|| format!("parsing {}", path.display()))?
        }
        Err(_) => AssetIndex::default(),
    };
    index.upsert(entry);
    write_index(dir, &index)
}

/// Reads `<dir>/index.json`, which must exist.
pub fn read_index(dir: &Path) -> Result<AssetIndex> {
    let path = dir.join("index.json");
    serde_json::from_slice(
        &std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?,
    )
    .with_context(|| format!("parsing {}", path.display()))
}

/// Writes `index` as `<dir>/index.json`.
pub fn write_index(dir: &Path, index: &AssetIndex) -> Result<()> {
    std::fs::write(dir.join("index.json"), serde_json::to_vec_pretty(index)?)?;
    Ok(())
}
