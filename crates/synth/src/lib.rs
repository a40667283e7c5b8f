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

use image::{Rgb, RgbImage};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

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
        }
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

fn spec_rng(seed: u64, index: u64) -> ChaCha8Rng {
    let mut r = ChaCha8Rng::seed_from_u64(seed);
    r.set_stream(index.wrapping_mul(2));
    r
}

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
// Colour science.

const WHITE: [f32; 3] = [0.950_47, 1.0, 1.088_83];

/// CIELab (D65) → sRGB in 0–255 (unclamped).
pub fn lab_to_srgb(lab: [f32; 3]) -> [f32; 3] {
    let fy = (lab[0] + 16.0) / 116.0;
    let fx = fy + lab[1] / 500.0;
    let fz = fy - lab[2] / 200.0;
    let finv = |t: f32| {
        let d = 6.0 / 29.0;
        if t > d {
            t * t * t
        } else {
            3.0 * d * d * (t - 4.0 / 29.0)
        }
    };
    let (x, y, z) = (
        WHITE[0] * finv(fx),
        WHITE[1] * finv(fy),
        WHITE[2] * finv(fz),
    );
    let lin = [
        3.240_454_2 * x - 1.537_138_5 * y - 0.498_531_4 * z,
        -0.969_266 * x + 1.876_010_8 * y + 0.041_556 * z,
        0.055_643_4 * x - 0.204_025_9 * y + 1.057_225_2 * z,
    ];
    lin.map(|c| {
        let c = c.max(0.0);
        let g = if c <= 0.003_130_8 {
            12.92 * c
        } else {
            1.055 * libm::powf(c, 1.0 / 2.4) - 0.055
        };
        g * 255.0
    })
}

/// sRGB (0–255) → CIELab (D65).
pub fn srgb_to_lab(rgb: [u8; 3]) -> [f32; 3] {
    let lin = rgb.map(|v| {
        let c = v as f32 / 255.0;
        if c <= 0.040_45 {
            c / 12.92
        } else {
            libm::powf((c + 0.055) / 1.055, 2.4)
        }
    });
    let x = 0.412_456_4 * lin[0] + 0.357_576_1 * lin[1] + 0.180_437_5 * lin[2];
    let y = 0.212_672_9 * lin[0] + 0.715_152_2 * lin[1] + 0.072_175 * lin[2];
    let z = 0.019_333_9 * lin[0] + 0.119_192 * lin[1] + 0.950_304_1 * lin[2];
    let f = |t: f32| {
        let d = 6.0f32 / 29.0;
        if t > d * d * d {
            libm::cbrtf(t)
        } else {
            t / (3.0 * d * d) + 4.0 / 29.0
        }
    };
    let (fx, fy, fz) = (f(x / WHITE[0]), f(y / WHITE[1]), f(z / WHITE[2]));
    [116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz)]
}

/// Individual typology angle (degrees) of a CIELab colour: atan((L* − 50)/b*).
pub fn ita_degrees(lab: [f32; 3]) -> f32 {
    libm::atan2f(lab[0] - 50.0, lab[2]).to_degrees()
}

// ---------------------------------------------------------------------------------------------
// Rendering.

/// Smooth value noise on a `n`×`n` grid of values in [-1, 1].
struct ValueNoise {
    n: usize,
    grid: Vec<f32>,
}

impl ValueNoise {
    fn new(r: &mut ChaCha8Rng, n: usize) -> Self {
        let grid = (0..(n + 1) * (n + 1))
            .map(|_| r.gen_range(-1.0f32..1.0))
            .collect();
        Self { n, grid }
    }

    fn at(&self, u: f32, v: f32) -> f32 {
        let (x, y) = (u * self.n as f32, v * self.n as f32);
        let (i, j) = ((x as usize).min(self.n - 1), (y as usize).min(self.n - 1));
        let (fx, fy) = (x - i as f32, y - j as f32);
        let s = |t: f32| t * t * (3.0 - 2.0 * t);
        let (sx, sy) = (s(fx), s(fy));
        let g = |a: usize, b: usize| self.grid[b * (self.n + 1) + a];
        let top = g(i, j) + (g(i + 1, j) - g(i, j)) * sx;
        let bottom = g(i, j + 1) + (g(i + 1, j + 1) - g(i, j + 1)) * sx;
        top + (bottom - top) * sy
    }
}

/// A colour change relative to the skin: L* scaled by (1 − dl), a* and b* shifted.
#[derive(Clone, Copy)]
struct Tint {
    dl: f32,
    da: f32,
    db: f32,
}

struct Blotch {
    x: f32,
    y: f32,
    r: f32,
    tint: Tint,
}

struct Hair {
    x: f32,
    y: f32,
    cos: f32,
    sin: f32,
    len: f32,
    bend: f32,
    width: f32,
    l: f32,
}

struct Lesion {
    cx: f32,
    cy: f32,
    radius: f32,
    elong: f32,
    cos: f32,
    sin: f32,
    harmonics: Vec<(f32, f32, f32)>,
    lobe: Option<(f32, f32, f32)>,
    softness: f32,
    opacity: f32,
    tint: Tint,
    network: Option<(f32, f32)>,
    blotches: Vec<Blotch>,
    flakes: f32,
}

impl Lesion {
    /// Coverage in [0, 1] at unit coordinates (u, v), and the boundary radius there.
    fn coverage(&self, u: f32, v: f32) -> (f32, f32) {
        let (dx, dy) = (u - self.cx, v - self.cy);
        let rx = dx * self.cos + dy * self.sin;
        let ry = -dx * self.sin + dy * self.cos;
        let r = libm::sqrtf(
            (rx / self.elong) * (rx / self.elong) + (ry * self.elong) * (ry * self.elong),
        );
        let theta = libm::atan2f(ry, rx);
        let boundary = self.radius
            * (1.0
                + self
                    .harmonics
                    .iter()
                    .map(|(k, a, p)| a * libm::sinf(k * theta + p))
                    .sum::<f32>());
        let soft = (self.softness * self.radius).max(0.004);
        let mut cov = sigmoid((boundary - r) / soft);
        if let Some((lx, ly, lr)) = self.lobe {
            let d = libm::sqrtf((u - lx) * (u - lx) + (v - ly) * (v - ly));
            cov = cov.max(sigmoid((lr - d) / soft));
        }
        (cov, boundary.max(1e-3) / r.max(1e-4))
    }
}

fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + libm::expf(-x))
}

fn cue_class(r: &mut ChaCha8Rng, class: u8) -> u8 {
    if r.gen_bool(CUE_FIDELITY) {
        class
    } else {
        r.gen_range(0..3u8)
    }
}

fn normal(r: &mut ChaCha8Rng, mean: f32, sd: f32) -> f32 {
    let u1: f32 = r.gen_range(1e-7f32..1.0);
    let u2: f32 = r.gen();
    mean + sd * libm::sqrtf(-2.0 * libm::logf(u1)) * libm::cosf(std::f32::consts::TAU * u2)
}

fn render(config: &SynthConfig, seed: u64, index: u64, spec: SampleSpec) -> (SynthSample, Vec<u8>) {
    use std::f32::consts::{PI, TAU};
    let knobs = &config.knobs;
    let r = &mut render_rng(seed, index);
    let class = spec.class.min(2);
    let t = spec.skin_type.clamp(1, 6);
    let label = if r.gen_bool(knobs.label_noise) {
        (class + 1 + r.gen_range(0..2u8)) % 3
    } else {
        class
    };
    let age_mean = match class {
        1 => 60.0,
        0 => 42.0,
        _ => 40.0,
    };
    let age = normal(r, age_mean, 14.0).clamp(18.0, 90.0).round() as u8;

    // Skin.
    let (lo, hi) = ITA_RANGES[(t - 1) as usize];
    let ita = r.gen_range(lo..hi);
    let b0 = match t {
        1 | 2 => r.gen_range(10.0f32..16.0),
        3 | 4 => r.gen_range(12.0f32..18.0),
        _ => r.gen_range(10.0f32..18.0),
    };
    let l0 = 50.0 + b0 * libm::tanf(ita.to_radians());
    let a0 = r.gen_range(6.0f32..13.0);
    let noise1 = ValueNoise::new(r, 6);
    let noise2 = ValueNoise::new(r, 13);
    let grad_dir = r.gen_range(0.0f32..TAU);
    let (gc, gs) = (libm::cosf(grad_dir), libm::sinf(grad_dir));
    let grad_amp = r.gen_range(0.0f32..0.12);
    let vignette = if r.gen_bool(config.vignette_prob) {
        Some(r.gen_range(0.5f32..0.62))
    } else {
        None
    };

    // Lesion: each cue follows the class with probability CUE_FIDELITY.
    let contrast = 1.0 - knobs.contrast_drop as f32 * (t as f32 - 1.0) / 5.0;
    let shape = cue_class(r, class);
    let colour = cue_class(r, class);
    let size = cue_class(r, class);
    let radius = match size {
        0 => r.gen_range(0.12f32..0.20),
        1 => r.gen_range(0.16f32..0.28),
        _ => r.gen_range(0.17f32..0.30),
    };
    let (elong, irregular, lobe_p, softness) = match shape {
        0 => (
            r.gen_range(1.0f32..1.2),
            0.04f32,
            0.1,
            r.gen_range(0.04f32..0.08),
        ),
        1 => (
            r.gen_range(1.0f32..1.5),
            0.16,
            0.6,
            r.gen_range(0.03f32..0.10),
        ),
        _ => (
            r.gen_range(1.0f32..1.35),
            0.10,
            0.3,
            r.gen_range(0.15f32..0.30),
        ),
    };
    let cx = 0.5 + r.gen_range(-0.08f32..0.08);
    let cy = 0.5 + r.gen_range(-0.08f32..0.08);
    let angle = r.gen_range(0.0f32..PI);
    let harmonics = (2..8)
        .map(|k| {
            (
                k as f32,
                r.gen_range(0.0..irregular) * 2.0 / k as f32,
                r.gen_range(0.0..TAU),
            )
        })
        .collect();
    let lobe = if r.gen_bool(lobe_p) {
        let a = r.gen_range(0.0f32..TAU);
        let d = radius * r.gen_range(0.5f32..0.8);
        Some((
            cx + d * libm::cosf(a),
            cy + d * libm::sinf(a),
            radius * r.gen_range(0.4f32..0.7),
        ))
    } else {
        None
    };
    let tint = match colour {
        0 => Tint {
            dl: r.gen_range(0.22..0.38),
            da: r.gen_range(3.0..8.0),
            db: r.gen_range(6.0..12.0),
        },
        1 => Tint {
            dl: r.gen_range(0.30..0.45),
            da: r.gen_range(4.0..8.0),
            db: r.gen_range(4.0..10.0),
        },
        _ => Tint {
            dl: r.gen_range(0.04..0.12),
            da: r.gen_range(14.0..24.0),
            db: r.gen_range(2.0..6.0),
        },
    };
    let network = if colour == 0 && r.gen_bool(0.5) {
        Some((r.gen_range(9.0f32..14.0), r.gen_range(0.0f32..TAU)))
    } else {
        None
    };
    let blotch_count = match colour {
        1 => r.gen_range(2..5),
        0 if r.gen_bool(0.15) => 1,
        2 if r.gen_bool(0.05) => 1,
        _ => 0,
    };
    let palette = [
        Tint {
            dl: 0.70,
            da: 0.0,
            db: -2.0,
        }, // black
        Tint {
            dl: 0.35,
            da: -3.0,
            db: -14.0,
        }, // blue-grey veil
        Tint {
            dl: 0.08,
            da: 18.0,
            db: 6.0,
        }, // red
        Tint {
            dl: 0.55,
            da: 6.0,
            db: 10.0,
        }, // dark brown
    ];
    let blotches = (0..blotch_count)
        .map(|_| {
            let a = r.gen_range(0.0f32..TAU);
            let d = radius * r.gen_range(0.0f32..0.6);
            let tint = if colour == 1 {
                palette[r.gen_range(0..4)]
            } else {
                palette[3]
            };
            Blotch {
                x: cx + d * libm::cosf(a),
                y: cy + d * libm::sinf(a),
                r: radius * r.gen_range(0.2f32..0.45),
                tint,
            }
        })
        .collect();
    let lesion = Lesion {
        cx,
        cy,
        radius,
        elong,
        cos: libm::cosf(angle),
        sin: libm::sinf(angle),
        harmonics,
        lobe,
        softness,
        opacity: r.gen_range(0.85..1.0),
        tint,
        network,
        blotches,
        flakes: if colour == 2 {
            r.gen_range(0.06..0.15)
        } else {
            0.0
        },
    };

    // Spurious cues.
    let malignant = class == 1;
    let p_artefact = if malignant && t <= 3 {
        knobs.artefact_malignant_light
    } else {
        knobs.artefact_base
    };
    let artefact = if r.gen_bool(p_artefact) {
        if r.gen_bool(0.5) {
            Artefact::Ruler
        } else {
            Artefact::Ink
        }
    } else {
        Artefact::None
    };
    let ruler_edge = r.gen_range(0..4u8);
    let ruler_width = r.gen_range(0.10f32..0.14);
    let ink_dots: Vec<(f32, f32, f32)> = (0..r.gen_range(3..7))
        .map(|_| {
            let a = r.gen_range(0.0f32..TAU);
            let d = radius * r.gen_range(1.35f32..1.7);
            (
                cx + d * libm::cosf(a),
                cy + d * libm::sinf(a),
                r.gen_range(0.015f32..0.03),
            )
        })
        .collect();
    let p_halo = if malignant && spec.sex == 1 {
        knobs.halo_malignant_male
    } else {
        knobs.halo_base
    };
    let halo = r.gen_bool(p_halo);
    let hair = r.gen_bool(config.hair_probs[spec.sex.min(1) as usize]);
    let hairs: Vec<Hair> = if hair {
        (0..r.gen_range(3..10))
            .map(|_| {
                let a = r.gen_range(0.0f32..TAU);
                Hair {
                    x: r.gen_range(-0.1f32..1.1),
                    y: r.gen_range(-0.1f32..1.1),
                    cos: libm::cosf(a),
                    sin: libm::sinf(a),
                    len: r.gen_range(0.4f32..1.2),
                    bend: r.gen_range(-1.5f32..1.5),
                    width: r.gen_range(0.008f32..0.016),
                    l: r.gen_range(12.0f32..28.0),
                }
            })
            .collect()
    } else {
        Vec::new()
    };

    let side = config.side;
    let s = side as f32;
    let px = 1.0 / s;
    let mut img = RgbImage::new(side, side);
    let mut mask = vec![0u8; (side * side) as usize];
    let ink = [38.0f32, 38.0, -48.0];
    for y in 0..side {
        for x in 0..side {
            let (u, v) = ((x as f32 + 0.5) * px, (y as f32 + 0.5) * px);
            // Skin with texture and light.
            let g = 1.0 + grad_amp * 2.0 * ((u - 0.5) * gc + (v - 0.5) * gs);
            let tex = 2.5 * noise1.at(u, v) + 1.2 * noise2.at(u, v);
            let mut lab = [(l0 + tex) * g, a0, b0];
            let base = lab;
            // Lesion.
            let (cov, rel) = lesion.coverage(u, v);
            if halo {
                // Erythema ring just outside the boundary (rel < 1 outside).
                let ring = ((rel - 0.55) / 0.45).clamp(0.0, 1.0) * (1.0 - cov);
                lab[1] += 12.0 * ring;
                lab[0] *= 1.0 - 0.03 * ring;
            }
            if cov > 0.002 {
                let mut tint = lesion.tint;
                if let Some((f, p)) = lesion.network {
                    let m = libm::sinf(TAU * f * u + p) * libm::sinf(TAU * f * v + p);
                    tint.dl *= 1.0 + 0.15 * m;
                }
                for b in &lesion.blotches {
                    let d = libm::sqrtf((u - b.x) * (u - b.x) + (v - b.y) * (v - b.y));
                    let w = (1.0 - d / b.r).clamp(0.0, 1.0);
                    let w = w * w * (3.0 - 2.0 * w) * 0.9;
                    tint.dl += (b.tint.dl - tint.dl) * w;
                    tint.da += (b.tint.da - tint.da) * w;
                    tint.db += (b.tint.db - tint.db) * w;
                }
                let alpha = cov * lesion.opacity;
                let k = contrast;
                let target = [
                    base[0] * (1.0 - tint.dl * k),
                    base[1] + tint.da * k,
                    base[2] + tint.db * k,
                ];
                for c in 0..3 {
                    lab[c] += (target[c] - lab[c]) * alpha;
                }
                if lesion.flakes > 0.0 && r.gen_bool((lesion.flakes * cov) as f64) {
                    lab[0] += r.gen_range(8.0f32..14.0) * k;
                }
            }
            mask[(y * side + x) as usize] = (cov * 255.0).round() as u8;
            // Artefacts.
            match artefact {
                Artefact::Ruler => {
                    let e = match ruler_edge {
                        0 => u,
                        1 => 1.0 - u,
                        2 => v,
                        _ => 1.0 - v,
                    };
                    let along = if ruler_edge < 2 { v } else { u };
                    if e < ruler_width {
                        lab = [86.0, 0.0, 3.0];
                        let tick = (along / 0.05).fract();
                        let major = ((along / 0.05) as i32) % 5 == 0;
                        let reach = if major { 0.85 } else { 0.55 };
                        if tick * 0.05 < 1.2 * px && e < ruler_width * reach {
                            lab = [15.0, 0.0, 0.0];
                        }
                    }
                }
                Artefact::Ink => {
                    for (ix, iy, ir) in &ink_dots {
                        let d = libm::sqrtf((u - ix) * (u - ix) + (v - iy) * (v - iy));
                        let w = ((ir - d) / px + 0.5).clamp(0.0, 1.0) * 0.9;
                        for c in 0..3 {
                            lab[c] += (ink[c] - lab[c]) * w;
                        }
                    }
                }
                Artefact::None => {}
            }
            // Hair.
            for h in &hairs {
                let (dx, dy) = (u - h.x, v - h.y);
                let along = dx * h.cos + dy * h.sin;
                if !(0.0..=h.len).contains(&along) {
                    continue;
                }
                let across = -dx * h.sin + dy * h.cos - h.bend * along * along;
                let w = ((h.width * 0.5 - across.abs()) / px + 0.5).clamp(0.0, 1.0) * 0.85;
                if w > 0.0 {
                    lab[0] += (h.l - lab[0]) * w;
                    lab[1] += (2.0 - lab[1]) * w;
                    lab[2] += (4.0 - lab[2]) * w;
                }
            }
            // Dermoscope field stop.
            if let Some(rad) = vignette {
                let d = libm::sqrtf((u - 0.5) * (u - 0.5) + (v - 0.5) * (v - 0.5));
                let w = ((d - rad) / 0.03).clamp(0.0, 1.0);
                lab[0] *= 1.0 - 0.92 * w;
                lab[1] *= 1.0 - 0.8 * w;
                lab[2] *= 1.0 - 0.8 * w;
            }
            let rgb = lab_to_srgb(lab);
            let n: [f32; 3] = [
                r.gen_range(-0.3..0.3),
                r.gen_range(-0.3..0.3),
                r.gen_range(-0.3..0.3),
            ];
            img.put_pixel(
                x,
                y,
                Rgb([0, 1, 2].map(|c| (rgb[c] + n[c]).round().clamp(0.0, 255.0) as u8)),
            );
        }
    }
    let meta = SynthMeta {
        seed,
        index,
        label,
        true_class: class,
        skin_type: t,
        sex: spec.sex.min(1),
        age,
        ita,
        lesion_contrast: tint.dl * contrast,
        artefact,
        halo,
        hair,
    };
    (SynthSample { image: img, meta }, mask)
}
