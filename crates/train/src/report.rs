//! What every report shares: the results directory it writes (JSON, Markdown, SVG, PNG) and its
//! Markdown tables.

use std::fmt::Display;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Serialize;

/// A report's output directory: created when opened, every file of the report written into it.
pub struct ResultsDir(PathBuf);

impl ResultsDir {
    /// Creates `path` (and its parents) for a report.
    pub fn create(path: &Path) -> Result<Self> {
        std::fs::create_dir_all(path).with_context(|| format!("creating {}", path.display()))?;
        Ok(Self(path.to_path_buf()))
    }

    /// Writes `value` as pretty-printed JSON to `file`.
    pub fn json(&self, file: &str, value: &impl Serialize) -> Result<()> {
        self.write(file, serde_json::to_vec_pretty(value)?)
    }

    /// Writes `contents` (Markdown, SVG or PNG) to `file`.
    pub fn write(&self, file: &str, contents: impl AsRef<[u8]>) -> Result<()> {
        std::fs::write(self.0.join(file), contents)?;
        Ok(())
    }
}

/// A Markdown table: the header row, the `|---|` rule, then one line per row.
pub struct Table {
    text: String,
    columns: usize,
}

impl Table {
    /// A table with these column headers.
    pub fn new<S: Display>(headers: impl IntoIterator<Item = S>) -> Self {
        let headers: Vec<String> = headers.into_iter().map(|h| h.to_string()).collect();
        let mut table = Self {
            text: String::new(),
            columns: headers.len(),
        };
        table.line(&headers);
        table.text.push('|');
        table.text.push_str(&"---|".repeat(table.columns));
        table.text.push('\n');
        table
    }

    /// Appends a row of one cell per column.
    pub fn row<S: Display>(&mut self, cells: impl IntoIterator<Item = S>) {
        let cells: Vec<String> = cells.into_iter().map(|c| c.to_string()).collect();
        assert_eq!(
            cells.len(),
            self.columns,
            "a row of {} cells in a table of {} columns: {cells:?}",
            cells.len(),
            self.columns
        );
        self.line(&cells);
    }

    fn line(&mut self, cells: &[String]) {
        self.text.push_str("| ");
        self.text.push_str(&cells.join(" | "));
        self.text.push_str(" |\n");
    }

    /// The table's Markdown, every line (the last too) ending in a newline.
    pub fn finish(self) -> String {
        self.text
    }
}

/// Appends `line` and a newline to a report's Markdown.
pub fn push_line(s: &mut String, line: &str) {
    s.push_str(line);
    s.push('\n');
}

/// A reproduction report's opening: its title (marked when a quick run made it, which is not a
/// result) and the command that wrote it.
pub fn report_heading(title: &str, quick: bool, command: &str) -> String {
    let mut s = String::new();
    let mark = if quick {
        " (quick mode: NOT a result)"
    } else {
        ""
    };
    push_line(&mut s, &format!("# {title}{mark}\n"));
    push_line(&mut s, &format!("- Command: `{command}`"));
    s
}

/// A fraction as a percentage with one decimal, without the sign: `0.1234` → `12.3`.
pub fn pct(v: f64) -> String {
    format!("{:.1}", 100.0 * v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hand_made_table_renders_as_markdown() {
        let mut t = Table::new(["model", "F1", "max \\|Δ logit\\|"]);
        t.row(["baseline", &pct(0.7941), "8.55e-2"]);
        t.row(["me-mfd (shipped)", &pct(0.8084), "—"]);
        assert_eq!(
            t.finish(),
            "| model | F1 | max \\|Δ logit\\| |\n\
             |---|---|---|\n\
             | baseline | 79.4 | 8.55e-2 |\n\
             | me-mfd (shipped) | 80.8 | — |\n"
        );
        let empty = Table::new(["n"]);
        assert_eq!(empty.finish(), "| n |\n|---|\n");
    }

    #[test]
    #[should_panic(expected = "a row of 1 cells in a table of 2 columns")]
    fn a_row_of_the_wrong_width_is_a_bug() {
        Table::new(["a", "b"]).row(["only one"]);
    }

    #[test]
    fn the_results_directory_holds_what_is_written() {
        let dir = std::env::temp_dir().join(format!("fairscreen-report-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let out = ResultsDir::create(&dir.join("nested")).unwrap();
        out.json("r.json", &serde_json::json!({"a": 1})).unwrap();
        out.write("r.md", "# title\n").unwrap();
        let json = std::fs::read_to_string(dir.join("nested/r.json")).unwrap();
        assert_eq!(json, "{\n  \"a\": 1\n}");
        let md = std::fs::read_to_string(dir.join("nested/r.md")).unwrap();
        assert_eq!(md, "# title\n");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
