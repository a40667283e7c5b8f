//! SynthDerm: a deterministic generator of dermoscopy-like images whose biases are known by
//! construction, so the papers' fairness phenomena can honestly appear (or fail to) on data we own.
//!
//! * **Determinism**: sample `index` of stream `seed` depends only on `(seed, index, config)`; the
//!   random numbers come from ChaCha8 and every transcendental function from `libm`, so the bytes are
//!   identical on every machine and on wasm.
//! * **Skin**: Fitzpatrick type I–VI → an individual typology angle (ITA, CIELab) drawn from the
//!   published ITA category of that type, b* and a* from plausible ranges, then texture (two octaves
//!   of value noise), an illumination gradient, optional dermoscope vignetting and hair, and a
//!   faint sensor noise (±0.3 levels: enough to dither, small enough that the bundled evaluation
//!   subset compresses to under 3 MB).
//! * **Lesions** follow ABCD-like cues: asymmetry (a second lobe), border irregularity (radial
//!   Fourier noise), colour variegation (brown, black, blue-grey, red blotches), diameter; the
//!   non-neoplastic class is a diffuse erythematous, scaly patch. Shape, colour and size cues each
//!   follow the true class only with probability [`CUE_FIDELITY`], so classes overlap.
//! * **Bias knobs** ([`BiasKnobs`]): training-group imbalance, lesion contrast falling with darker
//!   skin, a ruler/ink artefact correlated with malignancy in light skin only, an erythema halo
//!   correlated with malignancy in men only, and label noise.

mod colour;
mod cues;
mod lesion;
mod noise;
mod skin;

use image::{Rgb, RgbImage};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

pub use colour::{ita_degrees, lab_to_srgb, srgb_to_lab};

use cues::Cues;
use lesion::{contrast_factor, Lesion};
use noise::{noisy_pixel, normal};
use skin::Skin;

/// Generator name and version, recorded in every data card; bump it when the bytes change.
pub const GENERATOR_VERSION: &str = "synthderm-1";
/// Class names in label order (the Fitzpatrick-17k three-way partition).
pub const CLASS_NAMES: [&str; 3] = ["benign", "malignant", "non-neoplastic"];
/// Sex names in code order (0 = female, 1 = male, as ISIC's `gender` column).
pub const SEX_NAMES: [&str; 2] = ["female", "male"];
/// Default image side in pixels: the input size of the browser's `tiny` model.
pub const DEFAULT_SIDE: u32 = 64;
/// Probability that each lesion cue (shape, colour, size) follows the true class.
pub const CUE_FIDELITY: f64 = 0.7;
/// ITA ranges in degrees for Fitzpatrick types I–VI, after the Chardon et al. 1991 categories
/// (very light above 55°, light 41–55°, intermediate 28–41°, tan 10–28°, brown −30–10°, dark
/// below −30°); the open ends are closed at 70° and −60°.
pub const ITA_RANGES: [(f32, f32); 6] = [
    (55.0, 70.0),
    (41.0, 55.0),
    (28.0, 41.0),
    (10.0, 28.0),
    (-30.0, 10.0),
    (-60.0, -30.0),
];

/// The documented bias mechanisms. `Default` is the training setting; [`BiasKnobs::off`] removes
/// every bias.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BiasKnobs {
    /// Share of Fitzpatrick I–III among drawn images (0.5 = balanced). Default 0.75.
    pub light_share: f64,
    /// Relative loss of lesion contrast from type I to type VI: every lesion colour deviation is
    /// scaled by `1 − contrast_drop·(type − 1)/5`. Default 0.5 (type VI lesions at half contrast).
    pub contrast_drop: f64,
    /// P(ruler or ink artefact | malignant, type I–III). Default 0.5.
    pub artefact_malignant_light: f64,
    /// P(artefact) for every other class × skin-type combination. Default 0.05.
    pub artefact_base: f64,
    /// P(erythema halo | malignant, male): a mild sex-linked spurious cue. Default 0.3.
    pub halo_malignant_male: f64,
    /// P(erythema halo) for every other class × sex combination. Default 0.05.
    pub halo_base: f64,
    /// Probability that the stored label is replaced by another class (uniform). Default 0.05.
    pub label_noise: f64,
}

impl Default for BiasKnobs {
    fn default() -> Self {
        Self {
            light_share: 0.75,
            contrast_drop: 0.5,
            artefact_malignant_light: 0.5,
            artefact_base: 0.05,
            halo_malignant_male: 0.3,
            halo_base: 0.05,
            label_noise: 0.05,
        }
    }
}

impl BiasKnobs {
    /// No bias: balanced groups, constant contrast, artefacts and halos independent of class and
    /// group (at the base rates), clean labels.
    pub fn off() -> Self {
        let d = Self::default();
        Self {
            light_share: 0.5,
            contrast_drop: 0.0,
            artefact_malignant_light: d.artefact_base,
            halo_malignant_male: d.halo_base,
            label_noise: 0.0,
            ..d
        }
    }

    /// Checks every probability is in [0, 1]; names the first one that is not.
    pub fn validate(&self) -> Result<(), String> {
        for (name, v) in [
            ("light_share", self.light_share),
            ("contrast_drop", self.contrast_drop),
            ("artefact_malignant_light", self.artefact_malignant_light),
            ("artefact_base", self.artefact_base),
            ("halo_malignant_male", self.halo_malignant_male),
            ("halo_base", self.halo_base),
            ("label_noise", self.label_noise),
        ] {
            if !(0.0..=1.0).contains(&v) {
                return Err(format!("{name} = {v} is not in [0, 1]"));
            }
        }
        Ok(())
    }
}

/// Everything that decides what a stream of samples looks like.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SynthConfig {
    /// Image side in pixels (64–128 recommended; the scene is defined in unit coordinates).
    pub side: u32,
    /// Class prior (benign, malignant, non-neoplastic); normalised when drawing.
    pub class_probs: [f64; 3],
    /// P(male).
    pub male_share: f64,
    /// P(hair strands | female) and P(hair strands | male): natural variation, not a label cue.
    pub hair_probs: [f64; 2],
    /// P(dermoscope field stop darkening the corners).
    pub vignette_prob: f64,
    /// Bias mechanisms.
    pub knobs: BiasKnobs,
    /// Per-channel gain of the clinic's lamp on the rendered sRGB colour, before the sensor noise
    /// (R, G, B); `[1, 1, 1]` (the default, left out of the JSON) changes nothing.
    #[serde(default = "neutral_illumination", skip_serializing_if = "is_neutral")]
    pub illumination: [f64; 3],
}

fn neutral_illumination() -> [f64; 3] {
    [1.0; 3]
}

fn is_neutral(gain: &[f64; 3]) -> bool {
    *gain == [1.0; 3]
}

impl SynthConfig {
    /// Training (and validation) distribution: imbalanced classes and skin types, all biases on.
    pub fn train() -> Self {
        Self {
            side: DEFAULT_SIDE,
            class_probs: [0.45, 0.25, 0.30],
            male_share: 0.5,
            hair_probs: [0.15, 0.5],
            vignette_prob: 0.35,
            knobs: BiasKnobs::default(),
            illumination: neutral_illumination(),
        }
    }

    /// FairTune's source "clinic" (the stand-in for ImageNet pretraining): a large archive from
    /// another clinic — a warm, bright lamp (gains 1.10 / 1.00 / 0.84), the dermoscope's field stop
    /// on most images (0.9), mostly benign lesions (0.60 / 0.15 / 0.25) and mostly light skin
    /// (I–III 0.9), the same lesion physics and spurious cues as the training distribution.
    pub fn source() -> Self {
        let mut c = Self::train();
        c.class_probs = [0.60, 0.15, 0.25];
        c.vignette_prob = 0.9;
        c.knobs.light_share = 0.9;
        c.illumination = [1.10, 1.00, 0.84];
        c
    }

    /// Test distribution: the same imaging mechanisms, but balanced skin types, balanced classes
    /// and clean labels.
    pub fn test() -> Self {
        let mut c = Self::train();
        c.class_probs = [1.0 / 3.0; 3];
        c.knobs.light_share = 0.5;
        c.knobs.label_noise = 0.0;
        c
    }

    /// Checks the side and every probability.
    pub fn validate(&self) -> Result<(), String> {
        if !(16..=512).contains(&self.side) {
            return Err(format!("side {} is not in 16..=512", self.side));
        }
        if self.class_probs.iter().any(|p| !p.is_finite() || *p < 0.0)
            || self.class_probs.iter().sum::<f64>() <= 0.0
        {
            return Err(format!(
                "class_probs {:?} are not a distribution",
                self.class_probs
            ));
        }
        for (name, v) in [
            ("male_share", self.male_share),
            ("hair_probs[0]", self.hair_probs[0]),
            ("hair_probs[1]", self.hair_probs[1]),
            ("vignette_prob", self.vignette_prob),
        ] {
            if !(0.0..=1.0).contains(&v) {
                return Err(format!("{name} = {v} is not in [0, 1]"));
            }
        }
        if self
            .illumination
            .iter()
            .any(|g| !g.is_finite() || !(0.25..=4.0).contains(g))
        {
            return Err(format!(
                "illumination {:?} has a gain outside 0.25–4",
                self.illumination
            ));
        }
        self.knobs.validate()
    }
}

/// Who and what a sample shows before any rendering: true class, skin type, sex.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SampleSpec {
    /// True class (index into [`CLASS_NAMES`]).
    pub class: u8,
    /// Fitzpatrick type 1–6.
    pub skin_type: u8,
    /// 0 female, 1 male.
    pub sex: u8,
}

impl SampleSpec {
    /// Skin group of the two-group analyses: 0 = types I–III, 1 = IV–VI.
    pub fn skin_group(&self) -> u8 {
        u8::from(self.skin_type >= 4)
    }
}

/// Which spurious artefact an image carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Artefact {
    /// None.
    None,
    /// A dermoscopy ruler along one edge.
    Ruler,
    /// Gentian-violet skin-marker ink around the lesion.
    Ink,
}

/// Per-image metadata: the labels a dataset would have plus the generator's hidden variables.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SynthMeta {
    /// Stream seed.
    pub seed: u64,
    /// Index in the stream.
    pub index: u64,
    /// Stored label (the true class unless label noise flipped it).
    pub label: u8,
    /// True class.
    pub true_class: u8,
    /// Fitzpatrick type 1–6.
    pub skin_type: u8,
    /// 0 female, 1 male.
    pub sex: u8,
    /// Age in years (18–90; malignant lesions skew older).
    pub age: u8,
    /// Individual typology angle of the skin, degrees.
    pub ita: f32,
    /// Designed Weber contrast of the lesion's base colour in L* (after the contrast knob).
    pub lesion_contrast: f32,
    /// Spurious artefact.
    pub artefact: Artefact,
    /// Whether the erythema halo (the sex-linked cue) is drawn.
    pub halo: bool,
    /// Whether hair strands are drawn.
    pub hair: bool,
}

/// One generated image and its metadata.
#[derive(Clone, Debug, PartialEq)]
pub struct SynthSample {
    /// RGB image, `side`×`side`.
    pub image: RgbImage,
    /// Metadata.
    pub meta: SynthMeta,
}

/// The spec of sample `index` of a group-balanced stratified stream: cycles through the 12 skin
/// type × sex cells, and within a cell through the 3 classes (so 36 consecutive indices hold
/// every class × type × sex combination once).
pub fn stratified_spec(index: u64) -> SampleSpec {
    let cell = index % 12;
    SampleSpec {
        class: ((index / 12) % 3) as u8,
        skin_type: (cell / 2 + 1) as u8,
        sex: (cell % 2) as u8,
    }
}

/// The random stream of sample `index`'s class and groups (even ChaCha8 streams).
fn spec_rng(seed: u64, index: u64) -> ChaCha8Rng {
    let mut r = ChaCha8Rng::seed_from_u64(seed);
    r.set_stream(index.wrapping_mul(2));
    r
}

/// The random stream of sample `index`'s rendering (odd ChaCha8 streams).
fn render_rng(seed: u64, index: u64) -> ChaCha8Rng {
    let mut r = ChaCha8Rng::seed_from_u64(seed);
    r.set_stream(index.wrapping_mul(2).wrapping_add(1));
    r
}

/// Draws the class, skin type and sex of sample `index` from the config's distribution.
pub fn draw_spec(config: &SynthConfig, seed: u64, index: u64) -> SampleSpec {
    let mut r = spec_rng(seed, index);
    let total: f64 = config.class_probs.iter().sum();
    let u = r.gen::<f64>() * total;
    let class = if u < config.class_probs[0] {
        0
    } else if u < config.class_probs[0] + config.class_probs[1] {
        1
    } else {
        2
    };
    let light = r.gen_bool(config.knobs.light_share);
    let skin_type = if light { 1 } else { 4 } + r.gen_range(0..3u8);
    let sex = u8::from(r.gen_bool(config.male_share));
    SampleSpec {
        class,
        skin_type,
        sex,
    }
}

/// Sample `index` of stream `seed`, its class and groups drawn from the config.
pub fn generate(config: &SynthConfig, seed: u64, index: u64) -> SynthSample {
    generate_with(config, seed, index, draw_spec(config, seed, index))
}

/// Sample `index` of stream `seed` with the given class and groups (for stratified sets).
/// `generate(c, s, i)` equals `generate_with(c, s, i, draw_spec(c, s, i))`.
pub fn generate_with(config: &SynthConfig, seed: u64, index: u64, spec: SampleSpec) -> SynthSample {
    let (sample, _) = render(config, seed, index, spec);
    sample
}

/// Like [`generate_with`], also returning the lesion coverage (0–255 per pixel, row-major).
pub fn generate_with_mask(
    config: &SynthConfig,
    seed: u64,
    index: u64,
    spec: SampleSpec,
) -> (SynthSample, Vec<u8>) {
    render(config, seed, index, spec)
}

/// A contact sheet: rows = class, columns = Fitzpatrick type I–VI, `per_cell` images per cell
/// (alternating sex) side by side, each `cell_side` pixels, on a dark grid.
pub fn contact_sheet(config: &SynthConfig, seed: u64, per_cell: u32, cell_side: u32) -> RgbImage {
    let gap = 4;
    let mut cfg = config.clone();
    cfg.side = cell_side;
    let w = 6 * (per_cell * cell_side + gap) + gap;
    let h = 3 * (cell_side + gap) + gap;
    let mut sheet = RgbImage::from_pixel(w, h, Rgb([24, 24, 28]));
    let mut index = 0u64;
    for class in 0..3u8 {
        for t in 1..=6u8 {
            for k in 0..per_cell {
                let spec = SampleSpec {
                    class,
                    skin_type: t,
                    sex: (k % 2) as u8,
                };
                let s = generate_with(&cfg, seed, index, spec);
                index += 1;
                let x0 = gap + (t as u32 - 1) * (per_cell * cell_side + gap) + k * cell_side;
                let y0 = gap + class as u32 * (cell_side + gap);
                image::imageops::replace(&mut sheet, &s.image, x0 as i64, y0 as i64);
            }
        }
    }
    sheet
}

// ---------------------------------------------------------------------------------------------
// Rendering: the sections draw their random numbers in this order (label, age, skin, lesion,
// cues), then every pixel draws its flakes and sensor noise in raster order. The order is part of
// the pinned bytes.

/// Draws the stored label: the true class, or with probability `label_noise` another class.
fn draw_label(r: &mut ChaCha8Rng, class: u8, label_noise: f64) -> u8 {
    if r.gen_bool(label_noise) {
        (class + 1 + r.gen_range(0..2u8)) % 3
    } else {
        class
    }
}

/// Draws the age in years (18–90; malignant lesions skew older).
fn draw_age(r: &mut ChaCha8Rng, class: u8) -> u8 {
    let age_mean = match class {
        1 => 60.0,
        0 => 42.0,
        _ => 40.0,
    };
    normal(r, age_mean, 14.0).clamp(18.0, 90.0).round() as u8
}

/// Paints the scene pixel by pixel: skin, halo, lesion, artefact, hair, field stop, sensor noise.
/// Returns the image and the lesion coverage (0–255 per pixel, row-major).
fn paint(
    side: u32,
    illumination: [f64; 3],
    skin: &Skin,
    lesion: &Lesion,
    cues: &Cues,
    r: &mut ChaCha8Rng,
) -> (RgbImage, Vec<u8>) {
    let s = side as f32;
    let px = 1.0 / s;
    let mut img = RgbImage::new(side, side);
    let mut mask = vec![0u8; (side * side) as usize];
    for y in 0..side {
        for x in 0..side {
            let (u, v) = ((x as f32 + 0.5) * px, (y as f32 + 0.5) * px);
            let mut lab = skin.lab_at(u, v);
            let base = lab;
            let (cov, rel) = lesion.coverage(u, v);
            cues.apply_halo(&mut lab, cov, rel);
            lesion.paint(r, &mut lab, base, cov, u, v);
            mask[(y * side + x) as usize] = (cov * 255.0).round() as u8;
            cues.apply_artefact(&mut lab, u, v, px);
            cues.apply_hair(&mut lab, u, v, px);
            skin.apply_field_stop(&mut lab, u, v);
            let rgb = lab_to_srgb(lab);
            let lit = [0, 1, 2].map(|c| rgb[c] * illumination[c] as f32);
            img.put_pixel(x, y, noisy_pixel(r, lit));
        }
    }
    (img, mask)
}

/// Renders sample `index` of stream `seed` with the given spec; also returns the lesion coverage.
fn render(config: &SynthConfig, seed: u64, index: u64, spec: SampleSpec) -> (SynthSample, Vec<u8>) {
    let knobs = &config.knobs;
    let r = &mut render_rng(seed, index);
    let class = spec.class.min(2);
    let t = spec.skin_type.clamp(1, 6);
    let label = draw_label(r, class, knobs.label_noise);
    let age = draw_age(r, class);
    let skin = Skin::draw(r, t, config.vignette_prob);
    let lesion = Lesion::draw(r, class, contrast_factor(knobs.contrast_drop, t));
    let cues = Cues::draw(r, config, class, t, spec.sex, &lesion);
    let (image, mask) = paint(config.side, config.illumination, &skin, &lesion, &cues, r);
    let meta = SynthMeta {
        seed,
        index,
        label,
        true_class: class,
        skin_type: t,
        sex: spec.sex.min(1),
        age,
        ita: skin.ita,
        lesion_contrast: lesion.designed_contrast(),
        artefact: cues.artefact,
        halo: cues.halo,
        hair: cues.hair,
    };
    (SynthSample { image, meta }, mask)
}
