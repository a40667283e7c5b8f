//! A bounded fuzz run of every core parser that takes outside bytes (images, model files,
//! evaluation bundles, predictions CSVs, `labels.csv`, the manifest and asset indexes), on stable
//! Rust: byte-level mutations of the seed corpus (`tests/corpus/`, the fixture photos, a shipped
//! model and a four-image evaluation bundle) fed to the parsers of `common::intake`.
//!
//! Each input must return (read or refused) without panicking, within [`HANG_LIMIT`], and with
//! at most [`MEMORY_LIMIT`] bytes allocated at once (this binary counts every allocation).
//! Mutation `k` of a parser is a pure function of `k`, so a failure is reproducible; failing
//! inputs are written to `target/fuzz-failures/`.
//!
//! `FAIRSCREEN_FUZZ_SECONDS` (default 60, shared by the six parsers) bounds the run: CI runs the
//! default; the README's longer run is
//! `FAIRSCREEN_FUZZ_SECONDS=1800 cargo test --release -p fairscreen-core --test fuzz -- --nocapture`.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::intake::{parse, KINDS};
use common::SplitMix as Rng;
use fairscreen_core::bundle::{read_eval_bundle, write_eval_bundle, EvalBundle};

/// The system allocator, counting the bytes live and the most live at once.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(live, Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            if new_size >= layout.size() {
                let grow = new_size - layout.size();
                let live = LIVE.fetch_add(grow, Ordering::Relaxed) + grow;
                PEAK.fetch_max(live, Ordering::Relaxed);
            } else {
                LIVE.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
            }
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// The longest one input may take.
const HANG_LIMIT: Duration = Duration::from_secs(10);

/// The most memory one input may hold at once beyond what was live before it (the decoders'
/// own limit is 512 MiB; a 50-megapixel photo needs 150 MB of RGB).
const MEMORY_LIMIT: usize = 600 << 20;

/// Values that sit on parsers' boundaries.
const INTERESTING: [u64; 12] = [
    0,
    1,
    0x7F,
    0x80,
    0xFF,
    0x7FFF,
    0xFFFF,
    0x7FFF_FFFF,
    0xFFFF_FFFF,
    1 << 32,
    u64::MAX,
    50_000,
];

/// Text that sits on the CSV and JSON parsers' boundaries.
const TOKENS: [&[u8]; 14] = [
    b",",
    b"\"",
    b"\n",
    b"\r\n",
    b"NaN",
    b"-1",
    b"1e309",
    b"prob_",
    b"label",
    b"{",
    b"}",
    b"[",
    b"\xEF\xBB\xBF",
    b"\xFF",
];

/// Mutation `k` of the seeds: one to eight edits of one seed (or a splice of two).
fn mutate(seeds: &[Vec<u8>], k: u64) -> Vec<u8> {
    let mut rng = Rng(k.wrapping_mul(0xA076_1D64_78BD_642F) ^ 0x1234_5678);
    let mut b = seeds[rng.below(seeds.len())].clone();
    let edits = 1 + rng.below(8);
    for _ in 0..edits {
        // Half the edits land in the first 4 KiB, where the headers are.
        let len = b.len();
        let at = |rng: &mut Rng| {
            if rng.below(2) == 0 {
                rng.below(len.min(4096) + 1)
            } else {
                rng.below(len + 1)
            }
        };
        match rng.below(9) {
            0 if len > 0 => {
                let i = at(&mut rng).min(len - 1);
                b[i] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let i = at(&mut rng).min(len - 1);
                b[i] = rng.next() as u8;
            }
            2 if len >= 8 => {
                let i = at(&mut rng).min(len - 8);
                let v = INTERESTING[rng.below(INTERESTING.len())];
                let width = [1usize, 2, 4, 8][rng.below(4)];
                let bytes = if rng.below(2) == 0 {
                    v.to_le_bytes()
                } else {
                    v.to_be_bytes()
                };
                let src = if bytes[0] == 0 && width < 8 {
                    &bytes[8 - width..]
                } else {
                    &bytes[..width]
                };
                b[i..i + width].copy_from_slice(src);
            }
            3 => {
                let i = at(&mut rng);
                let n = 1 + rng.below(64);
                let ins: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
                b.splice(i..i, ins);
            }
            4 if len > 0 => {
                let i = at(&mut rng).min(len - 1);
                let n = (1 + rng.below(256)).min(len - i);
                b.drain(i..i + n);
            }
            5 if len > 0 => {
                let i = at(&mut rng).min(len - 1);
                let n = (1 + rng.below(256)).min(len - i);
                let copy = b[i..i + n].to_vec();
                let j = rng.below(len + 1);
                b.splice(j..j, copy);
            }
            6 => {
                let n = rng.below(len + 1);
                b.truncate(n);
            }
            7 => {
                let other = &seeds[rng.below(seeds.len())];
                let i = rng.below(len + 1);
                let j = rng.below(other.len() + 1);
                b.truncate(i);
                b.extend_from_slice(&other[j..]);
            }
            _ => {
                let i = at(&mut rng);
                let t = TOKENS[rng.below(TOKENS.len())];
                b.splice(i..i, t.iter().copied());
            }
        }
    }
    b
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The first `n` images of the shipped evaluation subset, as a bundle of their own.
fn small_bundle(n: usize) -> Vec<u8> {
    let all = read_eval_bundle(
        &std::fs::read(repo().join("www/eval/synthderm-test.safetensors")).unwrap(),
    )
    .unwrap();
    let px = (all.card.side * all.card.side) as usize;
    let b = EvalBundle {
        card: all.card.clone(),
        images: all.images[..n * px * 3].to_vec(),
        labels: all.labels[..n].to_vec(),
        skin_types: all.skin_types[..n].to_vec(),
        sexes: all.sexes[..n].to_vec(),
        ages: all.ages[..n].to_vec(),
        ids: all.ids[..n].to_vec(),
        lesion_masks: all.lesion_masks.as_ref().map(|m| m[..n * px].to_vec()),
    };
    write_eval_bundle(&b).unwrap()
}

/// Every seed of `kind`, with the file names the parser is given.
fn seeds(kind: &str) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let dir = repo().join("tests/corpus").join(kind);
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    match kind {
        "images" => paths.extend(
            std::fs::read_dir(repo().join("tests/fixtures"))
                .unwrap()
                .map(|e| e.unwrap().path()),
        ),
        "models" => paths.push(repo().join("www/models/tiny-fair-me-p64-int8.safetensors")),
        "bundles" => out.push(("small.safetensors".to_string(), small_bundle(4))),
        _ => {}
    }
    paths.sort();
    for p in paths {
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        out.push((name, std::fs::read(&p).unwrap()));
    }
    out
}

/// What one parser's run did.
struct Run {
    kind: &'static str,
    executions: u64,
    read: u64,
    peak_bytes: usize,
    slowest: Duration,
    failures: Vec<String>,
}

/// Fuzzes one parser for `budget`: mutations 0, 1, 2… of its seeds, each parsed on a worker
/// thread watched for [`HANG_LIMIT`].
fn fuzz(kind: &'static str, budget: Duration) -> Run {
    let seeds = seeds(kind);
    let names: Vec<String> = seeds.iter().map(|s| s.0.clone()).collect();
    let bytes: Vec<Vec<u8>> = seeds.into_iter().map(|s| s.1).collect();
    let (to_worker, inputs) = mpsc::channel::<(u64, Vec<u8>)>();
    let (to_main, outcomes) = mpsc::channel::<(u64, Result<bool, String>, usize, Duration)>();
    std::thread::spawn(move || {
        for (k, input) in inputs {
            let name = &names[k as usize % names.len()];
            let before = LIVE.load(Ordering::Relaxed);
            PEAK.store(before, Ordering::Relaxed);
            let start = Instant::now();
            let got = std::panic::catch_unwind(|| parse(kind, name, &input));
            let took = start.elapsed();
            let peak = PEAK.load(Ordering::Relaxed).saturating_sub(before);
            let outcome = match got {
                Ok(r) => Ok(r.is_ok()),
                Err(e) => Err(e
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default()),
            };
            if to_main.send((k, outcome, peak, took)).is_err() {
                return;
            }
        }
    });
    let mut run = Run {
        kind,
        executions: 0,
        read: 0,
        peak_bytes: 0,
        slowest: Duration::ZERO,
        failures: Vec::new(),
    };
    let failed_dir = repo().join("target/fuzz-failures");
    let save = |k: u64, input: &[u8], why: String, run: &mut Run| {
        std::fs::create_dir_all(&failed_dir).unwrap();
        let path = failed_dir.join(format!("{kind}-{k}.bin"));
        std::fs::write(&path, input).unwrap();
        run.failures
            .push(format!("{kind} mutation {k} ({}): {why}", path.display()));
    };
    let start = Instant::now();
    let mut k = 0u64;
    while start.elapsed() < budget && run.failures.len() < 5 {
        // The seeds themselves first, then their mutations.
        let input = if (k as usize) < bytes.len() {
            bytes[k as usize].clone()
        } else {
            mutate(&bytes, k)
        };
        to_worker.send((k, input.clone())).unwrap();
        match outcomes.recv_timeout(HANG_LIMIT) {
            Ok((_, outcome, peak, took)) => {
                run.executions += 1;
                run.peak_bytes = run.peak_bytes.max(peak);
                run.slowest = run.slowest.max(took);
                match outcome {
                    Ok(read) => run.read += u64::from(read),
                    Err(panic) => save(k, &input, format!("panicked: {panic}"), &mut run),
                }
                if peak > MEMORY_LIMIT {
                    save(k, &input, format!("held {peak} bytes at once"), &mut run);
                }
            }
            Err(_) => {
                save(
                    k,
                    &input,
                    format!("no answer within {HANG_LIMIT:?}"),
                    &mut run,
                );
                break;
            }
        }
        k += 1;
    }
    run
}

#[test]
fn every_parser_survives_mutated_input() {
    // Panics are caught and reported as failures: keep their messages out of the output.
    std::panic::set_hook(Box::new(|_| {}));
    let seconds: f64 = std::env::var("FAIRSCREEN_FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60.0);
    let budget = Duration::from_secs_f64(seconds / KINDS.len() as f64);
    let runs: Vec<Run> = KINDS.iter().map(|kind| fuzz(kind, budget)).collect();
    let _ = std::panic::take_hook();
    println!("| parser | executions | read | refused | most memory held | slowest |");
    println!("|---|---:|---:|---:|---:|---:|");
    for r in &runs {
        println!(
            "| {} | {} | {} | {} | {:.1} MiB | {:.0} ms |",
            r.kind,
            r.executions,
            r.read,
            r.executions - r.read,
            r.peak_bytes as f64 / (1 << 20) as f64,
            r.slowest.as_secs_f64() * 1e3
        );
    }
    let failures: Vec<&String> = runs.iter().flat_map(|r| &r.failures).collect();
    assert!(
        failures.is_empty(),
        "{}",
        failures
            .iter()
            .map(|f| f.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    );
    for r in &runs {
        assert!(r.executions > 0 && r.read > 0, "{}: nothing read", r.kind);
    }
}
