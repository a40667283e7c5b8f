//! The labelled-folder layout's `labels.csv` — `file,label[,skin_type,sex,age]` — read row by
//! row into labelled images, each bad row skipped with its line and reason. The trainer (a folder
//! on disk) and the page (a folder the user chose) read it with these same rules.

use std::fmt;

/// One usable row of `labels.csv`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LabelRow {
    /// Line in the file (the header is line 1).
    pub line: usize,
    /// The image's path relative to the folder, as written.
    pub file: String,
    /// Class index into the class names.
    pub label: usize,
    /// Fitzpatrick type 1–6, when given.
    pub skin_type: Option<u8>,
    /// 0 = female, 1 = male, when given.
    pub sex: Option<u8>,
    /// Age in whole years, when given.
    pub age: Option<u8>,
}

/// A row left out, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SkippedRow {
    /// Line in the file.
    pub line: usize,
    /// Why, in words.
    pub reason: String,
}

/// `labels.csv`, read: the usable rows and the skipped ones, in file order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LabelsCsv {
    /// Rows that name an image with a known class and valid attributes.
    pub rows: Vec<LabelRow>,
    /// Rows left out, with their reasons.
    pub skipped: Vec<SkippedRow>,
}

/// Why `labels.csv` cannot be read at all.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LabelsCsvError {
    /// The file has no bytes (or only whitespace).
    Empty,
    /// The header cannot be read.
    Header(String),
    /// The header lacks a required column.
    MissingColumn(&'static str),
}

impl fmt::Display for LabelsCsvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => write!(
                f,
                "the file is empty: expected a header `file,label` and a row per image"
            ),
            Self::Header(m) => write!(f, "line 1: the header cannot be read: {m}"),
            Self::MissingColumn(c) => write!(f, "line 1: the header has no '{c}' column"),
        }
    }
}

impl std::error::Error for LabelsCsvError {}

/// An integer written as "3" or "3.0" (pandas writes float columns with a decimal point).
pub fn whole_number(s: &str) -> Option<i64> {
    if let Ok(v) = s.parse::<i64>() {
        return Some(v);
    }
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v.fract() == 0.0 && v.abs() < 1e9 => Some(v as i64),
        _ => None,
    }
}

/// An age in whole years 0–120; empty when unknown.
pub fn parse_whole_age(s: &str) -> Result<Option<u8>, String> {
    if s.is_empty() {
        return Ok(None);
    }
    match whole_number(s) {
        Some(v @ 0..=120) => Ok(Some(v as u8)),
        _ => Err(format!("age '{s}' is not a whole number of years in 0–120")),
    }
}

/// A Fitzpatrick type 1–6; empty when unknown.
pub fn parse_skin_type(s: &str) -> Result<Option<u8>, String> {
    if s.is_empty() {
        return Ok(None);
    }
    match s.parse::<f64>() {
        Ok(v) if v.fract() == 0.0 && (1.0..=6.0).contains(&v) => Ok(Some(v as u8)),
        _ => Err(format!("skin type '{s}' is not a Fitzpatrick type 1–6")),
    }
}

/// Sex: `female`/`f`/`0` → 0, `male`/`m`/`1` → 1 (any case); empty when unknown.
pub fn parse_sex(s: &str) -> Result<Option<u8>, String> {
    match s.to_ascii_lowercase().as_str() {
        "" => Ok(None),
        "female" | "f" | "0" => Ok(Some(0)),
        "male" | "m" | "1" => Ok(Some(1)),
        _ => Err(format!("sex '{s}' is not female/male (f/m, 0/1) or empty")),
    }
}

/// A class cell: one of `class_names`, or (when `by_index`) its index.
pub fn parse_class(s: &str, class_names: &[String], by_index: bool) -> Result<usize, String> {
    match class_names.iter().position(|n| n == s) {
        Some(k) => Ok(k),
        None => match s.parse::<usize>() {
            Ok(k) if by_index && k < class_names.len() => Ok(k),
            _ => Err(format!(
                "unknown class '{s}' (expected one of {})",
                class_names.join(", ")
            )),
        },
    }
}

/// The columns of `labels.csv` by position.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LabelColumns {
    /// `file`.
    pub file: usize,
    /// `label`.
    pub label: usize,
    /// `skin_type`, if present.
    pub skin_type: Option<usize>,
    /// `sex`, if present.
    pub sex: Option<usize>,
    /// `age`, if present.
    pub age: Option<usize>,
}

impl LabelColumns {
    /// Finds the columns in a header (names trimmed).
    pub fn of_header<'a>(
        header: impl IntoIterator<Item = &'a str>,
    ) -> Result<Self, LabelsCsvError> {
        let names: Vec<&str> = header.into_iter().map(str::trim).collect();
        let col = |n: &str| names.iter().position(|h| *h == n);
        Ok(Self {
            file: col("file").ok_or(LabelsCsvError::MissingColumn("file"))?,
            label: col("label").ok_or(LabelsCsvError::MissingColumn("label"))?,
            skin_type: col("skin_type"),
            sex: col("sex"),
            age: col("age"),
        })
    }

    /// One data row (`cells` trimmed or not) at `line` into a labelled image, or why not.
    pub fn parse_row(
        &self,
        cells: &[&str],
        line: usize,
        class_names: &[String],
        by_index: bool,
    ) -> Result<LabelRow, String> {
        let cell = |c: Option<usize>| c.and_then(|c| cells.get(c)).map_or("", |s| s.trim());
        let label = parse_class(cell(Some(self.label)), class_names, by_index)?;
        let skin_type = parse_skin_type(cell(self.skin_type))?;
        let sex = parse_sex(cell(self.sex))?;
        let age = parse_whole_age(cell(self.age))?;
        let file = cell(Some(self.file));
        if file.is_empty() {
            return Err("empty 'file' field".into());
        }
        Ok(LabelRow {
            line,
            file: file.to_string(),
            label,
            skin_type,
            sex,
            age,
        })
    }
}

/// Reads `labels.csv` from its bytes against a model's `class_names` (a class may also be given
/// by its index): every row becomes a [`LabelRow`] or a [`SkippedRow`] naming its line.
pub fn read_labels_csv(bytes: &[u8], class_names: &[String]) -> Result<LabelsCsv, LabelsCsvError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(LabelsCsvError::Empty);
    }
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(bytes);
    let header = reader
        .headers()
        .map_err(|e| LabelsCsvError::Header(e.to_string()))?
        .clone();
    let columns = LabelColumns::of_header(header.iter())?;
    let mut out = LabelsCsv {
        rows: Vec::new(),
        skipped: Vec::new(),
    };
    for (k, record) in reader.records().enumerate() {
        let line = record
            .as_ref()
            .ok()
            .and_then(|r| r.position())
            .map_or(k + 2, |p| p.line() as usize);
        let parsed = match &record {
            Ok(r) => {
                let cells: Vec<&str> = r.iter().collect();
                columns.parse_row(&cells, line, class_names, true)
            }
            Err(e) => Err(format!("not a readable CSV row: {e}")),
        };
        match parsed {
            Ok(row) => out.rows.push(row),
            Err(reason) => out.skipped.push(SkippedRow { line, reason }),
        }
    }
    Ok(out)
}
