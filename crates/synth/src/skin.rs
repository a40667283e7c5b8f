//! Skin: a tone drawn from the Fitzpatrick type's ITA range, two octaves of value-noise texture,
//! an illumination gradient and the optional dermoscope field stop.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use std::f32::consts::TAU;

use crate::ITA_RANGES;

/// Smooth value noise on a `n`×`n` grid of values in [-1, 1].
struct ValueNoise {
    n: usize,
    grid: Vec<f32>,
}

impl ValueNoise {
    /// Draws the `(n + 1)²` grid values.
    fn new(r: &mut ChaCha8Rng, n: usize) -> Self {
        let grid = (0..(n + 1) * (n + 1))
            .map(|_| r.gen_range(-1.0f32..1.0))
            .collect();
        Self { n, grid }
    }

    /// Smoothstep-interpolated value at unit coordinates (u, v).
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

/// The skin of one image: base colour, texture, light and the optional field stop.
pub(crate) struct Skin {
    /// Individual typology angle of the base colour, degrees.
    pub(crate) ita: f32,
    l0: f32,
    a0: f32,
    b0: f32,
    noise1: ValueNoise,
    noise2: ValueNoise,
    gc: f32,
    gs: f32,
    grad_amp: f32,
    vignette: Option<f32>,
}

impl Skin {
    /// Draws the skin of a Fitzpatrick type `t` (1–6) image; `vignette_prob` is P(field stop).
    pub(crate) fn draw(r: &mut ChaCha8Rng, t: u8, vignette_prob: f64) -> Self {
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
        let vignette = if r.gen_bool(vignette_prob) {
            Some(r.gen_range(0.5f32..0.62))
        } else {
            None
        };
        Self {
            ita,
            l0,
            a0,
            b0,
            noise1,
            noise2,
            gc,
            gs,
            grad_amp,
            vignette,
        }
    }

    /// CIELab colour of the textured, lit skin at unit coordinates (u, v).
    pub(crate) fn lab_at(&self, u: f32, v: f32) -> [f32; 3] {
        let g = 1.0 + self.grad_amp * 2.0 * ((u - 0.5) * self.gc + (v - 0.5) * self.gs);
        let tex = 2.5 * self.noise1.at(u, v) + 1.2 * self.noise2.at(u, v);
        [(self.l0 + tex) * g, self.a0, self.b0]
    }

    /// Darkens `lab` outside the dermoscope's field stop, if this image has one.
    pub(crate) fn apply_field_stop(&self, lab: &mut [f32; 3], u: f32, v: f32) {
        if let Some(rad) = self.vignette {
            let d = libm::sqrtf((u - 0.5) * (u - 0.5) + (v - 0.5) * (v - 0.5));
            let w = ((d - rad) / 0.03).clamp(0.0, 1.0);
            lab[0] *= 1.0 - 0.92 * w;
            lab[1] *= 1.0 - 0.8 * w;
            lab[2] *= 1.0 - 0.8 * w;
        }
    }
}
