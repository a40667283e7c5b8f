//! Dequantize-at-load vs burn's quantized weights, on burn's CPU backend (flex): forward time of
//! a batch and the logit change against f32, for the shipped default model. burn's quantized
//! conv weights give wrong values on WebGPU (DESIGN.md), so only the CPU backend is compared.
//! Writes `docs/results/quant/kernels.md`. Run: `cargo bench -p fairscreen-core --bench quantized_kernels`.

use std::time::Instant;

use burn::module::Param;
use burn::prelude::*;
use burn::tensor::quantization::QuantScheme;
use fairscreen_core::infer::LoadedModel;
use fairscreen_core::MultiExitCnn;

const BATCH: usize = 48;
const REPS: usize = 30;

fn quantized(w: &Param<Tensor<4>>, scheme: &QuantScheme) -> Param<Tensor<4>> {
    Param::from_tensor(w.val().quantize_dynamic(scheme))
}

/// Every conv weight of `m` as a burn quantized tensor (per-tensor symmetric int8).
fn with_burn_int8(mut m: MultiExitCnn, scheme: &QuantScheme) -> MultiExitCnn {
    for stage in &mut m.stages {
        for unit in stage {
            unit.conv.weight = quantized(&unit.conv.weight, scheme);
        }
    }
    for exit in &mut m.exits {
        exit.conv.conv.weight = quantized(&exit.conv.conv.weight, scheme);
    }
    m
}

fn logits(m: &MultiExitCnn, x: &Tensor<4>) -> Vec<f32> {
    Tensor::cat(m.forward(x.clone()), 1)
        .into_data()
        .convert::<f32>()
        .as_slice::<f32>()
        .expect("f32 logits")
        .to_vec()
}

/// Seconds of one forward pass of a batch (logits read back).
fn once(m: &MultiExitCnn, x: &Tensor<4>) -> f64 {
    let start = Instant::now();
    logits(m, x);
    start.elapsed().as_secs_f64()
}

fn median(mut t: Vec<f64>) -> f64 {
    t.sort_by(f64::total_cmp);
    t[t.len() / 2]
}

fn max_diff(a: &[f32], b: &[f32]) -> f32 {
    a.iter()
        .zip(b)
        .map(|(p, q)| (p - q).abs())
        .fold(0.0f32, f32::max)
}

fn main() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let read =
        |file: &str| std::fs::read(root.join("www/models").join(file)).expect("shipped model");
    let device = Device::flex();
    let f32_model = LoadedModel::from_bytes(&read("tiny-fair-me.safetensors"), &device).unwrap();
    let ours = LoadedModel::from_bytes(&read("tiny-fair-me-int8.safetensors"), &device).unwrap();
    let s = ours.card.config.input_size;
    // Deterministic inputs in [-2, 2] (the scale of normalised images), same on every run.
    let n = BATCH * 3 * s * s;
    let values: Vec<f32> = (0..n)
        .map(|i| ((i * 7919 % 4001) as f32 / 1000.0) - 2.0)
        .collect();
    let x = Tensor::<4>::from_data(TensorData::new(values, [BATCH, 3, s, s]), &device);
    let scheme = QuantScheme::default();
    let burn_q = with_burn_int8(
        LoadedModel::from_bytes(&read("tiny-fair-me.safetensors"), &device)
            .unwrap()
            .model,
        &scheme,
    );
    let reference = logits(&f32_model.model, &x);
    let (d_ours, d_burn) = (
        max_diff(&reference, &logits(&ours.model, &x)),
        max_diff(&reference, &logits(&burn_q, &x)),
    );
    // Interleaved, so drifts in machine load hit both alike.
    let (mut t_ours, mut t_burn) = (Vec::new(), Vec::new());
    for _ in 0..REPS {
        t_ours.push(once(&ours.model, &x));
        t_burn.push(once(&burn_q, &x));
    }
    let (t_ours, t_burn) = (median(t_ours), median(t_burn));
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let report = format!(
        "# Dequantize at load vs burn's quantized conv weights\n\n\
         - Command: `cargo bench -p fairscreen-core --bench quantized_kernels`\n\
         - Models: `tiny-fair-me.safetensors` (f32, the reference); ours: `tiny-fair-me-int8.safetensors` (per-channel \
         int8, dequantized to f32 at load); burn: the f32 model's conv weights quantized by burn's `quantize_dynamic` \
         ({scheme:?}: burn's default, per-tensor symmetric int8) and kept quantized\n\
         - Backend: burn flex (CPU), native, {cpu}, {cores} logical cores; batch {BATCH} deterministic 3×{s}×{s} inputs in [−2, 2]; \
         median of {REPS} forward passes each (logits read back), the two variants interleaved, after a warm-up\n\n\
         | int8 weights | forward time per batch | images/s | max \\|Δ logit\\| vs f32 |\n|---|---|---|---|\n\
         | ours: dequantized to f32 at load | {:.1} ms | {:.0} | {d_ours:.2e} |\n\
         | burn quantized tensors | {:.1} ms | {:.0} | {d_burn:.2e} |\n\n\
         Time with burn's quantized tensors relative to the dequantized weights: {:+.1} % (positive: slower). burn 0.22 \
         has no integer \
         conv kernel (a quantized conv weight is dequantized to float inside the conv call, \
         burn-tensor-0.22.1/src/tensor/module.rs), and on WebGPU its quantized conv weights give wrong values \
         (DESIGN.md), so it is not correct on the app's main backend. The app dequantizes at load on every backend.\n",
        1e3 * t_ours,
        BATCH as f64 / t_ours,
        1e3 * t_burn,
        BATCH as f64 / t_burn,
        100.0 * (t_burn / t_ours - 1.0),
    );
    let out = root.join("docs/results/quant/kernels.md");
    std::fs::write(&out, &report).expect("write report");
    println!("{report}wrote {}", out.display());
}
