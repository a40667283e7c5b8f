//! Early exit that saves the work: the stage-by-stage pass stops at the exit that fires and
//! returns exactly what computing every exit and applying the policy gives.

mod common;

use common::*;
use fairscreen_core::exit::{exit_policy, top_class};
use fairscreen_core::infer::LoadedModel;
use fairscreen_core::write_model;

fn max_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

#[test]
fn the_staged_pass_stops_at_the_exit_the_policy_picks_with_the_same_logits_and_maps() {
    let tensors = folded_model(7).named_tensors().unwrap();
    let bytes = write_model(card(config()), &tensors).unwrap();
    let model = LoadedModel::from_bytes(&bytes, &burn::prelude::Device::flex()).unwrap();
    let exits = config().num_exits();
    let mut fired_at = vec![0usize; exits];
    for input in inputs(4, config().input_size) {
        let (all, all_maps) = model.logits_and_maps(&input).unwrap();
        let all = all.sample(0);
        assert_eq!(all.len(), exits);
        // θ at 0 (the first exit fires), above 1 (the final head answers), and at, just above and
        // just below each internal exit's own confidence.
        let mut thetas = vec![0.0, 1.01];
        for logits in &all[..exits - 1] {
            let c = top_class(logits).1;
            thetas.extend([c, c + 1e-6, c - 1e-6]);
        }
        for theta in thetas {
            let want = exit_policy(&all, theta);
            let (logits, maps) = model.logits_and_maps_until(&input, theta).unwrap();
            assert_eq!(
                logits.len(),
                want.exit + 1,
                "θ = {theta}: the exits after the one that fired are not computed"
            );
            assert_eq!(maps.len(), logits.len());
            let got = exit_policy(&logits, theta);
            assert_eq!(
                (got.exit, got.class),
                (want.exit, want.class),
                "θ = {theta}"
            );
            for e in 0..logits.len() {
                assert!(
                    max_diff(&logits[e], &all[e]) <= 1e-6,
                    "θ = {theta} exit {e}"
                );
                assert_eq!(maps[e].shape, all_maps[e].shape);
                assert!(max_diff(&maps[e].values, &all_maps[e].values) <= 1e-6);
            }
            fired_at[want.exit] += 1;
        }
    }
    assert!(
        fired_at[0] > 0 && fired_at[exits - 1] > 0,
        "the first exit and the final head answered for some θ: {fired_at:?}"
    );
}

/// The shipped default model on evaluation images, with θ placed so that each exit in turn is
/// the first to reach it (a trained model's deeper exits are often the more confident).
#[test]
fn the_shipped_model_stops_at_every_exit_for_some_image_and_theta() {
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let index: fairscreen_core::assets::AssetIndex =
        serde_json::from_slice(&std::fs::read(repo.join("www/models/index.json")).unwrap())
            .unwrap();
    let entry = index.default_entry().unwrap();
    let bytes = std::fs::read(repo.join("www/models").join(&entry.file)).unwrap();
    let model = LoadedModel::from_bytes(&bytes, &burn::prelude::Device::flex()).unwrap();
    let eval = std::fs::read(repo.join("www/eval/synthderm-test.safetensors")).unwrap();
    let bundle = fairscreen_core::read_eval_bundle(&eval).unwrap();
    let config = &model.card.config;
    let exits = config.num_exits();
    let mut fired_at = vec![0usize; exits];
    for i in 0..48 {
        let input = fairscreen_core::preprocess::to_input(&bundle.rgb_image(i), config);
        let all = model
            .logits(std::slice::from_ref(&input))
            .unwrap()
            .sample(0);
        let conf: Vec<f32> = all.iter().map(|l| top_class(l).1).collect();
        let mut thetas = vec![0.5, 0.8, 0.9, 1.01];
        for e in 0..exits - 1 {
            let earlier = conf[..e].iter().copied().fold(0.0, f32::max);
            if conf[e] > earlier {
                thetas.push((conf[e] + earlier) / 2.0);
            }
        }
        for theta in thetas {
            let want = exit_policy(&all, theta);
            let (logits, _) = model.logits_and_maps_until(&input, theta).unwrap();
            assert_eq!(logits.len(), want.exit + 1, "image {i} θ = {theta}");
            let got = exit_policy(&logits, theta);
            assert_eq!((got.exit, got.class), (want.exit, want.class));
            for e in 0..logits.len() {
                assert!(max_diff(&logits[e], &all[e]) <= 1e-4, "image {i} exit {e}");
            }
            fired_at[got.exit] += 1;
        }
    }
    assert!(
        fired_at.iter().all(|&n| n > 0),
        "every exit answered for some image and θ: {fired_at:?}"
    );
}
