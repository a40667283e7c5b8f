//! The model file: standard safetensors (readable by Python's `safetensors`) whose `__metadata__`
//! holds a JSON model card under the key `fairscreen.card`. The reader validates the header, the
//! format version, the card, every tensor's dtype, shape and byte range, and the tensor-section hash.
//! The site's asset lists ([`crate::assets`]) are re-exported here, where they were first defined.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

pub use crate::assets::{sha256_hex, AssetEntry, AssetError, AssetIndex, Manifest, ManifestEntry};
use crate::config::{ConfigError, ModelConfig};
use crate::model::HostTensor;
use crate::quant;
pub use crate::safetensors::MAX_HEADER_BYTES;
use crate::safetensors::{
    join_safetensors, parse_card, split_safetensors, tensor_entries, CardProblem, ContainerError,
    TensorEntry,
};

/// Model file format version written by this build; readers accept exactly this version.
pub const FORMAT_VERSION: u32 = 1;
/// `__metadata__` key holding the JSON model card.
pub const CARD_KEY: &str = "fairscreen.card";

/// How a model was trained, for the card shown next to every prediction.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainingInfo {
    /// Training method (e.g. `me`: cross-entropy at every exit).
    pub method: String,
    /// Human-readable description of the training data.
    pub data: String,
    /// Random seed of the run.
    pub seed: u64,
    /// Epochs trained.
    pub epochs: usize,
    /// Training images.
    pub train_images: usize,
    /// The command that rebuilds this model.
    pub command: String,
}

/// JSON model card stored in the file's `__metadata__`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelCard {
    /// File format version ([`FORMAT_VERSION`]).
    pub format_version: u32,
    /// Model name (file stem).
    pub name: String,
    /// Architecture.
    pub config: ModelConfig,
    /// Sensitive attributes the model was evaluated on (may be empty).
    pub sensitive_attributes: Vec<String>,
    /// Default early-exit threshold θ.
    pub default_theta: f32,
    /// How the default θ was chosen (rule and data), when it was chosen by a stated rule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub theta_selection: Option<String>,
    /// How it was trained.
    pub training: TrainingInfo,
    /// How it was pruned from another model, when it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pruning: Option<PruningInfo>,
    /// How it was fine-tuned from a pretrained model with a searched mask (FairTune), when it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fine_tuning: Option<FineTuningInfo>,
    /// The f32 model this one was quantized from, when it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantized_from: Option<String>,
    /// Metrics measured at export (name → value), e.g. `val/exit3/accuracy`.
    pub metrics: BTreeMap<String, f64>,
    /// Weight storage (BN folded into the convs): `f32`, `int8-per-channel` or `f16`.
    pub quantization: String,
    /// Lower-case hex sha256 of the tensor data section.
    pub tensors_sha256: String,
    /// Caveat shown with every prediction.
    pub disclaimer: String,
}

/// Masked fine-tuning of a pretrained model (FairTune, papers.md §4): what trained, and how the
/// mask and the learning rate were chosen (on validation data only).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FineTuningInfo {
    /// Name of the pretrained (source) model it was fine-tuned from.
    pub pretrained: String,
    /// The mask: which groups of [`crate::peft::peft_groups`] trained.
    pub mask: crate::peft::PeftMask,
    /// The learning rate of the fine-tuning.
    pub lr: f64,
    /// The validation objective the search optimised (e.g. `min_auc`).
    pub objective: String,
    /// The objective's value on validation for the chosen trial.
    pub validation_value: f64,
    /// How the mask and lr were chosen: sampler, trials, pruner, data (validation only).
    pub selection: String,
    /// The searched model this one was shipped with as a baseline (None: the searched model).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline_of: Option<String>,
}

/// Channel pruning applied to a base model (papers.md §3).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PruningInfo {
    /// Name of the unpruned model it was pruned from.
    pub base: String,
    /// Pruned conv layer (`stages.S.U`).
    pub layer: String,
    /// Channels of the base layer removed (original indices, ascending).
    pub channels: Vec<usize>,
    /// Channels the base layer had.
    pub base_width: usize,
    /// How the channels were chosen and pruned, in words.
    pub method: String,
}

/// A loaded model file: its card and validated tensors.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelFile {
    /// The model card.
    pub card: ModelCard,
    /// Tensors by name, shapes checked against the card's config.
    pub tensors: BTreeMap<String, HostTensor>,
}

/// Every way a model file can be rejected, each with its own message.
#[derive(Clone, Debug, PartialEq)]
pub enum FormatError {
    /// Fewer bytes than the structure announces.
    Truncated(String),
    /// The safetensors JSON header is malformed.
    BadHeader(String),
    /// The header has no model card.
    MissingCard,
    /// The card is not valid JSON for [`ModelCard`].
    BadCard(String),
    /// The card's format version is not [`FORMAT_VERSION`].
    UnsupportedVersion(u32),
    /// The card's architecture config is invalid.
    BadConfig(ConfigError),
    /// A tensor the architecture needs is absent.
    MissingTensor(String),
    /// A tensor the architecture does not have is present.
    UnexpectedTensor(String),
    /// A tensor's shape differs from the architecture's.
    WrongShape {
        /// Tensor name.
        name: String,
        /// Shape the config implies.
        expected: Vec<usize>,
        /// Shape in the file.
        found: Vec<usize>,
    },
    /// A tensor's dtype is not the one the card's precision needs.
    UnsupportedDtype {
        /// Tensor name.
        name: String,
        /// The dtype in the file.
        dtype: String,
        /// The dtype the card's `quantization` implies (`F32`, `I8` or `F16`).
        expected: String,
    },
    /// A value cannot be stored in the file's precision (f16 holds magnitudes up to 65504).
    OutOfRange {
        /// Tensor name.
        name: String,
        /// The value.
        value: f32,
        /// The precision.
        precision: String,
    },
    /// The tensor data does not hash to the card's `tensors_sha256`.
    HashMismatch {
        /// Hash in the card.
        expected: String,
        /// Hash of the bytes.
        found: String,
    },
}

impl fmt::Display for FormatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Truncated(m) => write!(f, "model file is truncated: {m}"),
            Self::BadHeader(m) => write!(f, "model file header is not valid safetensors: {m}"),
            Self::MissingCard => write!(f, "model file has no model card (__metadata__.{CARD_KEY})"),
            Self::BadCard(m) => write!(f, "model card is not valid: {m}"),
            Self::UnsupportedVersion(v) => write!(
                f,
                "model file format version {v} is not supported (this build reads version {FORMAT_VERSION})"
            ),
            Self::BadConfig(m) => write!(f, "model architecture in the card is invalid: {m}"),
            Self::MissingTensor(n) => write!(f, "model file lacks tensor '{n}'"),
            Self::UnexpectedTensor(n) => write!(f, "model file has unexpected tensor '{n}'"),
            Self::WrongShape { name, expected, found } => write!(
                f,
                "tensor '{name}' has shape {found:?} but the architecture needs {expected:?}"
            ),
            Self::UnsupportedDtype { name, dtype, expected } => {
                write!(f, "tensor '{name}' has dtype {dtype} but this file's precision needs {expected}")
            }
            Self::OutOfRange { name, value, precision } => write!(
                f,
                "tensor '{name}' holds {value}, which {precision} cannot represent"
            ),
            Self::HashMismatch { expected, found } => write!(
                f,
                "model tensor data is corrupt: sha256 {found} differs from the card's {expected}"
            ),
        }
    }
}

impl std::error::Error for FormatError {}

impl From<ContainerError> for FormatError {
    fn from(e: ContainerError) -> Self {
        match e {
            ContainerError::Truncated(m) => Self::Truncated(m),
            ContainerError::BadHeader(m) => Self::BadHeader(m),
        }
    }
}

/// One tensor as stored: its name, dtype (`F32`, `I8` or `F16`) and shape.
struct StoredTensor {
    name: String,
    dtype: &'static str,
    shape: Vec<usize>,
}

/// Bytes per stored element of `dtype`.
fn dtype_width(dtype: &str) -> usize {
    match dtype {
        "I8" => 1,
        "F16" => 2,
        _ => 4,
    }
}

/// The tensors a file of `card` stores, in order: the config's tensors (all `F16` in f16 files),
/// and for int8 files every weight as `I8` followed by its per-output-channel `F32` scales
/// (`<weight>_scale`).
fn stored_layout(card: &ModelCard) -> Result<Vec<StoredTensor>, FormatError> {
    let (int8, float) = match card.quantization.as_str() {
        quant::F32 => (false, "F32"),
        quant::INT8_PER_CHANNEL => (true, "F32"),
        quant::F16 => (false, "F16"),
        other => {
            return Err(FormatError::BadCard(format!(
                "unknown quantization '{other}' (expected '{}', '{}' or '{}')",
                quant::F32,
                quant::INT8_PER_CHANNEL,
                quant::F16
            )))
        }
    };
    let mut out = Vec::new();
    for (name, shape) in card.config.tensor_shapes() {
        if int8 && quant::is_quantized_weight(&name) {
            let channels = shape[quant::output_axis(shape.len())];
            out.push(StoredTensor {
                name: format!("{name}{}", quant::SCALE_SUFFIX),
                dtype: "F32",
                shape: vec![channels],
            });
            out.push(StoredTensor {
                name,
                dtype: "I8",
                shape,
            });
        } else {
            out.push(StoredTensor {
                name,
                dtype: float,
                shape,
            });
        }
    }
    Ok(out)
}

/// Serialises `tensors` (f32, in the config's canonical order) with `card` into safetensors
/// bytes, quantizing every weight to int8 or every tensor to f16 when `card.quantization` says
/// so (a value f16 cannot hold is an [`FormatError::OutOfRange`]). Fills in
/// `card.tensors_sha256` and `card.format_version`.
pub fn write_model(
    mut card: ModelCard,
    tensors: &BTreeMap<String, HostTensor>,
) -> Result<Vec<u8>, FormatError> {
    card.config.validate().map_err(FormatError::BadConfig)?;
    let expected = card.config.tensor_shapes();
    for name in tensors.keys() {
        if !expected.iter().any(|(n, _)| n == name) {
            return Err(FormatError::UnexpectedTensor(name.clone()));
        }
    }
    for (name, shape) in &expected {
        let t = tensors
            .get(name)
            .ok_or_else(|| FormatError::MissingTensor(name.clone()))?;
        if &t.shape != shape || t.values.len() != shape.iter().product::<usize>() {
            return Err(FormatError::WrongShape {
                name: name.clone(),
                expected: shape.clone(),
                found: t.shape.clone(),
            });
        }
    }
    let layout = stored_layout(&card)?;
    let quantized =
        (card.quantization == quant::INT8_PER_CHANNEL).then(|| quant::quantize_model(tensors));
    let mut data = Vec::new();
    let mut header = serde_json::Map::new();
    for st in &layout {
        let start = data.len() as u64;
        match (st.dtype, &quantized) {
            ("I8", Some(q)) => {
                data.extend(q.weights[&st.name].values.iter().map(|v| *v as u8));
            }
            (_, Some(q)) if st.name.ends_with(quant::SCALE_SUFFIX) => {
                let weight = &st.name[..st.name.len() - quant::SCALE_SUFFIX.len()];
                for v in &q.weights[weight].scales {
                    data.extend_from_slice(&v.to_le_bytes());
                }
            }
            ("F16", _) => {
                for &v in &tensors[&st.name].values {
                    let bits = quant::f16_bits(v).ok_or_else(|| FormatError::OutOfRange {
                        name: st.name.clone(),
                        value: v,
                        precision: quant::F16.into(),
                    })?;
                    data.extend_from_slice(&bits.to_le_bytes());
                }
            }
            _ => {
                for v in &tensors[&st.name].values {
                    data.extend_from_slice(&v.to_le_bytes());
                }
            }
        }
        let entry = TensorEntry {
            dtype: st.dtype.into(),
            shape: st.shape.clone(),
            data_offsets: [start, data.len() as u64],
        };
        header.insert(
            st.name.clone(),
            serde_json::to_value(entry).expect("entry serialises"),
        );
    }
    card.format_version = FORMAT_VERSION;
    card.tensors_sha256 = sha256_hex(&data);
    let card_json = serde_json::to_string(&card).expect("card serialises");
    Ok(join_safetensors(header, CARD_KEY, card_json, &data))
}

/// The model card of a parsed safetensors header, with its architecture validated.
fn header_card(
    header: &serde_json::Map<String, serde_json::Value>,
) -> Result<ModelCard, FormatError> {
    let card: ModelCard =
        parse_card(header, CARD_KEY, FORMAT_VERSION..=FORMAT_VERSION).map_err(|p| match p {
            CardProblem::Missing => FormatError::MissingCard,
            CardProblem::Bad(m) => FormatError::BadCard(m),
            CardProblem::Version(v) => FormatError::UnsupportedVersion(v),
        })?;
    card.config.validate().map_err(FormatError::BadConfig)?;
    Ok(card)
}

/// The model card from the first bytes of a model file (its safetensors header), without reading
/// or verifying the tensors — to describe a listed model before downloading it; `Ok(None)` while
/// `prefix` is shorter than the header. Use [`read_model`] on the whole file to load one.
pub fn card_from_prefix(prefix: &[u8]) -> Result<Option<ModelCard>, FormatError> {
    let Some(len) = prefix.get(..8) else {
        return Ok(None);
    };
    let header_len = u64::from_le_bytes(len.try_into().expect("8 bytes"));
    if header_len > MAX_HEADER_BYTES {
        return Err(FormatError::BadHeader(format!(
            "header length {header_len} exceeds {MAX_HEADER_BYTES} bytes"
        )));
    }
    let end = 8 + header_len as usize;
    if prefix.len() < end {
        return Ok(None);
    }
    let (header, _) = split_safetensors(&prefix[..end])?;
    header_card(&header).map(Some)
}

/// Parses and validates a model file (see module docs for what is checked). int8 files are
/// dequantized and f16 files widened: the returned tensors are always f32 (exactly the stored
/// values; a WebGPU device with `shader-f16` narrows f16 models back, see [`crate::infer`]).
pub fn read_model(bytes: &[u8]) -> Result<ModelFile, FormatError> {
    let (header, data) = split_safetensors(bytes)?;
    let card = header_card(&header)?;
    let entries = tensor_entries(&header, data.len())?;
    let layout = stored_layout(&card)?;
    for name in entries.keys() {
        if !layout.iter().any(|st| &st.name == name) {
            return Err(FormatError::UnexpectedTensor(name.clone()));
        }
    }
    let found_hash = sha256_hex(data);
    let mut raw: BTreeMap<String, HostTensor> = BTreeMap::new();
    let mut int8: BTreeMap<String, (Vec<usize>, Vec<i8>)> = BTreeMap::new();
    for st in layout {
        let entry = entries
            .get(&st.name)
            .ok_or_else(|| FormatError::MissingTensor(st.name.clone()))?;
        if entry.dtype != st.dtype {
            return Err(FormatError::UnsupportedDtype {
                name: st.name,
                dtype: entry.dtype.clone(),
                expected: st.dtype.into(),
            });
        }
        if entry.shape != st.shape {
            return Err(FormatError::WrongShape {
                name: st.name,
                expected: st.shape,
                found: entry.shape.clone(),
            });
        }
        let count: usize = entry.shape.iter().product();
        let width = dtype_width(st.dtype);
        let [start, end] = entry.data_offsets;
        if (end - start) as usize != count * width {
            return Err(FormatError::BadHeader(format!(
                "tensor '{}' spans {} bytes but {} {:?} needs {}",
                st.name,
                end - start,
                st.dtype,
                entry.shape,
                count * width
            )));
        }
        let bytes = &data[start as usize..end as usize];
        if st.dtype == "I8" {
            int8.insert(
                st.name,
                (st.shape, bytes.iter().map(|b| *b as i8).collect()),
            );
        } else {
            let values = if st.dtype == "F16" {
                bytes
                    .chunks_exact(2)
                    .map(|c| quant::f16_value(u16::from_le_bytes([c[0], c[1]])))
                    .collect()
            } else {
                bytes
                    .chunks_exact(4)
                    .map(|c| f32::from_le_bytes(c.try_into().expect("4 bytes")))
                    .collect()
            };
            raw.insert(
                st.name,
                HostTensor {
                    shape: st.shape,
                    values,
                },
            );
        }
    }
    if found_hash != card.tensors_sha256 {
        return Err(FormatError::HashMismatch {
            expected: card.tensors_sha256.clone(),
            found: found_hash,
        });
    }
    for (name, (shape, values)) in int8 {
        let scales = raw
            .remove(&format!("{name}{}", quant::SCALE_SUFFIX))
            .expect("layout pairs every I8 weight with its scales")
            .values;
        if let Some(bad) = scales.iter().find(|s| !s.is_finite() || **s < 0.0) {
            return Err(FormatError::BadHeader(format!(
                "tensor '{name}' has an invalid scale {bad}"
            )));
        }
        let axis = quant::output_axis(shape.len());
        let q = quant::QuantizedTensor {
            shape,
            values,
            axis,
            scales,
        };
        raw.insert(name, quant::dequantize(&q));
    }
    Ok(ModelFile { card, tensors: raw })
}
