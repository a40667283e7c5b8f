//! Multi-exit training with SGD + Nesterov momentum and the FME paper's methods (papers.md §2.2):
//! `baseline` (CE at the final head), `me` (CE at every exit, optionally weighted), `hsic` /
//! `me-hsic` (plus λ·Σ_class HSIC(features, group) at the final head / every exit) and `mfd` /
//! `me-mfd` (plus α·MMD to a CE-trained teacher's features); class-balanced sampling and
//! augmentation.

use anyhow::{bail, Result};
use burn::module::Module;
use burn::nn::loss::CrossEntropyLossConfig;
use burn::optim::{decay::WeightDecayConfig, momentum::MomentumConfig, GradientsParams, SgdConfig};
use burn::prelude::*;
use fairscreen_core::kernel_dependence::{class_conditional_hsic, mfd_mmd};
use fairscreen_core::{ConvLayer, ModelConfig, MultiExitCnn};
use indicatif::{ProgressBar, ProgressStyle};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::options::{Augment, Backend, Dataset, EpochLosses, Method, TrainOptions};
use super::peft::{freeze_masked, trained_exits};

/// Serialises seeding + initialisation across threads (see [`train_model`]).
static INIT_LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Reads every float parameter, which runs burn's lazy initialisation.
struct TouchParams;

impl burn::module::ModuleVisitor for TouchParams {
    fn visit_float<const D: usize>(&mut self, param: &burn::module::Param<Tensor<D>>) {
        let _ = param.val();
    }
}

/// Flips (and with [`Augment::Full`] a rotation by a multiple of 90° and a brightness/saturation
/// jitter) of a normalised CHW image; the jitter acts on the normalised values, a close stand-in
/// for jitter in pixel space.
fn augment(input: &[f32], side: usize, rng: &mut ChaCha8Rng, mode: Augment) -> Vec<f32> {
    if mode == Augment::None {
        return input.to_vec();
    }
    let (h, v) = (rng.gen_bool(0.5), rng.gen_bool(0.5));
    let (rot, brightness, saturation) = if mode == Augment::Full {
        (
            rng.gen_range(0..4u8),
            rng.gen_range(-0.12f32..0.12),
            rng.gen_range(0.7f32..1.3),
        )
    } else {
        (0, 0.0, 1.0)
    };
    let mut out = vec![0.0; input.len()];
    let plane = side * side;
    let last = side - 1;
    for y in 0..side {
        for x in 0..side {
            let (mut sx, mut sy) = (if h { last - x } else { x }, if v { last - y } else { y });
            for _ in 0..rot {
                (sx, sy) = (sy, last - sx);
            }
            let px: [f32; 3] = [0, 1, 2].map(|c| input[c * plane + sy * side + sx]);
            if mode == Augment::Full {
                let grey = (px[0] + px[1] + px[2]) / 3.0;
                for c in 0..3 {
                    out[c * plane + y * side + x] = grey + (px[c] - grey) * saturation + brightness;
                }
            } else {
                // Flips only: the values are copied exactly (no arithmetic), so runs with
                // `--augment flips` reproduce models trained before the jitter existed.
                for c in 0..3 {
                    out[c * plane + y * side + x] = px[c];
                }
            }
        }
    }
    out
}

/// Batch indices for one epoch: a shuffle, or (class-balanced) draws with probability
/// ∝ 1/class count, with replacement, as many as there are images.
fn epoch_order(labels: &[usize], balanced: bool, rng: &mut ChaCha8Rng) -> Vec<usize> {
    if !balanced {
        let mut order: Vec<usize> = (0..labels.len()).collect();
        order.shuffle(rng);
        return order;
    }
    let classes = labels.iter().copied().max().map_or(0, |m| m + 1);
    let mut counts = vec![0usize; classes];
    for l in labels {
        counts[*l] += 1;
    }
    let weights: Vec<f64> = labels.iter().map(|l| 1.0 / counts[*l] as f64).collect();
    let dist = rand::distributions::WeightedIndex::new(&weights).expect("positive weights");
    (0..labels.len()).map(|_| rng.sample(&dist)).collect()
}

/// Features of every exit of the teacher for a batch, moved to `device`.
fn teacher_features(
    teacher: &MultiExitCnn,
    flat: &[f32],
    shape: [usize; 4],
    device: &Device,
) -> Vec<Tensor<2>> {
    let x = Tensor::<4>::from_data(TensorData::new(flat.to_vec(), shape), &Device::flex());
    teacher
        .forward_all(x)
        .features
        .into_iter()
        .map(|f| Tensor::<2>::from_data(f.into_data(), device))
        .collect()
}

/// What the epoch observer of [`train_model_observed`] tells the loop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EpochControl {
    /// Train the next epoch.
    Continue,
    /// Stop here (e.g. a pruned search trial) and return the model as it is.
    Stop,
}

/// Trains `config`'s network from scratch with `opts.method`; `teacher` is required by the MFD
/// methods. Returns the trained (BN, non-autodiff) model and the per-epoch losses of every exit.
pub fn train_model(
    config: &ModelConfig,
    data: &Dataset,
    opts: &TrainOptions,
    teacher: Option<&MultiExitCnn>,
) -> Result<(MultiExitCnn, EpochLosses)> {
    train_model_observed(config, data, opts, teacher, &mut |_, _| {
        Ok(EpochControl::Continue)
    })
}

/// [`train_model`], handing the model (BN, non-autodiff, on the training backend) to `on_epoch`
/// after each epoch (1-based), which may stop the run early.
pub fn train_model_observed(
    config: &ModelConfig,
    data: &Dataset,
    opts: &TrainOptions,
    teacher: Option<&MultiExitCnn>,
    on_epoch: &mut dyn FnMut(usize, &MultiExitCnn) -> Result<EpochControl>,
) -> Result<(MultiExitCnn, EpochLosses)> {
    if opts.method.needs_teacher() && teacher.is_none() {
        bail!("{:?} needs a teacher model (--teacher)", opts.method);
    }
    if let Some(mask) = &opts.peft {
        fairscreen_core::peft::PeftMask::new(config, mask.bits.clone())?;
    }
    if opts.exit_weights.len() != config.num_exits() {
        bail!(
            "{} exit weights for {} exits",
            opts.exit_weights.len(),
            config.num_exits()
        );
    }
    let device = opts.backend.device()?.autodiff();
    let mut model = if let Some(init) = &opts.init {
        init.clone().fork(&device).train()
    } else {
        // Seeding and initialisation draw from the backend's random state: serialised, so models
        // trained on concurrent threads get the same weights as when trained alone.
        let _guard = INIT_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        device.seed(opts.seed);
        // burn initialises parameters lazily, on first use: read (and so draw) every one of them
        // now, under the lock.
        let model = MultiExitCnn::new(config, true, &device);
        model.visit(&mut TouchParams);
        model
    };
    if let Some(mask) = &opts.peft {
        model = freeze_masked(model, config, mask);
    }
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
    let classes = config.num_classes();
    let groups = data
        .groups
        .iter()
        .copied()
        .max()
        .map_or(1, |m| m + 1)
        .max(2);
    let exits = config.num_exits();
    // A fine-tuning mask decides which exits train; probes do not apply.
    let probes = opts.peft.is_none() && !opts.method.all_exits() && opts.probe_exits;
    let trained: Vec<usize> = if let Some(mask) = &opts.peft {
        trained_exits(config, mask)
    } else if opts.method.all_exits() || probes {
        (0..exits).collect()
    } else {
        vec![exits - 1]
    };
    let mut rng = ChaCha8Rng::seed_from_u64(opts.seed);
    let steps_per_epoch = data.inputs.len() / opts.batch_size;
    let mut bar = ProgressBar::new((steps_per_epoch * opts.epochs) as u64);
    if let Some(multi) = &opts.progress {
        bar = multi.add(bar);
    }
    bar.set_style(
        ProgressStyle::with_template(
            "{prefix} {elapsed_precise} [{bar:40}] {pos}/{len} steps ({per_sec}, eta {eta}) {msg}",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    bar.set_prefix(opts.label.clone());
    let mut history = Vec::with_capacity(opts.epochs);
    for epoch in 0..opts.epochs {
        let lr = opts.lr * 0.1f64.powi((epoch / opts.lr_step.max(1)) as i32);
        let order = epoch_order(&data.labels, opts.class_balanced, &mut rng);
        let mut epoch_loss = vec![0.0f64; exits];
        for step in 0..steps_per_epoch {
            let idx = &order[step * opts.batch_size..(step + 1) * opts.batch_size];
            let mut flat = Vec::with_capacity(idx.len() * 3 * side * side);
            for &i in idx {
                flat.extend(augment(&data.inputs[i], side, &mut rng, opts.augment));
            }
            let labels: Vec<usize> = idx.iter().map(|&i| data.labels[i]).collect();
            let group_ids: Vec<usize> = idx.iter().map(|&i| data.groups[i]).collect();
            let shape = [idx.len(), 3, side, side];
            let teacher_feats = match (opts.method.needs_teacher(), teacher) {
                (true, Some(t)) => Some(teacher_features(t, &flat, shape, &device)),
                _ => None,
            };
            let x = Tensor::<4>::from_data(TensorData::new(flat, shape), &device);
            let y = Tensor::<1, Int>::from_data(
                TensorData::new(
                    labels.iter().map(|l| *l as i64).collect::<Vec<_>>(),
                    [idx.len()],
                ),
                &device,
            );
            let out = if probes {
                model.forward_probes(x)
            } else {
                model.forward_all(x)
            };
            let mut total: Option<Tensor<1>> = None;
            for &e in &trained {
                let mut term = ce.forward(out.logits[e].clone(), y.clone());
                let probe = probes && e + 1 < exits;
                match opts.method {
                    _ if probe => {}
                    Method::Hsic | Method::MeHsic => {
                        term = term
                            + class_conditional_hsic(
                                out.features[e].clone(),
                                &labels,
                                &group_ids,
                                classes,
                                groups,
                            )
                            .mul_scalar(opts.lambda);
                    }
                    Method::Mfd | Method::MeMfd => {
                        let t = teacher_feats.as_ref().expect("teacher checked")[e].clone();
                        term = term
                            + mfd_mmd(
                                out.features[e].clone(),
                                t,
                                &labels,
                                &group_ids,
                                opts.mmd_w_m,
                                opts.mmd_sigma,
                            )
                            .mul_scalar(opts.alpha);
                    }
                    Method::Baseline | Method::Me => {}
                }
                let value = term.clone().into_scalar::<f32>() as f64;
                if !value.is_finite() {
                    bail!("exit {e} loss became {value} in epoch {}", epoch + 1);
                }
                epoch_loss[e] += value;
                let weighted = if probe {
                    term
                } else {
                    term.mul_scalar(opts.exit_weights[e])
                };
                total = Some(match total {
                    Some(t) => t + weighted,
                    None => weighted,
                });
            }
            let total = total.expect("at least one trained exit");
            let grads = GradientsParams::from_grads(total.backward(), &model);
            model = optim.step(lr, model, grads);
            for (layer, channels) in &opts.masks {
                zero_filters(&mut model, *layer, channels);
            }
            bar.inc(1);
        }
        let per_exit: Vec<f64> = epoch_loss
            .iter()
            .map(|l| l / steps_per_epoch.max(1) as f64)
            .collect();
        let line = format!(
            "{}epoch {} lr {lr:.4} loss per exit [{}]",
            if opts.label.is_empty() {
                String::new()
            } else {
                format!("{}: ", opts.label)
            },
            epoch + 1,
            per_exit
                .iter()
                .map(|l| format!("{l:.3}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        if bar.is_hidden() {
            eprintln!("{line}");
        } else {
            bar.println(line);
        }
        history.push(per_exit);
        if on_epoch(epoch + 1, &model.clone().valid())? == EpochControl::Stop {
            break;
        }
    }
    bar.finish_and_clear();
    let model = model.valid();
    let model = if opts.backend == Backend::Cpu {
        model
    } else {
        model.to_device(&Device::flex())
    };
    Ok((model, history))
}

/// Sets the output filters `channels` of conv `layer` to zero (biases untouched), keeping the
/// parameter's identity so the optimiser's momentum state still applies.
fn zero_filters(model: &mut MultiExitCnn, layer: ConvLayer, channels: &[usize]) {
    if channels.is_empty() {
        return;
    }
    let conv = &mut model.stages[layer.stage][layer.unit].conv;
    let w = conv.weight.val();
    let [cout, ..] = w.dims();
    let device = w.device();
    let mut keep = vec![1.0f32; cout];
    for &c in channels {
        keep[c] = 0.0;
    }
    let mask =
        Tensor::<1>::from_data(TensorData::new(keep, [cout]), &device).reshape([cout, 1, 1, 1]);
    conv.weight = conv
        .weight
        .clone()
        .map(|w| (w * mask).detach().require_grad());
}

#[cfg(test)]
mod tests {
    use super::super::predict::{evaluate, predict};
    use super::*;
    use fairscreen_core::preprocess::to_input;
    use fairscreen_synth::SynthConfig;

    fn synth(config: &ModelConfig, synth: &SynthConfig, seed: u64, n: u64) -> Dataset {
        let mut cfg = synth.clone();
        cfg.side = config.input_size as u32;
        let mut d = Dataset {
            inputs: vec![],
            labels: vec![],
            groups: vec![],
        };
        for i in 0..n {
            let s = fairscreen_synth::generate(&cfg, seed, i);
            d.inputs.push(to_input(&s.image, config));
            d.labels.push(s.meta.label as usize);
            d.groups.push(usize::from(s.meta.skin_type >= 4));
        }
        d
    }

    #[test]
    fn a_quick_run_lowers_every_exits_loss_and_beats_chance_on_validation() {
        let names = fairscreen_synth::CLASS_NAMES.map(String::from).to_vec();
        let config = ModelConfig::tiny(names);
        let data = synth(&config, &SynthConfig::train(), 41, 1024);
        // Balanced classes on validation: chance is 1/3 for every exit.
        let val = synth(&config, &SynthConfig::test(), 42, 240);
        for method in [Method::Me, Method::MeHsic] {
            let opts = TrainOptions {
                augment: Augment::Flips,
                // 16 steps an epoch; the ×0.1 step after epoch 3 settles the shallow exits.
                lr_step: 3,
                ..TrainOptions::new(method, 5, 7, config.num_exits())
            };
            let (model, history) = train_model(&config, &data, &opts, None).unwrap();
            let (first, last) = (&history[0], &history[history.len() - 1]);
            for e in 0..config.num_exits() {
                assert!(
                    last[e] < first[e],
                    "{method:?} exit {e}: {first:?} → {last:?}"
                );
            }
            let ev = evaluate(&predict(&model, &config, &val.inputs), &val.labels, 0.8);
            eprintln!(
                "{method:?}: validation accuracy per exit {:?}",
                ev.exit_accuracy
            );
            for (e, acc) in ev.exit_accuracy.iter().enumerate() {
                assert!(
                    *acc > 0.40,
                    "{method:?} exit {e}: validation accuracy {acc}"
                );
            }
        }
    }

    #[test]
    fn probes_leave_the_backbone_as_the_final_head_trains_it() {
        // Baseline with and without probes: identical backbone and final head (probes only see
        // detached maps), different internal exits.
        let names = fairscreen_synth::CLASS_NAMES.map(String::from).to_vec();
        let config = ModelConfig::tiny(names);
        let data = synth(&config, &SynthConfig::train(), 43, 128);
        let run = |probes: bool| {
            let opts = TrainOptions {
                augment: Augment::None,
                probe_exits: probes,
                ..TrainOptions::new(Method::Baseline, 1, 3, config.num_exits())
            };
            train_model(&config, &data, &opts, None).unwrap().0
        };
        let (with, without) = (run(true), run(false));
        let x = &data.inputs[..8];
        let (a, b) = (predict(&with, &config, x), predict(&without, &config, x));
        assert_eq!(a.exits[3], b.exits[3], "final head unchanged by probes");
        assert_ne!(a.exits[0], b.exits[0], "probes trained exit 0");
    }
}
