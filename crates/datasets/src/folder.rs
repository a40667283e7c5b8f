//! A labelled folder: images next to a `labels.csv` (file, label, optional skin type, sex, age).

use std::collections::BTreeSet;
use std::path::Path;

use crate::fitzpatrick::FITZ_CLASSES;
use crate::index::{DatasetError, DatasetIndex, LabelledImage, OnBadRow, ReadReport};
use crate::table::{
    existing, field, parse_skin_type, parse_whole_age, read_rows, skin_group, Table,
};

/// Reads `<dir>/labels.csv` (columns `file`, `label`; optional `skin_type`, `sex`, `age`).
/// Class names are `class_names` when given (then integer labels are accepted too), else the
/// labels seen: the SynthDerm/Fitzpatrick three-way order when they fit it, otherwise sorted.
pub fn read_labelled_folder(
    dir: &Path,
    class_names: Option<&[String]>,
    on_bad: OnBadRow,
) -> Result<DatasetIndex, DatasetError> {
    let csv_path = dir.join("labels.csv");
    let table = Table::read(&csv_path)?;
    let file_col = table.require("file")?;
    let label_col = table.require("label")?;
    let type_col = table.column("skin_type");
    let sex_col = table.column("sex");
    let age_col = table.column("age");
    let names: Vec<String> = match class_names {
        Some(n) => n.to_vec(),
        None => {
            let seen: BTreeSet<String> = table
                .rows
                .iter()
                .filter_map(|(_, r)| r.as_ref().ok())
                .map(|r| field(r, Some(label_col)).to_string())
                .filter(|s| !s.is_empty())
                .collect();
            if seen.iter().all(|s| FITZ_CLASSES.contains(&s.as_str())) {
                FITZ_CLASSES.iter().map(|s| s.to_string()).collect()
            } else {
                seen.into_iter().collect()
            }
        }
    };
    let given = class_names.is_some();
    let mut report = ReadReport::default();
    let items = read_rows(&table, on_bad, &mut report, |rec, line, report| {
        let l = field(rec, Some(label_col));
        let label = match names.iter().position(|n| n == l) {
            Some(k) => k,
            None => match l.parse::<usize>() {
                Ok(k) if given && k < names.len() => k,
                _ => {
                    return Err(format!(
                        "unknown class '{l}' (expected one of {})",
                        names.join(", ")
                    ))
                }
            },
        };
        let skin_type = parse_skin_type(field(rec, type_col))?;
        if skin_type.is_none() {
            report.unknown_skin_type += 1;
        }
        let sex_text = field(rec, sex_col);
        let sex = match sex_text.to_ascii_lowercase().as_str() {
            "" => None,
            "female" | "f" | "0" => Some(0),
            "male" | "m" | "1" => Some(1),
            _ => {
                return Err(format!(
                    "sex '{sex_text}' is not female/male (f/m, 0/1) or empty"
                ))
            }
        };
        let age = parse_whole_age(field(rec, age_col))?;
        let file = field(rec, Some(file_col));
        if file.is_empty() {
            return Err("empty 'file' field".into());
        }
        let path = existing(dir.join(file))?;
        Ok(Some(LabelledImage {
            path,
            label,
            skin_type,
            skin_group: skin_group(skin_type),
            sex,
            age,
            line,
        }))
    })?;
    Ok(DatasetIndex {
        name: format!("labelled folder {}", dir.display()),
        csv: csv_path.clone(),
        class_names: names,
        items,
        report,
    })
}
