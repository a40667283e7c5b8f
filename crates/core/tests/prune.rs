//! Channel pruning: selection, mask mode, exact physical removal (host tensors and the trainable
//! module), and what removal does to shapes, parameters, compute and the model file.

mod common;

use std::collections::BTreeMap;

use burn::module::{Param, RunningState};
use burn::prelude::*;
use burn::tensor::Distribution;
use common::*;
use fairscreen_core::exit_analysis::parameter_count;
use fairscreen_core::model::ConvUnit;
use fairscreen_core::prune::{
    consumers, keep_along, mask_channels, narrowed_config, remove_channels, remove_masked_channels,
    select_lowest,
};
use fairscreen_core::{
    read_model, write_model, ComputeCost, ConvLayer, HostTensor, ModelConfig, MultiExitCnn,
};

fn logits_of(config: &ModelConfig, tensors: &BTreeMap<String, HostTensor>) -> Vec<f32> {
    let model = MultiExitCnn::from_named_tensors(config, tensors, &Device::flex()).unwrap();
    let x = batch(&inputs(3, config.input_size), config.input_size);
    model.forward(x).into_iter().flat_map(values).collect()
}

#[test]
fn select_lowest_takes_the_n_smallest_scores_by_index() {
    let scores = [0.5, 0.1, 0.9, 0.1, 0.3];
    assert_eq!(select_lowest(&scores, 0), Vec::<usize>::new());
    assert_eq!(select_lowest(&scores, 1), vec![1]); // tie 0.1: lower index first
    assert_eq!(select_lowest(&scores, 2), vec![1, 3]);
    assert_eq!(select_lowest(&scores, 3), vec![1, 3, 4]);
    assert_eq!(select_lowest(&scores, 9), vec![0, 1, 2, 3, 4]);
    // NaN scores are pruned last.
    assert_eq!(select_lowest(&[f64::NAN, 2.0, 1.0], 2), vec![1, 2]);
    // The SCP code's rule {c : s[c] < sorted(s)[n]} gives the same set when no scores tie.
    let s = [0.7, 0.2, 0.4, 0.9, 0.1, 0.6];
    let mut sorted = s.to_vec();
    sorted.sort_by(f64::total_cmp);
    let code: Vec<usize> = (0..s.len()).filter(|&c| s[c] < sorted[3]).collect();
    assert_eq!(select_lowest(&s, 3), code);
}

#[test]
fn layers_parse_and_know_their_consumers() {
    let c = config();
    assert_eq!(ConvLayer::last(&c), ConvLayer { stage: 3, unit: 1 });
    assert_eq!(
        ConvLayer::parse("stages.1.0", &c).unwrap(),
        ConvLayer { stage: 1, unit: 0 }
    );
    assert_eq!(
        ConvLayer::parse("2.1", &c).unwrap(),
        ConvLayer { stage: 2, unit: 1 }
    );
    assert!(ConvLayer::parse("stages.4.0", &c)
        .unwrap_err()
        .to_string()
        .contains("does not exist"));
    assert!(ConvLayer::parse("head", &c)
        .unwrap_err()
        .to_string()
        .contains("not a conv layer name"));
    let names =
        |l: ConvLayer| -> Vec<String> { consumers(&c, l).into_iter().map(|(n, _)| n).collect() };
    assert_eq!(names(ConvLayer::last(&c)), ["head.fc.weight"]);
    assert_eq!(
        names(ConvLayer { stage: 1, unit: 0 }),
        ["stages.1.1.weight"]
    );
    // Stage 1's output feeds stage 2 and exit 2 (exit index 1).
    assert_eq!(
        names(ConvLayer { stage: 1, unit: 1 }),
        ["stages.2.0.weight", "exits.1.conv.weight"]
    );
}

#[test]
fn keep_along_picks_slices_of_any_axis() {
    let t = HostTensor {
        shape: vec![2, 3, 2],
        values: (0..12).map(|v| v as f32).collect(),
    };
    let a = keep_along(&t, 1, &[0, 2]);
    assert_eq!(a.shape, vec![2, 2, 2]);
    assert_eq!(a.values, vec![0., 1., 4., 5., 6., 7., 10., 11.]);
    let b = keep_along(&t, 0, &[1]);
    assert_eq!(b.values, (6..12).map(|v| v as f32).collect::<Vec<_>>());
}

/// Removal equals masking with the biases zeroed too, for a layer inside a stage, a stage output
/// read by an exit and the next stage, and the last conv (read by the head).
#[test]
fn removal_is_exact_against_mask_mode_with_zeroed_biases() {
    let c = config();
    let tensors = folded_model(11).named_tensors().unwrap();
    for (layer, channels) in [
        (ConvLayer::last(&c), vec![0, 5, 17, 100, 127]),
        (ConvLayer { stage: 0, unit: 1 }, vec![3, 4, 15]),
        (ConvLayer { stage: 2, unit: 0 }, vec![1, 2, 40]),
    ] {
        let mut masked = tensors.clone();
        mask_channels(&c, &mut masked, layer, &channels, true).unwrap();
        let (small, removed) = remove_channels(&c, &tensors, layer, &channels).unwrap();
        assert_eq!(
            small.unit_width(layer.stage, layer.unit),
            layer.width(&c) - channels.len()
        );
        for (name, shape) in small.tensor_shapes() {
            assert_eq!(removed[&name].shape, shape, "{name}");
        }
        let (a, b) = (logits_of(&c, &masked), logits_of(&small, &removed));
        let worst = a
            .iter()
            .zip(&b)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0f32, f32::max);
        println!(
            "{}: max |Δ logit| removed vs masked = {worst:e}",
            layer.name()
        );
        // Exact up to float summation order (measured: 0, 0 and 7e-9).
        assert!(worst <= 1e-6, "{}: max |Δ| = {worst}", layer.name());
        // Same model otherwise: the unpruned logits differ.
        assert_ne!(logits_of(&c, &tensors), a, "{}", layer.name());
    }
}

#[test]
fn mask_mode_keeps_the_bias_so_a_pruned_channel_is_constant() {
    let c = config();
    let layer = ConvLayer::last(&c);
    let mut tensors = folded_model(12).named_tensors().unwrap();
    let original = tensors.clone();
    let bias = tensors[&format!("{}.bias", layer.name())].values.clone();
    mask_channels(&c, &mut tensors, layer, &[7, 9], false).unwrap();
    let model = MultiExitCnn::from_named_tensors(&c, &tensors, &Device::flex()).unwrap();
    let x = batch(&inputs(2, c.input_size), c.input_size);
    let out = model.conv_output(x, layer);
    let [b, ch, h, w] = out.dims();
    assert_eq!(ch, 128);
    let v = values(out);
    for i in 0..b {
        for cc in [7, 9] {
            let plane = &v[(i * ch + cc) * h * w..(i * ch + cc + 1) * h * w];
            assert!(
                plane.iter().all(|&p| p == bias[cc]),
                "channel {cc}: {plane:?}"
            );
        }
    }
    // Masking changes nothing else in the file: same shapes, other filters untouched.
    let w = &tensors[&format!("{}.weight", layer.name())];
    let per = 128 * 9;
    assert_eq!(
        w.values[8 * per..9 * per],
        original[&format!("{}.weight", layer.name())].values[8 * per..9 * per]
    );
}

#[test]
fn removal_shrinks_parameters_and_compute_by_the_expected_amount() {
    let c = config();
    let k = c.num_classes();
    let tensors = folded_model(13).named_tensors().unwrap();
    // Last conv (128 → 128 at 4×4), 16 channels: its filters (128·9 + 1 each) and 16 head rows.
    let (small, _) = remove_channels(
        &c,
        &tensors,
        ConvLayer::last(&c),
        &(0..16).collect::<Vec<_>>(),
    )
    .unwrap();
    assert_eq!(
        parameter_count(&c) - parameter_count(&small),
        16 * (128 * 9 + 1) + 16 * k
    );
    let (before, after) = (ComputeCost::of(&c), ComputeCost::of(&small));
    assert_eq!(
        before.full_network() - after.full_network(),
        (4 * 4 * 128 * 16 * 9 + 16 * k) as u64
    );
    // Stage 0 output (16 channels at 32×32), 4 removed: its filters (16·9 + 1 each), stage 1's
    // first conv inputs (32 filters · 9 each) and exit 0's conv inputs (32 · 9 each).
    let (small, _) =
        remove_channels(&c, &tensors, ConvLayer { stage: 0, unit: 1 }, &[0, 1, 2, 3]).unwrap();
    assert_eq!(
        parameter_count(&c) - parameter_count(&small),
        4 * (16 * 9 + 1) + 4 * 32 * 9 + 4 * 32 * 9
    );
    let (before, after) = (ComputeCost::of(&c), ComputeCost::of(&small));
    // Stage 0 at 32×32: 16·4·9 MACs a pixel fewer; stage 1's first conv at 16×16: 4·32·9 fewer.
    assert_eq!(
        before.stage_macs[0] - after.stage_macs[0],
        (32 * 32 * 16 * 4 * 9) as u64
    );
    assert_eq!(
        before.stage_macs[1] - after.stage_macs[1],
        (16 * 16 * 4 * 32 * 9) as u64
    );
    // Exit 0's conv (stride 2 → 16×16 maps) reads 4 fewer channels.
    assert_eq!(
        before.exit_head_macs[0] - after.exit_head_macs[0],
        (16 * 16 * 4 * 32 * 9) as u64
    );
}

#[test]
fn bad_channel_lists_are_refused() {
    let c = config();
    let t = folded_model(14).named_tensors().unwrap();
    let last = ConvLayer::last(&c);
    assert!(remove_channels(&c, &t, last, &[128])
        .unwrap_err()
        .to_string()
        .contains("does not exist"));
    assert!(remove_channels(&c, &t, last, &[3, 3])
        .unwrap_err()
        .to_string()
        .contains("twice"));
    let all: Vec<usize> = (0..128).collect();
    assert!(remove_channels(&c, &t, last, &all)
        .unwrap_err()
        .to_string()
        .contains("cannot prune all"));
    let mut m = t.clone();
    assert!(mask_channels(&c, &mut m, ConvLayer { stage: 5, unit: 0 }, &[0], false).is_err());
}

#[test]
fn a_pruned_model_file_round_trips_and_its_config_validates() {
    let c = config();
    let t = folded_model(15).named_tensors().unwrap();
    let (small, removed) = remove_channels(&c, &t, ConvLayer::last(&c), &[1, 2, 3]).unwrap();
    small.validate().unwrap();
    let file = read_model(&write_model(card(small.clone()), &removed).unwrap()).unwrap();
    assert_eq!(file.card.config, small);
    assert_eq!(file.tensors, removed);
    // Successive removals compose.
    let (smaller, _) =
        remove_channels(&small, &removed, ConvLayer { stage: 1, unit: 0 }, &[0]).unwrap();
    assert_eq!(smaller.unit_width(3, 1), 125);
    assert_eq!(smaller.unit_width(1, 0), 31);
    // An unpruned config stores no unit widths (old files stay byte-identical).
    assert!(!serde_json::to_string(&c).unwrap().contains("unit_widths"));
    let mut bad = small.clone();
    bad.unit_widths = Some(vec![vec![16, 16]]);
    assert!(bad
        .validate()
        .unwrap_err()
        .to_string()
        .contains("unit_widths"));
    assert_eq!(
        narrowed_config(&c, ConvLayer::last(&c), 100).stage_output(3),
        100
    );
}

/// Random BatchNorm statistics so that removing its entries is visible.
fn randomise_bn(unit: &mut ConvUnit, device: &Device) {
    let bn = unit.bn.as_mut().expect("trainable unit");
    let c = bn.gamma.val().dims()[0];
    let r = |lo: f64, hi: f64| Tensor::<1>::random([c], Distribution::Uniform(lo, hi), device);
    bn.gamma = Param::from_tensor(r(0.5, 1.5));
    bn.beta = Param::from_tensor(r(-0.5, 0.5));
    bn.running_mean = RunningState::new(r(-0.3, 0.3));
    bn.running_var = RunningState::new(r(0.5, 2.0));
}

/// Removing channels from the trainable model (BatchNorm entries included) and folding gives
/// exactly the tensors of folding first and removing from the file's tensors.
#[test]
fn module_removal_with_batchnorm_matches_removal_after_folding() {
    let c = config();
    let device = Device::flex();
    device.seed(16);
    let mut model = MultiExitCnn::new(&c, true, &device);
    for stage in &mut model.stages {
        for unit in stage {
            randomise_bn(unit, &device);
        }
    }
    for exit in &mut model.exits {
        randomise_bn(&mut exit.conv, &device);
    }
    for (layer, channels) in [
        (ConvLayer::last(&c), vec![2, 64, 90]),
        (ConvLayer { stage: 1, unit: 1 }, vec![0, 31]),
    ] {
        let host = model.clone().fold_batchnorm().named_tensors().unwrap();
        let (small, want) = remove_channels(&c, &host, layer, &channels).unwrap();
        let got = model
            .clone()
            .remove_channels(&c, layer, &channels)
            .unwrap()
            .fold_batchnorm()
            .named_tensors()
            .unwrap();
        assert_eq!(got, want, "{}", layer.name());
        for (name, shape) in small.tensor_shapes() {
            assert_eq!(got[&name].shape, shape);
        }
    }
    assert!(model
        .clone()
        .remove_channels(&c, ConvLayer::last(&c), &[200])
        .is_err());
}

/// The SCP code's mask (bias kept) on the last conv, then exact removal with the constants moved
/// into the head's bias: the same logits from a smaller model.
#[test]
fn mask_mode_on_the_last_conv_converts_exactly_to_a_smaller_model() {
    let c = config();
    let layer = ConvLayer::last(&c);
    let channels = [4, 8, 15, 16, 23, 42];
    let mut masked = folded_model(17).named_tensors().unwrap();
    // Positive biases, so the pruned channels' constants are non-zero and matter.
    for v in &mut masked.get_mut("stages.3.1.bias").unwrap().values {
        *v = v.abs() + 0.1;
    }
    mask_channels(&c, &mut masked, layer, &channels, false).unwrap();
    let (small, removed) = remove_masked_channels(&c, &masked, layer, &channels).unwrap();
    assert_eq!(small.stage_output(3), 128 - channels.len());
    let (a, b) = (logits_of(&c, &masked), logits_of(&small, &removed));
    let worst = a
        .iter()
        .zip(&b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0f32, f32::max);
    println!("mask → remove on the last conv: max |Δ logit| = {worst:e}");
    assert!(worst <= 1e-5, "{worst}");
    // Plain removal (without moving the constants) would change the logits.
    let (_, plain) = remove_channels(&c, &masked, layer, &channels).unwrap();
    let d = logits_of(&small, &plain);
    assert!(a.iter().zip(&d).any(|(x, y)| (x - y).abs() > 1e-3));
    // Other layers are refused.
    let err = remove_masked_channels(&c, &masked, ConvLayer { stage: 2, unit: 1 }, &[0])
        .unwrap_err()
        .to_string();
    assert!(err.contains("remove mode"), "{err}");
}
