//! The safetensors container that model files and evaluation bundles share: an 8-byte header
//! length, a JSON header (one entry per tensor, a JSON card under `__metadata__`) padded to 8
//! bytes, then the tensor data. Each format turns [`ContainerError`] into its own error.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Largest header we accept (bytes); a bigger length field means the file is not ours or corrupt.
pub const MAX_HEADER_BYTES: u64 = 16 * 1024 * 1024;

/// Why bytes are not a well-formed safetensors container.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum ContainerError {
    /// Fewer bytes than the structure announces.
    Truncated(String),
    /// The header or the tensor layout is malformed.
    BadHeader(String),
}

/// One tensor's entry in a safetensors header.
#[derive(Serialize, Deserialize)]
pub(crate) struct TensorEntry {
    /// `F32`, `F16`, `I8`, `U8` or `U32`.
    pub(crate) dtype: String,
    /// Dimensions.
    pub(crate) shape: Vec<usize>,
    /// Start and end of its bytes in the data section.
    pub(crate) data_offsets: [u64; 2],
}

/// Safetensors bytes of `header` (the tensor entries) with the JSON card `card_json` under
/// `__metadata__[key]`, followed by `data`.
pub(crate) fn join_safetensors(
    mut header: serde_json::Map<String, serde_json::Value>,
    key: &str,
    card_json: String,
    data: &[u8],
) -> Vec<u8> {
    let mut meta = serde_json::Map::new();
    meta.insert(key.into(), serde_json::Value::String(card_json));
    header.insert("__metadata__".into(), serde_json::Value::Object(meta));
    let mut header_bytes = serde_json::to_vec(&header).expect("header serialises");
    while !header_bytes.len().is_multiple_of(8) {
        header_bytes.push(b' ');
    }
    let mut out = Vec::with_capacity(8 + header_bytes.len() + data.len());
    out.extend_from_slice(&(header_bytes.len() as u64).to_le_bytes());
    out.extend_from_slice(&header_bytes);
    out.extend_from_slice(data);
    out
}

/// Splits safetensors bytes into the JSON header and the data section.
pub(crate) fn split_safetensors(
    bytes: &[u8],
) -> Result<(serde_json::Map<String, serde_json::Value>, &[u8]), ContainerError> {
    if bytes.len() < 8 {
        return Err(ContainerError::Truncated(format!(
            "{} bytes, fewer than the 8-byte header length",
            bytes.len()
        )));
    }
    let header_len = u64::from_le_bytes(bytes[..8].try_into().expect("8 bytes"));
    if header_len > MAX_HEADER_BYTES {
        return Err(ContainerError::BadHeader(format!(
            "header length {header_len} exceeds {MAX_HEADER_BYTES} bytes"
        )));
    }
    let header_end = 8 + header_len as usize;
    if bytes.len() < header_end {
        return Err(ContainerError::Truncated(format!(
            "header needs {header_len} bytes, file has {}",
            bytes.len() - 8
        )));
    }
    let header: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&bytes[8..header_end])
            .map_err(|e| ContainerError::BadHeader(e.to_string()))?;
    Ok((header, &bytes[header_end..]))
}

/// The tensor entries of a safetensors header, checked to tile the data section exactly.
pub(crate) fn tensor_entries(
    header: &serde_json::Map<String, serde_json::Value>,
    data_len: usize,
) -> Result<BTreeMap<String, TensorEntry>, ContainerError> {
    let mut entries = BTreeMap::new();
    for (name, value) in header {
        if name == "__metadata__" {
            continue;
        }
        let entry: TensorEntry = serde_json::from_value(value.clone())
            .map_err(|e| ContainerError::BadHeader(format!("tensor '{name}': {e}")))?;
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
            return Err(ContainerError::BadHeader(format!(
                "tensor '{name}' data offsets [{start}, {end}) are not contiguous (expected start {cursor})"
            )));
        }
        cursor = *end;
    }
    if (data_len as u64) < cursor {
        return Err(ContainerError::Truncated(format!(
            "tensor data needs {cursor} bytes, file has {data_len}"
        )));
    }
    if (data_len as u64) > cursor {
        return Err(ContainerError::BadHeader(format!(
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

/// Reads the JSON card stored as a string under `__metadata__[key]`, checking that its
/// `format_version` is one of `versions` before the rest of its fields.
pub(crate) fn parse_card<T: serde::de::DeserializeOwned>(
    header: &serde_json::Map<String, serde_json::Value>,
    key: &str,
    versions: std::ops::RangeInclusive<u32>,
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
        if !versions.contains(&(v.min(u64::from(u32::MAX)) as u32)) {
            return Err(CardProblem::Version(v as u32));
        }
    }
    serde_json::from_value(value).map_err(|e| CardProblem::Bad(e.to_string()))
}
