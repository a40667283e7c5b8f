//! Readers that turn real dermatology dataset layouts into one list of labelled images:
//! ISIC 2019 and Fitzpatrick-17k as split by the FME/SCP reference code (papers.md §7), and a
//! generic labelled folder (`labels.csv`: file, label, skin_type, sex, age). Every bad row is
//! reported with its file and line (header = line 1), then skipped or fatal as the caller asks.

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};

use fairscreen_core::preprocess::{decode_image, square_resize, DecodeError};
use image::RgbImage;

/// ISIC 2019 class codes in label order (the one-hot column order of the FME/SCP CSVs).
pub const ISIC_CLASSES: [&str; 8] = ["MEL", "NV", "BCC", "AK", "BKL", "DF", "VASC", "SCC"];
/// Fitzpatrick-17k three-way partition in label order (`high`).
pub const FITZ_CLASSES: [&str; 3] = ["benign", "malignant", "non-neoplastic"];

/// One labelled image.
#[derive(Clone, Debug, PartialEq)]
pub struct LabelledImage {
    /// Image file.
    pub path: PathBuf,
    /// Class index into the dataset's class names.
    pub label: usize,
    /// Fitzpatrick type 1–6 when known.
    pub skin_type: Option<u8>,
    /// Binary skin group: 0 = types I–III, 1 = IV–VI (unknown types per the reader's option).
    pub skin_group: Option<u8>,
    /// 0 female, 1 male.
    pub sex: Option<u8>,
    /// Age in years.
    pub age: Option<u8>,
    /// CSV line the image came from.
    pub line: usize,
}

/// A bad row or image: where and why.
#[derive(Clone, Debug, PartialEq)]
pub struct RowProblem {
    /// CSV file.
    pub file: PathBuf,
    /// 1-based line (header = 1).
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for RowProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file.display(), self.line, self.message)
    }
}

/// What a reader saw: rows, kept rows, problems and drops.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ReadReport {
    /// Data rows read.
    pub rows: usize,
    /// Rows kept.
    pub kept: usize,
    /// Bad rows skipped (with `OnBadRow::Skip`).
    pub problems: Vec<RowProblem>,
    /// ISIC rows without sex, dropped.
    pub dropped_no_sex: usize,
    /// Rows with unknown skin type (kept or dropped).
    pub unknown_skin_type: usize,
    /// Rows dropped because their skin type is unknown (`UnknownFitzpatrick::Drop`).
    pub dropped_unknown_skin_type: usize,
}

/// A dataset's labelled images and class names.
#[derive(Clone, Debug, PartialEq)]
pub struct DatasetIndex {
    /// Dataset name.
    pub name: String,
    /// The CSV file the items were listed in.
    pub csv: PathBuf,
    /// Class names in label order.
    pub class_names: Vec<String>,
    /// Kept images.
    pub items: Vec<LabelledImage>,
    /// What the reader saw.
    pub report: ReadReport,
}

/// What to do with a bad row or unreadable image.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnBadRow {
    /// Record it in the report and go on.
    Skip,
    /// Stop with the error.
    Fail,
}

/// Fitzpatrick-17k rows whose skin type is unknown (−1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnknownFitzpatrick {
    /// Put them in the dark group (1), as the FME/SCP code does.
    DarkGroup,
    /// Drop them, as MEDFAIR/FairTune do.
    Drop,
}

/// Why a dataset cannot be read.
#[derive(Clone, Debug, PartialEq)]
pub enum DatasetError {
    /// A file cannot be read.
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        message: String,
    },
    /// The CSV header lacks a required column.
    MissingColumn {
        /// CSV file.
        file: PathBuf,
        /// Column name.
        column: String,
    },
    /// A bad row (with `OnBadRow::Fail`).
    Row(RowProblem),
    /// No usable row.
    Empty {
        /// CSV file.
        file: PathBuf,
    },
}

impl fmt::Display for DatasetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io { path, message } => write!(f, "cannot read {}: {message}", path.display()),
            Self::MissingColumn { file, column } => write!(
                f,
                "{}:1: the header has no '{column}' column",
                file.display()
            ),
            Self::Row(p) => write!(f, "{p}"),
            Self::Empty { file } => write!(
                f,
                "{}: no usable rows (no data rows, or every row was dropped)",
                file.display()
            ),
        }
    }
}

impl std::error::Error for DatasetError {}

/// A CSV file with its header indexed by column name.
struct Table {
    file: PathBuf,
    columns: HashMap<String, usize>,
    rows: Vec<(usize, Result<csv::StringRecord, String>)>,
}

impl Table {
    fn read(file: &Path) -> Result<Self, DatasetError> {
        let bytes = std::fs::read(file).map_err(|e| DatasetError::Io {
            path: file.to_path_buf(),
            message: e.to_string(),
        })?;
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .from_reader(bytes.as_slice());
        let headers = reader
            .headers()
            .map_err(|e| {
                DatasetError::Row(RowProblem {
                    file: file.to_path_buf(),
                    line: 1,
                    message: format!("unreadable header: {e}"),
                })
            })?
            .clone();
        if headers.iter().all(|h| h.trim().is_empty()) {
            return Err(DatasetError::Empty {
                file: file.to_path_buf(),
            });
        }
        let columns = headers
            .iter()
            .enumerate()
            .map(|(i, h)| (h.trim().to_string(), i))
            .collect();
        let mut rows = Vec::new();
        for (k, rec) in reader.records().enumerate() {
            // The csv reader knows where each record (or broken record) starts, which stays
            // right when quoted fields span lines; `k + 2` is only a fallback.
            let position = match &rec {
                Ok(r) => r.position(),
                Err(e) => e.position(),
            };
            let line = position.map_or(k + 2, |p| p.line() as usize);
            let rec = rec.map_err(|e| match e.kind() {
                csv::ErrorKind::UnequalLengths {
                    expected_len, len, ..
                } => format!("{len} fields, the header has {expected_len}"),
                csv::ErrorKind::Utf8 { .. } => "the row is not valid UTF-8 text".to_string(),
                _ => e.to_string(),
            });
            rows.push((line, rec));
        }
        Ok(Self {
            file: file.to_path_buf(),
            columns,
            rows,
        })
    }

    fn require(&self, column: &str) -> Result<usize, DatasetError> {
        self.columns
            .get(column)
            .copied()
            .ok_or_else(|| DatasetError::MissingColumn {
                file: self.file.clone(),
                column: column.into(),
            })
    }
}

/// Reads a row's field, trimmed ("" when the column is absent).
fn field(rec: &csv::StringRecord, col: Option<usize>) -> &str {
    col.and_then(|c| rec.get(c)).unwrap_or("").trim()
}

/// Runs `parse` on every row, applying the bad-row policy; `Ok(None)` drops a row silently.
fn read_rows(
    table: &Table,
    on_bad: OnBadRow,
    report: &mut ReadReport,
    mut parse: impl FnMut(
        &csv::StringRecord,
        usize,
        &mut ReadReport,
    ) -> Result<Option<LabelledImage>, String>,
) -> Result<Vec<LabelledImage>, DatasetError> {
    let mut items = Vec::new();
    for (line, rec) in &table.rows {
        report.rows += 1;
        let outcome = rec
            .as_ref()
            .map_err(|e| e.clone())
            .and_then(|r| parse(r, *line, report));
        match outcome {
            Ok(Some(item)) => items.push(item),
            Ok(None) => {}
            Err(message) => {
                let p = RowProblem {
                    file: table.file.clone(),
                    line: *line,
                    message,
                };
                match on_bad {
                    OnBadRow::Fail => return Err(DatasetError::Row(p)),
                    OnBadRow::Skip => report.problems.push(p),
                }
            }
        }
    }
    report.kept = items.len();
    if items.is_empty() && report.problems.is_empty() {
        return Err(DatasetError::Empty {
            file: table.file.clone(),
        });
    }
    Ok(items)
}

fn existing(path: PathBuf) -> Result<PathBuf, String> {
    if path.is_file() {
        Ok(path)
    } else {
        Err(format!("image file {} not found", path.display()))
    }
}

fn parse_age(s: &str) -> Result<Option<u8>, String> {
    if s.is_empty() {
        return Ok(None);
    }
    match s.parse::<f64>() {
        Ok(v) if (0.0..=120.0).contains(&v) => Ok(Some(v.round() as u8)),
        _ => Err(format!("age '{s}' is not a number of years in 0–120")),
    }
}

/// A whole age in years ("61" or "61.0"), for the labelled-folder layout.
fn parse_whole_age(s: &str) -> Result<Option<u8>, String> {
    if s.is_empty() {
        return Ok(None);
    }
    match whole_number(s) {
        Some(v @ 0..=120) => Ok(Some(v as u8)),
        _ => Err(format!("age '{s}' is not a whole number of years in 0–120")),
    }
}

fn parse_skin_type(s: &str) -> Result<Option<u8>, String> {
    if s.is_empty() {
        return Ok(None);
    }
    match s.parse::<f64>() {
        Ok(v) if v.fract() == 0.0 && (1.0..=6.0).contains(&v) => Ok(Some(v as u8)),
        _ => Err(format!("skin type '{s}' is not a Fitzpatrick type 1–6")),
    }
}

/// An integer written as "3" or "3.0" (pandas writes float columns with a decimal point).
fn whole_number(s: &str) -> Option<i64> {
    if let Ok(v) = s.parse::<i64>() {
        return Some(v);
    }
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v.fract() == 0.0 && v.abs() < 1e9 => Some(v as i64),
        _ => None,
    }
}

fn skin_group(t: Option<u8>) -> Option<u8> {
    t.map(|t| u8::from(t >= 4))
}

fn one_hot(s: &str) -> Result<bool, String> {
    let v = s.parse::<f64>().ok();
    if v == Some(0.0) {
        Ok(false)
    } else if v == Some(1.0) {
        Ok(true)
    } else {
        Err(format!("one-hot value '{s}' is not 0 or 1"))
    }
}

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
    let age_col = table.columns.get("age_approx").copied();
    let fitz_col = table.columns.get("fitzpatrick").copied();
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
    let text_col = table.columns.get("three_partition_label").copied();
    let high_col = table.columns.get("high").copied();
    if text_col.is_none() && high_col.is_none() {
        table.require("three_partition_label")?;
    }
    let fitz_col = table.require("fitzpatrick")?;
    let hasher_col = table.columns.get("hasher").copied();
    let md5_col = table.columns.get("md5hash").copied();
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
    let type_col = table.columns.get("skin_type").copied();
    let sex_col = table.columns.get("sex").copied();
    let age_col = table.columns.get("age").copied();
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

/// Why one image file cannot be loaded.
#[derive(Debug)]
pub enum ImageLoadError {
    /// The file cannot be read.
    Read(std::io::Error),
    /// Its bytes are not a usable image.
    Decode(DecodeError),
}

impl fmt::Display for ImageLoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Read(e) => write!(f, "cannot read: {e}"),
            Self::Decode(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for ImageLoadError {}

/// Reads, decodes (JPEG, PNG, WebP), centre-crops and resizes one image to `side`×`side`.
pub fn load_image(path: &Path, side: u32) -> Result<RgbImage, ImageLoadError> {
    let bytes = std::fs::read(path).map_err(ImageLoadError::Read)?;
    let img = decode_image(&bytes).map_err(ImageLoadError::Decode)?;
    Ok(square_resize(&img, side))
}

/// Decoded images of a dataset and what could not be decoded.
#[derive(Clone, Debug)]
pub struct LoadedImages {
    /// Decoded, resized images.
    pub images: Vec<RgbImage>,
    /// The items whose image loaded, in the same order.
    pub items: Vec<LabelledImage>,
    /// Unreadable images (with `OnBadRow::Skip`).
    pub problems: Vec<RowProblem>,
}

/// Loads every item's image; an unreadable one becomes a problem naming its CSV line and file,
/// skipped or fatal per `on_bad`.
pub fn load_images(
    index: &DatasetIndex,
    side: u32,
    on_bad: OnBadRow,
    mut progress: impl FnMut(usize, usize),
) -> Result<LoadedImages, DatasetError> {
    let mut images = Vec::with_capacity(index.items.len());
    let mut kept = Vec::with_capacity(index.items.len());
    let mut problems = Vec::new();
    let total = index.items.len();
    for (k, item) in index.items.iter().enumerate() {
        match load_image(&item.path, side) {
            Ok(img) => {
                images.push(img);
                kept.push(item.clone());
            }
            Err(e) => {
                let p = RowProblem {
                    file: index.csv.clone(),
                    line: item.line,
                    message: format!("image {}: {e}", item.path.display()),
                };
                match on_bad {
                    OnBadRow::Fail => return Err(DatasetError::Row(p)),
                    OnBadRow::Skip => problems.push(p),
                }
            }
        }
        progress(k + 1, total);
    }
    Ok(LoadedImages {
        images,
        items: kept,
        problems,
    })
}
