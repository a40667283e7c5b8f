//! The awkward-file corpus (`tests/corpus/`, written by `scripts/make-corpus.py`): every file
//! through the core parser of its folder, each with the outcome `tests/corpus/expected.csv` gives
//! it — read (with what was read) or refused (with a message that names the fault).

mod common;

use std::path::{Path, PathBuf};

use common::intake::{parse, KINDS};

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/corpus")
}

/// `expected.csv` rows: (folder/file, `read` or `refused`, text the summary or message contains).
fn expected() -> Vec<(String, String, String)> {
    let mut r = csv::Reader::from_path(corpus().join("expected.csv")).unwrap();
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            (rec[0].to_string(), rec[1].to_string(), rec[2].to_string())
        })
        .collect()
}

#[test]
fn every_corpus_file_is_read_or_refused_as_expected() {
    let expected = expected();
    let mut on_disk = Vec::new();
    for kind in KINDS {
        for e in std::fs::read_dir(corpus().join(kind)).unwrap() {
            on_disk.push(format!(
                "{kind}/{}",
                e.unwrap().file_name().to_string_lossy()
            ));
        }
    }
    on_disk.sort();
    let mut listed: Vec<String> = expected.iter().map(|e| e.0.clone()).collect();
    listed.sort();
    assert_eq!(
        on_disk, listed,
        "expected.csv lists exactly the corpus files"
    );
    assert!(on_disk.len() >= 40, "{} files", on_disk.len());

    let mut wrong = Vec::new();
    for (path, outcome, detail) in &expected {
        let (kind, name) = path.split_once('/').unwrap();
        let bytes = std::fs::read(corpus().join(path)).unwrap();
        let got = std::panic::catch_unwind(|| parse(kind, name, &bytes));
        let ok = match (&got, outcome.as_str()) {
            (Ok(Ok(summary)), "read") => summary.contains(detail.as_str()),
            (Ok(Err(message)), "refused") => message.contains(detail.as_str()),
            _ => false,
        };
        if !ok {
            wrong.push(format!(
                "{path}: expected {outcome} '{detail}', got {got:?}"
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
