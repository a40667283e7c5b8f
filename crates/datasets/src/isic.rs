//! ISIC 2019 as split by the FME/SCP reference code (papers.md §7.1).

use std::path::Path;

use crate::index::{DatasetError, DatasetIndex, LabelledImage, OnBadRow, ReadReport};
use crate::table::{
    existing, field, one_hot, parse_age, parse_skin_type, read_rows, skin_group, Table,
};

/// ISIC 2019 class codes in label order (the one-hot column order of the FME/SCP CSVs).
pub const ISIC_CLASSES: [&str; 8] = ["MEL", "NV", "BCC", "AK", "BKL", "DF", "VASC", "SCC"];

/// Reads an ISIC 2019 split CSV of the FME/SCP code (papers.md §7.1): class from the one-hot
/// columns MEL…SCC, sex from `sex` (rows without it dropped and counted), age from
/// `age_approx`, skin type from `fitzpatrick` when present; images under
/// `<root>/ISIC_2019_Training_Input/<image>.jpg`.
pub fn read_isic2019(
    csv: &Path,
    root: &Path,
    on_bad: OnBadRow,
) -> Result<DatasetIndex, DatasetError> {
    let table = Table::read(csv)?;
    let image_col = table.require("image")?;
    let sex_col = table.require("sex")?;
    let class_cols = ISIC_CLASSES
        .iter()
        .map(|c| table.require(c))
        .collect::<Result<Vec<_>, _>>()?;
    let age_col = table.column("age_approx");
    let fitz_col = table.column("fitzpatrick");
    let mut report = ReadReport::default();
    let items = read_rows(&table, on_bad, &mut report, |rec, line, report| {
        // Rows without sex are filtered out before anything else, as the FME/SCP code does.
        let sex = match field(rec, Some(sex_col)) {
            "" => {
                report.dropped_no_sex += 1;
                return Ok(None);
            }
            "female" => 0,
            "male" => 1,
            other => return Err(format!("sex '{other}' is not 'female', 'male' or empty")),
        };
        let mut hot = Vec::new();
        for (k, c) in class_cols.iter().enumerate() {
            if one_hot(field(rec, Some(*c)))? {
                hot.push(k);
            }
        }
        if hot.len() != 1 {
            return Err(format!(
                "the class columns {} hold {} ones (expected exactly one)",
                ISIC_CLASSES.join("/"),
                hot.len()
            ));
        }
        let age = parse_age(field(rec, age_col))?;
        let skin_type = parse_skin_type(field(rec, fitz_col))?;
        if skin_type.is_none() {
            report.unknown_skin_type += 1;
        }
        let image = field(rec, Some(image_col));
        if image.is_empty() {
            return Err("empty 'image' field".into());
        }
        let path = existing(
            root.join("ISIC_2019_Training_Input")
                .join(format!("{image}.jpg")),
        )?;
        Ok(Some(LabelledImage {
            path,
            label: hot[0],
            skin_type,
            skin_group: skin_group(skin_type),
            sex: Some(sex),
            age,
            line,
        }))
    })?;
    Ok(DatasetIndex {
        name: format!("ISIC 2019 ({})", csv.display()),
        csv: csv.to_path_buf(),
        class_names: ISIC_CLASSES.iter().map(|s| s.to_string()).collect(),
        items,
        report,
    })
}
