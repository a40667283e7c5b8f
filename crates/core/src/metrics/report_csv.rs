//! Fairness reports as a CSV: one row per grouping × group × metric, with its bootstrap interval,
//! for the page's export and anyone's spreadsheet.

use super::report::FairnessReport;

/// The header of [`reports_csv`].
pub const REPORT_CSV_HEADER: &str = "grouping,group,n,metric,value,ci_low,ci_high";

/// Quotes a CSV field when it holds a comma, a quote or a line break.
fn field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// Every scalar of every report as rows of [`REPORT_CSV_HEADER`]: per-group metrics
/// (`overall/…`, `group/<name>/…`) under their group with its size, the between-group metrics
/// (gaps, FME and fairlearn forms) under the group `between groups`. Values print in full
/// precision (Rust's shortest round-trip form); a missing interval is an empty cell.
pub fn reports_csv(reports: &[FairnessReport]) -> String {
    let mut out = String::from(REPORT_CSV_HEADER);
    out.push('\n');
    for r in reports {
        for (key, value) in &r.scalars {
            let (group, n, metric) = if let Some(m) = key.strip_prefix("overall/") {
                ("all".to_string(), Some(r.overall.n), m.to_string())
            } else if let Some(rest) = key.strip_prefix("group/") {
                let (name, m) = rest.rsplit_once('/').unwrap_or((rest, ""));
                let n = r.groups.iter().find(|g| g.name == name).map(|g| g.n);
                (name.to_string(), n, m.to_string())
            } else {
                ("between groups".to_string(), None, key.clone())
            };
            let interval = r.intervals.get(key);
            let cells = [
                field(&r.attribute),
                field(&group),
                n.map(|n| n.to_string()).unwrap_or_default(),
                field(&metric),
                value.to_string(),
                interval.map(|i| i.lo.to_string()).unwrap_or_default(),
                interval.map(|i| i.hi.to_string()).unwrap_or_default(),
            ];
            out.push_str(&cells.join(","));
            out.push('\n');
        }
    }
    out
}
