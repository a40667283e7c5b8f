//! Soft nearest neighbour loss (SNNL) of embeddings with respect to a label — here the sensitive
//! attribute (papers.md §3.1). Low SNNL means the embeddings cluster by group, i.e. they encode it.
//! Cosine distance; temperature `T` fixed. Used per exit (FME's depth analysis) and per channel
//! (SCP's channel scores).

use serde::{Deserialize, Serialize};

/// Added to the same-group neighbourhood before the logarithm, as the SCP code does.
pub const SNNL_EPSILON: f64 = 1e-9;

/// Which SNNL formula.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SnnlForm {
    /// Frosst et al. 2019: the sample itself is excluded from both neighbourhoods.
    Reference,
    /// The SCP code (`SNNL.py`): the self term `e_ii` is included in the same-group numerator, so
    /// the ratio can exceed 1 and the loss can be negative.
    ScpCode,
}

/// Row-wise L2 normalisation with PyTorch's `F.normalize` guard (`x / max(‖x‖, 1e-12)`).
fn normalise(rows: &[f32], dim: usize) -> Vec<f64> {
    rows.chunks(dim)
        .flat_map(|r| {
            let norm = r
                .iter()
                .map(|&v| f64::from(v) * f64::from(v))
                .sum::<f64>()
                .sqrt()
                .max(1e-12);
            r.iter().map(move |&v| f64::from(v) / norm)
        })
        .collect()
}

/// SNNL of `embeddings` (row-major `[b, dim]`) against `labels` (one per row) at temperature
/// `temperature`, with cosine distance `d_ij = 1 − cos(x_i, x_j)` and `e_ij = exp(−d_ij / T)`:
/// `−(1/b) Σ_i log((Σ_{j same group} e_ij + ε) / Σ_{j≠i} e_ij)`. `None` for fewer than two rows,
/// a length that is not `b · dim`, or a temperature that is not positive.
pub fn snnl(
    embeddings: &[f32],
    dim: usize,
    labels: &[usize],
    temperature: f64,
    form: SnnlForm,
) -> Option<f64> {
    let b = labels.len();
    if b < 2
        || dim == 0
        || embeddings.len() != b * dim
        || temperature.is_nan()
        || temperature <= 0.0
    {
        return None;
    }
    let x = normalise(embeddings, dim);
    let row = |i: usize| &x[i * dim..(i + 1) * dim];
    let mut total = 0.0;
    for i in 0..b {
        let (mut all, mut same) = (0.0, 0.0);
        for j in 0..b {
            let cos: f64 = row(i).iter().zip(row(j)).map(|(a, c)| a * c).sum();
            let e = (-(1.0 - cos) / temperature).exp();
            if j != i {
                all += e;
            }
            if labels[j] == labels[i] && (j != i || form == SnnlForm::ScpCode) {
                same += e;
            }
        }
        total += ((same + SNNL_EPSILON) / all).ln();
    }
    Some(-total / b as f64)
}

/// Per-channel SNNL of a feature map batch `[b, channels, h, w]` (row-major): each channel's
/// `h·w` spatial map is that sample's embedding (the SCP code's channel scores for one batch).
pub fn channel_snnl_scores(
    feature_map: &[f32],
    shape: [usize; 4],
    labels: &[usize],
    temperature: f64,
    form: SnnlForm,
) -> Option<Vec<f64>> {
    let [b, c, h, w] = shape;
    if feature_map.len() != b * c * h * w || labels.len() != b {
        return None;
    }
    let plane = h * w;
    (0..c)
        .map(|ch| {
            let emb: Vec<f32> = (0..b)
                .flat_map(|i| {
                    let start = (i * c + ch) * plane;
                    feature_map[start..start + plane].iter().copied()
                })
                .collect();
            snnl(&emb, plane, labels, temperature, form)
        })
        .collect()
}

/// Mean SNNL over consecutive batches of `batch` rows (the last partial batch dropped, as the SCP
/// loader's `drop_last`); `None` when no full batch fits or a batch's SNNL is undefined.
pub fn batched_snnl(
    embeddings: &[f32],
    dim: usize,
    labels: &[usize],
    batch: usize,
    temperature: f64,
    form: SnnlForm,
) -> Option<f64> {
    let full = labels.len() / batch.max(1);
    if full == 0 || embeddings.len() != labels.len() * dim {
        return None;
    }
    let mut sum = 0.0;
    for k in 0..full {
        let rows = k * batch..(k + 1) * batch;
        sum += snnl(
            &embeddings[rows.start * dim..rows.end * dim],
            dim,
            &labels[rows],
            temperature,
            form,
        )?;
    }
    Some(sum / full as f64)
}
