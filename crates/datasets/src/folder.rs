//! A labelled folder: images next to a `labels.csv` (file, label, optional skin type, sex, age).

use std::collections::BTreeSet;
use std::path::Path;

use crate::fitzpatrick::FITZ_CLASSES;
use crate::index::{DatasetError, DatasetIndex, LabelledImage, OnBadRow, ReadReport};
use fairscreen_core::labels::LabelColumns;

use crate::table::{existing, field, read_rows, skin_group, Table};

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
    // The row rules are core's (the page reads a folder's labels.csv with them too).
    let columns = LabelColumns {
        file: file_col,
        label: label_col,
        skin_type: type_col,
        sex: sex_col,
        age: age_col,
    };
    let items = read_rows(&table, on_bad, &mut report, |rec, line, report| {
        let cells: Vec<&str> = rec.iter().collect();
        let row = columns.parse_row(&cells, line, &names, given)?;
        if row.skin_type.is_none() {
            report.unknown_skin_type += 1;
        }
        let path = existing(dir.join(&row.file))?;
        Ok(Some(LabelledImage {
            path,
            label: row.label,
            skin_type: row.skin_type,
            skin_group: skin_group(row.skin_type),
            sex: row.sex,
            age: row.age,
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
