//! Any model's predictions as a CSV — columns `label`, `prediction`, optionally `prob_<class>` for
//! every class, and every other column a sensitive attribute — read and audited. The trainer's
//! `audit --predictions` and the page's predictions audit both call these functions.

use std::fmt;

use super::bootstrap::BootstrapRun;
use super::grouping::Grouping;
use super::report::{FairnessReport, Predictions, ReportOptions};

/// A predictions CSV, read: the class names, the predictions and one grouping per attribute
/// column (plus the intersection of the first two).
#[derive(Clone, Debug, PartialEq)]
pub struct PredictionsTable {
    /// Class names: the labels, predictions and `prob_<class>` columns seen, sorted (`0..=max`
    /// when all are numbers).
    pub class_names: Vec<String>,
    /// Labels, predictions and (when every `prob_<class>` column is there) probabilities.
    pub predictions: Predictions,
    /// One grouping per attribute column, then the first two intersected.
    pub groupings: Vec<Grouping>,
}

/// How far a row's probabilities may sum from 1 (rounded exports: three classes at 0.33 sum to
/// 0.99) before the row is refused.
pub const PROBABILITY_SUM_TOLERANCE: f64 = 0.02;

/// The most classes a predictions CSV may have (numbered classes count up to the largest).
pub const MAX_CLASSES: usize = 1000;

/// The most rows a predictions CSV may have (the bootstrap packs a row index into 30 bits; a
/// billion rows is far more than fits in a browser tab's memory anyway).
pub const MAX_ROWS: usize = super::weighted::MAX_SAMPLES;

/// `s` as a class number when it is written canonically (`0`, `7`, `12`; not `07`, `+7`, ` 7`).
fn canonical_index(s: &str) -> Option<usize> {
    s.parse::<usize>().ok().filter(|n| n.to_string() == s)
}

/// Why a predictions CSV cannot be audited. Lines count from 1 (the header).
#[derive(Clone, Debug, PartialEq)]
pub enum PredictionsCsvError {
    /// The CSV itself is malformed (quoting, field count, encoding).
    Csv {
        /// Line of the fault, when known.
        line: Option<u64>,
        /// What the CSV reader says.
        message: String,
    },
    /// The header lacks a required column.
    MissingColumn(&'static str),
    /// No row below the header.
    NoRows,
    /// Some `prob_<class>` columns but not one per class.
    PartialProbabilities {
        /// The first class without a column.
        missing: String,
        /// The first line whose label or prediction is that class (none when the class is only
        /// implied: numbered classes run from 0 to the largest).
        line: Option<usize>,
        /// The classes that have a column.
        covered: Vec<String>,
    },
    /// The file has no bytes (or only whitespace).
    Empty,
    /// No column besides label, prediction and probabilities.
    NoAttribute,
    /// More classes than [`MAX_CLASSES`].
    TooManyClasses {
        /// How many the file implies.
        classes: usize,
    },
    /// A probability cell is not a number in [0, 1].
    NotAProbability {
        /// Line of the cell.
        line: usize,
        /// Its column.
        column: String,
        /// The cell.
        value: String,
    },
    /// A row's probabilities do not sum to 1 (within [`PROBABILITY_SUM_TOLERANCE`]).
    ProbabilitiesDoNotSumToOne {
        /// Line of the row.
        line: usize,
        /// Their sum.
        sum: f64,
    },
    /// Two columns of the same name.
    DuplicateColumn(String),
    /// More rows than [`MAX_ROWS`].
    TooManyRows,
}

impl PredictionsCsvError {
    /// The line the fault is on, when it is on one.
    pub fn line(&self) -> Option<u64> {
        match self {
            Self::Csv { line, .. } => *line,
            Self::MissingColumn(_) | Self::DuplicateColumn(_) => Some(1),
            Self::NotAProbability { line, .. } | Self::ProbabilitiesDoNotSumToOne { line, .. } => {
                Some(*line as u64)
            }
            Self::PartialProbabilities { line, .. } => line.map(|l| l as u64),
            _ => None,
        }
    }
}

impl fmt::Display for PredictionsCsvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Csv { message, .. } => write!(f, "not a readable CSV: {message}"),
            Self::MissingColumn(c) => write!(f, "the header has no '{c}' column"),
            Self::DuplicateColumn(c) => write!(f, "the header has two '{c}' columns"),
            Self::NoRows => write!(f, "no rows"),
            Self::TooManyRows => write!(f, "more than {MAX_ROWS} rows"),
            Self::PartialProbabilities {
                missing,
                line,
                covered,
            } => write!(
                f,
                "class '{missing}' {} has no prob_{missing} column: every class needs one, or \
                 none may have one (the probability columns cover {})",
                if line.is_some() {
                    "(a label or prediction here)"
                } else {
                    "(numbered classes run from 0 to the largest)"
                },
                covered.join(", ")
            ),
            Self::Empty => write!(f, "the file is empty"),
            Self::NoAttribute => write!(
                f,
                "no sensitive-attribute column (any column besides label, prediction, prob_*)"
            ),
            Self::TooManyClasses { classes } => write!(
                f,
                "{classes} classes, at most {MAX_CLASSES} are supported (numbered labels make one \
                 class per number up to the largest)"
            ),
            Self::NotAProbability { column, value, .. } => {
                write!(
                    f,
                    "{column} '{value}' is not a probability (a number in [0, 1])"
                )
            }
            Self::ProbabilitiesDoNotSumToOne { sum, .. } => write!(
                f,
                "the probabilities sum to {sum}, not 1 (within {PROBABILITY_SUM_TOLERANCE})"
            ),
        }
    }
}

impl std::error::Error for PredictionsCsvError {}

impl PredictionsCsvError {
    /// The message with where it is: `file:line: fault`, or `file: fault`.
    pub fn located(&self, file: &str) -> String {
        match self.line() {
            Some(line) => format!("{file}:{line}: {self}"),
            None => format!("{file}: {self}"),
        }
    }
}

fn csv_error(e: csv::Error) -> PredictionsCsvError {
    PredictionsCsvError::Csv {
        line: e.position().map(|p| p.line()),
        message: e.to_string(),
    }
}

/// Cell `c` of a row, trimmed (empty when the row is short).
fn cell(r: &csv::StringRecord, c: usize) -> &str {
    r.get(c).unwrap_or("").trim()
}

/// The distinct values, sorted: a hash set first (millions of cells, few values; sorting every
/// cell was most of the reading time).
fn distinct_sorted<'a>(values: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let set: std::collections::HashSet<&str> = values.collect();
    let mut distinct: Vec<&str> = set.into_iter().collect();
    distinct.sort_unstable();
    distinct
}

/// Reads a predictions CSV from its bytes.
pub fn read_predictions_csv(bytes: &[u8]) -> Result<PredictionsTable, PredictionsCsvError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(PredictionsCsvError::Empty);
    }
    let mut reader = csv::Reader::from_reader(bytes);
    let headers: Vec<String> = reader
        .headers()
        .map_err(csv_error)?
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    let col = |name: &'static str| {
        headers
            .iter()
            .position(|h| h == name)
            .ok_or(PredictionsCsvError::MissingColumn(name))
    };
    if let Some(dup) = headers
        .iter()
        .enumerate()
        .find(|(i, h)| headers[..*i].contains(h))
        .map(|(_, h)| h.clone())
    {
        return Err(PredictionsCsvError::DuplicateColumn(dup));
    }
    let (label_col, pred_col) = (col("label")?, col("prediction")?);
    // One record per row (its cells in one buffer), trimmed where read ([`cell`]).
    let mut rows: Vec<csv::StringRecord> = Vec::new();
    for rec in reader.records() {
        let rec = rec.map_err(csv_error)?;
        if rows.len() == MAX_ROWS {
            return Err(PredictionsCsvError::TooManyRows);
        }
        rows.push(rec);
    }
    if rows.is_empty() {
        return Err(PredictionsCsvError::NoRows);
    }
    // The classes: every label and prediction seen, and every class a `prob_<class>` column
    // names (a class no row happens to use still has its probability column).
    let seen = distinct_sorted(
        rows.iter()
            .flat_map(|r| [cell(r, label_col), cell(r, pred_col)])
            .chain(headers.iter().filter_map(|h| h.strip_prefix("prob_"))),
    );
    // Numbered classes only when every value is a canonical integer (`7`, not `07` or `+7`):
    // then class k is `k` and the classes run 0..=max; otherwise every distinct string is a
    // class of its own, sorted.
    let numbers: Option<Vec<usize>> = seen.iter().map(|s| canonical_index(s)).collect();
    let class_names: Vec<String> = match numbers {
        Some(n) => {
            let max = n.into_iter().max().unwrap_or(0);
            if max >= MAX_CLASSES {
                return Err(PredictionsCsvError::TooManyClasses { classes: max + 1 });
            }
            (0..=max).map(|i| i.to_string()).collect()
        }
        None => seen.iter().map(|s| s.to_string()).collect(),
    };
    if class_names.len() > MAX_CLASSES {
        return Err(PredictionsCsvError::TooManyClasses {
            classes: class_names.len(),
        });
    }
    let prob_cols: Vec<Option<usize>> = class_names
        .iter()
        .map(|c| headers.iter().position(|h| *h == format!("prob_{c}")))
        .collect();
    let has_probs = prob_cols.iter().all(|c| c.is_some());
    if !has_probs && prob_cols.iter().any(|c| c.is_some()) {
        let missing = class_names[prob_cols.iter().position(|c| c.is_none()).unwrap_or(0)].clone();
        let line = rows
            .iter()
            .position(|r| cell(r, label_col) == missing || cell(r, pred_col) == missing)
            .map(|i| i + 2);
        let covered = class_names
            .iter()
            .zip(&prob_cols)
            .filter(|(_, c)| c.is_some())
            .map(|(n, _)| n.clone())
            .collect();
        return Err(PredictionsCsvError::PartialProbabilities {
            missing,
            line,
            covered,
        });
    }
    let attr_cols: Vec<usize> = (0..headers.len())
        .filter(|c| *c != label_col && *c != pred_col && !prob_cols.contains(&Some(*c)))
        .collect();
    if attr_cols.is_empty() {
        return Err(PredictionsCsvError::NoAttribute);
    }
    // Every label and prediction is one of the classes by construction; one lookup per cell
    // (up to 1000 classes over millions of rows).
    let index: std::collections::HashMap<&str, usize> = class_names
        .iter()
        .enumerate()
        .map(|(k, n)| (n.as_str(), k))
        .collect();
    let class_of = |v: &str| index.get(v).copied().unwrap_or(usize::MAX);
    let mut labels = Vec::with_capacity(rows.len());
    let mut predicted = Vec::with_capacity(rows.len());
    let mut probs = Vec::new();
    for (k, r) in rows.iter().enumerate() {
        labels.push(class_of(cell(r, label_col)));
        predicted.push(class_of(cell(r, pred_col)));
        if has_probs {
            let mut v = Vec::with_capacity(class_names.len());
            for c in prob_cols.iter().flatten() {
                let value = cell(r, *c);
                match value.parse::<f64>() {
                    Ok(x) if (0.0..=1.0).contains(&x) => v.push(x),
                    _ => {
                        return Err(PredictionsCsvError::NotAProbability {
                            line: k + 2,
                            column: headers[*c].clone(),
                            value: value.to_string(),
                        })
                    }
                }
            }
            let sum: f64 = v.iter().sum();
            if (sum - 1.0).abs() > PROBABILITY_SUM_TOLERANCE {
                return Err(PredictionsCsvError::ProbabilitiesDoNotSumToOne { line: k + 2, sum });
            }
            probs.push(v);
        }
    }
    let mut groupings: Vec<Grouping> = attr_cols
        .iter()
        .map(|&c| {
            let names = distinct_sorted(rows.iter().map(|r| cell(r, c)).filter(|s| !s.is_empty()));
            let id: std::collections::HashMap<&str, usize> =
                names.iter().enumerate().map(|(k, n)| (*n, k)).collect();
            let ids = rows
                .iter()
                .map(|r| id.get(cell(r, c)).copied().unwrap_or(usize::MAX))
                .collect();
            let names = names.into_iter().map(str::to_string).collect();
            Grouping {
                attribute: headers[c].clone(),
                ids,
                names,
            }
        })
        .collect();
    if groupings.len() >= 2 {
        let both = groupings[0].intersect(&groupings[1]);
        groupings.push(both);
    }
    Ok(PredictionsTable {
        predictions: Predictions {
            labels,
            predicted,
            probs: has_probs.then_some(probs),
            classes: class_names.len(),
        },
        class_names,
        groupings,
    })
}

impl PredictionsTable {
    /// One bootstrap run per grouping, for a caller that steps them (progress, cancel); each
    /// finishes into the report [`PredictionsTable::reports`] gives.
    pub fn bootstrap_runs<'a>(&'a self, opts: &'a ReportOptions) -> Vec<BootstrapRun<'a>> {
        self.groupings
            .iter()
            .map(|g| {
                BootstrapRun::new(
                    &g.attribute,
                    &self.class_names,
                    &self.predictions,
                    &g.ids,
                    &g.names,
                    opts,
                )
            })
            .collect()
    }

    /// One fairness report per grouping.
    pub fn reports(&self, opts: &ReportOptions) -> Vec<FairnessReport> {
        self.bootstrap_runs(opts)
            .into_iter()
            .map(|mut run| {
                run.step(run.total());
                run.finish()
            })
            .collect()
    }

    /// `N predictions (K classes: a, b), attributes: x; y; x × y`.
    pub fn describe(&self) -> String {
        format!(
            "{} predictions ({} classes: {}), attributes: {}",
            self.predictions.labels.len(),
            self.class_names.len(),
            self.class_names.join(", "),
            self.groupings
                .iter()
                .map(|g| g.attribute.as_str())
                .collect::<Vec<_>>()
                .join("; ")
        )
    }
}
