//! Runs the default model (www/models/index.json) on one fixture photo, every exit, on burn's CPU
//! backend, N times after 50 warm-up runs, and prints the mean time per photo: the program
//! scripts/cpu-profile.sh profiles with perf.

use std::path::Path;
use std::time::Instant;

use burn::prelude::Device;
use fairscreen_core::format::AssetIndex;
use fairscreen_core::infer::LoadedModel;
use fairscreen_core::preprocess::prepare_image_bytes;

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let index: AssetIndex =
        serde_json::from_slice(&std::fs::read(root.join("www/models/index.json")).unwrap())
            .unwrap();
    let entry = index.default_entry().unwrap();
    let bytes = std::fs::read(root.join("www/models").join(&entry.file)).unwrap();
    let model = LoadedModel::from_bytes(&bytes, &Device::flex()).unwrap();
    let photo = std::fs::read(root.join("tests/fixtures/lesion-benign-0.png")).unwrap();
    let input = prepare_image_bytes(&photo, &model.card.config).unwrap();
    let runs: usize = std::env::args()
        .nth(1)
        .map(|a| a.parse().expect("runs: a number"))
        .unwrap_or(4000);
    for _ in 0..50 {
        model.logits(std::slice::from_ref(&input)).unwrap();
    }
    let start = Instant::now();
    for _ in 0..runs {
        model.logits(std::slice::from_ref(&input)).unwrap();
    }
    let ms = start.elapsed().as_secs_f64() * 1e3 / runs as f64;
    println!("{} ({}): {ms:.3} ms per photo (every exit), mean of {runs} runs", entry.name, entry.file);
}
