//! The multi-exit network: exit shapes, BN folding, compute accounting.

mod common;

use burn::module::{Param, RunningState};
use burn::prelude::*;
use common::*;
use fairscreen_core::{ComputeCost, MultiExitCnn};

#[test]
fn every_exit_has_batch_by_classes_logits_and_expected_feature_widths() {
    for with_bn in [false, true] {
        let device = Device::flex();
        let model = MultiExitCnn::new(&config(), with_bn, &device);
        let out = model.forward_all(batch(&inputs(2, 64), 64));
        assert_eq!(out.logits.len(), 4);
        for l in &out.logits {
            assert_eq!(l.dims(), [2, 3]);
        }
        let widths: Vec<usize> = out.features.iter().map(|f| f.dims()[1]).collect();
        assert_eq!(widths, [32, 32, 32, 128]);
    }
}

#[test]
fn config_shapes_list_every_tensor_once() {
    let shapes = config().tensor_shapes();
    // 4 stages × 2 convs + 3 exit convs = 11 convs (weight + bias), 4 linears (weight + bias).
    assert_eq!(shapes.len(), 2 * 11 + 2 * 4);
    assert!(shapes.contains(&("stages.0.0.weight".into(), vec![16, 3, 3, 3])));
    assert!(shapes.contains(&("exits.2.conv.weight".into(), vec![32, 64, 3, 3])));
    assert!(shapes.contains(&("head.fc.weight".into(), vec![128, 3])));
    let model = folded_model(3);
    let named = model.named_tensors().unwrap();
    assert_eq!(named.len(), shapes.len());
    for (name, shape) in shapes {
        assert_eq!(named[&name].shape, shape, "{name}");
    }
}

#[test]
fn invalid_configs_are_rejected() {
    let mut c = config();
    c.exit_stages = vec![0, 3];
    assert!(c
        .validate()
        .unwrap_err()
        .to_string()
        .contains("must precede the last stage"));
    let mut c = config();
    c.exit_stages = vec![1, 0];
    assert!(c
        .validate()
        .unwrap_err()
        .to_string()
        .contains("strictly increasing"));
    let mut c = config();
    c.input_size = 60;
    assert!(c
        .validate()
        .unwrap_err()
        .to_string()
        .contains("multiple of 16"));
    let mut c = config();
    c.class_names.truncate(1);
    assert!(c
        .validate()
        .unwrap_err()
        .to_string()
        .contains("two classes"));
    let mut c = config();
    c.arch = "resnet50".into();
    assert!(c
        .validate()
        .unwrap_err()
        .to_string()
        .contains("unknown architecture"));
    assert!(config().validate().is_ok());
}

#[test]
fn folding_batchnorm_preserves_inference_logits() {
    let device = Device::flex();
    device.seed(11);
    let mut model = MultiExitCnn::new(&config(), true, &device);
    // Non-trivial BN statistics and affine parameters everywhere.
    let mut k = 0.0f32;
    let mut perturb = |bn: &mut burn::nn::BatchNorm| {
        let [c] = bn.gamma.val().dims();
        let ramp = |a: f32, b: f32| {
            Tensor::<1>::from_data(
                TensorData::new(
                    (0..c)
                        .map(|i| a + b * ((i as f32 + k) % 7.0))
                        .collect::<Vec<_>>(),
                    [c],
                ),
                &device,
            )
        };
        bn.gamma = Param::from_tensor(ramp(0.5, 0.2));
        bn.beta = Param::from_tensor(ramp(-0.3, 0.1));
        bn.running_mean = RunningState::new(ramp(-0.2, 0.07));
        bn.running_var = RunningState::new(ramp(0.3, 0.25));
        k += 1.0;
    };
    for stage in &mut model.stages {
        for unit in stage {
            perturb(unit.bn.as_mut().unwrap());
        }
    }
    for exit in &mut model.exits {
        perturb(exit.conv.bn.as_mut().unwrap());
    }
    let x = batch(&inputs(3, 64), 64);
    let before: Vec<Vec<f32>> = model.forward(x.clone()).into_iter().map(values).collect();
    let folded = model.fold_batchnorm();
    assert!(folded
        .stages
        .iter()
        .flatten()
        .all(|u| u.bn.is_none() && u.conv.bias.is_some()));
    let after: Vec<Vec<f32>> = folded.forward(x).into_iter().map(values).collect();
    let mut worst = 0.0f32;
    for (a, b) in before.iter().zip(&after) {
        for (p, q) in a.iter().zip(b) {
            worst = worst.max((p - q).abs());
        }
    }
    assert!(worst < 1e-4, "folded logits differ by {worst}");
    // The statistics matter: folding must not be a no-op.
    assert!(before[3].iter().any(|v| v.abs() > 1e-3));
}

#[test]
fn named_tensors_refuse_an_unfolded_model() {
    let model = MultiExitCnn::new(&config(), true, &Device::flex());
    assert!(model
        .named_tensors()
        .unwrap_err()
        .to_string()
        .contains("must be folded"));
}

#[test]
fn compute_cost_of_tiny_matches_hand_count() {
    let cost = ComputeCost::of(&config());
    // Stage s: first conv (stride 2) + second conv at side 32/16/8/4.
    let conv = |side: u64, cin: u64, cout: u64| side * side * cin * cout * 9;
    assert_eq!(cost.stage_macs[0], conv(32, 3, 16) + conv(32, 16, 16));
    assert_eq!(
        cost.stage_macs,
        vec![2_801_664, 3_538_944, 3_538_944, 3_538_944]
    );
    // Exit heads: stride-2 conv to 32 channels + Linear(32 → 3).
    assert_eq!(cost.exit_head_macs, vec![1_179_744, 589_920, 295_008]);
    assert_eq!(cost.final_head_macs, 384);
    assert_eq!(cost.full_network(), 13_418_880);
    let per_exit = cost.macs_per_exit(&config().exit_stages);
    assert_eq!(per_exit, vec![3_981_408, 8_110_272, 11_944_224, 15_483_552]);
    assert!(per_exit.windows(2).all(|w| w[0] < w[1]));
}
