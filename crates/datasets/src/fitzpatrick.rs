//! Fitzpatrick-17k as split by the FME/SCP reference code (papers.md §7.2).

use std::path::Path;

use crate::index::{
    DatasetError, DatasetIndex, LabelledImage, OnBadRow, ReadReport, UnknownFitzpatrick,
};
use crate::table::{existing, field, read_rows, skin_group, whole_number, Table};

/// Fitzpatrick-17k three-way partition in label order (`high`).
pub const FITZ_CLASSES: [&str; 3] = ["benign", "malignant", "non-neoplastic"];

/// Reads a Fitzpatrick-17k split CSV of the FME/SCP code (papers.md §7.2): class from
/// `three_partition_label` (checked against `high` when both exist), skin type from
/// `fitzpatrick` (−1 unknown: dark group or dropped, per `unknown`); images `<root>/<hasher>.jpg`.
pub fn read_fitzpatrick17k(
    csv: &Path,
    root: &Path,
    unknown: UnknownFitzpatrick,
    on_bad: OnBadRow,
) -> Result<DatasetIndex, DatasetError> {
    let table = Table::read(csv)?;
    let text_col = table.column("three_partition_label");
    let high_col = table.column("high");
    if text_col.is_none() && high_col.is_none() {
        table.require("three_partition_label")?;
    }
    let fitz_col = table.require("fitzpatrick")?;
    let hasher_col = table.column("hasher");
    let md5_col = table.column("md5hash");
    if hasher_col.is_none() && md5_col.is_none() {
        table.require("hasher")?;
    }
    let mut report = ReadReport::default();
    let items = read_rows(&table, on_bad, &mut report, |rec, line, report| {
        let from_text = match text_col {
            Some(c) => {
                let t = field(rec, Some(c));
                Some(FITZ_CLASSES.iter().position(|k| *k == t).ok_or_else(|| {
                    format!("unknown class '{t}' (expected {})", FITZ_CLASSES.join(", "))
                })?)
            }
            None => None,
        };
        let from_high = match high_col {
            Some(c) => {
                let h = field(rec, Some(c));
                Some(match whole_number(h) {
                    Some(v @ 0..=2) => v as usize,
                    _ => return Err(format!("'high' label '{h}' is not 0, 1 or 2")),
                })
            }
            None => None,
        };
        let label = match (from_text, from_high) {
            (Some(a), Some(b)) if a != b => {
                return Err(format!(
                    "three_partition_label '{}' disagrees with high = {b}",
                    FITZ_CLASSES[a]
                ))
            }
            (Some(a), _) | (None, Some(a)) => a,
            (None, None) => return Err("no 'three_partition_label' or 'high' column".into()),
        };
        let f = field(rec, Some(fitz_col));
        let (skin_type, group) = match whole_number(f) {
            Some(-1) => {
                report.unknown_skin_type += 1;
                match unknown {
                    UnknownFitzpatrick::Drop => {
                        report.dropped_unknown_skin_type += 1;
                        return Ok(None);
                    }
                    UnknownFitzpatrick::DarkGroup => (None, Some(1)),
                }
            }
            Some(t @ 1..=6) => (Some(t as u8), skin_group(Some(t as u8))),
            _ => return Err(format!("fitzpatrick '{f}' is not −1 or a type 1–6")),
        };
        let hash = match field(rec, hasher_col) {
            "" => field(rec, md5_col),
            h => h,
        };
        if hash.is_empty() {
            return Err("empty 'hasher' and 'md5hash' fields".into());
        }
        let path = existing(root.join(format!("{hash}.jpg")))?;
        Ok(Some(LabelledImage {
            path,
            label,
            skin_type,
            skin_group: group,
            sex: None,
            age: None,
            line,
        }))
    })?;
    Ok(DatasetIndex {
        name: format!("Fitzpatrick-17k ({})", csv.display()),
        csv: csv.to_path_buf(),
        class_names: FITZ_CLASSES.iter().map(|s| s.to_string()).collect(),
        items,
        report,
    })
}
