//! The multi-exit CNN: burn module, forward pass over every exit, BN folding, named tensors.
//!
//! Written once against burn 0.22's runtime `Device` (flex CPU, wgpu/WebGPU, autodiff for training).
//! Architecture (`tiny`): four plain (VGG-style) stages of two 3×3 conv units each; the first conv of
//! every stage has stride 2. An internal classifier (exit) follows stages 1–3: conv3×3 unit (stride
//! `exit_stride`) → global
//! average pooling → Linear. The final head is GAP → Linear on the last stage. Every exit therefore
//! ends in GAP → Linear, so its class activation map is exact. Plain stages (no residual adds) keep
//! physical channel removal exact for any conv (see DESIGN notes in the README).

use std::collections::BTreeMap;
use std::fmt;

use crate::config::{ConvLayer, ModelConfig};
use burn::module::Param;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, Linear, LinearConfig, PaddingConfig2d};
use burn::prelude::*;
use burn::tensor::activation::relu;
use burn::tensor::{DType, FloatDType};

/// BatchNorm epsilon used by training and by folding.
pub const BN_EPSILON: f64 = 1e-5;

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

/// A forward pass run stage by stage (see [`MultiExitCnn::staged`]).
#[derive(Debug)]
pub struct StagedPass {
    /// Maps after the stages computed so far (the input before any).
    h: Tensor<4>,
    /// Backbone stages computed.
    stages_done: usize,
    /// The next internal exit to compute.
    next_exit: usize,
    /// The final head has answered.
    finished: bool,
    /// Internal exits see their stage's maps detached.
    detach_exits: bool,
}

/// One exit reached by a stage-by-stage pass.
#[derive(Debug)]
pub struct ExitStep {
    /// Exit index, shallow to deep (the final head is the last).
    pub exit: usize,
    /// Logits `[B, K]`.
    pub logits: Tensor<2>,
    /// Pooled features `[B, C_e]`.
    pub features: Tensor<2>,
    /// Maps `[B, C_e, H_e, W_e]` whose global average is `features`.
    pub maps: Tensor<4>,
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
        let mut pass = self.staged(x, detach_exits);
        while let Some(step) = self.next_exit(&mut pass) {
            logits.push(step.logits);
            features.push(step.features);
            maps.push(step.maps);
        }
        ExitOutputs {
            logits,
            features,
            maps,
        }
    }

    /// Starts a stage-by-stage forward pass of a batch `[B, 3, H, W]` (nothing computed yet):
    /// [`Self::next_exit`] runs it up to the next exit, so a caller can stop at the exit that
    /// fires. `detach_exits` as in [`Self::forward_probes`].
    pub fn staged(&self, x: Tensor<4>, detach_exits: bool) -> StagedPass {
        // Inputs arrive as f32; an f16 model computes in f16 (a no-op cast for f32 models).
        StagedPass {
            h: x.cast(self.compute_dtype()),
            stages_done: 0,
            next_exit: 0,
            finished: false,
            detach_exits,
        }
    }

    /// Computes the stages up to the next exit (internal, then the final head) and that exit's
    /// maps, pooled features and logits; `None` once the final head has answered.
    pub fn next_exit(&self, pass: &mut StagedPass) -> Option<ExitStep> {
        if pass.finished {
            return None;
        }
        loop {
            // An internal exit after the last stage computed?
            let attached = pass.stages_done > 0
                && self.exit_stages.get(pass.next_exit) == Some(&(pass.stages_done - 1));
            if attached && pass.next_exit < self.exits.len() {
                let exit = pass.next_exit;
                let head = &self.exits[exit];
                let input = if pass.detach_exits {
                    pass.h.clone().detach()
                } else {
                    pass.h.clone()
                };
                let maps = head.conv.forward(input);
                let features = global_avg_pool(maps.clone());
                pass.next_exit += 1;
                return Some(ExitStep {
                    exit,
                    logits: head.fc.forward(features.clone()),
                    features,
                    maps,
                });
            }
            if pass.stages_done == self.stages.len() {
                pass.finished = true;
                let features = global_avg_pool(pass.h.clone());
                return Some(ExitStep {
                    exit: self.exits.len(),
                    logits: self.head.fc.forward(features.clone()),
                    features,
                    maps: pass.h.clone(),
                });
            }
            for unit in &self.stages[pass.stages_done] {
                pass.h = unit.forward(pass.h.clone());
            }
            pass.stages_done += 1;
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
    pub fn named_tensors(&self) -> Result<BTreeMap<String, HostTensor>, ModelError> {
        let mut out = BTreeMap::new();
        let conv = |out: &mut BTreeMap<String, HostTensor>, name: &str, u: &ConvUnit| {
            if u.bn.is_some() {
                return Err(ModelError::NotFolded(name.to_string()));
            }
            out.insert(
                format!("{name}.weight"),
                HostTensor::from_tensor(u.conv.weight.val()),
            );
            let bias = u
                .conv
                .bias
                .as_ref()
                .ok_or_else(|| ModelError::NoBias(name.to_string()))?;
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
    ) -> Result<Self, ModelError> {
        Self::from_named_tensors_as(config, tensors, device, FloatDType::F32)
    }

    /// As [`Self::from_named_tensors`], with weights (and so the whole forward pass) in `dtype`;
    /// the caller checks that `device` supports it.
    pub fn from_named_tensors_as(
        config: &ModelConfig,
        tensors: &BTreeMap<String, HostTensor>,
        device: &Device,
        dtype: FloatDType,
    ) -> Result<Self, ModelError> {
        let mut model = Self::new(config, false, device);
        let get = |name: &str| {
            tensors
                .get(name)
                .ok_or_else(|| ModelError::MissingTensor(name.to_string()))
        };
        let set_conv = |u: &mut ConvUnit, name: &str| -> Result<(), ModelError> {
            let w = get(&format!("{name}.weight"))?.to_tensor::<4>(device)?;
            let b = get(&format!("{name}.bias"))?.to_tensor::<1>(device)?;
            u.conv.weight = Param::from_tensor(w.cast(dtype));
            u.conv.bias = Some(Param::from_tensor(b.cast(dtype)));
            Ok(())
        };
        let set_linear = |l: &mut Linear, name: &str| -> Result<(), ModelError> {
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
    pub fn to_tensor<const D: usize>(&self, device: &Device) -> Result<Tensor<D>, TensorError> {
        if self.shape.len() != D {
            return Err(TensorError::WrongRank {
                expected: D,
                shape: self.shape.clone(),
            });
        }
        if self.shape.iter().product::<usize>() != self.values.len() {
            return Err(TensorError::WrongLength {
                shape: self.shape.clone(),
                values: self.values.len(),
            });
        }
        Ok(Tensor::from_data(
            TensorData::new(self.values.clone(), self.shape.clone()),
            device,
        ))
    }
}

/// Why a [`HostTensor`] cannot be uploaded as a tensor of the asked rank.
#[derive(Clone, Debug, PartialEq)]
pub enum TensorError {
    /// The shape has another rank.
    WrongRank {
        /// The rank asked for.
        expected: usize,
        /// The tensor's shape.
        shape: Vec<usize>,
    },
    /// The shape's size differs from the number of values.
    WrongLength {
        /// The tensor's shape.
        shape: Vec<usize>,
        /// Its number of values.
        values: usize,
    },
}

impl fmt::Display for TensorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::WrongRank { expected, shape } => {
                write!(f, "expected rank {expected}, got shape {shape:?}")
            }
            Self::WrongLength { shape, values } => {
                write!(f, "shape {shape:?} does not match {values} values")
            }
        }
    }
}

impl std::error::Error for TensorError {}

/// Why a model's named tensors cannot be read or written.
#[derive(Clone, Debug, PartialEq)]
pub enum ModelError {
    /// A conv unit still has its BatchNorm (named by its tensor prefix).
    NotFolded(String),
    /// A folded conv unit has no bias (named by its tensor prefix).
    NoBias(String),
    /// A tensor the architecture needs is absent.
    MissingTensor(String),
    /// A tensor cannot be uploaded.
    Tensor(TensorError),
}

impl fmt::Display for ModelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotFolded(name) => write!(f, "{name}: BatchNorm must be folded before export"),
            Self::NoBias(name) => write!(f, "{name}: folded conv has no bias"),
            Self::MissingTensor(name) => write!(f, "missing tensor '{name}'"),
            Self::Tensor(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for ModelError {}

impl From<TensorError> for ModelError {
    fn from(e: TensorError) -> Self {
        Self::Tensor(e)
    }
}
