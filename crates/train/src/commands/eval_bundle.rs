//! `eval-bundle`: the evaluation bundle the app ships (balanced SynthDerm test images with their
//! lesion masks, or a labelled folder), listed in its index.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result};
use fairscreen_core::format::{sha256_hex, AssetEntry};
use fairscreen_core::write_eval_bundle_with;
use fairscreen_synth::SynthConfig;
use image::RgbImage;

use crate::artifacts::update_index;
use crate::bundles::{folder_bundle, synth_bundle};
use crate::knobs::KnobArgs;
use crate::provenance::invocation;

/// `fairscreen-train eval-bundle`.
#[derive(clap::Args)]
pub struct EvalBundleArgs {
    /// Images per skin type × sex cell (12 cells; classes cycle within a cell) for SynthDerm.
    #[arg(long, default_value_t = 60)]
    per_cell: u64,
    /// SynthDerm test-stream seed (disjoint from training's 121 and validation's 122).
    #[arg(long, default_value_t = 123)]
    seed: u64,
    /// Build from a labelled folder (`labels.csv`: file,label,skin_type,sex,age) instead of SynthDerm.
    #[arg(long)]
    from_folder: Option<PathBuf>,
    /// Bundle name (file stem).
    #[arg(long, default_value = "synthderm-test")]
    name: String,
    /// Output directory (gets `<name>.safetensors` and `index.json`).
    #[arg(long, default_value = "www/eval")]
    out_dir: PathBuf,
    #[command(flatten)]
    knobs: KnobArgs,
}

/// Runs `eval-bundle`.
pub fn run(a: EvalBundleArgs) -> Result<()> {
    let side = a.knobs.side;
    let command = invocation();
    let bundle = match &a.from_folder {
        None => {
            let config = a.knobs.apply(SynthConfig::test())?;
            synth_bundle(&config, a.per_cell, a.seed, &a.name, side, command)?
        }
        Some(dir) => folder_bundle(dir, side, &a.name, command)?,
    };
    let bytes = write_eval_bundle_with(&bundle, &libwebp_lossless)?;
    std::fs::create_dir_all(&a.out_dir)?;
    let file = format!("{}.safetensors", a.name);
    let path = a.out_dir.join(&file);
    std::fs::write(&path, &bytes).with_context(|| format!("writing {}", path.display()))?;
    update_index(
        &a.out_dir,
        AssetEntry {
            name: a.name.clone(),
            file,
            bytes: bytes.len(),
            sha256: sha256_hex(&bytes),
            card: None,
        },
    )?;
    let gz = gzip_len(&bytes)?;
    println!(
        "wrote {} ({} images, {} bytes raw, {} bytes gzipped)",
        path.display(),
        bundle.len(),
        bytes.len(),
        gz
    );
    Ok(())
}

/// `img` as lossless WebP by libwebp at `cwebp -lossless`'s default effort (quality 75, method
/// 4; method 6 saves 1 % more for 40× the time), or empty if libwebp fails (which the bundle
/// writer reports, as it does any file that does not decode back to the same pixels).
fn libwebp_lossless(img: &RgbImage) -> Vec<u8> {
    let Ok(mut config) = webp::WebPConfig::new() else {
        return Vec::new();
    };
    config.lossless = 1;
    config.exact = 1;
    config.quality = 75.0;
    config.method = 4;
    webp::Encoder::from_rgb(img.as_raw(), img.width(), img.height())
        .encode_advanced(&config)
        .map(|webp| webp.to_vec())
        .unwrap_or_default()
}

/// Bytes of `bytes` gzipped at the strongest level (what a web server would send).
fn gzip_len(bytes: &[u8]) -> Result<usize> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(bytes)?;
    Ok(enc.finish()?.len())
}
