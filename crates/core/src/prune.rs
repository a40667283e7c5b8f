//! Channel pruning of a conv layer (papers.md §3.2–3.3): pick the lowest-scoring channels, then
//! prune them either by **mask** (zero the output filters and keep their biases, as the SCP code's
//! `custom_from_mask`: a pruned channel then outputs the constant `ReLU(bias)`) or by **removal**
//! (drop the channels and the matching input channels of every layer that reads them, so the model
//! is smaller and faster). Works on the folded inference tensors ([`HostTensor`]s named as in
//! [`ModelConfig::tensor_shapes`]); [`MultiExitCnn::remove_channels`] does the same on a trainable
//! model with BatchNorm. Every operation checks the channel list the same way ([`PruneError`]).

use std::collections::BTreeMap;
use std::fmt;

use burn::module::{Param, RunningState};
use burn::prelude::*;

use crate::config::{ConvLayer, LayerError, ModelConfig};
use crate::model::{ConvUnit, HostTensor, MultiExitCnn};

/// Where the channels of a layer are read, as (tensor name, axis of the input channels).
pub fn consumers(config: &ModelConfig, layer: ConvLayer) -> Vec<(String, usize)> {
    let (s, u) = (layer.stage, layer.unit);
    if !layer.is_stage_output(config) {
        return vec![(format!("stages.{s}.{}.weight", u + 1), 1)];
    }
    let mut out = Vec::new();
    if s + 1 < config.widths.len() {
        out.push((format!("stages.{}.0.weight", s + 1), 1));
    }
    for (e, &stage) in config.exit_stages.iter().enumerate() {
        if stage == s {
            out.push((format!("exits.{e}.conv.weight"), 1));
        }
    }
    if s + 1 == config.widths.len() {
        // Linear weights are stored [in, out].
        out.push(("head.fc.weight".into(), 0));
    }
    out
}

/// The `n` lowest-scoring channels (ties to the lower index), sorted by index. The SCP code takes
/// `{c : score[c] < sorted(score)[n]}`, which is the same set when no scores tie. `NaN` scores
/// sort last (never pruned before a finite one).
pub fn select_lowest(scores: &[f64], n: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| {
        let (x, y) = (scores[a], scores[b]);
        match (x.is_nan(), y.is_nan()) {
            (true, true) => a.cmp(&b),
            (true, false) => std::cmp::Ordering::Greater,
            (false, true) => std::cmp::Ordering::Less,
            _ => x.total_cmp(&y).then(a.cmp(&b)),
        }
    });
    let mut chosen: Vec<usize> = order.into_iter().take(n).collect();
    chosen.sort_unstable();
    chosen
}

/// Checks that `layer` exists and that `channels` are distinct channels of it, leaving at least
/// one; returns the layer's width.
fn checked_channels(
    config: &ModelConfig,
    layer: ConvLayer,
    channels: &[usize],
) -> Result<usize, PruneError> {
    layer.check(config)?;
    let width = layer.width(config);
    if let Some(&c) = channels.iter().find(|&&c| c >= width) {
        return Err(PruneError::NoSuchChannel {
            channel: c,
            layer,
            width,
        });
    }
    let mut sorted = channels.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    if sorted.len() != channels.len() {
        return Err(PruneError::ListedTwice);
    }
    if channels.len() >= width {
        return Err(PruneError::AllChannels { layer, width });
    }
    Ok(width)
}

fn tensor_mut<'a>(
    tensors: &'a mut BTreeMap<String, HostTensor>,
    name: &str,
) -> Result<&'a mut HostTensor, PruneError> {
    tensors
        .get_mut(name)
        .ok_or_else(|| PruneError::MissingTensor(name.to_string()))
}

/// Mask mode on folded tensors: zeroes the output filters of `channels` in `layer`; their biases
/// are kept (the SCP code) unless `zero_bias`.
pub fn mask_channels(
    config: &ModelConfig,
    tensors: &mut BTreeMap<String, HostTensor>,
    layer: ConvLayer,
    channels: &[usize],
    zero_bias: bool,
) -> Result<(), PruneError> {
    checked_channels(config, layer, channels)?;
    let w = tensor_mut(tensors, &format!("{}.weight", layer.name()))?;
    let per_filter: usize = w.shape[1..].iter().product();
    for &c in channels {
        w.values[c * per_filter..(c + 1) * per_filter].fill(0.0);
    }
    if zero_bias {
        let b = tensor_mut(tensors, &format!("{}.bias", layer.name()))?;
        for &c in channels {
            b.values[c] = 0.0;
        }
    }
    Ok(())
}

/// Keeps the indices `keep` along `axis` of a row-major tensor.
pub fn keep_along(t: &HostTensor, axis: usize, keep: &[usize]) -> HostTensor {
    let outer: usize = t.shape[..axis].iter().product();
    let inner: usize = t.shape[axis + 1..].iter().product();
    let dim = t.shape[axis];
    let mut values = Vec::with_capacity(outer * keep.len() * inner);
    for o in 0..outer {
        for &k in keep {
            let start = (o * dim + k) * inner;
            values.extend_from_slice(&t.values[start..start + inner]);
        }
    }
    let mut shape = t.shape.clone();
    shape[axis] = keep.len();
    HostTensor { shape, values }
}

/// The channels of a layer of width `width` that stay when `removed` go, ascending.
pub fn kept_channels(width: usize, removed: &[usize]) -> Vec<usize> {
    (0..width).filter(|c| !removed.contains(c)).collect()
}

/// `config` with `layer` narrowed to `kept` channels.
pub fn narrowed_config(config: &ModelConfig, layer: ConvLayer, kept: usize) -> ModelConfig {
    let mut out = config.clone();
    let mut units: Vec<Vec<usize>> = (0..config.widths.len())
        .map(|s| {
            (0..config.convs_per_stage)
                .map(|u| config.unit_width(s, u))
                .collect()
        })
        .collect();
    units[layer.stage][layer.unit] = kept;
    out.unit_widths = Some(units);
    out
}

/// Remove mode on folded tensors: drops `channels` of `layer` (filters and biases) and the
/// matching input channels of every consumer; returns the narrowed config and tensors.
pub fn remove_channels(
    config: &ModelConfig,
    tensors: &BTreeMap<String, HostTensor>,
    layer: ConvLayer,
    channels: &[usize],
) -> Result<(ModelConfig, BTreeMap<String, HostTensor>), PruneError> {
    let width = checked_channels(config, layer, channels)?;
    let keep = kept_channels(width, channels);
    let mut out = tensors.clone();
    for (name, axis) in [
        (format!("{}.weight", layer.name()), 0),
        (format!("{}.bias", layer.name()), 0),
    ]
    .into_iter()
    .chain(consumers(config, layer))
    {
        let t = tensor_mut(&mut out, &name)?;
        *t = keep_along(t, axis, &keep);
    }
    Ok((narrowed_config(config, layer, keep.len()), out))
}

/// Mask-mode channels of the last conv of the final stage, removed **exactly**: in mask mode a
/// pruned channel outputs the constant `ReLU(bias)`, which reaches the logits only through the
/// head's GAP → Linear, so its contribution `ReLU(b_c) · W_head[c, :]` moves into the head's bias
/// before the channel is removed. (For a layer read by a padded conv the constant is not exactly
/// foldable; prune such layers in remove mode from the start.)
pub fn remove_masked_channels(
    config: &ModelConfig,
    tensors: &BTreeMap<String, HostTensor>,
    layer: ConvLayer,
    channels: &[usize],
) -> Result<(ModelConfig, BTreeMap<String, HostTensor>), PruneError> {
    if layer != ConvLayer::last(config) {
        return Err(PruneError::NotFoldable(layer));
    }
    checked_channels(config, layer, channels)?;
    let mut folded = tensors.clone();
    let bias = folded
        .get(&format!("{}.bias", layer.name()))
        .ok_or_else(|| PruneError::MissingTensor(format!("{}.bias", layer.name())))?
        .values
        .clone();
    let weight = folded
        .get("head.fc.weight")
        .ok_or_else(|| PruneError::MissingTensor("head.fc.weight".into()))?
        .clone();
    let k = weight.shape[1];
    let head_bias = tensor_mut(&mut folded, "head.fc.bias")?;
    for &c in channels {
        let v = bias[c].max(0.0);
        for j in 0..k {
            head_bias.values[j] += v * weight.values[c * k + j];
        }
    }
    remove_channels(config, &folded, layer, channels)
}

/// Keeps `idx` along `dim` of a parameter (a new trainable parameter).
fn keep_param<const D: usize>(
    p: &Param<Tensor<D>>,
    dim: usize,
    idx: &Tensor<1, Int>,
) -> Param<Tensor<D>> {
    Param::from_tensor(p.val().select(dim, idx.clone()))
}

/// Keeps output channels `idx` of a conv unit: filters, bias and BatchNorm entries.
fn keep_unit_outputs(unit: &mut ConvUnit, idx: &Tensor<1, Int>) {
    unit.conv.weight = keep_param(&unit.conv.weight, 0, idx);
    if let Some(b) = &unit.conv.bias {
        unit.conv.bias = Some(keep_param(b, 0, idx));
    }
    if let Some(bn) = &mut unit.bn {
        bn.gamma = keep_param(&bn.gamma, 0, idx);
        bn.beta = keep_param(&bn.beta, 0, idx);
        bn.running_mean = RunningState::new(bn.running_mean.value().select(0, idx.clone()));
        bn.running_var = RunningState::new(bn.running_var.value().select(0, idx.clone()));
    }
}

impl MultiExitCnn {
    /// Physically removes output channels `removed` of conv `layer` and the matching input
    /// channels of every layer that reads them ([`consumers`]), BatchNorm entries included; works
    /// on the trainable and the folded model. The result has the shapes of [`narrowed_config`];
    /// every kept weight is unchanged.
    pub fn remove_channels(
        mut self,
        config: &ModelConfig,
        layer: ConvLayer,
        removed: &[usize],
    ) -> Result<Self, PruneError> {
        let width = checked_channels(config, layer, removed)?;
        let keep = kept_channels(width, removed);
        let device = self.head.fc.weight.val().device();
        let idx = Tensor::<1, Int>::from_data(
            TensorData::new(keep.iter().map(|&k| k as i64).collect(), [keep.len()]),
            &device,
        );
        keep_unit_outputs(&mut self.stages[layer.stage][layer.unit], &idx);
        for (name, axis) in consumers(config, layer) {
            let parts: Vec<&str> = name.split('.').collect();
            match parts.as_slice() {
                ["stages", s, u, "weight"] => {
                    let (s, u): (usize, usize) =
                        (s.parse().expect("index"), u.parse().expect("index"));
                    let conv = &mut self.stages[s][u].conv;
                    conv.weight = keep_param(&conv.weight, axis, &idx);
                }
                ["exits", e, "conv", "weight"] => {
                    let conv = &mut self.exits[e.parse::<usize>().expect("index")].conv.conv;
                    conv.weight = keep_param(&conv.weight, axis, &idx);
                }
                ["head", "fc", "weight"] => {
                    self.head.fc.weight = keep_param(&self.head.fc.weight, axis, &idx);
                }
                _ => return Err(PruneError::UnknownConsumer(name)),
            }
        }
        Ok(self)
    }
}

/// Why channels cannot be pruned.
#[derive(Clone, Debug, PartialEq)]
pub enum PruneError {
    /// The layer does not exist in the model.
    Layer(LayerError),
    /// A listed channel is beyond the layer's width.
    NoSuchChannel {
        /// The channel.
        channel: usize,
        /// The layer.
        layer: ConvLayer,
        /// Its width.
        width: usize,
    },
    /// A channel is listed more than once.
    ListedTwice,
    /// Every channel of the layer is listed.
    AllChannels {
        /// The layer.
        layer: ConvLayer,
        /// Its width.
        width: usize,
    },
    /// A tensor the operation needs is absent.
    MissingTensor(String),
    /// Mask-mode constants of a layer read by a padded conv cannot move into a bias.
    NotFoldable(ConvLayer),
    /// A consumer tensor the trainable model does not have.
    UnknownConsumer(String),
}

impl fmt::Display for PruneError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Layer(e) => e.fmt(f),
            Self::NoSuchChannel {
                channel,
                layer,
                width,
            } => write!(
                f,
                "channel {channel} does not exist: {} has {width} channels",
                layer.name()
            ),
            Self::ListedTwice => write!(f, "a channel is listed twice"),
            Self::AllChannels { layer, width } => {
                write!(f, "cannot prune all {width} channels of {}", layer.name())
            }
            Self::MissingTensor(name) => write!(f, "missing tensor '{name}'"),
            Self::NotFoldable(layer) => write!(
                f,
                "{} is read by a padded conv: its mask-mode constants cannot be folded exactly; \
                 prune it in remove mode",
                layer.name()
            ),
            Self::UnknownConsumer(name) => write!(f, "unknown consumer tensor '{name}'"),
        }
    }
}

impl std::error::Error for PruneError {}

impl From<LayerError> for PruneError {
    fn from(e: LayerError) -> Self {
        Self::Layer(e)
    }
}
