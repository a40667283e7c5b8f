//! SynthDerm images as model inputs: the training, validation and test streams the commands and
//! reproductions draw from.

use fairscreen_core::preprocess::to_input;
use fairscreen_core::ModelConfig;
use fairscreen_synth::SynthConfig;

use crate::progress::progress;
use crate::training::Dataset;

/// Seed of the test stream (the bundled evaluation subset's stream).
pub const TEST_SEED: u64 = 123;

/// SynthDerm's class names, in label order.
pub fn class_names() -> Vec<String> {
    fairscreen_synth::CLASS_NAMES
        .iter()
        .map(|s| s.to_string())
        .collect()
}

/// `count` SynthDerm images of `config` from stream `seed`, as model inputs of `side` px, with
/// the sensitive group `group` gives each image's metadata (progress bar labelled `what`).
pub fn synth_dataset(
    config: &SynthConfig,
    seed: u64,
    count: usize,
    side: u32,
    what: &str,
    group: impl Fn(&fairscreen_synth::SynthMeta) -> usize,
) -> Dataset {
    let mut cfg = config.clone();
    cfg.side = side;
    let model_config = ModelConfig::tiny(class_names());
    let pb = progress(count as u64, what);
    let mut data = Dataset {
        inputs: Vec::with_capacity(count),
        labels: Vec::with_capacity(count),
        groups: Vec::with_capacity(count),
    };
    for i in 0..count as u64 {
        let s = fairscreen_synth::generate(&cfg, seed, i);
        data.inputs.push(to_input(&s.image, &model_config));
        data.labels.push(s.meta.label as usize);
        data.groups.push(group(&s.meta));
        pb.inc(1);
    }
    pb.finish_and_clear();
    data
}

/// SynthDerm images of the `tiny` model's input size, grouped by skin (I–III → 0, IV–VI → 1).
pub fn generate(config: &SynthConfig, seed: u64, count: usize, what: &str) -> Dataset {
    let side = ModelConfig::tiny(class_names()).input_size as u32;
    synth_dataset(config, seed, count, side, what, |m| {
        usize::from(m.skin_type >= 4)
    })
}
