//! `fixtures`: held-out SynthDerm images as PNG test fixtures (the end-to-end tests' photos).

use std::path::PathBuf;

use anyhow::{bail, Result};
use fairscreen_core::preprocess::encode_png;
use fairscreen_synth::{SampleSpec, SynthConfig};

/// `fairscreen-train fixtures`.
#[derive(clap::Args)]
pub struct FixtureArgs {
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

/// Runs `fixtures`.
pub fn run(a: FixtureArgs) -> Result<()> {
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
