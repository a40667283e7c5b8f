//! A loaded model on a device: upload inputs, run every exit, read logits back (sync or async),
//! and the logits of a whole evaluation bundle.

use std::fmt;

use burn::prelude::*;
use burn::tensor::FloatDType;

use crate::bundle::EvalBundle;
use crate::cam::{class_activation_map, CamError, ClassMap};
use crate::exit::{fires, top_class, ExitLogits, SampleLogits};
use crate::format::{read_model, FormatError, ModelCard};
use crate::model::{HostTensor, ModelError, MultiExitCnn};
use crate::preprocess::to_input;

/// The f32 values of read-back data.
fn f32_values(data: TensorData) -> Result<Vec<f32>, InferError> {
    Ok(data
        .convert::<f32>()
        .as_slice::<f32>()
        .map_err(|e| InferError::DeviceDtype(format!("{e:?}")))?
        .to_vec())
}

/// The error of a failed asynchronous read-back of `what`.
fn read_back<E: fmt::Debug>(what: &'static str) -> impl Fn(E) -> InferError {
    move |e| InferError::ReadBack {
        what,
        message: format!("{e:?}"),
    }
}

/// One sample's `[C, H, W]` maps from read-back data.
fn map_tensor(data: TensorData, shape: [usize; 3]) -> Result<HostTensor, InferError> {
    Ok(HostTensor {
        shape: shape.to_vec(),
        values: f32_values(data)?,
    })
}

/// Reads one sample's maps `[1, C, H, W]` of each exit back as `[C, H, W]`, asynchronously.
async fn read_maps(maps: Vec<Tensor<4>>) -> Result<ExitMaps, InferError> {
    let mut out = Vec::with_capacity(maps.len());
    for m in maps {
        let [_, c, h, w] = m.dims();
        let data = m
            .into_data_async()
            .await
            .map_err(read_back("the exit maps"))?;
        out.push(map_tensor(data, [c, h, w])?);
    }
    Ok(out)
}

/// Runs a future to completion on this thread, parking until it is woken (native only: the CLI
/// and tests drive the async read-backs with it; on the CPU backend they are ready at once).
#[cfg(not(target_arch = "wasm32"))]
pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    use std::sync::Arc;
    use std::task::{Context, Poll, Wake, Waker};
    struct Unpark(std::thread::Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut future = std::pin::pin!(future);
    loop {
        match future.as_mut().poll(&mut cx) {
            Poll::Ready(out) => return out,
            Poll::Pending => std::thread::park(),
        }
    }
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
    pub fn sample(&self, i: usize) -> SampleLogits {
        let k = self.classes;
        self.exits
            .iter()
            .map(|l| l[i * k..(i + 1) * k].to_vec())
            .collect()
    }
}

impl LoadedModel {
    /// Parses, validates and uploads a model file; computes in f32.
    pub fn from_bytes(bytes: &[u8], device: &Device) -> Result<Self, InferError> {
        Self::from_bytes_in(bytes, device, FloatDType::F32)
    }

    /// As [`Self::from_bytes`], computing in `compute` (f16 only where the device supports it:
    /// see [`crate::quant::computes_in_f16`]); logits are always read back as f32.
    pub fn from_bytes_in(
        bytes: &[u8],
        device: &Device,
        compute: FloatDType,
    ) -> Result<Self, InferError> {
        let file = read_model(bytes)?;
        if !device.supports_dtype(compute) {
            return Err(InferError::UnsupportedCompute(compute));
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
    fn single_pass(&self, input: &[f32]) -> Result<(Tensor<2>, Vec<Tensor<4>>), InferError> {
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
    ) -> Result<(BatchLogits, ExitMaps), InferError> {
        let (logits, maps) = self.single_pass(input)?;
        let logits = logits
            .into_data_async()
            .await
            .map_err(read_back("logits"))?;
        let logits = self.split(f32_values(logits)?, 1);
        Ok((logits, read_maps(maps).await?))
    }

    /// Early exit that saves the work: runs one prepared input stage by stage and stops at the
    /// first internal exit whose confidence reaches `theta` (reading each exit's logits back
    /// before computing the next stage), so the stages after it are never computed. Returns the
    /// logits and pooled maps of the exits computed, shallow to deep: the same values and the
    /// same decision as [`Self::logits_and_maps_async`] followed by
    /// [`crate::exit::exit_policy`] at `theta`.
    pub async fn logits_and_maps_until_async(
        &self,
        input: &[f32],
        theta: f32,
    ) -> Result<(SampleLogits, ExitMaps), InferError> {
        let exits = self.card.config.num_exits();
        let mut pass = self
            .model
            .staged(self.batch_input(&[input.to_vec()])?, false);
        let mut logits = Vec::with_capacity(exits);
        let mut maps = Vec::with_capacity(exits);
        while let Some(step) = self.model.next_exit(&mut pass) {
            let values = step
                .logits
                .cast(FloatDType::F32)
                .into_data_async()
                .await
                .map_err(read_back("logits"))?;
            let values = f32_values(values)?;
            let fired = step.exit + 1 < exits && fires(top_class(&values).1, theta);
            logits.push(values);
            maps.push(step.maps.cast(FloatDType::F32));
            if fired {
                break;
            }
        }
        Ok((logits, read_maps(maps).await?))
    }

    /// As [`Self::logits_and_maps_until_async`], reading back synchronously (native only).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn logits_and_maps_until(
        &self,
        input: &[f32],
        theta: f32,
    ) -> Result<(SampleLogits, ExitMaps), InferError> {
        block_on(self.logits_and_maps_until_async(input, theta))
    }

    /// As [`Self::logits_and_maps_async`], reading back synchronously (native / CPU only).
    pub fn logits_and_maps(&self, input: &[f32]) -> Result<(BatchLogits, ExitMaps), InferError> {
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
    ) -> Result<(BatchLogits, Vec<ClassMap>), InferError> {
        let x = self.batch_input(inputs)?;
        let b = inputs.len();
        let out = self.model.forward_all(x);
        let logits = Tensor::cat(out.logits, 1)
            .cast(FloatDType::F32)
            .into_data_async()
            .await
            .map_err(read_back("logits"))?;
        let logits = self.split(f32_values(logits)?, b);
        let maps = out.maps.last().expect("the final head has maps").clone();
        let [_, c, h, w] = maps.dims();
        let maps = maps
            .cast(FloatDType::F32)
            .into_data_async()
            .await
            .map_err(read_back("the final maps"))?;
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
    fn batch_input(&self, inputs: &[Vec<f32>]) -> Result<Tensor<4>, InferError> {
        let cfg = &self.card.config;
        let s = cfg.input_size;
        let per = 3 * s * s;
        if inputs.is_empty() {
            return Err(InferError::NoInput);
        }
        if let Some(bad) = inputs.iter().position(|x| x.len() != per) {
            return Err(InferError::InputSize {
                index: bad,
                values: inputs[bad].len(),
                side: s,
            });
        }
        let b = inputs.len();
        let flat: Vec<f32> = inputs.iter().flatten().copied().collect();
        Ok(Tensor::<4>::from_data(
            TensorData::new(flat, [b, 3, s, s]),
            &self.device,
        ))
    }

    fn batch_output(&self, inputs: &[Vec<f32>]) -> Result<(Tensor<2>, usize), InferError> {
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
    pub async fn logits_async(&self, inputs: &[Vec<f32>]) -> Result<BatchLogits, InferError> {
        let (out, b) = self.batch_output(inputs)?;
        let data = out.into_data_async().await.map_err(read_back("logits"))?;
        let flat = data
            .convert::<f32>()
            .as_slice::<f32>()
            .map_err(|e| InferError::LogitsDtype(format!("{e:?}")))?
            .to_vec();
        Ok(self.split(flat, b))
    }

    /// Runs a batch and reads logits back synchronously (native / CPU only).
    pub fn logits(&self, inputs: &[Vec<f32>]) -> Result<BatchLogits, InferError> {
        let (out, b) = self.batch_output(inputs)?;
        let data = out.into_data().convert::<f32>();
        let flat = data
            .as_slice::<f32>()
            .map_err(|e| InferError::LogitsDtype(format!("{e:?}")))?
            .to_vec();
        Ok(self.split(flat, b))
    }
}

/// Images per forward pass of [`bundle_logits`].
pub const BUNDLE_BATCH: usize = 48;

/// Per-sample exit logits of `model` on every image of `bundle` and the final head's class
/// activation map of each (for the class it predicts), in batches of [`BUNDLE_BATCH`] read back
/// asynchronously (WebGPU-safe; on the CPU backend every read-back is ready at once);
/// `progress(done, total)` after each batch. Refuses a bundle whose image side or classes differ
/// from the model's, and non-finite logits.
pub async fn bundle_logits(
    model: &LoadedModel,
    bundle: &EvalBundle,
    mut progress: impl FnMut(usize, usize),
) -> Result<(ExitLogits, Vec<ClassMap>), InferError> {
    let config = &model.card.config;
    if bundle.card.side as usize != config.input_size {
        return Err(InferError::SideMismatch {
            data: bundle.card.side as usize,
            model: config.input_size,
        });
    }
    if bundle.card.class_names != config.class_names {
        return Err(InferError::ClassMismatch {
            data: bundle.card.class_names.clone(),
            model: config.class_names.clone(),
        });
    }
    let mut out = Vec::with_capacity(bundle.len());
    let mut cams = Vec::with_capacity(bundle.len());
    for start in (0..bundle.len()).step_by(BUNDLE_BATCH) {
        let end = (start + BUNDLE_BATCH).min(bundle.len());
        let inputs: Vec<Vec<f32>> = (start..end)
            .map(|i| to_input(&bundle.rgb_image(i), config))
            .collect();
        let (logits, batch_cams) = model.logits_and_final_cams_async(&inputs).await?;
        if logits.exits.iter().flatten().any(|v| !v.is_finite()) {
            return Err(InferError::NonFinite);
        }
        out.extend((0..logits.batch).map(|i| logits.sample(i)));
        cams.extend(batch_cams);
        progress(end, bundle.len());
    }
    Ok((out, cams))
}

/// Why a model cannot be loaded or run, or its outputs read back.
#[derive(Clone, Debug, PartialEq)]
pub enum InferError {
    /// The model file is refused.
    Format(FormatError),
    /// The file's tensors do not build the network.
    Model(ModelError),
    /// The device cannot compute in the asked precision.
    UnsupportedCompute(FloatDType),
    /// An empty batch.
    NoInput,
    /// A prepared input of the wrong length.
    InputSize {
        /// Position in the batch.
        index: usize,
        /// Its values.
        values: usize,
        /// The model's input side.
        side: usize,
    },
    /// Reading `what` back from the device failed.
    ReadBack {
        /// What was read (`logits`, `the exit maps`, `the final maps`).
        what: &'static str,
        /// The device's error.
        message: String,
    },
    /// Read-back data of an unexpected dtype.
    DeviceDtype(String),
    /// Logits of an unexpected dtype.
    LogitsDtype(String),
    /// A class activation map cannot be computed.
    Cam(CamError),
    /// The evaluation images have another side than the model's input.
    SideMismatch {
        /// Side of the evaluation images.
        data: usize,
        /// The model's input side.
        model: usize,
    },
    /// The evaluation subset's classes differ from the model's.
    ClassMismatch {
        /// The subset's classes.
        data: Vec<String>,
        /// The model's classes.
        model: Vec<String>,
    },
    /// The model produced NaN or infinite logits.
    NonFinite,
}

impl fmt::Display for InferError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Format(e) => e.fmt(f),
            Self::Model(e) => e.fmt(f),
            Self::UnsupportedCompute(dtype) => {
                write!(f, "this device cannot compute in {dtype:?}")
            }
            Self::NoInput => write!(f, "no input images"),
            Self::InputSize {
                index,
                values,
                side,
            } => write!(
                f,
                "input {index} has {values} values, the model needs 3×{side}×{side} = {}",
                3 * side * side
            ),
            Self::ReadBack { what, message } => {
                write!(f, "reading {what} from the device failed: {message}")
            }
            Self::DeviceDtype(m) => write!(f, "the device returned an unexpected dtype: {m}"),
            Self::LogitsDtype(m) => write!(f, "logits have an unexpected dtype: {m}"),
            Self::Cam(e) => e.fmt(f),
            Self::SideMismatch { data, model } => write!(
                f,
                "the evaluation images are {data} px but the model needs {model} px"
            ),
            Self::ClassMismatch { .. } => {
                write!(f, "the evaluation subset's classes differ from the model's")
            }
            Self::NonFinite => write!(f, "the model produced non-finite logits on this backend"),
        }
    }
}

impl std::error::Error for InferError {}

impl From<FormatError> for InferError {
    fn from(e: FormatError) -> Self {
        Self::Format(e)
    }
}

impl From<ModelError> for InferError {
    fn from(e: ModelError) -> Self {
        Self::Model(e)
    }
}

impl From<CamError> for InferError {
    fn from(e: CamError) -> Self {
        Self::Cam(e)
    }
}
