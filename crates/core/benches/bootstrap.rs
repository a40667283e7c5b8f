//! Bootstrap intervals at scale: a predictions CSV of 200,000 and 1,000,000 rows (three classes
//! with probabilities, two attributes: three groupings with their intersection) read and reported
//! with 200 resamples, as `fairscreen-train audit --predictions` and the page do. Writes
//! `docs/results/bootstrap-bench.md`. Run: `cargo bench --workspace --bench bootstrap`.

#[path = "support/synthetic_predictions.rs"]
mod synthetic_predictions;

use std::fmt::Write as _;
use std::time::Instant;

use synthetic_predictions::csv;

use fairscreen_core::metrics::{read_predictions_csv, ReportOptions};

fn main() {
    let mut md = String::from(
        "# Bootstrap intervals at scale\n\nWritten by `cargo bench --workspace --bench bootstrap` \
         (crates/core/benches/bootstrap.rs) on this project's 2-core machine, one run per row: a \
         generated predictions CSV (three classes with probabilities rounded to 4 decimals; skin \
         alone — one grouping — or skin and sex — three groupings with the intersection) read by \
         core's reader and reported with bootstrap intervals, as `fairscreen-train audit \
         --predictions` and the page do. Each resample counts how often it drew each sample (one \
         byte per sample); the samples are renumbered once so that each group is one contiguous \
         range, and each AUC order is sorted once and packed into one `u32` per sample \
         (`metrics/weighted.rs`); the resamples run on both cores. The intervals equal those of \
         re-materialising every resample (`weighted_bootstrap_intervals_equal_rematerialised_resamples`). \
         This machine's speed varies by up to 2× between hours: compare rows of one run.\n\n\
         | rows | groupings | resamples | read | reports |\n|---|---|---|---|---|\n",
    );
    // `BOOTSTRAP_WRITE_CSV=path` writes the 1,000,000-row CSV (two attributes) and stops: the
    // input for timing `fairscreen-train audit --predictions` end to end.
    if let Ok(path) = std::env::var("BOOTSTRAP_WRITE_CSV") {
        std::fs::write(&path, csv(1_000_000, true)).expect("write the CSV");
        return;
    }
    // `BOOTSTRAP_CASE=rows,groupings,resamples` runs that one case and writes nothing (profiling).
    let one: Option<(usize, bool, usize)> = std::env::var("BOOTSTRAP_CASE").ok().map(|c| {
        let v: Vec<usize> = c.split(',').map(|x| x.parse().expect("a number")).collect();
        (v[0], v[1] == 3, v[2])
    });
    let cases = match one {
        Some(case) => vec![case],
        None => vec![
            (200_000, true, 200),
            (1_000_000, true, 0),
            (1_000_000, false, 200),
            (1_000_000, true, 200),
        ],
    };
    for (rows, with_sex, resamples) in cases {
        let text = csv(rows, with_sex);
        let start = Instant::now();
        let table = read_predictions_csv(text.as_bytes()).expect("the generated CSV reads");
        let read = start.elapsed().as_secs_f64();
        let opts = ReportOptions {
            bootstrap: resamples,
            ..ReportOptions::default()
        };
        let start = Instant::now();
        let reports = table.reports(&opts);
        let report = start.elapsed().as_secs_f64();
        let groupings = reports.len();
        assert_eq!(groupings, if with_sex { 3 } else { 1 });
        assert!(resamples == 0 || !reports[0].intervals.is_empty());
        println!("{rows} rows, {groupings} groupings, {resamples} resamples: read {read:.2} s, reports {report:.2} s");
        let _ = writeln!(
            md,
            "| {rows} | {groupings} | {resamples} | {read:.2} s | {report:.2} s |"
        );
    }
    if one.is_some() {
        return;
    }
    let out = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/results");
    std::fs::create_dir_all(&out).expect("docs/results");
    std::fs::write(out.join("bootstrap-bench.md"), md).expect("write the results");
}
