//! ToyDerm: simple generated skin-lesion-like images for the walking skeleton (the full SynthDerm
//! benchmark with documented bias knobs replaces it). Deterministic: a seed gives identical images
//! on every machine. Three classes with overlapping cues so the task is learnable but not trivial:
//! - `benign`: round, fairly uniform brown lesion, smooth border;
//! - `malignant`: larger, asymmetric lesion with an irregular border and dark/blue-grey blotches;
//! - `non-neoplastic`: diffuse reddish patch with soft edges and scaly speckle.

use image::{Rgb, RgbImage};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Class names in label order.
pub const CLASS_NAMES: [&str; 3] = ["benign", "malignant", "non-neoplastic"];

/// One generated sample.
pub struct ToySample {
    /// The image.
    pub image: RgbImage,
    /// Class label (index into [`CLASS_NAMES`]).
    pub label: usize,
}

fn mix(a: [f32; 3], b: [f32; 3], t: f32) -> [f32; 3] {
    [
        a[0] + (b[0] - a[0]) * t,
        a[1] + (b[1] - a[1]) * t,
        a[2] + (b[2] - a[2]) * t,
    ]
}

/// Generates sample `index` of the stream `seed` (independent of other indices).
pub fn toy_sample(seed: u64, index: u64, side: u32) -> ToySample {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ index.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    rng.set_stream(index);
    let label = (index % 3) as usize;
    let s = side as f32;
    // Skin: light to dark, with an illumination gradient.
    let tone: f32 = rng.gen();
    let skin = mix([236.0, 200.0, 172.0], [92.0, 60.0, 44.0], tone);
    let grad_dir: f32 = rng.gen_range(0.0..std::f32::consts::TAU);
    let grad_amp: f32 = rng.gen_range(0.0..0.15);
    // Lesion geometry.
    let cx = s * rng.gen_range(0.38..0.62);
    let cy = s * rng.gen_range(0.38..0.62);
    // Cues overlap between classes: shape and colour each follow the label only 75 % of the time.
    let shape_class = if rng.gen_bool(0.75) {
        label
    } else {
        rng.gen_range(0..3)
    };
    let colour_class = if rng.gen_bool(0.75) {
        label
    } else {
        rng.gen_range(0..3)
    };
    let (radius, irregular, elong) = match shape_class {
        0 => (
            s * rng.gen_range(0.12..0.24),
            rng.gen_range(0.0..0.10),
            rng.gen_range(1.0..1.25),
        ),
        1 => (
            s * rng.gen_range(0.16..0.30),
            rng.gen_range(0.04..0.18),
            rng.gen_range(1.0..1.6),
        ),
        _ => (
            s * rng.gen_range(0.18..0.34),
            rng.gen_range(0.0..0.15),
            rng.gen_range(1.0..1.4),
        ),
    };
    let angle: f32 = rng.gen_range(0.0..std::f32::consts::PI);
    let harmonics: Vec<(f32, f32, f32)> = (2..7)
        .map(|k| {
            (
                k as f32,
                rng.gen_range(0.0..irregular),
                rng.gen_range(0.0..std::f32::consts::TAU),
            )
        })
        .collect();
    let lesion = match colour_class {
        0 => mix([120.0, 75.0, 45.0], [70.0, 40.0, 25.0], rng.gen()),
        1 => mix([70.0, 40.0, 30.0], [35.0, 25.0, 25.0], rng.gen()),
        _ => mix([200.0, 90.0, 80.0], [160.0, 60.0, 60.0], rng.gen()),
    };
    // Contrast falls with darker skin a little (harder for dark skin, as in real photos).
    let opacity = rng.gen_range(0.55..0.95) * (1.0 - 0.3 * tone);
    let blotches: Vec<(f32, f32, f32, [f32; 3])> =
        if rng.gen_bool(if label == 1 { 0.6 } else { 0.15 }) {
            (0..rng.gen_range(1..4))
                .map(|_| {
                    let a: f32 = rng.gen_range(0.0..std::f32::consts::TAU);
                    let d = radius * rng.gen_range(0.0..0.6);
                    let col = if rng.gen_bool(0.5) {
                        [20.0, 18.0, 22.0]
                    } else {
                        [70.0, 80.0, 110.0]
                    };
                    (
                        cx + d * a.cos(),
                        cy + d * a.sin(),
                        radius * rng.gen_range(0.15..0.4),
                        col,
                    )
                })
                .collect()
        } else {
            Vec::new()
        };
    let softness = if shape_class == 2 {
        0.35
    } else {
        rng.gen_range(0.04..0.12)
    };
    let noise_amp = rng.gen_range(4.0..10.0);
    let speckle = if colour_class == 2 { 0.25 } else { 0.03 };

    let mut img = RgbImage::new(side, side);
    for y in 0..side {
        for x in 0..side {
            let (fx, fy) = (x as f32 + 0.5, y as f32 + 0.5);
            let g = 1.0
                + grad_amp
                    * (((fx / s - 0.5) * grad_dir.cos() + (fy / s - 0.5) * grad_dir.sin()) * 2.0);
            let mut c = [skin[0] * g, skin[1] * g, skin[2] * g];
            // Rotated, elongated polar coordinates for the lesion boundary.
            let (dx, dy) = (fx - cx, fy - cy);
            let (rx, ry) = (
                dx * angle.cos() + dy * angle.sin(),
                -dx * angle.sin() + dy * angle.cos(),
            );
            let r = ((rx / elong).powi(2) + (ry * elong.sqrt()).powi(2)).sqrt();
            let theta = ry.atan2(rx);
            let boundary = radius
                * (1.0
                    + harmonics
                        .iter()
                        .map(|(k, a, p)| a * (k * theta + p).sin())
                        .sum::<f32>());
            let inside = 1.0 / (1.0 + ((r - boundary) / (softness * radius).max(0.5)).exp());
            if inside > 0.001 {
                let mut lc = lesion;
                for (bx, by, br, col) in &blotches {
                    let d = ((fx - bx).powi(2) + (fy - by).powi(2)).sqrt();
                    let w = (1.0 - d / br).clamp(0.0, 1.0);
                    lc = mix(lc, *col, w * 0.8);
                }
                c = mix(c, lc, inside * opacity);
            }
            let sp = if rng.gen_bool((speckle * inside as f64).clamp(0.0, 1.0)) {
                40.0
            } else {
                0.0
            };
            for ch in &mut c {
                *ch += rng.gen_range(-noise_amp..noise_amp) + sp;
            }
            img.put_pixel(x, y, Rgb(c.map(|v| v.clamp(0.0, 255.0) as u8)));
        }
    }
    ToySample { image: img, label }
}
