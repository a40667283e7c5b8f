//! The evaluation bundle: the labelled evaluation subset the browser computes fairness statistics
//! on. One standard safetensors file (Python's `safetensors` reads it) holding
//! `webp: U8 [bytes]` (every image as lossless WebP, concatenated), `webp_offsets: U32 [N+1]`, and per
//! image `label`, `skin_type` (1–6, 0 unknown), `sex` (0 female, 1 male, 2 unknown), `age`
//! (years, 255 unknown) as `U8 [N]` and `id: U32 [N]`, with a JSON data card in
//! `__metadata__["fairscreen.data_card"]`.
//!
//! Images are compressed losslessly rather than raw `U8 [N,H,W,3]` because raw pixels of
//! photographs (and of our synthetic ones) barely compress on the wire, while an image codec's
//! spatial prediction makes the bundle several times smaller; the reader decodes them back to
//! `[N, H, W, 3]`. Format version 2 stores lossless WebP (a quarter smaller than PNG on SynthDerm);
//! version 1, still read, stored PNG (`png`, `png_offsets`, `mask_png`, `mask_png_offsets`).

use std::collections::BTreeMap;
use std::fmt;

use image::RgbImage;
use serde::{Deserialize, Serialize};

mod codec;

pub use codec::encode_webp_lossless;
use codec::{decode_images, encode_checked, image_tensors};

use crate::assets::sha256_hex;
use crate::safetensors::{
    join_safetensors, parse_card, split_safetensors, tensor_entries, CardProblem, ContainerError,
    TensorEntry,
};

/// Bundle format version written by this build (images as lossless WebP).
pub const BUNDLE_FORMAT_VERSION: u32 = 2;
/// Oldest bundle format version this build reads (version 1: images as PNG).
pub const OLDEST_BUNDLE_FORMAT_VERSION: u32 = 1;
/// `__metadata__` key holding the JSON data card.
pub const DATA_CARD_KEY: &str = "fairscreen.data_card";
/// `skin_type` value for an unknown Fitzpatrick type.
pub const UNKNOWN_SKIN_TYPE: u8 = 0;
/// `sex` value for an unknown sex.
pub const UNKNOWN_SEX: u8 = 2;
/// `age` value for an unknown age.
pub const UNKNOWN_AGE: u8 = 255;

/// Number of images in one skin type × sex cell.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CellCount {
    /// Fitzpatrick type 1–6 (0 unknown).
    pub skin_type: u8,
    /// 0 female, 1 male, 2 unknown.
    pub sex: u8,
    /// Images in the cell.
    pub count: usize,
}

/// What the evaluation subset is, where it comes from and what it holds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DataCard {
    /// Bundle format version ([`BUNDLE_FORMAT_VERSION`]).
    pub format_version: u32,
    /// Bundle name (file stem).
    pub name: String,
    /// Human-readable description.
    pub description: String,
    /// Data source, e.g. the generator and its version, or a dataset name.
    pub source: String,
    /// Generator seed of the images (None for real data).
    pub seed: Option<u64>,
    /// Split the images come from (`test` for the shipped bundle).
    pub split: String,
    /// Generator settings or reader options, as recorded by the builder.
    pub settings: serde_json::Value,
    /// Class names in label order.
    pub class_names: Vec<String>,
    /// Names of sex codes 0 and 1.
    pub sex_names: Vec<String>,
    /// Image side in pixels.
    pub side: u32,
    /// Number of images (filled in by the writer).
    pub count: usize,
    /// Images per skin type × sex cell, sorted (filled in by the writer).
    pub counts_by_cell: Vec<CellCount>,
    /// Images per class (filled in by the writer).
    pub counts_by_class: Vec<usize>,
    /// The command that rebuilds this bundle.
    pub command: String,
    /// Caveat shown with the data card.
    pub disclaimer: String,
    /// Lower-case hex sha256 of the tensor data section (filled in by the writer).
    pub data_sha256: String,
}

/// The labelled evaluation subset, decoded.
#[derive(Clone, Debug, PartialEq)]
pub struct EvalBundle {
    /// The data card.
    pub card: DataCard,
    /// Pixels, `[N, side, side, 3]` row-major RGB.
    pub images: Vec<u8>,
    /// Class label per image.
    pub labels: Vec<u8>,
    /// Fitzpatrick type per image (1–6, [`UNKNOWN_SKIN_TYPE`]).
    pub skin_types: Vec<u8>,
    /// Sex per image (0 female, 1 male, [`UNKNOWN_SEX`]).
    pub sexes: Vec<u8>,
    /// Age per image in years ([`UNKNOWN_AGE`]).
    pub ages: Vec<u8>,
    /// Source id per image (e.g. the generator index).
    pub ids: Vec<u32>,
    /// Lesion coverage per pixel (0–255), `[N, side, side]` row-major, when the source knows it
    /// (SynthDerm); stored as grayscale PNGs.
    pub lesion_masks: Option<Vec<u8>>,
}

impl EvalBundle {
    /// Number of images.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// True when the bundle holds no image.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Pixels of image `i` (`side·side·3` bytes).
    pub fn image(&self, i: usize) -> &[u8] {
        let n = (self.card.side * self.card.side * 3) as usize;
        &self.images[i * n..(i + 1) * n]
    }

    /// Lesion coverage of image `i` (`side·side` bytes), when the bundle has masks.
    pub fn lesion_mask(&self, i: usize) -> Option<&[u8]> {
        let n = (self.card.side * self.card.side) as usize;
        self.lesion_masks.as_ref().map(|m| &m[i * n..(i + 1) * n])
    }

    /// Image `i` as an RGB image.
    pub fn rgb_image(&self, i: usize) -> RgbImage {
        RgbImage::from_raw(self.card.side, self.card.side, self.image(i).to_vec())
            .expect("image length checked at read")
    }

    /// Images per skin type × sex cell, sorted by (skin type, sex), empty cells left out.
    pub fn cell_counts(&self) -> Vec<CellCount> {
        let mut m: BTreeMap<(u8, u8), usize> = BTreeMap::new();
        for (t, s) in self.skin_types.iter().zip(&self.sexes) {
            *m.entry((*t, *s)).or_default() += 1;
        }
        m.into_iter()
            .map(|((skin_type, sex), count)| CellCount {
                skin_type,
                sex,
                count,
            })
            .collect()
    }

    /// Images per class, indexed by label.
    pub fn class_counts(&self) -> Vec<usize> {
        let mut c = vec![0; self.card.class_names.len()];
        for l in &self.labels {
            if let Some(x) = c.get_mut(*l as usize) {
                *x += 1;
            }
        }
        c
    }
}

/// Every way a bundle can be rejected, each with its own message.
#[derive(Clone, Debug, PartialEq)]
pub enum BundleError {
    /// Fewer bytes than the structure announces.
    Truncated(String),
    /// The safetensors header or the tensor layout is malformed.
    BadHeader(String),
    /// The header has no data card.
    MissingCard,
    /// The data card is not valid JSON for [`DataCard`] or contradicts the data.
    BadCard(String),
    /// The card's format version is not one this build reads.
    UnsupportedVersion(u32),
    /// A required tensor is absent.
    MissingTensor(String),
    /// A tensor has the wrong dtype or rank.
    WrongShape {
        /// Tensor name.
        name: String,
        /// What the format needs.
        expected: String,
        /// What the file has.
        found: String,
    },
    /// A per-image tensor's length differs from the card's image count.
    CountMismatch {
        /// Tensor name.
        name: String,
        /// Length the card's count implies.
        expected: usize,
        /// Length in the file.
        found: usize,
    },
    /// An image cannot be decoded or has the wrong size.
    BadImage {
        /// Image index.
        index: usize,
        /// What is wrong.
        message: String,
    },
    /// A label or group code is out of range.
    BadValue {
        /// Tensor name.
        name: String,
        /// Image index.
        index: usize,
        /// The value.
        value: u32,
    },
    /// The data does not hash to the card's `data_sha256`.
    HashMismatch {
        /// Hash in the card.
        expected: String,
        /// Hash of the bytes.
        found: String,
    },
}

impl fmt::Display for BundleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Truncated(m) => write!(f, "evaluation bundle is truncated: {m}"),
            Self::BadHeader(m) => write!(f, "evaluation bundle header is not valid: {m}"),
            Self::MissingCard => write!(
                f,
                "evaluation bundle has no data card (__metadata__.{DATA_CARD_KEY})"
            ),
            Self::BadCard(m) => write!(f, "evaluation bundle data card is not valid: {m}"),
            Self::UnsupportedVersion(v) => write!(
                f,
                "evaluation bundle format version {v} is not supported (this build reads versions {OLDEST_BUNDLE_FORMAT_VERSION} to {BUNDLE_FORMAT_VERSION})"
            ),
            Self::MissingTensor(n) => write!(f, "evaluation bundle lacks tensor '{n}'"),
            Self::WrongShape {
                name,
                expected,
                found,
            } => write!(
                f,
                "evaluation bundle tensor '{name}' is {found} but must be {expected}"
            ),
            Self::CountMismatch {
                name,
                expected,
                found,
            } => write!(
                f,
                "evaluation bundle tensor '{name}' has {found} entries but the data card counts {expected} images"
            ),
            Self::BadImage { index, message } => {
                write!(f, "evaluation bundle image {index} is not valid: {message}")
            }
            Self::BadValue { name, index, value } => write!(
                f,
                "evaluation bundle '{name}' of image {index} is {value}, out of range"
            ),
            Self::HashMismatch { expected, found } => write!(
                f,
                "evaluation bundle data is corrupt: sha256 {found} differs from the card's {expected}"
            ),
        }
    }
}

impl std::error::Error for BundleError {}

impl From<ContainerError> for BundleError {
    fn from(e: ContainerError) -> Self {
        match e {
            ContainerError::Truncated(m) => Self::Truncated(m),
            ContainerError::BadHeader(m) => Self::BadHeader(m),
        }
    }
}

/// The per-image tensors: name and dtype.
const PER_IMAGE: [(&str, &str); 5] = [
    ("label", "U8"),
    ("skin_type", "U8"),
    ("sex", "U8"),
    ("age", "U8"),
    ("id", "U32"),
];

fn check_values(b: &EvalBundle) -> Result<(), BundleError> {
    let classes = b.card.class_names.len() as u32;
    let checks: [(&str, &[u8], u32); 3] = [
        ("label", &b.labels, classes.saturating_sub(1)),
        ("skin_type", &b.skin_types, 6),
        ("sex", &b.sexes, UNKNOWN_SEX as u32),
    ];
    for (name, values, max) in checks {
        if let Some((index, v)) = values.iter().enumerate().find(|(_, v)| **v as u32 > max) {
            return Err(BundleError::BadValue {
                name: name.into(),
                index,
                value: *v as u32,
            });
        }
    }
    Ok(())
}

/// Serialises a bundle with the pure-Rust WebP encoder (see [`write_eval_bundle_with`]).
pub fn write_eval_bundle(bundle: &EvalBundle) -> Result<Vec<u8>, BundleError> {
    write_eval_bundle_with(bundle, &encode_webp_lossless)
}

/// Serialises a bundle: encodes the images (and lesion masks, when present, as grey images) as
/// lossless WebP with `encode`, checking that each decodes back exactly, and fills in the card's
/// count, per-cell and per-class counts, format version and data hash.
pub fn write_eval_bundle_with(
    bundle: &EvalBundle,
    encode: &dyn Fn(&RgbImage) -> Vec<u8>,
) -> Result<Vec<u8>, BundleError> {
    let n = bundle.len();
    let px = (bundle.card.side * bundle.card.side * 3) as usize;
    for (name, len) in [
        ("images", bundle.images.len() / px.max(1)),
        ("skin_type", bundle.skin_types.len()),
        ("sex", bundle.sexes.len()),
        ("age", bundle.ages.len()),
        ("id", bundle.ids.len()),
    ] {
        if len != n || (name == "images" && bundle.images.len() != n * px) {
            return Err(BundleError::CountMismatch {
                name: name.into(),
                expected: n,
                found: len,
            });
        }
    }
    if let Some(m) = &bundle.lesion_masks {
        let per = (bundle.card.side * bundle.card.side) as usize;
        if m.len() != n * per {
            return Err(BundleError::CountMismatch {
                name: "lesion_masks".into(),
                expected: n,
                found: m.len() / per.max(1),
            });
        }
    }
    if bundle.card.class_names.is_empty() {
        return Err(BundleError::BadCard("no class names".into()));
    }
    check_values(bundle)?;
    let mut card = bundle.card.clone();
    card.format_version = BUNDLE_FORMAT_VERSION;
    card.count = n;
    card.counts_by_cell = bundle.cell_counts();
    card.counts_by_class = bundle.class_counts();

    let names = image_tensors(BUNDLE_FORMAT_VERSION);
    let mut encoded = Vec::new();
    let mut offsets: Vec<u32> = vec![0];
    for i in 0..n {
        encoded.extend(encode_checked(&bundle.rgb_image(i), encode, i, "")?);
        offsets.push(encoded.len() as u32);
    }
    let u32s = |v: &[u32]| v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>();
    let mut tensors: Vec<(&str, &str, Vec<u8>)> = vec![
        ("age", "U8", bundle.ages.clone()),
        ("id", "U32", u32s(&bundle.ids)),
        ("label", "U8", bundle.labels.clone()),
    ];
    let (mask_offsets_name, offsets_name) = (
        format!("{}_offsets", names.masks),
        format!("{}_offsets", names.images),
    );
    if let Some(masks) = &bundle.lesion_masks {
        let side = bundle.card.side;
        let per = (side * side) as usize;
        let mut encoded_masks = Vec::new();
        let mut mask_offsets: Vec<u32> = vec![0];
        for (i, mask) in masks.chunks_exact(per).enumerate() {
            let grey = RgbImage::from_fn(side, side, |x, y| {
                let v = mask[(y * side + x) as usize];
                image::Rgb([v, v, v])
            });
            encoded_masks.extend(encode_checked(&grey, encode, i, "lesion mask: ")?);
            mask_offsets.push(encoded_masks.len() as u32);
        }
        tensors.push((names.masks, "U8", encoded_masks));
        tensors.push((&mask_offsets_name, "U32", u32s(&mask_offsets)));
    }
    tensors.extend([
        (names.images, "U8", encoded),
        (&offsets_name, "U32", u32s(&offsets)),
        ("sex", "U8", bundle.sexes.clone()),
        ("skin_type", "U8", bundle.skin_types.clone()),
    ]);
    let mut data = Vec::new();
    let mut header = serde_json::Map::new();
    for (name, dtype, bytes) in tensors {
        let size = if dtype == "U32" { 4 } else { 1 };
        let start = data.len() as u64;
        data.extend_from_slice(&bytes);
        let entry = TensorEntry {
            dtype: dtype.into(),
            shape: vec![bytes.len() / size],
            data_offsets: [start, data.len() as u64],
        };
        header.insert(name.into(), serde_json::to_value(entry).expect("entry"));
    }
    card.data_sha256 = sha256_hex(&data);
    let card_json = serde_json::to_string(&card).expect("card serialises");
    Ok(join_safetensors(header, DATA_CARD_KEY, card_json, &data))
}

/// Parses, validates and decodes a bundle; `progress(done, total)` is called as images decode.
pub fn read_eval_bundle_with(
    bytes: &[u8],
    mut progress: impl FnMut(usize, usize),
) -> Result<EvalBundle, BundleError> {
    let (header, data) = split_safetensors(bytes)?;
    let card: DataCard = parse_card(
        &header,
        DATA_CARD_KEY,
        OLDEST_BUNDLE_FORMAT_VERSION..=BUNDLE_FORMAT_VERSION,
    )
    .map_err(|p| match p {
        CardProblem::Missing => BundleError::MissingCard,
        CardProblem::Bad(m) => BundleError::BadCard(m),
        CardProblem::Version(v) => BundleError::UnsupportedVersion(v),
    })?;
    if card.class_names.is_empty() || card.side == 0 {
        return Err(BundleError::BadCard(
            "no class names or a zero image side".into(),
        ));
    }
    let entries = tensor_entries(&header, data.len())?;
    let n = card.count;
    let tensor = |name: &str, dtype: &str, len: usize| -> Result<&[u8], BundleError> {
        let e = entries
            .get(name)
            .ok_or_else(|| BundleError::MissingTensor(name.into()))?;
        if e.dtype != dtype || e.shape.len() != 1 {
            return Err(BundleError::WrongShape {
                name: name.into(),
                expected: format!("{dtype} of rank 1"),
                found: format!("{} of shape {:?}", e.dtype, e.shape),
            });
        }
        let size = if dtype == "U32" { 4 } else { 1 };
        let bytes = &data[e.data_offsets[0] as usize..e.data_offsets[1] as usize];
        if bytes.len() != e.shape[0] * size {
            return Err(BundleError::BadHeader(format!(
                "tensor '{name}' spans {} bytes but shape {:?} needs {}",
                bytes.len(),
                e.shape,
                e.shape[0] * size
            )));
        }
        if len != usize::MAX && e.shape[0] != len {
            return Err(BundleError::CountMismatch {
                name: name.into(),
                expected: len,
                found: e.shape[0],
            });
        }
        Ok(bytes)
    };
    let u32s = |b: &[u8]| -> Vec<u32> {
        b.chunks_exact(4)
            .map(|c| u32::from_le_bytes(c.try_into().expect("4 bytes")))
            .collect()
    };
    let names = image_tensors(card.format_version);
    let packed = tensor(names.images, "U8", usize::MAX)?;
    let offsets = u32s(tensor(&format!("{}_offsets", names.images), "U32", n + 1)?);
    let masks = if entries.contains_key(names.masks) {
        Some((
            tensor(names.masks, "U8", usize::MAX)?,
            u32s(tensor(&format!("{}_offsets", names.masks), "U32", n + 1)?),
        ))
    } else {
        None
    };
    let mut per: BTreeMap<&str, &[u8]> = BTreeMap::new();
    for (name, dtype) in PER_IMAGE {
        per.insert(name, tensor(name, dtype, n)?);
    }
    let found = sha256_hex(data);
    if found != card.data_sha256 {
        return Err(BundleError::HashMismatch {
            expected: card.data_sha256.clone(),
            found,
        });
    }
    let side = card.side;
    let images = decode_images(
        packed,
        &offsets,
        side,
        names.images,
        "",
        names.format,
        |img| img.into_rgb8().into_raw(),
        |i| progress(i + 1, n),
    )?;
    let lesion_masks = match masks {
        None => None,
        Some((packed_masks, mask_offsets)) => Some(decode_images(
            packed_masks,
            &mask_offsets,
            side,
            names.masks,
            "lesion mask: ",
            names.format,
            // Version 1 stored grey PNGs; version 2 grey RGB WebPs (WebP has no grey mode).
            |img| match img {
                image::DynamicImage::ImageLuma8(grey) => grey.into_raw(),
                img => img.into_rgb8().pixels().map(|p| p[0]).collect(),
            },
            |_| {},
        )?),
    };
    let bundle = EvalBundle {
        lesion_masks,
        images,
        labels: per["label"].to_vec(),
        skin_types: per["skin_type"].to_vec(),
        sexes: per["sex"].to_vec(),
        ages: per["age"].to_vec(),
        ids: u32s(per["id"]),
        card,
    };
    check_values(&bundle)?;
    if bundle.card.counts_by_cell != bundle.cell_counts()
        || bundle.card.counts_by_class != bundle.class_counts()
    {
        return Err(BundleError::BadCard(
            "the per-cell or per-class counts differ from the data".into(),
        ));
    }
    Ok(bundle)
}

/// Parses, validates and decodes a bundle (see [`read_eval_bundle_with`]).
pub fn read_eval_bundle(bytes: &[u8]) -> Result<EvalBundle, BundleError> {
    read_eval_bundle_with(bytes, |_, _| {})
}
