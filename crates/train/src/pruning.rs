//! Sensitive channel pruning (papers.md §3): per-channel SNNL of a conv layer w.r.t. the sensitive
//! group on the training set, pruning of the lowest-scoring channels (mask or remove mode),
//! CE fine-tuning, and the operating point a pruned model is judged by (`reproduce scp` runs the
//! sweep and the loop that repeats while FATE on validation improves).
//!
//! Models are handled in their shipped form (BN folded, `HostTensor`s + config) and fine-tuned as
//! such: like the SCP code's plain VGG-11, the fine-tuned network has no BatchNorm.

use std::collections::BTreeMap;

use anyhow::{bail, Context, Result};
use fairscreen_core::exit::SampleLogits;
use fairscreen_core::exit_analysis::{exit_points, parameter_count, policy_point, OperatingPoint};
use fairscreen_core::prune::{
    mask_channels, remove_channels, remove_masked_channels, select_lowest,
};
use fairscreen_core::snnl::{channel_snnl_scores, SnnlForm};
use fairscreen_core::{ComputeCost, ConvLayer, HostTensor, ModelConfig, MultiExitCnn};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::training::{self, Augment, Dataset, Method, TrainOptions};

/// SNNL batch size (the SCP code's scoring loader), temperature and form.
pub const SCORE_BATCH: usize = 128;
/// SNNL temperature of the SCP code.
pub const SCORE_TEMPERATURE: f64 = 1.0;

/// How pruned channels are taken out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum PruneMode {
    /// Zero the output filters and keep their biases, held during fine-tuning (the SCP code).
    Mask,
    /// Physically remove the channels and the matching inputs of their readers.
    Remove,
}

/// A model in its shipped form.
#[derive(Clone, Debug)]
pub struct HostModel {
    /// Architecture (narrowed once channels are removed).
    pub config: ModelConfig,
    /// Folded tensors.
    pub tensors: BTreeMap<String, HostTensor>,
}

impl HostModel {
    /// The burn module on the CPU backend.
    pub fn module(&self) -> Result<MultiExitCnn> {
        self.module_in(burn::tensor::FloatDType::F32)
    }

    /// The burn module on the CPU backend, computing in `dtype` (f32 or f16).
    pub fn module_in(&self, dtype: burn::tensor::FloatDType) -> Result<MultiExitCnn> {
        Ok(MultiExitCnn::from_named_tensors_as(
            &self.config,
            &self.tensors,
            &burn::prelude::Device::flex(),
            dtype,
        )?)
    }
}

/// A model being pruned: the current model, the layer, and which original channels are gone.
#[derive(Clone, Debug)]
pub struct PruneState {
    /// Current model (in mask mode: full width, pruned filters zero).
    pub model: HostModel,
    /// The pruned layer.
    pub layer: ConvLayer,
    /// Mode.
    pub mode: PruneMode,
    /// Original index of every channel the current layer holds.
    pub alive: Vec<usize>,
    /// Original indices pruned so far, in pruning order.
    pub pruned: Vec<usize>,
}

impl PruneState {
    /// Nothing pruned yet.
    pub fn new(model: HostModel, layer: ConvLayer, mode: PruneMode) -> Self {
        let width = layer.width(&model.config);
        Self {
            model,
            layer,
            mode,
            alive: (0..width).collect(),
            pruned: Vec::new(),
        }
    }

    /// Current positions (in the layer as it is now) of the channels still unpruned.
    fn live_positions(&self) -> Vec<usize> {
        match self.mode {
            PruneMode::Remove => (0..self.alive.len()).collect(),
            PruneMode::Mask => (0..self.alive.len())
                .filter(|p| !self.pruned.contains(&self.alive[*p]))
                .collect(),
        }
    }

    /// Positions of the masked filters (mask mode), to hold at zero while fine-tuning.
    pub fn masked_positions(&self) -> Vec<usize> {
        match self.mode {
            PruneMode::Remove => Vec::new(),
            PruneMode::Mask => (0..self.alive.len())
                .filter(|p| self.pruned.contains(&self.alive[*p]))
                .collect(),
        }
    }

    /// Prunes the live channels at `positions` (current indices); returns their original indices.
    pub fn prune_positions(&mut self, positions: &[usize]) -> Result<Vec<usize>> {
        let originals: Vec<usize> = positions.iter().map(|&p| self.alive[p]).collect();
        match self.mode {
            PruneMode::Mask => {
                mask_channels(
                    &self.model.config,
                    &mut self.model.tensors,
                    self.layer,
                    positions,
                    false,
                )?;
            }
            PruneMode::Remove => {
                let (config, tensors) = remove_channels(
                    &self.model.config,
                    &self.model.tensors,
                    self.layer,
                    positions,
                )?;
                self.model = HostModel { config, tensors };
                self.alive.retain(|c| !originals.contains(c));
            }
        }
        self.pruned.extend(&originals);
        Ok(originals)
    }

    /// Prunes the `n` live channels with the lowest `scores` (scores indexed by current position).
    pub fn prune_lowest(&mut self, scores: &[f64], n: usize) -> Result<Vec<usize>> {
        let live = self.live_positions();
        let live_scores: Vec<f64> = live.iter().map(|&p| scores[p]).collect();
        let chosen: Vec<usize> = select_lowest(&live_scores, n)
            .into_iter()
            .map(|i| live[i])
            .collect();
        self.prune_positions(&chosen)
    }

    /// Prunes `n` live channels drawn at random (seeded): the control for SNNL selection.
    pub fn prune_random(&mut self, n: usize, seed: u64) -> Result<Vec<usize>> {
        let mut live = self.live_positions();
        live.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
        live.truncate(n);
        live.sort_unstable();
        self.prune_positions(&live)
    }

    /// The model with the pruned channels physically removed (exact): the form that ships.
    pub fn removed(&self) -> Result<HostModel> {
        match self.mode {
            PruneMode::Remove => Ok(self.model.clone()),
            PruneMode::Mask if self.pruned.is_empty() => Ok(self.model.clone()),
            PruneMode::Mask => {
                let (config, tensors) = remove_masked_channels(
                    &self.model.config,
                    &self.model.tensors,
                    self.layer,
                    &self.masked_positions(),
                )?;
                Ok(HostModel { config, tensors })
            }
        }
    }
}

/// Mean per-channel SNNL of `layer`'s output (pre-ReLU) w.r.t. `data.groups`, over consecutive
/// batches of [`SCORE_BATCH`] images in data order (the last partial batch dropped), as the SCP
/// code scores on its training loader with test-time transforms.
pub fn channel_scores(
    model: &MultiExitCnn,
    config: &ModelConfig,
    data: &Dataset,
    layer: ConvLayer,
    form: SnnlForm,
) -> Result<Vec<f64>> {
    use burn::prelude::*;
    let device = Device::flex();
    let side = config.input_size;
    let width = layer.width(config);
    let batches = data.inputs.len() / SCORE_BATCH;
    if batches == 0 {
        bail!(
            "scoring needs at least {SCORE_BATCH} training images, got {}",
            data.inputs.len()
        );
    }
    let mut sum = vec![0.0; width];
    for b in 0..batches {
        let rows = b * SCORE_BATCH..(b + 1) * SCORE_BATCH;
        let flat: Vec<f32> = data.inputs[rows.clone()]
            .iter()
            .flatten()
            .copied()
            .collect();
        let x =
            Tensor::<4>::from_data(TensorData::new(flat, [SCORE_BATCH, 3, side, side]), &device);
        let maps = model.conv_output(x, layer);
        let shape = maps.dims();
        let values = maps
            .into_data()
            .convert::<f32>()
            .as_slice::<f32>()
            .expect("f32 maps")
            .to_vec();
        let scores =
            channel_snnl_scores(&values, shape, &data.groups[rows], SCORE_TEMPERATURE, form)
                .context("SNNL is undefined for a scoring batch")?;
        for (s, v) in sum.iter_mut().zip(scores) {
            *s += v;
        }
    }
    Ok(sum.into_iter().map(|s| s / batches as f64).collect())
}

/// Fine-tuning schedule (CE only, as the SCP code; multi-exit models: CE at every exit).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FineTune {
    /// Epochs.
    pub epochs: usize,
    /// Learning rate (constant).
    pub lr: f64,
    /// Batch size.
    pub batch_size: usize,
    /// Seed.
    pub seed: u64,
}

/// Fine-tunes `state`'s model on `data` (its masks held) and stores the result in `state`.
pub fn fine_tune(
    state: &mut PruneState,
    multi_exit: bool,
    data: &Dataset,
    schedule: &FineTune,
    label: &str,
    progress: Option<indicatif::MultiProgress>,
) -> Result<training::EpochLosses> {
    let config = state.model.config.clone();
    let method = if multi_exit {
        Method::Me
    } else {
        Method::Baseline
    };
    let opts = TrainOptions {
        batch_size: schedule.batch_size,
        lr: schedule.lr,
        lr_step: usize::MAX,
        class_balanced: true,
        augment: Augment::Full,
        init: Some(state.model.module()?),
        masks: vec![(state.layer, state.masked_positions())],
        label: label.to_string(),
        progress,
        ..TrainOptions::new(method, schedule.epochs, schedule.seed, config.num_exits())
    };
    let (model, history) = training::train_model(&config, data, &opts, None)?;
    state.model.tensors = model.named_tensors()?;
    Ok(history)
}

/// The operating point a model is judged by: the early-exit policy at θ for multi-exit models,
/// the final head otherwise; with exit logits of `inputs` from the CPU backend.
pub fn operating_point(
    model: &HostModel,
    multi_exit: bool,
    theta: f32,
    inputs: &[Vec<f32>],
    labels: &[usize],
    groups: &[usize],
) -> Result<OperatingPoint> {
    let module = model.module()?;
    let logits = training::predict_with_features(&module, &model.config, inputs).logits;
    Ok(point_of_logits(
        &model.config,
        &logits,
        multi_exit,
        theta,
        labels,
        groups,
    ))
}

/// The operating point of per-sample exit logits (see [`operating_point`]).
pub fn point_of_logits(
    config: &ModelConfig,
    logits: &[SampleLogits],
    multi_exit: bool,
    theta: f32,
    labels: &[usize],
    groups: &[usize],
) -> OperatingPoint {
    if multi_exit {
        policy_point(config, logits, labels, groups, theta)
    } else {
        exit_points(config, logits, labels, groups)
            .pop()
            .expect("final exit")
    }
}

/// Size and compute of the shipped (removed) form of a model.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ModelSize {
    /// Parameters of the file.
    pub parameters: usize,
    /// MACs of the full network (all stages + final head).
    pub macs_full: u64,
    /// f32 bytes of the parameters.
    pub weight_bytes: usize,
}

impl ModelSize {
    /// Of `config`.
    pub fn of(config: &ModelConfig) -> Self {
        let parameters = parameter_count(config);
        Self {
            parameters,
            macs_full: ComputeCost::of(config).full_network(),
            weight_bytes: parameters * 4,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::prelude::*;

    fn host_model(seed: u64) -> HostModel {
        let names = fairscreen_synth::CLASS_NAMES.map(String::from).to_vec();
        let config = ModelConfig::tiny(names);
        let device = Device::flex();
        device.seed(seed);
        let tensors = MultiExitCnn::new(&config, false, &device)
            .named_tensors()
            .unwrap();
        HostModel { config, tensors }
    }

    /// Scores by current position: channel `p` scores `p` (so the lowest positions go first).
    fn ramp(n: usize) -> Vec<f64> {
        (0..n).map(|p| p as f64).collect()
    }

    #[test]
    fn remove_mode_tracks_original_channels_across_steps() {
        let m = host_model(1);
        let layer = ConvLayer::last(&m.config);
        let mut st = PruneState::new(m, layer, PruneMode::Remove);
        assert_eq!(st.prune_positions(&[1, 3]).unwrap(), vec![1, 3]);
        assert_eq!(st.model.config.stage_output(3), 126);
        // Position 1 now holds original channel 2, position 2 holds original 4.
        let mut scores = vec![10.0; 126];
        scores[1] = 0.0;
        scores[2] = 1.0;
        assert_eq!(st.prune_lowest(&scores, 2).unwrap(), vec![2, 4]);
        assert_eq!(st.pruned, vec![1, 3, 2, 4]);
        assert_eq!(st.alive.len(), 124);
        assert!(st.masked_positions().is_empty());
        assert_eq!(st.removed().unwrap().config.stage_output(3), 124);
    }

    #[test]
    fn mask_mode_never_prunes_a_channel_twice() {
        let m = host_model(2);
        let layer = ConvLayer::last(&m.config);
        let mut st = PruneState::new(m, layer, PruneMode::Mask);
        assert_eq!(st.prune_lowest(&ramp(128), 3).unwrap(), vec![0, 1, 2]);
        // The same scores again: the next three, not the masked ones.
        assert_eq!(st.prune_lowest(&ramp(128), 3).unwrap(), vec![3, 4, 5]);
        assert_eq!(st.masked_positions(), vec![0, 1, 2, 3, 4, 5]);
        assert_eq!(
            st.model.config.stage_output(3),
            128,
            "mask mode keeps the width"
        );
        let w = &st.model.tensors["stages.3.1.weight"];
        assert!(w.values[..6 * 128 * 9].iter().all(|v| *v == 0.0));
        assert!(w.values[6 * 128 * 9..7 * 128 * 9].iter().any(|v| *v != 0.0));
        assert_eq!(st.removed().unwrap().config.stage_output(3), 122);
        // Random control: seeded, distinct, never a pruned channel.
        let mut a = st.clone();
        let mut b = st.clone();
        let ra = a.prune_random(10, 5).unwrap();
        assert_eq!(ra, b.prune_random(10, 5).unwrap());
        assert_eq!(ra.len(), 10);
        assert!(ra.iter().all(|c| *c >= 6));
    }

    #[test]
    fn fine_tuning_holds_the_masked_filters_at_zero() {
        let m = host_model(3);
        let layer = ConvLayer::last(&m.config);
        let mut st = PruneState::new(m, layer, PruneMode::Mask);
        st.prune_positions(&[0, 7]).unwrap();
        let before = st.model.tensors.clone();
        let data = crate::synth_data::generate(
            &fairscreen_synth::SynthConfig::train(),
            9,
            128,
            "test data",
        );
        let schedule = FineTune {
            epochs: 1,
            lr: 0.01,
            batch_size: 32,
            seed: 4,
        };
        fine_tune(&mut st, true, &data, &schedule, "test", None).unwrap();
        let w = &st.model.tensors["stages.3.1.weight"];
        let per = 128 * 9;
        assert!(w.values[..per].iter().all(|v| *v == 0.0));
        assert!(w.values[7 * per..8 * per].iter().all(|v| *v == 0.0));
        // Everything else trained: the other filters and the kept biases moved.
        assert_ne!(
            w.values[per..2 * per],
            before["stages.3.1.weight"].values[per..2 * per]
        );
        let b = &st.model.tensors["stages.3.1.bias"];
        assert_ne!(b.values[0], 0.0, "mask mode keeps (and trains) the bias");
        assert_ne!(st.model.tensors["head.fc.weight"], before["head.fc.weight"]);
    }
}
