//! `synth`: SynthDerm images as a labelled folder (PNGs, `labels.csv`, a data card) and/or a
//! contact sheet.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use fairscreen_core::preprocess::encode_png;
use fairscreen_synth::{
    contact_sheet, generate, Artefact, SynthConfig, CLASS_NAMES, GENERATOR_VERSION, SEX_NAMES,
};

use crate::knobs::KnobArgs;
use crate::progress::progress;

/// Which SynthDerm distribution to draw from.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum SynthSplit {
    /// Training distribution (imbalanced groups, all biases, label noise).
    Train,
    /// Validation: the training distribution from a disjoint seed.
    Val,
    /// Test: balanced groups and classes, clean labels, same imaging mechanisms.
    Test,
}

impl SynthSplit {
    /// The split's config and its default seed (train 121, val 122, test 123: disjoint streams).
    pub fn config(self) -> (SynthConfig, u64) {
        match self {
            Self::Train => (SynthConfig::train(), 121),
            Self::Val => (SynthConfig::train(), 122),
            Self::Test => (SynthConfig::test(), 123),
        }
    }

    /// Lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Train => "train",
            Self::Val => "val",
            Self::Test => "test",
        }
    }
}

/// `fairscreen-train synth`.
#[derive(clap::Args)]
pub struct SynthArgs {
    /// Distribution to draw from.
    #[arg(long, value_enum, default_value = "train")]
    split: SynthSplit,
    /// Number of images.
    #[arg(long, default_value_t = 600)]
    count: u64,
    /// Stream seed (default: train 121, val 122, test 123).
    #[arg(long)]
    seed: Option<u64>,
    /// Output folder: PNGs plus `labels.csv` (the labelled-folder layout) and `data-card.json`.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Also (or only) write a contact sheet PNG: rows = class, columns = Fitzpatrick I–VI.
    #[arg(long)]
    contact_sheet: Option<PathBuf>,
    /// Images per contact-sheet cell.
    #[arg(long, default_value_t = 2)]
    sheet_per_cell: u32,
    /// Side of each contact-sheet image.
    #[arg(long, default_value_t = 96)]
    sheet_side: u32,
    #[command(flatten)]
    knobs: KnobArgs,
}

/// The `artefact` column's name of an artefact.
fn artefact_name(a: Artefact) -> &'static str {
    match a {
        Artefact::None => "none",
        Artefact::Ruler => "ruler",
        Artefact::Ink => "ink",
    }
}

/// Runs `synth`.
pub fn run(a: SynthArgs) -> Result<()> {
    let (base, default_seed) = a.split.config();
    let config = a.knobs.apply(base)?;
    let seed = a.seed.unwrap_or(default_seed);
    if a.out.is_none() && a.contact_sheet.is_none() {
        bail!("nothing to write: give --out DIR and/or --contact-sheet FILE.png");
    }
    if let Some(path) = &a.contact_sheet {
        let sheet = contact_sheet(&config, seed, a.sheet_per_cell.max(1), a.sheet_side);
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(path, encode_png(&sheet))
            .with_context(|| format!("writing {}", path.display()))?;
        println!(
            "wrote {} ({}×{}: rows benign / malignant / non-neoplastic, columns Fitzpatrick I–VI)",
            path.display(),
            sheet.width(),
            sheet.height()
        );
    }
    let Some(out) = &a.out else { return Ok(()) };
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let mut csv = String::from(
        "file,label,skin_type,sex,age,true_class,artefact,halo,hair,ita,lesion_contrast\n",
    );
    let pb = progress(a.count, "generating");
    for i in 0..a.count {
        let s = generate(&config, seed, i);
        let m = &s.meta;
        let file = format!("synthderm-{}-{seed}-{i:06}.png", a.split.name());
        std::fs::write(out.join(&file), encode_png(&s.image))
            .with_context(|| format!("writing {}", out.join(&file).display()))?;
        csv.push_str(&format!(
            "{file},{},{},{},{},{},{},{},{},{:.2},{:.4}\n",
            CLASS_NAMES[m.label as usize],
            m.skin_type,
            SEX_NAMES[m.sex as usize],
            m.age,
            CLASS_NAMES[m.true_class as usize],
            artefact_name(m.artefact),
            m.halo as u8,
            m.hair as u8,
            m.ita,
            m.lesion_contrast
        ));
        pb.inc(1);
    }
    pb.finish();
    std::fs::write(out.join("labels.csv"), csv)?;
    let card = serde_json::json!({
        "generator": GENERATOR_VERSION,
        "split": a.split.name(),
        "seed": seed,
        "count": a.count,
        "config": config,
    });
    std::fs::write(
        out.join("data-card.json"),
        serde_json::to_vec_pretty(&card)?,
    )?;
    println!(
        "wrote {} images, labels.csv and data-card.json to {}",
        a.count,
        out.display()
    );
    Ok(())
}
