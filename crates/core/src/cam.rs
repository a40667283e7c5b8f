//! Class activation maps (CAM) of the exits and the heatmap shown with a prediction. Every exit
//! ends in global average pooling → Linear, so the CAM of class k, `M_k(y, x) = Σ_c W[c, k] ·
//! A[c, y, x]` over the maps A that are pooled, is exact: its mean plus the bias is the logit
//! (for such heads CAM equals Grad-CAM).

use std::fmt;

use image::RgbImage;

use crate::model::HostTensor;

/// One CAM at the resolution of the exit's maps, row-major `height × width`.
#[derive(Clone, Debug, PartialEq)]
pub struct ClassMap {
    /// Rows.
    pub height: usize,
    /// Columns.
    pub width: usize,
    /// Row-major values (any sign).
    pub values: Vec<f32>,
}

impl ClassMap {
    /// Mean over the map; plus the exit's bias for `class` it is that class's logit.
    pub fn mean(&self) -> f32 {
        self.values.iter().sum::<f32>() / self.values.len().max(1) as f32
    }
}

/// The CAM of `class` from one sample's pooled maps `[C, H, W]` and the exit's Linear weight
/// `[C, K]` (burn's layout: inputs × outputs).
pub fn class_activation_map(
    maps: &HostTensor,
    weight: &HostTensor,
    class: usize,
) -> Result<ClassMap, CamError> {
    let [c, h, w] = maps.shape[..] else {
        return Err(CamError::MapsShape(maps.shape.clone()));
    };
    let [wc, k] = weight.shape[..] else {
        return Err(CamError::WeightShape(weight.shape.clone()));
    };
    if wc != c {
        return Err(CamError::ChannelMismatch {
            maps: c,
            weight: wc,
        });
    }
    if class >= k {
        return Err(CamError::ClassOutOfRange { class, classes: k });
    }
    let plane = h * w;
    let mut values = vec![0.0f32; plane];
    for ch in 0..c {
        let wk = weight.values[ch * k + class];
        for (v, a) in values
            .iter_mut()
            .zip(&maps.values[ch * plane..(ch + 1) * plane])
        {
            *v += wk * a;
        }
    }
    Ok(ClassMap {
        height: h,
        width: w,
        values,
    })
}

/// Bilinear resize of `map` to `side × side` (pixel centres aligned, edges clamped).
pub fn upsample(map: &ClassMap, side: usize) -> Vec<f32> {
    let (h, w) = (map.height, map.width);
    let at = |y: usize, x: usize| map.values[y * w + x];
    let src = |i: usize, n: usize| -> (usize, usize, f32) {
        let p = ((i as f32 + 0.5) * n as f32 / side as f32 - 0.5).clamp(0.0, (n - 1) as f32);
        let lo = p.floor() as usize;
        (lo, (lo + 1).min(n - 1), p - lo as f32)
    };
    let mut out = Vec::with_capacity(side * side);
    for y in 0..side {
        let (y0, y1, fy) = src(y, h);
        for x in 0..side {
            let (x0, x1, fx) = src(x, w);
            let top = at(y0, x0) * (1.0 - fx) + at(y0, x1) * fx;
            let bottom = at(y1, x0) * (1.0 - fx) + at(y1, x1) * fx;
            out.push(top * (1.0 - fy) + bottom * fy);
        }
    }
    out
}

/// The positive part scaled to [0, 1] by its maximum (all zero when nothing is positive): the
/// evidence for the class, as Grad-CAM shows it.
pub fn positive_unit(values: &[f32]) -> Vec<f32> {
    let max = values.iter().copied().fold(0.0f32, f32::max);
    values
        .iter()
        .map(|v| if max > 0.0 { v.max(0.0) / max } else { 0.0 })
        .collect()
}

/// Colour of heat `t` in [0, 1]: dark blue → cyan → yellow → red.
pub fn heat_colour(t: f32) -> [u8; 3] {
    const STOPS: [[f32; 3]; 4] = [
        [0.0, 0.0, 128.0],
        [0.0, 200.0, 230.0],
        [250.0, 230.0, 0.0],
        [220.0, 20.0, 0.0],
    ];
    let t = t.clamp(0.0, 1.0) * (STOPS.len() - 1) as f32;
    let i = (t.floor() as usize).min(STOPS.len() - 2);
    let f = t - i as f32;
    let mut out = [0u8; 3];
    for (c, o) in out.iter_mut().enumerate() {
        *o = (STOPS[i][c] * (1.0 - f) + STOPS[i + 1][c] * f).round() as u8;
    }
    out
}

/// The photo as the model saw it with the heat blended over it (opacity grows with the heat, up
/// to `max_alpha`), enlarged `scale` times (nearest neighbour) for display. `heat` is
/// `side × side` in [0, 1] for a `side × side` image.
pub fn heatmap_overlay(img: &RgbImage, heat: &[f32], max_alpha: f32, scale: u32) -> RgbImage {
    let (w, h) = img.dimensions();
    let scale = scale.max(1);
    let mut out = RgbImage::new(w * scale, h * scale);
    for (x, y, px) in out.enumerate_pixels_mut() {
        let (sx, sy) = (x / scale, y / scale);
        let t = heat[(sy * w + sx) as usize];
        let colour = heat_colour(t);
        let a = (max_alpha * t).clamp(0.0, 1.0);
        let base = img.get_pixel(sx, sy);
        for c in 0..3 {
            px[c] = (f32::from(base[c]) * (1.0 - a) + f32::from(colour[c]) * a).round() as u8;
        }
    }
    out
}

/// Share of a heatmap's mass that lies on the lesion: `Σ heat · coverage / Σ heat`, with the
/// lesion coverage per pixel in 0–255 (255 = fully lesion); `None` when the map has no heat.
pub fn lesion_share(heat: &[f32], coverage: &[u8]) -> Option<f32> {
    let total: f32 = heat.iter().sum();
    if total <= 0.0 {
        return None;
    }
    let on: f32 = heat
        .iter()
        .zip(coverage)
        .map(|(h, c)| h * f32::from(*c) / 255.0)
        .sum();
    Some(on / total)
}

/// Mean heat per group at map resolution: each sample's CAM reduced to its positive part scaled to
/// [0, 1] ([`positive_unit`]), averaged over the samples with `groups[i] == g` for `g` in
/// `0..n_groups` (`None` for a group without samples; other group values are skipped). All maps
/// must have one shape.
pub fn group_mean_heat(
    cams: &[ClassMap],
    groups: &[usize],
    n_groups: usize,
) -> Result<Vec<Option<ClassMap>>, CamError> {
    if cams.len() != groups.len() {
        return Err(CamError::GroupCount {
            maps: cams.len(),
            groups: groups.len(),
        });
    }
    let mut sums: Vec<Option<(ClassMap, usize)>> = vec![None; n_groups];
    for (cam, &g) in cams.iter().zip(groups) {
        let Some(slot) = sums.get_mut(g) else {
            continue;
        };
        let heat = positive_unit(&cam.values);
        match slot {
            Some((sum, n)) => {
                if (sum.height, sum.width) != (cam.height, cam.width) {
                    return Err(CamError::MapSizes {
                        first: (sum.height, sum.width),
                        other: (cam.height, cam.width),
                    });
                }
                sum.values.iter_mut().zip(&heat).for_each(|(s, h)| *s += h);
                *n += 1;
            }
            None => {
                *slot = Some((
                    ClassMap {
                        height: cam.height,
                        width: cam.width,
                        values: heat,
                    },
                    1,
                ))
            }
        }
    }
    Ok(sums
        .into_iter()
        .map(|s| {
            s.map(|(mut m, n)| {
                m.values.iter_mut().for_each(|v| *v /= n as f32);
                m
            })
        })
        .collect())
}

/// A heat map in [0, 1] drawn with [`heat_colour`], enlarged `scale` times (nearest neighbour).
pub fn heat_image(map: &ClassMap, scale: u32) -> RgbImage {
    let scale = scale.max(1);
    RgbImage::from_fn(
        map.width as u32 * scale,
        map.height as u32 * scale,
        |x, y| {
            let i = (y / scale) as usize * map.width + (x / scale) as usize;
            image::Rgb(heat_colour(map.values[i]))
        },
    )
}

/// One group's lesion focus: mean share of heat on the lesion and mean lesion area.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LesionFocus {
    /// Mean [`lesion_share`] over the group's maps that have heat.
    pub share: f64,
    /// Mean lesion area (share of the image), what a uniform map would put on the lesion.
    pub area: f64,
    /// Images in the group.
    pub images: usize,
}

/// Per group `0..n_groups`, the lesion focus of the final-head maps `cams` (one per image,
/// upsampled to `side × side`, positive part) against the images' lesion coverage `masks`
/// (`[N, side, side]`, 0–255); `None` for an empty group.
pub fn group_lesion_focus(
    cams: &[ClassMap],
    masks: &[u8],
    side: usize,
    groups: &[usize],
    n_groups: usize,
) -> Result<Vec<Option<LesionFocus>>, CamError> {
    let per = side * side;
    if cams.len() != groups.len() || masks.len() != cams.len() * per {
        return Err(CamError::MaskCount {
            maps: cams.len(),
            groups: groups.len(),
            mask_pixels: masks.len(),
            per_image: per,
        });
    }
    let mut acc = vec![(0.0f64, 0usize, 0.0f64, 0usize); n_groups];
    for (i, (cam, &g)) in cams.iter().zip(groups).enumerate() {
        let Some(a) = acc.get_mut(g) else {
            continue;
        };
        let mask = &masks[i * per..(i + 1) * per];
        let heat = positive_unit(&upsample(cam, side));
        if let Some(share) = lesion_share(&heat, mask) {
            a.0 += f64::from(share);
            a.1 += 1;
        }
        a.2 += mask.iter().map(|&m| f64::from(m) / 255.0).sum::<f64>() / per as f64;
        a.3 += 1;
    }
    Ok(acc
        .into_iter()
        .map(|(share, with_heat, area, n)| {
            (n > 0).then(|| LesionFocus {
                share: share / with_heat.max(1) as f64,
                area: area / n as f64,
                images: n,
            })
        })
        .collect())
}

/// Why class activation maps cannot be computed or combined.
#[derive(Clone, Debug, PartialEq)]
pub enum CamError {
    /// The pooled maps are not `[C, H, W]`.
    MapsShape(Vec<usize>),
    /// The exit weight is not `[C, K]`.
    WeightShape(Vec<usize>),
    /// The maps' channels differ from the weight's inputs.
    ChannelMismatch {
        /// Channels of the maps.
        maps: usize,
        /// Inputs of the weight.
        weight: usize,
    },
    /// The class is not one of the exit's.
    ClassOutOfRange {
        /// The class asked for.
        class: usize,
        /// Classes of the exit.
        classes: usize,
    },
    /// Maps and group labels differ in number.
    GroupCount {
        /// Maps.
        maps: usize,
        /// Group labels.
        groups: usize,
    },
    /// Maps of different sizes in one average.
    MapSizes {
        /// Height and width of the first map of the group.
        first: (usize, usize),
        /// Height and width of the one that differs.
        other: (usize, usize),
    },
    /// Maps, group labels and mask pixels do not describe the same images.
    MaskCount {
        /// Maps.
        maps: usize,
        /// Group labels.
        groups: usize,
        /// Mask pixels.
        mask_pixels: usize,
        /// Mask pixels expected per image.
        per_image: usize,
    },
}

impl fmt::Display for CamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MapsShape(shape) => write!(f, "maps must be [C, H, W], got {shape:?}"),
            Self::WeightShape(shape) => write!(f, "weight must be [C, K], got {shape:?}"),
            Self::ChannelMismatch { maps, weight } => {
                write!(f, "{maps} map channels but the weight has {weight} inputs")
            }
            Self::ClassOutOfRange { class, classes } => write!(
                f,
                "class {class} out of range (the exit has {classes} classes)"
            ),
            Self::GroupCount { maps, groups } => {
                write!(f, "{maps} maps but {groups} group labels")
            }
            Self::MapSizes { first, other } => write!(
                f,
                "maps of {}×{} and {}×{} cannot be averaged",
                first.0, first.1, other.0, other.1
            ),
            Self::MaskCount {
                maps,
                groups,
                mask_pixels,
                per_image,
            } => write!(
                f,
                "{maps} maps, {groups} group labels and {mask_pixels} mask pixels (expected {per_image} per image) do not match"
            ),
        }
    }
}

impl std::error::Error for CamError {}
