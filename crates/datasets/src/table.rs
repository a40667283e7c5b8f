//! Reading a dataset's CSV: the header indexed by column name, rows with their line numbers, the
//! bad-row policy, and the field parsers the readers share.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::index::{DatasetError, LabelledImage, OnBadRow, ReadReport, RowProblem};

pub(crate) use fairscreen_core::labels::{parse_skin_type, whole_number};

/// A CSV file with its header indexed by column name.
pub(crate) struct Table {
    /// The CSV file.
    pub(crate) file: PathBuf,
    columns: HashMap<String, usize>,
    /// Each data row with its line: the record, or why the CSV reader rejected it.
    pub(crate) rows: Vec<(usize, Result<csv::StringRecord, String>)>,
}

impl Table {
    /// Reads `file` with its header; a row that the CSV reader rejects is kept as its error.
    pub(crate) fn read(file: &Path) -> Result<Self, DatasetError> {
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

    /// The index of `column`, when the header has it.
    pub(crate) fn column(&self, column: &str) -> Option<usize> {
        self.columns.get(column).copied()
    }

    /// The index of `column`, which the header must have.
    pub(crate) fn require(&self, column: &str) -> Result<usize, DatasetError> {
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
pub(crate) fn field(rec: &csv::StringRecord, col: Option<usize>) -> &str {
    col.and_then(|c| rec.get(c)).unwrap_or("").trim()
}

/// Runs `parse` on every row, applying the bad-row policy; `Ok(None)` drops a row silently.
pub(crate) fn read_rows(
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

/// `path` when it is a file, else the row's error.
pub(crate) fn existing(path: PathBuf) -> Result<PathBuf, String> {
    if path.is_file() {
        Ok(path)
    } else {
        Err(format!("image file {} not found", path.display()))
    }
}

/// An age in years (`61`, `61.5`), empty when unknown.
pub(crate) fn parse_age(s: &str) -> Result<Option<u8>, String> {
    if s.is_empty() {
        return Ok(None);
    }
    match s.parse::<f64>() {
        Ok(v) if (0.0..=120.0).contains(&v) => Ok(Some(v.round() as u8)),
        _ => Err(format!("age '{s}' is not a number of years in 0–120")),
    }
}

/// The binary skin group of a Fitzpatrick type: 0 = I–III, 1 = IV–VI.
pub(crate) fn skin_group(t: Option<u8>) -> Option<u8> {
    t.map(|t| u8::from(t >= 4))
}

/// A one-hot cell: `0` or `1` (also `0.0`, `1.0`).
pub(crate) fn one_hot(s: &str) -> Result<bool, String> {
    let v = s.parse::<f64>().ok();
    if v == Some(0.0) {
        Ok(false)
    } else if v == Some(1.0) {
        Ok(true)
    } else {
        Err(format!("one-hot value '{s}' is not 0 or 1"))
    }
}
