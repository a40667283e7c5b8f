//! Reduced-precision model files. int8: symmetric per-output-channel weights with f32 scales,
//! biases f32; the runtime dequantizes them to f32 at load (burn's own quantized tensors cannot go
//! into safetensors and give wrong conv results on WebGPU, see DESIGN.md), so every backend runs
//! the same float kernels. f16: every tensor stored as IEEE half (round to nearest even); it runs
//! in f16 on a WebGPU adapter with `shader-f16` and is widened to f32 everywhere else.

use std::collections::BTreeMap;

use crate::model::HostTensor;

/// The card's `quantization` value of int8 files.
pub const INT8_PER_CHANNEL: &str = "int8-per-channel";
/// The card's `quantization` value of plain f32 files.
pub const F32: &str = "f32";
/// The card's `quantization` value of f16 files.
pub const F16: &str = "f16";
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

/// Whether a model file of precision `quantization` computes in f16: only f16 files, and only on
/// a WebGPU device whose adapter has `shader-f16`; everywhere else the weights are widened to f32
/// (the CPU backend has no fast f16 arithmetic, and f32 compute is at least as exact).
pub fn computes_in_f16(quantization: &str, webgpu_with_shader_f16: bool) -> bool {
    quantization == F16 && webgpu_with_shader_f16
}

/// The IEEE half nearest to `v` (ties to even), as bits; `None` when `v` is not finite or its
/// magnitude rounds past the largest half (65504).
pub fn f16_bits(v: f32) -> Option<u16> {
    let h = half::f16::from_f32(v);
    h.is_finite().then(|| h.to_bits())
}

/// The f32 value of half `bits` (exact: every half is an f32).
pub fn f16_value(bits: u16) -> f32 {
    half::f16::from_bits(bits).to_f32()
}

/// What a model of precision `quantization` runs with, in words, for the model card.
pub fn precision_description(quantization: &str, computes_f16: bool) -> String {
    match quantization {
        F16 if computes_f16 => {
            "f16 weights, computed in f16 (this WebGPU adapter has shader-f16)".into()
        }
        F16 => "f16 weights widened to f32 at load and computed in f32 (f16 compute needs a WebGPU adapter with shader-f16)".into(),
        INT8_PER_CHANNEL => {
            "int8 weights with per-channel scales, dequantized to f32 at load and computed in f32"
                .into()
        }
        _ => "f32 weights, computed in f32".into(),
    }
}
