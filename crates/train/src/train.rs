//! Multi-exit training (cross-entropy at every exit) with SGD + Nesterov momentum, and evaluation.

use burn::module::Module;
use burn::nn::loss::CrossEntropyLossConfig;
use burn::optim::{decay::WeightDecayConfig, momentum::MomentumConfig, GradientsParams, SgdConfig};
use burn::prelude::*;
use fairscreen_core::exit::{argmax, exit_policy};
use fairscreen_core::infer::BatchLogits;
use fairscreen_core::{ModelConfig, MultiExitCnn};
use indicatif::{ProgressBar, ProgressStyle};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A labelled image set already in model-input form (`[3, S, S]` per image).
pub struct Dataset {
    /// Normalised CHW inputs.
    pub inputs: Vec<Vec<f32>>,
    /// Class labels.
    pub labels: Vec<usize>,
}

/// Training hyper-parameters.
pub struct TrainOptions {
    /// Epochs.
    pub epochs: usize,
    /// Batch size.
    pub batch_size: usize,
    /// Initial learning rate.
    pub lr: f64,
    /// Epochs between ×0.1 learning-rate steps.
    pub lr_step: usize,
    /// Random seed (init, shuffling, augmentation).
    pub seed: u64,
}

/// Horizontal and/or vertical flip of a CHW image (training augmentation).
fn flip(input: &[f32], side: usize, h: bool, v: bool) -> Vec<f32> {
    let mut out = vec![0.0; input.len()];
    let plane = side * side;
    for c in 0..3 {
        for y in 0..side {
            for x in 0..side {
                let sx = if h { side - 1 - x } else { x };
                let sy = if v { side - 1 - y } else { y };
                out[c * plane + y * side + x] = input[c * plane + sy * side + sx];
            }
        }
    }
    out
}

/// Trains `config`'s network from scratch with CE summed over every exit; returns the trained
/// (BN, non-autodiff) model. Progress and per-epoch losses go to a progress bar.
pub fn train_multi_exit(config: &ModelConfig, data: &Dataset, opts: &TrainOptions) -> MultiExitCnn {
    let device = Device::flex().autodiff();
    device.seed(opts.seed);
    let mut model = MultiExitCnn::new(config, true, &device);
    let mut optim = SgdConfig::new()
        .with_momentum(Some(
            MomentumConfig::new()
                .with_momentum(0.9)
                .with_dampening(0.0)
                .with_nesterov(true),
        ))
        .with_weight_decay(Some(WeightDecayConfig::new(1e-4)))
        .init();
    let ce = CrossEntropyLossConfig::new().init(&device);
    let side = config.input_size;
    let mut rng = ChaCha8Rng::seed_from_u64(opts.seed);
    let steps_per_epoch = data.inputs.len() / opts.batch_size;
    let bar = ProgressBar::new((steps_per_epoch * opts.epochs) as u64);
    bar.set_style(
        ProgressStyle::with_template(
            "{elapsed_precise} [{bar:40}] {pos}/{len} steps ({per_sec}, eta {eta}) {msg}",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    for epoch in 0..opts.epochs {
        let lr = opts.lr * 0.1f64.powi((epoch / opts.lr_step.max(1)) as i32);
        let mut order: Vec<usize> = (0..data.inputs.len()).collect();
        order.shuffle(&mut rng);
        let mut epoch_loss = vec![0.0f64; config.num_exits()];
        for step in 0..steps_per_epoch {
            let idx = &order[step * opts.batch_size..(step + 1) * opts.batch_size];
            let mut flat = Vec::with_capacity(idx.len() * 3 * side * side);
            for &i in idx {
                flat.extend(flip(
                    &data.inputs[i],
                    side,
                    rng.gen_bool(0.5),
                    rng.gen_bool(0.5),
                ));
            }
            let labels: Vec<i64> = idx.iter().map(|&i| data.labels[i] as i64).collect();
            let x =
                Tensor::<4>::from_data(TensorData::new(flat, [idx.len(), 3, side, side]), &device);
            let y = Tensor::<1, Int>::from_data(TensorData::new(labels, [idx.len()]), &device);
            let logits = model.forward(x);
            let losses: Vec<Tensor<1>> = logits
                .into_iter()
                .map(|l| ce.forward(l, y.clone()))
                .collect();
            for (acc, l) in epoch_loss.iter_mut().zip(&losses) {
                *acc += l.clone().into_scalar::<f32>() as f64;
            }
            let total = losses
                .into_iter()
                .reduce(|a, b| a + b)
                .expect("at least one exit");
            let grads = GradientsParams::from_grads(total.backward(), &model);
            model = optim.step(lr, model, grads);
            bar.inc(1);
        }
        let per_exit: Vec<String> = epoch_loss
            .iter()
            .map(|l| format!("{:.3}", l / steps_per_epoch.max(1) as f64))
            .collect();
        let line = format!(
            "epoch {} lr {lr:.4} CE per exit [{}]",
            epoch + 1,
            per_exit.join(", ")
        );
        if bar.is_hidden() {
            eprintln!("{line}");
        } else {
            bar.println(line);
        }
    }
    bar.finish_and_clear();
    model.valid()
}

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

/// Saves a trained (BN) model as a burnpack checkpoint.
pub fn save_checkpoint(model: MultiExitCnn, path: &std::path::Path) -> Result<(), String> {
    model
        .save_file(path)
        .map_err(|e| format!("saving checkpoint {}: {e:?}", path.display()))
}

/// Loads a trained (BN) model checkpoint for `config` on the CPU backend.
pub fn load_checkpoint(
    config: &ModelConfig,
    path: &std::path::Path,
) -> Result<MultiExitCnn, String> {
    MultiExitCnn::new(config, true, &Device::flex())
        .try_load_file(path)
        .map_err(|e| format!("loading checkpoint {}: {e:?}", path.display()))
}
