//! The model file: standard safetensors (readable by Python's `safetensors`) whose `__metadata__`
//! holds a JSON model card under the key `fairscreen.card`. The reader validates the header, the
//! format version, the card, every tensor's dtype, shape and byte range, and the tensor-section hash.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::{ConfigError, ModelConfig};
use crate::model::HostTensor;
use crate::quant;

/// Model file format version written by this build; readers accept exactly this version.
pub const FORMAT_VERSION: u32 = 1;
/// `__metadata__` key holding the JSON model card.
pub const CARD_KEY: &str = "fairscreen.card";
/// Largest header we accept (bytes); a bigger length field means the file is not ours or corrupt.
pub const MAX_HEADER_BYTES: u64 = 16 * 1024 * 1024;

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

/// Lower-case hex sha256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// One tensor's entry in a safetensors header.
#[derive(Serialize, Deserialize)]
pub(crate) struct TensorEntry {
    pub(crate) dtype: String,
    pub(crate) shape: Vec<usize>,
    pub(crate) data_offsets: [u64; 2],
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
    let mut meta = serde_json::Map::new();
    meta.insert(CARD_KEY.into(), serde_json::Value::String(card_json));
    header.insert("__metadata__".into(), serde_json::Value::Object(meta));
    let mut header_bytes = serde_json::to_vec(&header).expect("header serialises");
    while !header_bytes.len().is_multiple_of(8) {
        header_bytes.push(b' ');
    }
    let mut out = Vec::with_capacity(8 + header_bytes.len() + data.len());
    out.extend_from_slice(&(header_bytes.len() as u64).to_le_bytes());
    out.extend_from_slice(&header_bytes);
    out.extend_from_slice(&data);
    Ok(out)
}

/// Splits safetensors bytes into the JSON header and the data section.
pub(crate) fn split_safetensors(
    bytes: &[u8],
) -> Result<(serde_json::Map<String, serde_json::Value>, &[u8]), FormatError> {
    if bytes.len() < 8 {
        return Err(FormatError::Truncated(format!(
            "{} bytes, fewer than the 8-byte header length",
            bytes.len()
        )));
    }
    let header_len = u64::from_le_bytes(bytes[..8].try_into().expect("8 bytes"));
    if header_len > MAX_HEADER_BYTES {
        return Err(FormatError::BadHeader(format!(
            "header length {header_len} exceeds {MAX_HEADER_BYTES} bytes"
        )));
    }
    let header_end = 8 + header_len as usize;
    if bytes.len() < header_end {
        return Err(FormatError::Truncated(format!(
            "header needs {header_len} bytes, file has {}",
            bytes.len() - 8
        )));
    }
    let header: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&bytes[8..header_end])
            .map_err(|e| FormatError::BadHeader(e.to_string()))?;
    Ok((header, &bytes[header_end..]))
}

/// The tensor entries of a safetensors header, checked to tile the data section exactly.
pub(crate) fn tensor_entries(
    header: &serde_json::Map<String, serde_json::Value>,
    data_len: usize,
) -> Result<BTreeMap<String, TensorEntry>, FormatError> {
    let mut entries = BTreeMap::new();
    for (name, value) in header {
        if name == "__metadata__" {
            continue;
        }
        let entry: TensorEntry = serde_json::from_value(value.clone())
            .map_err(|e| FormatError::BadHeader(format!("tensor '{name}': {e}")))?;
        entries.insert(name.clone(), entry);
    }
    let mut spans: Vec<(u64, u64, &str)> = entries
        .iter()
        .map(|(n, e)| (e.data_offsets[0], e.data_offsets[1], n.as_str()))
        .collect();
    spans.sort();
    let mut cursor = 0u64;
    for (start, end, name) in &spans {
        if *start != cursor || end < start {
            return Err(FormatError::BadHeader(format!(
                "tensor '{name}' data offsets [{start}, {end}) are not contiguous (expected start {cursor})"
            )));
        }
        cursor = *end;
    }
    if (data_len as u64) < cursor {
        return Err(FormatError::Truncated(format!(
            "tensor data needs {cursor} bytes, file has {data_len}"
        )));
    }
    if (data_len as u64) > cursor {
        return Err(FormatError::BadHeader(format!(
            "{} bytes after the last tensor",
            data_len as u64 - cursor
        )));
    }
    Ok(entries)
}

/// Why a JSON card in a safetensors header cannot be used.
pub(crate) enum CardProblem {
    /// No card under the key.
    Missing,
    /// Not a JSON string, or not valid for the card type.
    Bad(String),
    /// A `format_version` other than the one this build reads.
    Version(u32),
}

/// Reads the JSON card stored as a string under `__metadata__[key]`, checking its
/// `format_version` before the rest of its fields.
pub(crate) fn parse_card<T: serde::de::DeserializeOwned>(
    header: &serde_json::Map<String, serde_json::Value>,
    key: &str,
    version: u32,
) -> Result<T, CardProblem> {
    let json = header
        .get("__metadata__")
        .and_then(|m| m.get(key))
        .ok_or(CardProblem::Missing)?
        .as_str()
        .ok_or_else(|| CardProblem::Bad("card is not a JSON string".into()))?;
    let value: serde_json::Value =
        serde_json::from_str(json).map_err(|e| CardProblem::Bad(e.to_string()))?;
    if let Some(v) = value.get("format_version").and_then(|v| v.as_u64()) {
        if v != version as u64 {
            return Err(CardProblem::Version(v as u32));
        }
    }
    serde_json::from_value(value).map_err(|e| CardProblem::Bad(e.to_string()))
}

/// The model card of a parsed safetensors header, with its architecture validated.
fn header_card(
    header: &serde_json::Map<String, serde_json::Value>,
) -> Result<ModelCard, FormatError> {
    let card: ModelCard = parse_card(header, CARD_KEY, FORMAT_VERSION).map_err(|p| match p {
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

/// An entry of an asset index (`www/models/index.json`, `www/eval/index.json`): a file and its hash.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AssetEntry {
    /// Asset name (a model card's or data card's `name`).
    pub name: String,
    /// File name next to the index.
    pub file: String,
    /// File size in bytes.
    pub bytes: usize,
    /// Lower-case hex sha256 of the whole file.
    pub sha256: String,
}

/// An asset index (`www/models/index.json`, `www/eval/index.json`): the files of one kind the
/// site ships, with hashes, and the one it loads first.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AssetIndex {
    /// Name of the asset loaded first.
    pub default: String,
    /// Every shipped asset of this kind.
    pub assets: Vec<AssetEntry>,
}

impl AssetIndex {
    /// The default asset's entry, or an error naming what is wrong.
    pub fn default_entry(&self) -> Result<&AssetEntry, AssetError> {
        self.assets
            .iter()
            .find(|m| m.name == self.default)
            .ok_or_else(|| AssetError::NoDefault(self.default.clone()))
    }

    /// Adds or replaces `entry` (by name), keeping entries sorted; the first asset becomes default.
    pub fn upsert(&mut self, entry: AssetEntry) {
        if self.default.is_empty() {
            self.default = entry.name.clone();
        }
        self.assets.retain(|m| m.name != entry.name);
        self.assets.push(entry);
        self.assets.sort_by(|a, b| a.name.cmp(&b.name));
    }
}

/// One file of the built site in `manifest.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ManifestEntry {
    /// Path relative to the site root, e.g. `models/tiny-fair-me-int8.safetensors`.
    pub path: String,
    /// Size in bytes.
    pub bytes: usize,
    /// Lower-case hex sha256.
    pub sha256: String,
}

/// `manifest.json`: every file of the built site (wasm, JS, models, evaluation subset) with its
/// size and hash, written by the build (`scripts/manifest.sh`, a Trunk post-build hook).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Manifest format (1).
    pub format: u32,
    /// Every file.
    pub assets: Vec<ManifestEntry>,
}

impl Manifest {
    /// Checks `bytes` against the entry for `path`: refuses a file the manifest does not list or
    /// whose size or sha256 differs, each with its own message.
    pub fn verify(&self, path: &str, bytes: &[u8]) -> Result<(), AssetError> {
        let entry = self
            .assets
            .iter()
            .find(|e| e.path == path)
            .ok_or_else(|| AssetError::Unlisted(path.to_string()))?;
        if bytes.len() != entry.bytes {
            return Err(AssetError::SizeMismatch {
                path: path.to_string(),
                bytes: bytes.len(),
                listed: entry.bytes,
            });
        }
        let found = sha256_hex(bytes);
        if found != entry.sha256 {
            return Err(AssetError::HashMismatch {
                path: path.to_string(),
                sha256: found,
                listed: entry.sha256.clone(),
            });
        }
        Ok(())
    }
}

/// Why a site asset cannot be used: an index without its default, or bytes that differ from
/// `manifest.json`.
#[derive(Clone, Debug, PartialEq)]
pub enum AssetError {
    /// The asset index names a default it does not list.
    NoDefault(String),
    /// The manifest does not list the file.
    Unlisted(String),
    /// The file's size differs from the manifest's.
    SizeMismatch {
        /// Path relative to the site root.
        path: String,
        /// Size of the bytes.
        bytes: usize,
        /// Size in the manifest.
        listed: usize,
    },
    /// The file's sha256 differs from the manifest's.
    HashMismatch {
        /// Path relative to the site root.
        path: String,
        /// Hash of the bytes.
        sha256: String,
        /// Hash in the manifest.
        listed: String,
    },
}

impl fmt::Display for AssetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoDefault(name) => write!(
                f,
                "the asset index has no entry for its default '{name}'"
            ),
            Self::Unlisted(path) => {
                write!(f, "{path} is not listed in manifest.json: refusing to use it")
            }
            Self::SizeMismatch {
                path,
                bytes,
                listed,
            } => write!(
                f,
                "{path} does not match manifest.json: {bytes} bytes, the manifest says {listed}: refusing to use it"
            ),
            Self::HashMismatch {
                path,
                sha256,
                listed,
            } => write!(
                f,
                "{path} does not match manifest.json: sha256 {sha256}, the manifest says {listed}: refusing to use it"
            ),
        }
    }
}

impl std::error::Error for AssetError {}
