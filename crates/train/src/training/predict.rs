//! A trained model's outputs on a whole dataset on the CPU backend: every exit's logits (and
//! pooled features), and the per-exit and early-exit accuracy they give.

use burn::prelude::*;
use fairscreen_core::exit::{argmax, exit_policy, ExitLogits};
use fairscreen_core::infer::BatchLogits;
use fairscreen_core::{ModelConfig, MultiExitCnn};

/// Logits of every exit for a whole dataset, in batches, on the CPU backend.
pub fn predict(model: &MultiExitCnn, config: &ModelConfig, inputs: &[Vec<f32>]) -> BatchLogits {
    let device = Device::flex();
    let s = config.input_size;
    let k = config.num_classes();
    let mut exits = vec![Vec::new(); config.num_exits()];
    for chunk in inputs.chunks(128) {
        let flat: Vec<f32> = chunk.iter().flatten().copied().collect();
        let x = Tensor::<4>::from_data(TensorData::new(flat, [chunk.len(), 3, s, s]), &device);
        for (acc, l) in exits.iter_mut().zip(model.forward(x)) {
            acc.extend(
                l.into_data()
                    .convert::<f32>()
                    .as_slice::<f32>()
                    .expect("f32 logits"),
            );
        }
    }
    BatchLogits {
        exits,
        batch: inputs.len(),
        classes: k,
    }
}

/// Accuracy of every exit alone, and of the early-exit policy at θ with its exit histogram.
pub struct ExitEvaluation {
    /// Accuracy of each exit on its own, shallow to deep.
    pub exit_accuracy: Vec<f64>,
    /// Accuracy of the early-exit policy at θ.
    pub policy_accuracy: f64,
    /// Fraction of samples leaving at each exit under the policy.
    pub exit_share: Vec<f64>,
}

/// Evaluates per-exit and early-exit accuracy of `logits` against `labels` at `theta`.
pub fn evaluate(logits: &BatchLogits, labels: &[usize], theta: f32) -> ExitEvaluation {
    let n = labels.len().max(1) as f64;
    let k = logits.classes;
    let exit_accuracy = logits
        .exits
        .iter()
        .map(|l| {
            labels
                .iter()
                .enumerate()
                .filter(|(i, &y)| argmax(&l[i * k..(i + 1) * k]) == y)
                .count() as f64
                / n
        })
        .collect();
    let mut correct = 0usize;
    let mut share = vec![0.0; logits.exits.len()];
    for (i, &y) in labels.iter().enumerate() {
        let d = exit_policy(&logits.sample(i), theta);
        correct += (d.class == y) as usize;
        share[d.exit] += 1.0 / n;
    }
    ExitEvaluation {
        exit_accuracy,
        policy_accuracy: correct as f64 / n,
        exit_share: share,
    }
}

/// Per sample, per exit logits and, per exit, the pooled features (row-major `[n, dim_e]`) of a
/// whole dataset, on the CPU backend.
pub struct ExitOutputsHost {
    /// `logits[i][e]`: logits of sample `i` at exit `e`.
    pub logits: ExitLogits,
    /// `features[e]`: exit `e`'s pooled features of every sample, row-major.
    pub features: Vec<Vec<f32>>,
    /// Width of each exit's features.
    pub feature_dims: Vec<usize>,
}

/// Logits and pooled features of every exit for `inputs`, in batches of 128.
pub fn predict_with_features(
    model: &MultiExitCnn,
    config: &ModelConfig,
    inputs: &[Vec<f32>],
) -> ExitOutputsHost {
    let device = Device::flex();
    let s = config.input_size;
    let k = config.num_classes();
    let exits = config.num_exits();
    let mut out = ExitOutputsHost {
        logits: Vec::with_capacity(inputs.len()),
        features: vec![Vec::new(); exits],
        feature_dims: vec![0; exits],
    };
    let host = |t: Tensor<2>| -> Vec<f32> {
        t.into_data()
            .convert::<f32>()
            .as_slice::<f32>()
            .expect("f32 tensor")
            .to_vec()
    };
    for chunk in inputs.chunks(128) {
        let flat: Vec<f32> = chunk.iter().flatten().copied().collect();
        let x = Tensor::<4>::from_data(TensorData::new(flat, [chunk.len(), 3, s, s]), &device);
        let o = model.forward_all(x);
        let logits: Vec<Vec<f32>> = o.logits.into_iter().map(host).collect();
        for i in 0..chunk.len() {
            out.logits.push(
                logits
                    .iter()
                    .map(|l| l[i * k..(i + 1) * k].to_vec())
                    .collect(),
            );
        }
        for (e, f) in o.features.into_iter().enumerate() {
            out.feature_dims[e] = f.dims()[1];
            out.features[e].extend(host(f));
        }
    }
    out
}
