//! A loaded model on a device: upload inputs, run every exit, read logits back (sync or async).

use burn::prelude::*;
use burn::tensor::FloatDType;

use crate::cam::{class_activation_map, ClassMap};
use crate::format::{read_model, ModelCard};
use crate::model::{HostTensor, MultiExitCnn};

/// The f32 values of read-back data.
fn f32_values(data: TensorData) -> Result<Vec<f32>, String> {
    Ok(data
        .convert::<f32>()
        .as_slice::<f32>()
        .map_err(|e| format!("the device returned an unexpected dtype: {e:?}"))?
        .to_vec())
}

/// One sample's `[C, H, W]` maps from read-back data.
fn map_tensor(data: TensorData, shape: [usize; 3]) -> Result<HostTensor, String> {
    Ok(HostTensor {
        shape: shape.to_vec(),
        values: f32_values(data)?,
    })
}

/// A validated model file instantiated on a burn device.
#[derive(Debug)]
pub struct LoadedModel {
    /// The model card from the file.
    pub card: ModelCard,
    /// The BN-folded network.
    pub model: MultiExitCnn,
    /// Device the weights live on.
    pub device: Device,
    /// Each exit's Linear weight `[C, K]` on the host, shallow to deep (for class activation maps).
    pub exit_weights: Vec<HostTensor>,
}

/// One sample's pooled maps `[C, H, W]` at every exit, shallow to deep.
pub type ExitMaps = Vec<HostTensor>;

/// Logits of every exit for a batch: `exits[e][i*K + k]` (row-major `[B, K]` per exit).
#[derive(Clone, Debug, PartialEq)]
pub struct BatchLogits {
    /// Per-exit row-major `[B, K]` logits, shallow to deep.
    pub exits: Vec<Vec<f32>>,
    /// Batch size.
    pub batch: usize,
    /// Classes.
    pub classes: usize,
}

impl BatchLogits {
    /// Logits of sample `i` at every exit.
    pub fn sample(&self, i: usize) -> Vec<Vec<f32>> {
        let k = self.classes;
        self.exits
            .iter()
            .map(|l| l[i * k..(i + 1) * k].to_vec())
            .collect()
    }
}

impl LoadedModel {
    /// Parses, validates and uploads a model file; computes in f32.
    pub fn from_bytes(bytes: &[u8], device: &Device) -> Result<Self, String> {
        Self::from_bytes_in(bytes, device, FloatDType::F32)
    }

    /// As [`Self::from_bytes`], computing in `compute` (f16 only where the device supports it:
    /// see [`crate::quant::computes_in_f16`]); logits are always read back as f32.
    pub fn from_bytes_in(
        bytes: &[u8],
        device: &Device,
        compute: FloatDType,
    ) -> Result<Self, String> {
        let file = read_model(bytes).map_err(|e| e.to_string())?;
        if !device.supports_dtype(compute) {
            return Err(format!("this device cannot compute in {compute:?}"));
        }
        let model =
            MultiExitCnn::from_named_tensors_as(&file.card.config, &file.tensors, device, compute)?;
        let exits = file.card.config.num_exits();
        let exit_weights = (0..exits)
            .map(|e| {
                let name = if e + 1 == exits {
                    "head.fc.weight".to_string()
                } else {
                    format!("exits.{e}.fc.weight")
                };
                file.tensors[&name].clone()
            })
            .collect();
        Ok(Self {
            card: file.card,
            model,
            device: device.clone(),
            exit_weights,
        })
    }

    /// One forward pass of one prepared input: every exit's logits `[1, E·K]` and pooled maps,
    /// both as f32 (not yet read back).
    fn single_pass(&self, input: &[f32]) -> Result<(Tensor<2>, Vec<Tensor<4>>), String> {
        let out = self.model.forward_all(self.batch_input(&[input.to_vec()])?);
        let logits = Tensor::cat(out.logits, 1).cast(FloatDType::F32);
        let maps = out
            .maps
            .into_iter()
            .map(|m| m.cast(FloatDType::F32))
            .collect();
        Ok((logits, maps))
    }

    /// Logits and pooled maps of every exit for one prepared input, from one forward pass read
    /// back asynchronously (WebGPU-safe); with [`Self::exit_weights`] the maps give each exit's
    /// class activation maps.
    pub async fn logits_and_maps_async(
        &self,
        input: &[f32],
    ) -> Result<(BatchLogits, ExitMaps), String> {
        let (logits, maps) = self.single_pass(input)?;
        let logits = logits
            .into_data_async()
            .await
            .map_err(|e| format!("reading logits from the device failed: {e:?}"))?;
        let logits = self.split(f32_values(logits)?, 1);
        let mut out = Vec::with_capacity(maps.len());
        for m in maps {
            let [_, c, h, w] = m.dims();
            let data = m
                .into_data_async()
                .await
                .map_err(|e| format!("reading the exit maps from the device failed: {e:?}"))?;
            out.push(map_tensor(data, [c, h, w])?);
        }
        Ok((logits, out))
    }

    /// As [`Self::logits_and_maps_async`], reading back synchronously (native / CPU only).
    pub fn logits_and_maps(&self, input: &[f32]) -> Result<(BatchLogits, ExitMaps), String> {
        let (logits, maps) = self.single_pass(input)?;
        let logits = self.split(f32_values(logits.into_data())?, 1);
        let maps = maps
            .into_iter()
            .map(|m| {
                let [_, c, h, w] = m.dims();
                map_tensor(m.into_data(), [c, h, w])
            })
            .collect::<Result<_, _>>()?;
        Ok((logits, maps))
    }

    /// Logits of a batch and, per sample, the final head's class activation map for the class
    /// it predicts, from one forward pass read back asynchronously (WebGPU-safe).
    pub async fn logits_and_final_cams_async(
        &self,
        inputs: &[Vec<f32>],
    ) -> Result<(BatchLogits, Vec<ClassMap>), String> {
        let x = self.batch_input(inputs)?;
        let b = inputs.len();
        let out = self.model.forward_all(x);
        let logits = Tensor::cat(out.logits, 1)
            .cast(FloatDType::F32)
            .into_data_async()
            .await
            .map_err(|e| format!("reading logits from the device failed: {e:?}"))?;
        let logits = self.split(f32_values(logits)?, b);
        let maps = out.maps.last().expect("the final head has maps").clone();
        let [_, c, h, w] = maps.dims();
        let maps = maps
            .cast(FloatDType::F32)
            .into_data_async()
            .await
            .map_err(|e| format!("reading the final maps from the device failed: {e:?}"))?;
        let maps = f32_values(maps)?;
        let weight = self
            .exit_weights
            .last()
            .expect("the final head has weights");
        let last = logits.exits.len() - 1;
        let k = logits.classes;
        let mut cams = Vec::with_capacity(b);
        for i in 0..b {
            let class = crate::exit::argmax(&logits.exits[last][i * k..(i + 1) * k]);
            let sample = HostTensor {
                shape: vec![c, h, w],
                values: maps[i * c * h * w..(i + 1) * c * h * w].to_vec(),
            };
            cams.push(class_activation_map(&sample, weight, class)?);
        }
        Ok((logits, cams))
    }

    /// A batch of prepared inputs as a `[B, 3, S, S]` tensor, each checked against the input size.
    fn batch_input(&self, inputs: &[Vec<f32>]) -> Result<Tensor<4>, String> {
        let cfg = &self.card.config;
        let s = cfg.input_size;
        let per = 3 * s * s;
        if inputs.is_empty() {
            return Err("no input images".into());
        }
        if let Some(bad) = inputs.iter().position(|x| x.len() != per) {
            return Err(format!(
                "input {bad} has {} values, the model needs 3×{s}×{s} = {per}",
                inputs[bad].len()
            ));
        }
        let b = inputs.len();
        let flat: Vec<f32> = inputs.iter().flatten().copied().collect();
        Ok(Tensor::<4>::from_data(
            TensorData::new(flat, [b, 3, s, s]),
            &self.device,
        ))
    }

    fn batch_output(&self, inputs: &[Vec<f32>]) -> Result<(Tensor<2>, usize), String> {
        let b = inputs.len();
        let x = self.batch_input(inputs)?;
        let logits = self.model.forward(x);
        Ok((Tensor::cat(logits, 1).cast(FloatDType::F32), b))
    }

    fn split(&self, flat: Vec<f32>, b: usize) -> BatchLogits {
        let k = self.card.config.num_classes();
        let e = self.card.config.num_exits();
        let mut exits = vec![Vec::with_capacity(b * k); e];
        for i in 0..b {
            for (j, exit) in exits.iter_mut().enumerate() {
                let row = &flat[i * e * k + j * k..i * e * k + (j + 1) * k];
                exit.extend_from_slice(row);
            }
        }
        BatchLogits {
            exits,
            batch: b,
            classes: k,
        }
    }

    /// Float dtype the model computes in.
    pub fn compute_dtype(&self) -> FloatDType {
        self.model.compute_dtype()
    }

    /// Runs a batch of prepared inputs and reads logits back asynchronously (WebGPU-safe).
    pub async fn logits_async(&self, inputs: &[Vec<f32>]) -> Result<BatchLogits, String> {
        let (out, b) = self.batch_output(inputs)?;
        let data = out
            .into_data_async()
            .await
            .map_err(|e| format!("reading logits from the device failed: {e:?}"))?;
        let flat = data
            .convert::<f32>()
            .as_slice::<f32>()
            .map_err(|e| format!("logits have an unexpected dtype: {e:?}"))?
            .to_vec();
        Ok(self.split(flat, b))
    }

    /// Runs a batch and reads logits back synchronously (native / CPU only).
    pub fn logits(&self, inputs: &[Vec<f32>]) -> Result<BatchLogits, String> {
        let (out, b) = self.batch_output(inputs)?;
        let data = out.into_data().convert::<f32>();
        let flat = data
            .as_slice::<f32>()
            .map_err(|e| format!("logits have an unexpected dtype: {e:?}"))?
            .to_vec();
        Ok(self.split(flat, b))
    }
}
