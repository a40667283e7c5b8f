//! int8 weight quantization of a folded model: symmetric, per output channel, f32 scales; biases
//! stay f32. The model file stores the int8 weights and their scales; the runtime dequantizes them
//! to f32 at load (burn's own quantized tensors cannot go into safetensors and give wrong conv
//! results on WebGPU, see DESIGN.md), so every backend runs the same float kernels.

use std::collections::BTreeMap;

use crate::model::HostTensor;

/// The card's `quantization` value of int8 files.
pub const INT8_PER_CHANNEL: &str = "int8-per-channel";
/// The card's `quantization` value of plain f32 files.
pub const F32: &str = "f32";
/// Largest int8 magnitude used (symmetric range, −127 … 127).
pub const QMAX: f32 = 127.0;
/// Suffix of the scale tensor stored next to each quantized weight.
pub const SCALE_SUFFIX: &str = "_scale";

/// One weight tensor in int8 with a scale per output channel.
#[derive(Clone, Debug, PartialEq)]
pub struct QuantizedTensor {
    /// Dimensions of the weight.
    pub shape: Vec<usize>,
    /// Row-major int8 values.
    pub values: Vec<i8>,
    /// Axis of the output channels (0 for conv `[out, in, kh, kw]`, 1 for linear `[in, out]`).
    pub axis: usize,
    /// `max |w| / 127` of each output channel (0 for an all-zero channel).
    pub scales: Vec<f32>,
}

/// Whether tensor `name` is a weight that int8 files store quantized (every conv and linear
/// weight; biases stay f32).
pub fn is_quantized_weight(name: &str) -> bool {
    name.ends_with(".weight")
}

/// Output-channel axis of weight `name` with `rank` dimensions: linear weights (rank 2, stored
/// `[in, out]`) → 1, conv weights → 0.
pub fn output_axis(rank: usize) -> usize {
    if rank == 2 {
        1
    } else {
        0
    }
}

/// Index of the output channel of flat element `i` of a tensor of `shape` along `axis`.
fn channel_of(shape: &[usize], axis: usize, i: usize) -> usize {
    let inner: usize = shape[axis + 1..].iter().product();
    (i / inner) % shape[axis]
}

/// Symmetric per-output-channel int8 quantization of `t` along `axis`.
pub fn quantize(t: &HostTensor, axis: usize) -> QuantizedTensor {
    let channels = t.shape[axis];
    let mut max = vec![0.0f32; channels];
    for (i, v) in t.values.iter().enumerate() {
        let c = channel_of(&t.shape, axis, i);
        max[c] = max[c].max(v.abs());
    }
    let scales: Vec<f32> = max.iter().map(|m| m / QMAX).collect();
    let values = t
        .values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let s = scales[channel_of(&t.shape, axis, i)];
            if s > 0.0 {
                (v / s).round().clamp(-QMAX, QMAX) as i8
            } else {
                0
            }
        })
        .collect();
    QuantizedTensor {
        shape: t.shape.clone(),
        values,
        axis,
        scales,
    }
}

/// The f32 tensor an int8 tensor stands for: `q · scale[channel]`.
pub fn dequantize(q: &QuantizedTensor) -> HostTensor {
    let values = q
        .values
        .iter()
        .enumerate()
        .map(|(i, &v)| f32::from(v) * q.scales[channel_of(&q.shape, q.axis, i)])
        .collect();
    HostTensor {
        shape: q.shape.clone(),
        values,
    }
}

/// A folded model's tensors with every weight quantized (biases as they are).
#[derive(Clone, Debug, PartialEq)]
pub struct QuantizedModel {
    /// Quantized weights by name.
    pub weights: BTreeMap<String, QuantizedTensor>,
    /// Everything else (biases), f32.
    pub floats: BTreeMap<String, HostTensor>,
}

/// Quantizes every weight of `tensors`.
pub fn quantize_model(tensors: &BTreeMap<String, HostTensor>) -> QuantizedModel {
    let mut weights = BTreeMap::new();
    let mut floats = BTreeMap::new();
    for (name, t) in tensors {
        if is_quantized_weight(name) {
            weights.insert(name.clone(), quantize(t, output_axis(t.shape.len())));
        } else {
            floats.insert(name.clone(), t.clone());
        }
    }
    QuantizedModel { weights, floats }
}

/// The f32 tensors a quantized model runs with.
pub fn dequantize_model(q: &QuantizedModel) -> BTreeMap<String, HostTensor> {
    let mut out = q.floats.clone();
    for (name, w) in &q.weights {
        out.insert(name.clone(), dequantize(w));
    }
    out
}
