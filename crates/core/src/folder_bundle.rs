//! An evaluation bundle made from a labelled folder — its `labels.csv` rows and their photos —
//! with every row or photo left out listed with its reason. The trainer's `audit --data <folder>`
//! and the page's folder audit both build their bundles here, so both see the same pixels.

use crate::bundle::{
    DataCard, EvalBundle, BUNDLE_FORMAT_VERSION, UNKNOWN_AGE, UNKNOWN_SEX, UNKNOWN_SKIN_TYPE,
};
use crate::labels::{LabelRow, LabelsCsv};
use crate::preprocess::{decode_image, square_resize};

/// Why a row's photo is missing: the folder has no file of that name.
pub const NO_SUCH_FILE: &str = "no such file in the folder";

/// Sex names of a folder's bundle (`labels.csv` sex 0 / 1).
pub const FOLDER_SEX_NAMES: [&str; 2] = ["female", "male"];

/// A row or photo of the folder that is not in the bundle.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SkippedItem {
    /// Line of `labels.csv` it comes from.
    pub line: usize,
    /// The file the row names (empty when the row names none).
    pub file: String,
    /// Why it was left out.
    pub reason: String,
}

/// Collects a folder's photos into an evaluation bundle.
pub struct FolderBundle {
    bundle: EvalBundle,
    skipped: Vec<SkippedItem>,
}

impl FolderBundle {
    /// An empty bundle named `name` for a model with `class_names` and `side`-pixel inputs, with
    /// the rows `labels` skipped already listed.
    pub fn new(name: &str, class_names: Vec<String>, side: u32, labels: &LabelsCsv) -> Self {
        let card = DataCard {
            format_version: BUNDLE_FORMAT_VERSION,
            name: name.into(),
            description: String::new(),
            source: String::new(),
            seed: None,
            split: "user data".into(),
            settings: serde_json::Value::Null,
            class_names,
            sex_names: FOLDER_SEX_NAMES.iter().map(|s| s.to_string()).collect(),
            side,
            count: 0,
            counts_by_cell: Vec::new(),
            counts_by_class: Vec::new(),
            command: String::new(),
            disclaimer: String::new(),
            data_sha256: String::new(),
        };
        Self {
            bundle: EvalBundle {
                card,
                images: Vec::new(),
                labels: Vec::new(),
                skin_types: Vec::new(),
                sexes: Vec::new(),
                ages: Vec::new(),
                ids: Vec::new(),
                lesion_masks: None,
            },
            skipped: labels
                .skipped
                .iter()
                .map(|s| SkippedItem {
                    line: s.line,
                    file: String::new(),
                    reason: s.reason.clone(),
                })
                .collect(),
        }
    }

    /// Adds the photo of `row` from its file's bytes (or why they could not be read): decoded
    /// (EXIF orientation applied), centre-cropped and resized like every photo; a photo that
    /// fails is listed, not fatal.
    pub fn add(&mut self, row: &LabelRow, bytes: Result<&[u8], String>) {
        let decoded = bytes.and_then(|b| decode_image(b).map_err(|e| e.to_string()));
        match decoded {
            Ok(image) => {
                let image = square_resize(&image, self.bundle.card.side);
                self.bundle.images.extend_from_slice(image.as_raw());
                self.bundle.labels.push(row.label as u8);
                self.bundle
                    .skin_types
                    .push(row.skin_type.unwrap_or(UNKNOWN_SKIN_TYPE));
                self.bundle.sexes.push(row.sex.unwrap_or(UNKNOWN_SEX));
                self.bundle.ages.push(row.age.unwrap_or(UNKNOWN_AGE));
                self.bundle.ids.push(row.line as u32);
            }
            Err(reason) => self.skipped.push(SkippedItem {
                line: row.line,
                file: row.file.clone(),
                reason,
            }),
        }
    }

    /// The bundle (its card counted and described, `source` saying where it came from) and the
    /// items left out, in line order; an error when no photo could be used.
    pub fn finish(mut self, source: &str) -> Result<(EvalBundle, Vec<SkippedItem>), String> {
        self.skipped.sort_by_key(|s| s.line);
        let b = &mut self.bundle;
        if b.labels.is_empty() {
            return Err(format!(
                "no usable photo in {source} ({} rows or photos skipped{})",
                self.skipped.len(),
                self.skipped
                    .first()
                    .map(|s| format!("; the first, line {}: {}", s.line, s.reason))
                    .unwrap_or_default()
            ));
        }
        b.card.count = b.labels.len();
        b.card.counts_by_cell = b.cell_counts();
        b.card.counts_by_class = b.class_counts();
        b.card.source = source.to_string();
        b.card.description = format!(
            "{} labelled photos from {source}, {} rows or photos skipped",
            b.labels.len(),
            self.skipped.len()
        );
        b.card.disclaimer = "Your photos and labels, read on this device; the statistics are as \
                             good as the labels."
            .into();
        Ok((self.bundle, self.skipped))
    }
}
