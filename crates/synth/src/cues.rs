//! Spurious cues and natural confounders drawn over the scene: the ruler or ink artefact (tied to
//! malignancy in light skin by the bias knobs), the erythema halo (tied to malignancy in men) and
//! hair strands (more often in men; no label cue).

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use std::f32::consts::TAU;

use crate::lesion::Lesion;
use crate::{Artefact, SynthConfig};

/// Gentian-violet skin-marker ink in CIELab.
const INK: [f32; 3] = [38.0, 38.0, -48.0];

/// One hair strand: root, direction, length, bend, width and lightness.
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

/// The spurious cues of one image and where they lie.
pub(crate) struct Cues {
    /// Which artefact is drawn.
    pub(crate) artefact: Artefact,
    ruler_edge: u8,
    ruler_width: f32,
    ink_dots: Vec<(f32, f32, f32)>,
    /// Whether the erythema halo is drawn.
    pub(crate) halo: bool,
    /// Whether hair strands are drawn.
    pub(crate) hair: bool,
    hairs: Vec<Hair>,
}

/// Draws which artefact an image carries, given P(any artefact).
fn draw_artefact(r: &mut ChaCha8Rng, p_artefact: f64) -> Artefact {
    if r.gen_bool(p_artefact) {
        if r.gen_bool(0.5) {
            Artefact::Ruler
        } else {
            Artefact::Ink
        }
    } else {
        Artefact::None
    }
}

/// Draws 3–6 ink dots around the lesion (centre and radius in unit coordinates).
fn draw_ink_dots(r: &mut ChaCha8Rng, (cx, cy, radius): (f32, f32, f32)) -> Vec<(f32, f32, f32)> {
    (0..r.gen_range(3..7))
        .map(|_| {
            let a = r.gen_range(0.0f32..TAU);
            let d = radius * r.gen_range(1.35f32..1.7);
            (
                cx + d * libm::cosf(a),
                cy + d * libm::sinf(a),
                r.gen_range(0.015f32..0.03),
            )
        })
        .collect()
}

/// Draws 3–9 hair strands.
fn draw_hairs(r: &mut ChaCha8Rng) -> Vec<Hair> {
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
}

impl Cues {
    /// Draws the cues of an image of true `class`, Fitzpatrick type `t` and `sex` around `lesion`.
    pub(crate) fn draw(
        r: &mut ChaCha8Rng,
        config: &SynthConfig,
        class: u8,
        t: u8,
        sex: u8,
        lesion: &Lesion,
    ) -> Self {
        let knobs = &config.knobs;
        let malignant = class == 1;
        let p_artefact = if malignant && t <= 3 {
            knobs.artefact_malignant_light
        } else {
            knobs.artefact_base
        };
        let artefact = draw_artefact(r, p_artefact);
        let ruler_edge = r.gen_range(0..4u8);
        let ruler_width = r.gen_range(0.10f32..0.14);
        let ink_dots = draw_ink_dots(r, lesion.centre_and_radius());
        let p_halo = if malignant && sex == 1 {
            knobs.halo_malignant_male
        } else {
            knobs.halo_base
        };
        let halo = r.gen_bool(p_halo);
        let hair = r.gen_bool(config.hair_probs[sex.min(1) as usize]);
        let hairs = if hair { draw_hairs(r) } else { Vec::new() };
        Self {
            artefact,
            ruler_edge,
            ruler_width,
            ink_dots,
            halo,
            hair,
            hairs,
        }
    }

    /// Adds the erythema ring just outside the lesion boundary, if drawn; `cov` and `rel` are
    /// [`Lesion::coverage`] at this pixel (rel < 1 outside).
    pub(crate) fn apply_halo(&self, lab: &mut [f32; 3], cov: f32, rel: f32) {
        if self.halo {
            let ring = ((rel - 0.55) / 0.45).clamp(0.0, 1.0) * (1.0 - cov);
            lab[1] += 12.0 * ring;
            lab[0] *= 1.0 - 0.03 * ring;
        }
    }

    /// Paints the ruler or the ink dots over `lab` at (u, v); `px` is one pixel in unit lengths.
    pub(crate) fn apply_artefact(&self, lab: &mut [f32; 3], u: f32, v: f32, px: f32) {
        match self.artefact {
            Artefact::Ruler => {
                let e = match self.ruler_edge {
                    0 => u,
                    1 => 1.0 - u,
                    2 => v,
                    _ => 1.0 - v,
                };
                let along = if self.ruler_edge < 2 { v } else { u };
                if e < self.ruler_width {
                    *lab = [86.0, 0.0, 3.0];
                    let tick = (along / 0.05).fract();
                    let major = ((along / 0.05) as i32) % 5 == 0;
                    let reach = if major { 0.85 } else { 0.55 };
                    if tick * 0.05 < 1.2 * px && e < self.ruler_width * reach {
                        *lab = [15.0, 0.0, 0.0];
                    }
                }
            }
            Artefact::Ink => {
                for (ix, iy, ir) in &self.ink_dots {
                    let d = libm::sqrtf((u - ix) * (u - ix) + (v - iy) * (v - iy));
                    let w = ((ir - d) / px + 0.5).clamp(0.0, 1.0) * 0.9;
                    for c in 0..3 {
                        lab[c] += (INK[c] - lab[c]) * w;
                    }
                }
            }
            Artefact::None => {}
        }
    }

    /// Paints the hair strands over `lab` at (u, v); `px` is one pixel in unit lengths.
    pub(crate) fn apply_hair(&self, lab: &mut [f32; 3], u: f32, v: f32, px: f32) {
        for h in &self.hairs {
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
    }
}
