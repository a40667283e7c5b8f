//! `synth` and `eval-bundle`: write SynthDerm images as a labelled folder or a contact sheet, and
//! build the evaluation bundle the app ships.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use fairscreen_core::bundle::{DataCard, EvalBundle, UNKNOWN_AGE, UNKNOWN_SEX, UNKNOWN_SKIN_TYPE};
use fairscreen_core::format::{sha256_hex, AssetEntry, AssetIndex};
use fairscreen_core::preprocess::encode_png;
use fairscreen_core::write_eval_bundle;
use fairscreen_datasets::{read_labelled_folder, OnBadRow};
use fairscreen_synth::{
    contact_sheet, generate, generate_with_mask, stratified_spec, Artefact, BiasKnobs, SynthConfig,
    CLASS_NAMES, GENERATOR_VERSION, SEX_NAMES,
};
use indicatif::{ProgressBar, ProgressStyle};

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

/// Generator settings shared by `synth`, `eval-bundle` and `train`.
#[derive(clap::Args, Clone, Debug)]
pub struct KnobArgs {
    /// Image side in pixels (64 is the browser model's input).
    #[arg(long, default_value_t = fairscreen_synth::DEFAULT_SIDE)]
    pub side: u32,
    /// Turn every bias off (balanced groups, constant contrast, no class-linked cues, clean labels).
    #[arg(long)]
    pub no_bias: bool,
    /// Override: share of Fitzpatrick I–III (default 0.75 for train/val, 0.5 for test).
    #[arg(long)]
    pub light_share: Option<f64>,
    /// Override: relative lesion-contrast loss from type I to VI (default 0.5).
    #[arg(long)]
    pub contrast_drop: Option<f64>,
    /// Override: P(artefact | malignant, I–III) (default 0.5).
    #[arg(long)]
    pub artefact_malignant_light: Option<f64>,
    /// Override: P(artefact) elsewhere (default 0.05).
    #[arg(long)]
    pub artefact_base: Option<f64>,
    /// Override: P(erythema halo | malignant, male) (default 0.3).
    #[arg(long)]
    pub halo_malignant_male: Option<f64>,
    /// Override: P(erythema halo) elsewhere (default 0.05).
    #[arg(long)]
    pub halo_base: Option<f64>,
    /// Override: label-noise rate (default 0.05 for train/val, 0 for test).
    #[arg(long)]
    pub label_noise: Option<f64>,
}

impl KnobArgs {
    /// `base` with the side and every override applied, validated.
    pub fn apply(&self, mut base: SynthConfig) -> Result<SynthConfig> {
        base.side = self.side;
        if self.no_bias {
            base.knobs = BiasKnobs::off();
        }
        let k = &mut base.knobs;
        for (field, v) in [
            (&mut k.light_share, self.light_share),
            (&mut k.contrast_drop, self.contrast_drop),
            (
                &mut k.artefact_malignant_light,
                self.artefact_malignant_light,
            ),
            (&mut k.artefact_base, self.artefact_base),
            (&mut k.halo_malignant_male, self.halo_malignant_male),
            (&mut k.halo_base, self.halo_base),
            (&mut k.label_noise, self.label_noise),
        ] {
            if let Some(v) = v {
                *field = v;
            }
        }
        base.validate().map_err(anyhow::Error::msg)?;
        Ok(base)
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

/// A progress bar with the house style.
pub fn progress(len: u64, what: &str) -> ProgressBar {
    let pb = ProgressBar::new(len);
    pb.set_style(
        ProgressStyle::with_template("{msg:>12} [{bar:40}] {pos}/{len} ({elapsed}, eta {eta})")
            .expect("valid template")
            .progress_chars("=> "),
    );
    pb.set_message(what.to_string());
    pb
}

fn artefact_name(a: Artefact) -> &'static str {
    match a {
        Artefact::None => "none",
        Artefact::Ruler => "ruler",
        Artefact::Ink => "ink",
    }
}

/// Runs `synth`.
pub fn cmd_synth(a: SynthArgs) -> Result<()> {
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
pub fn cmd_eval_bundle(a: EvalBundleArgs) -> Result<()> {
    let side = a.knobs.side;
    let command = invocation();
    let bundle = match &a.from_folder {
        None => synth_bundle(&a, side, command)?,
        Some(dir) => folder_bundle(dir, side, &a.name, command)?,
    };
    let bytes = write_eval_bundle(&bundle)?;
    std::fs::create_dir_all(&a.out_dir)?;
    let file = format!("{}.safetensors", a.name);
    let path = a.out_dir.join(&file);
    std::fs::write(&path, &bytes).with_context(|| format!("writing {}", path.display()))?;
    let index_path = a.out_dir.join("index.json");
    let mut index: AssetIndex = match std::fs::read(&index_path) {
        Ok(b) => serde_json::from_slice(&b)
            .with_context(|| format!("parsing {}", index_path.display()))?,
        Err(_) => AssetIndex::default(),
    };
    index.upsert(AssetEntry {
        name: a.name.clone(),
        file,
        bytes: bytes.len(),
        sha256: sha256_hex(&bytes),
    });
    std::fs::write(&index_path, serde_json::to_vec_pretty(&index)?)?;
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

/// The command line that ran, as `fairscreen-train …` (recorded in cards so data can be rebuilt).
pub fn invocation() -> String {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .map(|s| if s.contains(' ') { format!("'{s}'") } else { s })
        .collect();
    format!("fairscreen-train {}", args.join(" "))
}

fn gzip_len(bytes: &[u8]) -> Result<usize> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(bytes)?;
    Ok(enc.finish()?.len())
}

fn synth_bundle(a: &EvalBundleArgs, side: u32, command: String) -> Result<EvalBundle> {
    let config = a.knobs.apply(SynthConfig::test())?;
    let n = a.per_cell * 12;
    if n == 0 {
        bail!("--per-cell must be at least 1");
    }
    let pb = progress(n, "generating");
    let mut b = empty_bundle(
        &a.name,
        side,
        CLASS_NAMES.iter().map(|s| s.to_string()).collect(),
    );
    for i in 0..n {
        let (s, mask) = generate_with_mask(&config, a.seed, i, stratified_spec(i));
        let m = &s.meta;
        b.images.extend_from_slice(s.image.as_raw());
        b.lesion_masks
            .get_or_insert_with(Vec::new)
            .extend_from_slice(&mask);
        b.labels.push(m.label);
        b.skin_types.push(m.skin_type);
        b.sexes.push(m.sex);
        b.ages.push(m.age);
        b.ids.push(i as u32);
        pb.inc(1);
    }
    pb.finish();
    b.card.description = format!(
        "{n} SynthDerm test images, exactly balanced: {} per Fitzpatrick type × sex cell, classes \
         equal within each cell. Generated images, no patients.",
        a.per_cell
    );
    b.card.source = format!("SynthDerm ({GENERATOR_VERSION}), generated by fairscreen-synth");
    b.card.seed = Some(a.seed);
    b.card.split = "test".into();
    b.card.settings = serde_json::to_value(&config)?;
    b.card.command = command;
    Ok(b)
}

/// An evaluation bundle (in memory) from a labelled folder, images resized to `side`.
pub fn folder_bundle(dir: &Path, side: u32, name: &str, command: String) -> Result<EvalBundle> {
    let index = read_labelled_folder(dir, None, OnBadRow::Fail)?;
    let pb = progress(index.items.len() as u64, "reading");
    let mut b = empty_bundle(name, side, index.class_names.clone());
    for (i, item) in index.items.iter().enumerate() {
        let img = fairscreen_datasets::load_image(&item.path, side)
            .map_err(|e| anyhow::anyhow!("{}: {e}", item.path.display()))?;
        b.images.extend_from_slice(img.as_raw());
        b.labels.push(item.label as u8);
        b.skin_types
            .push(item.skin_type.unwrap_or(UNKNOWN_SKIN_TYPE));
        b.sexes.push(item.sex.unwrap_or(UNKNOWN_SEX));
        b.ages.push(item.age.unwrap_or(UNKNOWN_AGE));
        b.ids.push(i as u32);
        pb.inc(1);
    }
    pb.finish();
    b.card.description = format!("{} labelled images from {}", b.labels.len(), dir.display());
    b.card.source = format!("labelled folder {}", dir.display());
    b.card.split = "test".into();
    b.card.settings = serde_json::json!({ "folder": dir.display().to_string() });
    b.card.command = command;
    b.card.disclaimer = "Evaluation images supplied by the user of the trainer.".into();
    Ok(b)
}

fn empty_bundle(name: &str, side: u32, class_names: Vec<String>) -> EvalBundle {
    EvalBundle {
        card: DataCard {
            format_version: fairscreen_core::bundle::BUNDLE_FORMAT_VERSION,
            name: name.into(),
            description: String::new(),
            source: String::new(),
            seed: None,
            split: String::new(),
            settings: serde_json::Value::Null,
            class_names,
            sex_names: SEX_NAMES.iter().map(|s| s.to_string()).collect(),
            side,
            count: 0,
            counts_by_cell: vec![],
            counts_by_class: vec![],
            command: String::new(),
            disclaimer: "Synthetic images with bias mechanisms built in on purpose; statistics on \
                         them say how a model treats these generated groups, not how it would treat \
                         real patients."
                .into(),
            data_sha256: String::new(),
        },
        images: vec![],
        labels: vec![],
        skin_types: vec![],
        sexes: vec![],
        ages: vec![],
        ids: vec![],
        lesion_masks: None,
    }
}
