//! Lesions with ABCD-like cues: an outline (size, elongation, Fourier border irregularity, an
//! asymmetric second lobe, border softness) and a pigment (base tint, pigment network, coloured
//! blotches, scale flakes). Shape, colour and size each follow the true class only with
//! probability [`CUE_FIDELITY`].

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use std::f32::consts::{PI, TAU};

use crate::CUE_FIDELITY;

/// A colour change relative to the skin: L* scaled by (1 − dl), a* and b* shifted.
#[derive(Clone, Copy)]
struct Tint {
    dl: f32,
    da: f32,
    db: f32,
}

/// Blotch tints: black, blue-grey veil, red, dark brown.
const PALETTE: [Tint; 4] = [
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

/// A round patch of another colour inside the lesion.
struct Blotch {
    x: f32,
    y: f32,
    r: f32,
    tint: Tint,
}

/// Where the lesion is: centre, size, orientation, irregular border, optional second lobe.
struct Outline {
    cx: f32,
    cy: f32,
    radius: f32,
    elong: f32,
    cos: f32,
    sin: f32,
    harmonics: Vec<(f32, f32, f32)>,
    lobe: Option<(f32, f32, f32)>,
    softness: f32,
}

/// What colour the lesion is: base tint, optional pigment network, blotches.
struct Pigment {
    tint: Tint,
    network: Option<(f32, f32)>,
    blotches: Vec<Blotch>,
}

/// One lesion: outline, pigment, opacity, scale flakes and the skin type's contrast factor.
pub(crate) struct Lesion {
    outline: Outline,
    pigment: Pigment,
    opacity: f32,
    flakes: f32,
    contrast: f32,
}

/// The contrast knob's factor for Fitzpatrick type `t`: `1 − contrast_drop·(t − 1)/5`.
pub(crate) fn contrast_factor(contrast_drop: f64, t: u8) -> f32 {
    1.0 - contrast_drop as f32 * (t as f32 - 1.0) / 5.0
}

/// The class a cue follows: the true class with probability [`CUE_FIDELITY`], else uniform.
fn cue_class(r: &mut ChaCha8Rng, class: u8) -> u8 {
    if r.gen_bool(CUE_FIDELITY) {
        class
    } else {
        r.gen_range(0..3u8)
    }
}

/// The logistic function.
fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + libm::expf(-x))
}

/// Draws the lesion radius (unit coordinates) for the size cue's class.
fn draw_radius(r: &mut ChaCha8Rng, size: u8) -> f32 {
    match size {
        0 => r.gen_range(0.12f32..0.20),
        1 => r.gen_range(0.16f32..0.28),
        _ => r.gen_range(0.17f32..0.30),
    }
}

impl Outline {
    /// Draws the outline of a lesion of the given radius for the shape cue's class.
    fn draw(r: &mut ChaCha8Rng, shape: u8, radius: f32) -> Self {
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
        Self {
            cx,
            cy,
            radius,
            elong,
            cos: libm::cosf(angle),
            sin: libm::sinf(angle),
            harmonics,
            lobe,
            softness,
        }
    }

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

impl Pigment {
    /// Draws the pigment for the colour cue's class; blotches fall inside `radius` of (cx, cy).
    fn draw(r: &mut ChaCha8Rng, colour: u8, cx: f32, cy: f32, radius: f32) -> Self {
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
        let blotches = (0..blotch_count)
            .map(|_| {
                let a = r.gen_range(0.0f32..TAU);
                let d = radius * r.gen_range(0.0f32..0.6);
                let tint = if colour == 1 {
                    PALETTE[r.gen_range(0..4)]
                } else {
                    PALETTE[3]
                };
                Blotch {
                    x: cx + d * libm::cosf(a),
                    y: cy + d * libm::sinf(a),
                    r: radius * r.gen_range(0.2f32..0.45),
                    tint,
                }
            })
            .collect();
        Self {
            tint,
            network,
            blotches,
        }
    }

    /// The tint at unit coordinates (u, v): the base tint modulated by the network and blended
    /// towards the blotches.
    fn tint_at(&self, u: f32, v: f32) -> Tint {
        let mut tint = self.tint;
        if let Some((f, p)) = self.network {
            let m = libm::sinf(TAU * f * u + p) * libm::sinf(TAU * f * v + p);
            tint.dl *= 1.0 + 0.15 * m;
        }
        for b in &self.blotches {
            let d = libm::sqrtf((u - b.x) * (u - b.x) + (v - b.y) * (v - b.y));
            let w = (1.0 - d / b.r).clamp(0.0, 1.0);
            let w = w * w * (3.0 - 2.0 * w) * 0.9;
            tint.dl += (b.tint.dl - tint.dl) * w;
            tint.da += (b.tint.da - tint.da) * w;
            tint.db += (b.tint.db - tint.db) * w;
        }
        tint
    }
}

impl Lesion {
    /// Draws the lesion of a true-`class` image; `contrast` is [`contrast_factor`] of its skin.
    pub(crate) fn draw(r: &mut ChaCha8Rng, class: u8, contrast: f32) -> Self {
        let shape = cue_class(r, class);
        let colour = cue_class(r, class);
        let size = cue_class(r, class);
        let radius = draw_radius(r, size);
        let outline = Outline::draw(r, shape, radius);
        let pigment = Pigment::draw(r, colour, outline.cx, outline.cy, radius);
        let opacity = r.gen_range(0.85..1.0);
        let flakes = if colour == 2 {
            r.gen_range(0.06..0.15)
        } else {
            0.0
        };
        Self {
            outline,
            pigment,
            opacity,
            flakes,
            contrast,
        }
    }

    /// The lesion centre and radius in unit coordinates.
    pub(crate) fn centre_and_radius(&self) -> (f32, f32, f32) {
        (self.outline.cx, self.outline.cy, self.outline.radius)
    }

    /// Coverage in [0, 1] at unit coordinates (u, v), and the boundary radius there divided by
    /// the distance from the centre (below 1 outside the lesion).
    pub(crate) fn coverage(&self, u: f32, v: f32) -> (f32, f32) {
        self.outline.coverage(u, v)
    }

    /// Designed Weber contrast of the base colour in L* (after the contrast knob).
    pub(crate) fn designed_contrast(&self) -> f32 {
        self.pigment.tint.dl * self.contrast
    }

    /// Blends the lesion into `lab` where its coverage `cov` is visible, relative to the skin
    /// colour `base`; draws the scale flakes of the non-neoplastic patch from `r`.
    pub(crate) fn paint(
        &self,
        r: &mut ChaCha8Rng,
        lab: &mut [f32; 3],
        base: [f32; 3],
        cov: f32,
        u: f32,
        v: f32,
    ) {
        if cov > 0.002 {
            let tint = self.pigment.tint_at(u, v);
            let alpha = cov * self.opacity;
            let k = self.contrast;
            let target = [
                base[0] * (1.0 - tint.dl * k),
                base[1] + tint.da * k,
                base[2] + tint.db * k,
            ];
            for c in 0..3 {
                lab[c] += (target[c] - lab[c]) * alpha;
            }
            if self.flakes > 0.0 && r.gen_bool((self.flakes * cov) as f64) {
                lab[0] += r.gen_range(8.0f32..14.0) * k;
            }
        }
    }
}
