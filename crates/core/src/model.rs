//! The multi-exit CNN: config, burn module, forward pass over every exit, BN folding, named tensors.
//!
//! Written once against burn 0.22's runtime `Device` (flex CPU, wgpu/WebGPU, autodiff for training).
//! Architecture (`tiny`): four plain (VGG-style) stages of two 3×3 conv units each; the first conv of
//! every stage has stride 2. An internal classifier (exit) follows stages 1–3: conv3×3 unit (stride
//! `exit_stride`) → global
//! average pooling → Linear. The final head is GAP → Linear on the last stage. Every exit therefore
//! ends in GAP → Linear, so its class activation map is exact. Plain stages (no residual adds) keep
//! physical channel removal exact for any conv (see DESIGN notes in the README).

use std::collections::BTreeMap;

use burn::module::{Param, RunningState};
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, Linear, LinearConfig, PaddingConfig2d};
use burn::prelude::*;
use burn::tensor::activation::relu;
use burn::tensor::{DType, FloatDType};
use serde::{Deserialize, Serialize};

use crate::prune::{consumers, kept_channels, ConvLayer};

/// BatchNorm epsilon used by training and by folding.
pub const BN_EPSILON: f64 = 1e-5;

/// Architecture description stored in the model card; everything needed to rebuild the network.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelConfig {
    /// Architecture family name (`tiny`).
    pub arch: String,
    /// Square input side in pixels.
    pub input_size: usize,
    /// Output channels of each stage.
    pub widths: Vec<usize>,
    /// Conv units per stage (the first one has stride 2).
    pub convs_per_stage: usize,
    /// Stages (0-based) followed by an internal exit; the final head always follows the last stage.
    pub exit_stages: Vec<usize>,
    /// Channels of each internal exit's conv unit.
    pub exit_width: usize,
    /// Stride of each internal exit's conv unit (2 halves its cost and its CAM resolution).
    pub exit_stride: usize,
    /// Class names; their count is the number of logits of every exit.
    pub class_names: Vec<String>,
    /// Per-channel mean subtracted from inputs in [0, 1].
    pub mean: [f32; 3],
    /// Per-channel std dividing inputs after mean subtraction.
    pub std: [f32; 3],
    /// Output channels of every conv unit, per stage, once channels were physically removed
    /// (pruned models); absent: every unit of stage `s` has `widths[s]` channels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit_widths: Option<Vec<Vec<usize>>>,
}

impl ModelConfig {
    /// The `tiny` browser model: widths 16/32/64/128, exits after stages 1–3, 64 px input.
    pub fn tiny(class_names: Vec<String>) -> Self {
        Self {
            arch: "tiny".into(),
            input_size: 64,
            widths: vec![16, 32, 64, 128],
            convs_per_stage: 2,
            exit_stages: vec![0, 1, 2],
            exit_width: 32,
            exit_stride: 2,
            class_names,
            mean: [0.5, 0.5, 0.5],
            std: [0.25, 0.25, 0.25],
            unit_widths: None,
        }
    }

    /// Output channels of conv unit `u` of stage `s`.
    pub fn unit_width(&self, s: usize, u: usize) -> usize {
        match &self.unit_widths {
            Some(w) => w[s][u],
            None => self.widths[s],
        }
    }

    /// Input channels of conv unit `u` of stage `s` (3 for the very first).
    pub fn unit_inputs(&self, s: usize, u: usize) -> usize {
        match (s, u) {
            (0, 0) => 3,
            (s, 0) => self.stage_output(s - 1),
            (s, u) => self.unit_width(s, u - 1),
        }
    }

    /// Channels leaving stage `s` (its last unit's width): what its exit and the next stage see.
    pub fn stage_output(&self, s: usize) -> usize {
        self.unit_width(s, self.convs_per_stage - 1)
    }

    /// Number of classes.
    pub fn num_classes(&self) -> usize {
        self.class_names.len()
    }

    /// Number of exits including the final head.
    pub fn num_exits(&self) -> usize {
        self.exit_stages.len() + 1
    }

    /// Checks that the config describes a buildable network.
    pub fn validate(&self) -> Result<(), String> {
        if self.arch != "tiny" {
            return Err(format!(
                "unknown architecture '{}' (expected 'tiny')",
                self.arch
            ));
        }
        if self.widths.is_empty() || self.widths.contains(&0) {
            return Err("widths must be non-empty and positive".into());
        }
        if !(1..=2).contains(&self.exit_stride) {
            return Err(format!("exit_stride {} must be 1 or 2", self.exit_stride));
        }
        if self.convs_per_stage == 0 {
            return Err("convs_per_stage must be at least 1".into());
        }
        if self.class_names.len() < 2 {
            return Err("at least two classes are needed".into());
        }
        let last = self.widths.len() - 1;
        let mut prev = None;
        for &s in &self.exit_stages {
            if s >= last {
                return Err(format!(
                    "exit after stage {s} must precede the last stage {last}"
                ));
            }
            if prev.is_some_and(|p| s <= p) {
                return Err("exit_stages must be strictly increasing".into());
            }
            prev = Some(s);
        }
        let min_side = 1usize << self.widths.len();
        if self.input_size < min_side || !self.input_size.is_multiple_of(min_side) {
            return Err(format!(
                "input_size {} must be a positive multiple of {min_side}",
                self.input_size
            ));
        }
        if self.std.iter().any(|&s| s.is_nan() || s <= 0.0) {
            return Err("std must be positive".into());
        }
        if let Some(units) = &self.unit_widths {
            let ok = units.len() == self.widths.len()
                && units
                    .iter()
                    .all(|st| st.len() == self.convs_per_stage && !st.contains(&0));
            if !ok {
                return Err(format!(
                    "unit_widths must list {} positive widths for each of the {} stages",
                    self.convs_per_stage,
                    self.widths.len()
                ));
            }
        }
        Ok(())
    }

    /// Spatial side of the feature map after stage `s`.
    pub fn side_after_stage(&self, s: usize) -> usize {
        self.input_size >> (s + 1)
    }

    /// Spatial side of internal exit `e`'s conv maps (its CAM resolution).
    pub fn exit_side(&self, e: usize) -> usize {
        self.side_after_stage(self.exit_stages[e])
            .div_ceil(self.exit_stride)
    }

    /// Shapes of every named tensor of the inference (BN-folded) model, in canonical order.
    pub fn tensor_shapes(&self) -> Vec<(String, Vec<usize>)> {
        let mut out = Vec::new();
        let conv = |out: &mut Vec<(String, Vec<usize>)>, name: String, cin: usize, cout: usize| {
            out.push((format!("{name}.weight"), vec![cout, cin, 3, 3]));
            out.push((format!("{name}.bias"), vec![cout]));
        };
        for s in 0..self.widths.len() {
            for u in 0..self.convs_per_stage {
                conv(
                    &mut out,
                    format!("stages.{s}.{u}"),
                    self.unit_inputs(s, u),
                    self.unit_width(s, u),
                );
            }
        }
        let k = self.num_classes();
        for (e, &s) in self.exit_stages.iter().enumerate() {
            conv(
                &mut out,
                format!("exits.{e}.conv"),
                self.stage_output(s),
                self.exit_width,
            );
            out.push((format!("exits.{e}.fc.weight"), vec![self.exit_width, k]));
            out.push((format!("exits.{e}.fc.bias"), vec![k]));
        }
        let last = self.stage_output(self.widths.len() - 1);
        out.push(("head.fc.weight".into(), vec![last, k]));
        out.push(("head.fc.bias".into(), vec![k]));
        out
    }
}

/// 3×3 convolution followed (during training) by BatchNorm, then ReLU.
#[derive(Module, Debug)]
pub struct ConvUnit {
    /// The convolution (with bias once BN is folded into it).
    pub conv: Conv2d,
    /// BatchNorm; `None` in the folded inference model.
    pub bn: Option<BatchNorm>,
}

impl ConvUnit {
    fn new(cin: usize, cout: usize, stride: usize, with_bn: bool, device: &Device) -> Self {
        let conv = Conv2dConfig::new([cin, cout], [3, 3])
            .with_stride([stride, stride])
            .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
            .with_bias(!with_bn)
            .init(device);
        let bn = with_bn.then(|| {
            BatchNormConfig::new(cout)
                .with_epsilon(BN_EPSILON)
                .init(device)
        });
        Self { conv, bn }
    }

    /// conv → BN (if any) → ReLU.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        relu(self.pre_activation(x))
    }

    /// conv → BN (if any), before the ReLU.
    pub fn pre_activation(&self, x: Tensor<4>) -> Tensor<4> {
        let y = self.conv.forward(x);
        match &self.bn {
            Some(bn) => bn.forward(y),
            None => y,
        }
    }
}

/// An internal classifier: conv unit → GAP → Linear.
#[derive(Module, Debug)]
pub struct ExitHead {
    /// Conv unit producing the maps whose GAP feeds `fc` (CAM maps).
    pub conv: ConvUnit,
    /// Linear classifier on the pooled features.
    pub fc: Linear,
}

/// The final head: GAP → Linear on the last stage's maps.
#[derive(Module, Debug)]
pub struct FinalHead {
    /// Linear classifier on the pooled features.
    pub fc: Linear,
}

/// Everything a forward pass produces: logits and the pooled features of every exit.
pub struct ExitOutputs {
    /// Logits `[B, K]` per exit, shallow to deep; the last one is the final head.
    pub logits: Vec<Tensor<2>>,
    /// Pooled features `[B, C_e]` per exit (the inputs of each exit's Linear).
    pub features: Vec<Tensor<2>>,
    /// Maps `[B, C_e, H_e, W_e]` per exit whose global average is `features` (their class
    /// activation maps are exact, see [`crate::cam`]).
    pub maps: Vec<Tensor<4>>,
}

/// Multi-exit CNN (see module docs).
#[derive(Module, Debug)]
pub struct MultiExitCnn {
    /// Backbone stages, each a list of conv units.
    pub stages: Vec<Vec<ConvUnit>>,
    /// Internal exits after the stages listed in the config.
    pub exits: Vec<ExitHead>,
    /// Final head after the last stage.
    pub head: FinalHead,
    /// Stage index each internal exit follows.
    pub exit_stages: Vec<usize>,
}

fn global_avg_pool(x: Tensor<4>) -> Tensor<2> {
    let [b, c, _, _] = x.dims();
    x.mean_dims(&[2, 3]).reshape([b, c])
}

impl MultiExitCnn {
    /// A freshly initialised model; `with_bn` gives the trainable form (conv without bias + BN).
    pub fn new(config: &ModelConfig, with_bn: bool, device: &Device) -> Self {
        let k = config.num_classes();
        let stages = (0..config.widths.len())
            .map(|s| {
                (0..config.convs_per_stage)
                    .map(|u| {
                        let stride = if u == 0 { 2 } else { 1 };
                        ConvUnit::new(
                            config.unit_inputs(s, u),
                            config.unit_width(s, u),
                            stride,
                            with_bn,
                            device,
                        )
                    })
                    .collect()
            })
            .collect();
        let exits = config
            .exit_stages
            .iter()
            .map(|&s| ExitHead {
                conv: ConvUnit::new(
                    config.stage_output(s),
                    config.exit_width,
                    config.exit_stride,
                    with_bn,
                    device,
                ),
                fc: LinearConfig::new(config.exit_width, k).init(device),
            })
            .collect();
        let head = FinalHead {
            fc: LinearConfig::new(config.stage_output(config.widths.len() - 1), k).init(device),
        };
        Self {
            stages,
            exits,
            head,
            exit_stages: config.exit_stages.clone(),
        }
    }

    /// Logits and pooled features of every exit for a batch `[B, 3, H, W]`.
    pub fn forward_all(&self, x: Tensor<4>) -> ExitOutputs {
        self.forward_exits(x, false)
    }

    /// As [`Self::forward_all`], but each internal exit sees its stage's maps detached, so losses
    /// on internal exits train those heads only: probes of a backbone trained by the final head.
    pub fn forward_probes(&self, x: Tensor<4>) -> ExitOutputs {
        self.forward_exits(x, true)
    }

    /// Float dtype the forward pass computes in: f16 for a model built in half precision, f32
    /// otherwise (also when burn holds the weights quantized: it dequantizes them to f32).
    pub fn compute_dtype(&self) -> FloatDType {
        match self.stages[0][0].conv.weight.val().dtype() {
            DType::F16 => FloatDType::F16,
            _ => FloatDType::F32,
        }
    }

    fn forward_exits(&self, x: Tensor<4>, detach_exits: bool) -> ExitOutputs {
        let mut logits = Vec::with_capacity(self.exits.len() + 1);
        let mut features = Vec::with_capacity(self.exits.len() + 1);
        let mut maps = Vec::with_capacity(self.exits.len() + 1);
        // Inputs arrive as f32; an f16 model computes in f16 (a no-op cast for f32 models).
        let mut h = x.cast(self.compute_dtype());
        let mut next_exit = 0;
        for (s, stage) in self.stages.iter().enumerate() {
            for unit in stage {
                h = unit.forward(h);
            }
            while next_exit < self.exits.len() && self.exit_stages[next_exit] == s {
                let exit = &self.exits[next_exit];
                let input = if detach_exits {
                    h.clone().detach()
                } else {
                    h.clone()
                };
                let m = exit.conv.forward(input);
                let pooled = global_avg_pool(m.clone());
                logits.push(exit.fc.forward(pooled.clone()));
                features.push(pooled);
                maps.push(m);
                next_exit += 1;
            }
        }
        let pooled = global_avg_pool(h.clone());
        logits.push(self.head.fc.forward(pooled.clone()));
        features.push(pooled);
        maps.push(h);
        ExitOutputs {
            logits,
            features,
            maps,
        }
    }

    /// Output of conv `layer` (after its BatchNorm, before its ReLU) for a batch `[B, 3, H, W]`:
    /// the maps whose channels SNNL scores (the SCP code scores VGG's conv output, pre-ReLU).
    pub fn conv_output(&self, x: Tensor<4>, layer: ConvLayer) -> Tensor<4> {
        let mut h = x.cast(self.compute_dtype());
        for (s, stage) in self.stages.iter().enumerate() {
            for (u, unit) in stage.iter().enumerate() {
                if (s, u) == (layer.stage, layer.unit) {
                    return unit.pre_activation(h);
                }
                h = unit.forward(h);
            }
        }
        panic!("conv layer {} is not in the model", layer.name())
    }

    /// Logits `[B, K]` of every exit, shallow to deep (final head last).
    pub fn forward(&self, x: Tensor<4>) -> Vec<Tensor<2>> {
        self.forward_all(x).logits
    }

    /// The inference form: every BN folded into its conv (exact up to float rounding).
    pub fn fold_batchnorm(self) -> Self {
        let fold = |u: ConvUnit| fold_unit(u);
        Self {
            stages: self
                .stages
                .into_iter()
                .map(|st| st.into_iter().map(fold).collect())
                .collect(),
            exits: self
                .exits
                .into_iter()
                .map(|e| ExitHead {
                    conv: fold(e.conv),
                    fc: e.fc,
                })
                .collect(),
            head: self.head,
            exit_stages: self.exit_stages,
        }
    }

    /// Every tensor of the folded model as host data, named as in [`ModelConfig::tensor_shapes`].
    /// Fails if BN is not folded. Reads synchronously: native/CPU only.
    pub fn named_tensors(&self) -> Result<BTreeMap<String, HostTensor>, String> {
        let mut out = BTreeMap::new();
        let conv = |out: &mut BTreeMap<String, HostTensor>, name: &str, u: &ConvUnit| {
            if u.bn.is_some() {
                return Err(format!("{name}: BatchNorm must be folded before export"));
            }
            out.insert(
                format!("{name}.weight"),
                HostTensor::from_tensor(u.conv.weight.val()),
            );
            let bias = u
                .conv
                .bias
                .as_ref()
                .ok_or_else(|| format!("{name}: folded conv has no bias"))?;
            out.insert(format!("{name}.bias"), HostTensor::from_tensor(bias.val()));
            Ok(())
        };
        let linear = |out: &mut BTreeMap<String, HostTensor>, name: &str, l: &Linear| {
            out.insert(
                format!("{name}.weight"),
                HostTensor::from_tensor(l.weight.val()),
            );
            if let Some(b) = &l.bias {
                out.insert(format!("{name}.bias"), HostTensor::from_tensor(b.val()));
            }
        };
        for (s, stage) in self.stages.iter().enumerate() {
            for (u, unit) in stage.iter().enumerate() {
                conv(&mut out, &format!("stages.{s}.{u}"), unit)?;
            }
        }
        for (e, exit) in self.exits.iter().enumerate() {
            conv(&mut out, &format!("exits.{e}.conv"), &exit.conv)?;
            linear(&mut out, &format!("exits.{e}.fc"), &exit.fc);
        }
        linear(&mut out, "head.fc", &self.head.fc);
        Ok(out)
    }

    /// Builds the folded inference model from named host tensors (shapes already validated).
    pub fn from_named_tensors(
        config: &ModelConfig,
        tensors: &BTreeMap<String, HostTensor>,
        device: &Device,
    ) -> Result<Self, String> {
        Self::from_named_tensors_as(config, tensors, device, FloatDType::F32)
    }

    /// As [`Self::from_named_tensors`], with weights (and so the whole forward pass) in `dtype`;
    /// the caller checks that `device` supports it.
    pub fn from_named_tensors_as(
        config: &ModelConfig,
        tensors: &BTreeMap<String, HostTensor>,
        device: &Device,
        dtype: FloatDType,
    ) -> Result<Self, String> {
        let mut model = Self::new(config, false, device);
        let get = |name: &str| {
            tensors
                .get(name)
                .ok_or_else(|| format!("missing tensor '{name}'"))
        };
        let set_conv = |u: &mut ConvUnit, name: &str| -> Result<(), String> {
            let w = get(&format!("{name}.weight"))?.to_tensor::<4>(device)?;
            let b = get(&format!("{name}.bias"))?.to_tensor::<1>(device)?;
            u.conv.weight = Param::from_tensor(w.cast(dtype));
            u.conv.bias = Some(Param::from_tensor(b.cast(dtype)));
            Ok(())
        };
        let set_linear = |l: &mut Linear, name: &str| -> Result<(), String> {
            let w = get(&format!("{name}.weight"))?.to_tensor::<2>(device)?;
            let b = get(&format!("{name}.bias"))?.to_tensor::<1>(device)?;
            l.weight = Param::from_tensor(w.cast(dtype));
            l.bias = Some(Param::from_tensor(b.cast(dtype)));
            Ok(())
        };
        for (s, stage) in model.stages.iter_mut().enumerate() {
            for (u, unit) in stage.iter_mut().enumerate() {
                set_conv(unit, &format!("stages.{s}.{u}"))?;
            }
        }
        for (e, exit) in model.exits.iter_mut().enumerate() {
            set_conv(&mut exit.conv, &format!("exits.{e}.conv"))?;
            set_linear(&mut exit.fc, &format!("exits.{e}.fc"))?;
        }
        set_linear(&mut model.head.fc, "head.fc")?;
        Ok(model)
    }
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
    /// channels of every layer that reads them ([`crate::prune::consumers`]), BatchNorm entries
    /// included; works on the trainable and the folded model. The result has the shapes of
    /// [`crate::prune::narrowed_config`]; every kept weight is unchanged.
    pub fn remove_channels(
        mut self,
        config: &ModelConfig,
        layer: ConvLayer,
        removed: &[usize],
    ) -> Result<Self, String> {
        layer.check(config)?;
        let width = layer.width(config);
        let keep = kept_channels(width, removed);
        if removed.iter().any(|&c| c >= width) || keep.len() + removed.len() != width {
            return Err(format!(
                "channels {removed:?} are not distinct channels of {} (width {width})",
                layer.name()
            ));
        }
        if keep.is_empty() {
            return Err(format!(
                "cannot remove all {width} channels of {}",
                layer.name()
            ));
        }
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
                _ => return Err(format!("unknown consumer tensor '{name}'")),
            }
        }
        Ok(self)
    }
}

fn fold_unit(unit: ConvUnit) -> ConvUnit {
    let ConvUnit { mut conv, bn } = unit;
    let Some(bn) = bn else {
        return ConvUnit { conv, bn: None };
    };
    let w = conv.weight.val();
    let [cout, _, _, _] = w.dims();
    let device = w.device();
    let gamma = bn.gamma.val();
    let beta = bn.beta.val();
    let mean = bn.running_mean.value();
    let var = bn.running_var.value();
    let scale = gamma / var.add_scalar(bn.epsilon).sqrt();
    let bias0 = match &conv.bias {
        Some(b) => b.val(),
        None => Tensor::zeros([cout], &device),
    };
    let new_w = w * scale.clone().reshape([cout, 1, 1, 1]);
    let new_b = beta + (bias0 - mean) * scale;
    conv.weight = Param::from_tensor(new_w.detach());
    conv.bias = Some(Param::from_tensor(new_b.detach()));
    ConvUnit { conv, bn: None }
}

/// A dense f32 tensor on the host: shape + row-major values.
#[derive(Clone, Debug, PartialEq)]
pub struct HostTensor {
    /// Dimensions.
    pub shape: Vec<usize>,
    /// Row-major values.
    pub values: Vec<f32>,
}

impl HostTensor {
    /// Reads a tensor to the host (synchronous: native/CPU backends only).
    pub fn from_tensor<const D: usize>(t: Tensor<D>) -> Self {
        let shape = t.dims().to_vec();
        let data = t.into_data().convert::<f32>();
        let values = data
            .as_slice::<f32>()
            .map(|s| s.to_vec())
            .unwrap_or_default();
        Self { shape, values }
    }

    /// Uploads to `device` as a rank-`D` tensor.
    pub fn to_tensor<const D: usize>(&self, device: &Device) -> Result<Tensor<D>, String> {
        if self.shape.len() != D {
            return Err(format!("expected rank {D}, got shape {:?}", self.shape));
        }
        if self.shape.iter().product::<usize>() != self.values.len() {
            return Err(format!(
                "shape {:?} does not match {} values",
                self.shape,
                self.values.len()
            ));
        }
        Ok(Tensor::from_data(
            TensorData::new(self.values.clone(), self.shape.clone()),
            device,
        ))
    }
}
