//! Channel pruning of a conv layer (papers.md §3.2–3.3): pick the lowest-scoring channels, then
//! prune them either by **mask** (zero the output filters and keep their biases, as the SCP code's
//! `custom_from_mask`: a pruned channel then outputs the constant `ReLU(bias)`) or by **removal**
//! (drop the channels and the matching input channels of every layer that reads them, so the model
//! is smaller and faster). Works on the folded inference tensors ([`HostTensor`]s named as in
//! [`ModelConfig::tensor_shapes`]); [`crate::model::MultiExitCnn::remove_channels`] does the same on
//! a trainable model with BatchNorm.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::model::{HostTensor, ModelConfig};

/// A prunable conv layer: conv unit `unit` of backbone stage `stage` (0-based).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConvLayer {
    /// Backbone stage.
    pub stage: usize,
    /// Conv unit within the stage.
    pub unit: usize,
}

impl ConvLayer {
    /// The last conv of the final stage: the SCP paper's "last convolutional layer" (default).
    pub fn last(config: &ModelConfig) -> Self {
        Self::stage_last(config, config.widths.len() - 1)
    }

    /// The last conv of stage `stage` (the layer whose channels leave the stage).
    pub fn stage_last(config: &ModelConfig, stage: usize) -> Self {
        Self {
            stage,
            unit: config.convs_per_stage - 1,
        }
    }

    /// Tensor name prefix, e.g. `stages.3.1`.
    pub fn name(&self) -> String {
        format!("stages.{}.{}", self.stage, self.unit)
    }

    /// Parses `stages.S.U` (or `S.U`) and checks it exists in `config`.
    pub fn parse(text: &str, config: &ModelConfig) -> Result<Self, String> {
        let body = text.strip_prefix("stages.").unwrap_or(text);
        let parts: Vec<&str> = body.split('.').collect();
        let parsed = match parts.as_slice() {
            [s, u] => s.parse().ok().zip(u.parse().ok()),
            _ => None,
        };
        let Some((stage, unit)) = parsed else {
            return Err(format!(
                "'{text}' is not a conv layer name like stages.3.1 (stage.unit)"
            ));
        };
        let layer = Self { stage, unit };
        layer.check(config)?;
        Ok(layer)
    }

    /// Whether the layer exists in `config`.
    pub fn check(&self, config: &ModelConfig) -> Result<(), String> {
        if self.stage >= config.widths.len() || self.unit >= config.convs_per_stage {
            return Err(format!(
                "conv layer {} does not exist: the model has {} stages of {} conv units",
                self.name(),
                config.widths.len(),
                config.convs_per_stage
            ));
        }
        Ok(())
    }

    /// Output channels of the layer in `config`.
    pub fn width(&self, config: &ModelConfig) -> usize {
        config.unit_width(self.stage, self.unit)
    }

    /// Whether the layer's channels leave its stage (read by the next stage, an exit or the head).
    pub fn is_stage_output(&self, config: &ModelConfig) -> bool {
        self.unit + 1 == config.convs_per_stage
    }
}

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

fn checked_channels(
    config: &ModelConfig,
    layer: ConvLayer,
    channels: &[usize],
) -> Result<usize, String> {
    layer.check(config)?;
    let width = layer.width(config);
    if let Some(&c) = channels.iter().find(|&&c| c >= width) {
        return Err(format!(
            "channel {c} does not exist: {} has {width} channels",
            layer.name()
        ));
    }
    let mut sorted = channels.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    if sorted.len() != channels.len() {
        return Err("a channel is listed twice".into());
    }
    if channels.len() >= width {
        return Err(format!(
            "cannot prune all {width} channels of {}",
            layer.name()
        ));
    }
    Ok(width)
}

fn tensor_mut<'a>(
    tensors: &'a mut BTreeMap<String, HostTensor>,
    name: &str,
) -> Result<&'a mut HostTensor, String> {
    tensors
        .get_mut(name)
        .ok_or_else(|| format!("missing tensor '{name}'"))
}

/// Mask mode on folded tensors: zeroes the output filters of `channels` in `layer`; their biases
/// are kept (the SCP code) unless `zero_bias`.
pub fn mask_channels(
    config: &ModelConfig,
    tensors: &mut BTreeMap<String, HostTensor>,
    layer: ConvLayer,
    channels: &[usize],
    zero_bias: bool,
) -> Result<(), String> {
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
) -> Result<(ModelConfig, BTreeMap<String, HostTensor>), String> {
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
) -> Result<(ModelConfig, BTreeMap<String, HostTensor>), String> {
    if layer != ConvLayer::last(config) {
        return Err(format!(
            "{} is read by a padded conv: its mask-mode constants cannot be folded exactly; \
             prune it in remove mode",
            layer.name()
        ));
    }
    checked_channels(config, layer, channels)?;
    let mut folded = tensors.clone();
    let bias = folded
        .get(&format!("{}.bias", layer.name()))
        .ok_or_else(|| format!("missing tensor '{}.bias'", layer.name()))?
        .values
        .clone();
    let weight = folded
        .get("head.fc.weight")
        .ok_or("missing tensor 'head.fc.weight'")?
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
