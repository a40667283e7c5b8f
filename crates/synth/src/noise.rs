//! Random variates shared by the sections (a Box–Muller normal) and the faint per-pixel sensor
//! noise (±0.3 levels) added before the final 8-bit rounding.

use image::Rgb;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// A normal variate with the given mean and standard deviation (Box–Muller, `libm` maths).
pub(crate) fn normal(r: &mut ChaCha8Rng, mean: f32, sd: f32) -> f32 {
    let u1: f32 = r.gen_range(1e-7f32..1.0);
    let u2: f32 = r.gen();
    mean + sd * libm::sqrtf(-2.0 * libm::logf(u1)) * libm::cosf(std::f32::consts::TAU * u2)
}

/// Adds sensor noise (uniform in ±0.3 levels per channel) to an sRGB colour (0–255, unclamped)
/// and rounds it to an 8-bit pixel.
pub(crate) fn noisy_pixel(r: &mut ChaCha8Rng, rgb: [f32; 3]) -> Rgb<u8> {
    let n: [f32; 3] = [
        r.gen_range(-0.3..0.3),
        r.gen_range(-0.3..0.3),
        r.gen_range(-0.3..0.3),
    ];
    Rgb([0, 1, 2].map(|c| (rgb[c] + n[c]).round().clamp(0.0, 255.0) as u8))
}
