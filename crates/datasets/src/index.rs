//! The records a reader produces: labelled images, the read report and dataset index, the
//! bad-row policies, and the errors.

use std::fmt;
use std::path::PathBuf;

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
