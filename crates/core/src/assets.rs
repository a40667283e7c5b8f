//! What the site ships, listed with sizes and hashes: the per-kind asset indexes
//! (`models/index.json`, `eval/index.json`) and the build's `manifest.json`, which the app checks
//! every downloaded file against.

use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Lower-case hex sha256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
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
    /// The model's card as its file carries it (model indexes only): the page lists the models
    /// from the index alone and fetches a file when it is chosen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card: Option<Box<crate::format::ModelCard>>,
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
    /// Reads an asset index (`file` names it in messages) and checks that it lists its default.
    pub fn from_json(file: &str, bytes: &[u8]) -> Result<Self, AssetError> {
        let index: Self = serde_json::from_slice(bytes).map_err(|e| AssetError::BadJson {
            file: file.to_string(),
            message: e.to_string(),
        })?;
        index.default_entry()?;
        Ok(index)
    }

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
    /// Reads `manifest.json`.
    pub fn from_json(bytes: &[u8]) -> Result<Self, AssetError> {
        serde_json::from_slice(bytes).map_err(|e| AssetError::BadJson {
            file: "manifest.json".to_string(),
            message: e.to_string(),
        })
    }

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
    /// The file is not valid JSON for its kind (serde's message names the line and column).
    BadJson {
        /// The file, e.g. `manifest.json` or `models/index.json`.
        file: String,
        /// What is wrong, where.
        message: String,
    },
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
            Self::BadJson { file, message } => write!(f, "{file} is not valid: {message}"),
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
