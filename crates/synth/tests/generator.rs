//! SynthDerm determinism and sampling frequencies.

use fairscreen_synth::{
    draw_spec, generate, generate_with, stratified_spec, SynthConfig, CLASS_NAMES,
    GENERATOR_VERSION,
};
use sha2::{Digest, Sha256};

fn stream_hash(config: &SynthConfig, seed: u64, count: u64) -> String {
    let mut h = Sha256::new();
    for i in 0..count {
        let s = generate(config, seed, i);
        h.update(s.image.as_raw());
        h.update(format!("{:?}", s.meta).as_bytes());
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn same_seed_gives_identical_bytes_and_metadata() {
    let c = SynthConfig::train();
    for i in [0u64, 7, 123] {
        let a = generate(&c, 121, i);
        let b = generate(&c, 121, i);
        assert_eq!(a.image.as_raw(), b.image.as_raw());
        assert_eq!(a.meta, b.meta);
        assert_eq!(a.image.dimensions(), (64, 64));
    }
}

/// The bytes of a stream are pinned: a change to the generator must change GENERATOR_VERSION
/// and this hash together. (Also catches platform-dependent maths: every machine must agree.)
#[test]
fn stream_bytes_are_pinned_for_this_generator_version() {
    assert_eq!(GENERATOR_VERSION, "synthderm-1");
    let hash = stream_hash(&SynthConfig::train(), 121, 24);
    assert_eq!(
        hash,
        "215568330445b81cbd8f70857c8aea580742171dbcc5f8b9338297229bd716a6"
    );
}

#[test]
fn different_seeds_and_indices_differ() {
    let c = SynthConfig::train();
    let a = generate(&c, 121, 0);
    let b = generate(&c, 122, 0);
    let d = generate(&c, 121, 1);
    assert_ne!(a.image.as_raw(), b.image.as_raw());
    assert_ne!(a.image.as_raw(), d.image.as_raw());
    assert_ne!(stream_hash(&c, 121, 6), stream_hash(&c, 122, 6));
}

#[test]
fn generate_equals_generate_with_the_drawn_spec() {
    let c = SynthConfig::train();
    for i in 0..5 {
        let spec = draw_spec(&c, 5, i);
        assert_eq!(generate(&c, 5, i), generate_with(&c, 5, i, spec));
    }
}

#[test]
fn the_side_is_configurable() {
    let mut c = SynthConfig::train();
    c.side = 128;
    assert_eq!(generate(&c, 1, 0).image.dimensions(), (128, 128));
    c.side = 8;
    assert!(c.validate().is_err());
    let mut c = SynthConfig::train();
    c.knobs.label_noise = 1.5;
    assert!(c.validate().unwrap_err().contains("label_noise"));
}

/// 4000 draws: a proportion's standard error is at most sqrt(0.25/4000) = 0.0079, so a
/// tolerance of 0.03 is more than 3.5 standard errors.
#[test]
fn drawn_class_and_group_frequencies_match_the_config() {
    let n = 4000u64;
    for (config, light) in [(SynthConfig::train(), 0.75), (SynthConfig::test(), 0.5)] {
        let mut class = [0usize; 3];
        let mut types = [0usize; 6];
        let mut male = 0usize;
        for i in 0..n {
            let s = draw_spec(&config, 77, i);
            class[s.class as usize] += 1;
            types[s.skin_type as usize - 1] += 1;
            male += s.sex as usize;
        }
        let total: f64 = config.class_probs.iter().sum();
        for k in 0..3 {
            let f = class[k] as f64 / n as f64;
            let want = config.class_probs[k] / total;
            assert!((f - want).abs() < 0.03, "{}: {f} vs {want}", CLASS_NAMES[k]);
        }
        let light_f = types[..3].iter().sum::<usize>() as f64 / n as f64;
        assert!(
            (light_f - light).abs() < 0.03,
            "light share {light_f} vs {light}"
        );
        for (t, count) in types.iter().enumerate() {
            let want = if t < 3 {
                light / 3.0
            } else {
                (1.0 - light) / 3.0
            };
            let f = *count as f64 / n as f64;
            assert!((f - want).abs() < 0.03, "type {}: {f} vs {want}", t + 1);
        }
        let male_f = male as f64 / n as f64;
        assert!(
            (male_f - config.male_share).abs() < 0.03,
            "male share {male_f}"
        );
    }
}

#[test]
fn the_stratified_stream_is_exactly_balanced() {
    let mut cells = [[[0usize; 3]; 2]; 6];
    for i in 0..720 {
        let s = stratified_spec(i);
        cells[s.skin_type as usize - 1][s.sex as usize][s.class as usize] += 1;
    }
    for t in cells {
        for sex in t {
            assert_eq!(sex, [20, 20, 20]);
        }
    }
}
