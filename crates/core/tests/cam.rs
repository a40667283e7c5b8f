//! Class activation maps: exact against the logits of every exit, hand values, resizing, colours
//! and the overlay.

mod common;

use common::*;
use fairscreen_core::cam::{
    class_activation_map, heat_colour, heatmap_overlay, positive_unit, upsample, ClassMap,
};
use fairscreen_core::infer::LoadedModel;
use fairscreen_core::{write_model, HostTensor};

fn t(shape: &[usize], values: Vec<f32>) -> HostTensor {
    HostTensor {
        shape: shape.to_vec(),
        values,
    }
}

/// Every exit ends in GAP → Linear, so each class's CAM averages to its logit minus the bias.
#[test]
fn every_exit_cam_averages_to_its_logit() {
    let tensors = folded_model(31).named_tensors().unwrap();
    let bytes = write_model(card(config()), &tensors).unwrap();
    let model = LoadedModel::from_bytes(&bytes, &burn::prelude::Device::flex()).unwrap();
    let exits = config().num_exits();
    assert_eq!(model.exit_weights.len(), exits);
    let mut checked = 0;
    for input in inputs(3, config().input_size) {
        let logits = model
            .logits(std::slice::from_ref(&input))
            .unwrap()
            .sample(0);
        let (one_pass, maps) = model.logits_and_maps(&input).unwrap();
        assert_eq!(one_pass.sample(0), logits, "one pass gives the same logits");
        assert_eq!(maps.len(), exits);
        for (e, m) in maps.iter().enumerate() {
            let side = if e + 1 == exits {
                config().side_after_stage(config().widths.len() - 1)
            } else {
                config().exit_side(e)
            };
            assert_eq!(m.shape[1..], [side, side], "exit {e}");
            let bias = if e + 1 == exits {
                &tensors["head.fc.bias"]
            } else {
                &tensors[&format!("exits.{e}.fc.bias")]
            };
            for (k, &want) in logits[e].iter().enumerate() {
                let cam = class_activation_map(m, &model.exit_weights[e], k).unwrap();
                let logit = cam.mean() + bias.values[k];
                assert!(
                    (logit - want).abs() <= 1e-5 * want.abs().max(1.0),
                    "exit {e} class {k}: CAM mean + bias {logit} vs logit {want}"
                );
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 3 * exits * 3);
}

#[test]
fn cam_hand_values_and_errors() {
    // Two channels of 1×2 maps; class 1 weights (2, −1): [2·1 − 3, 2·2 − 5] = [−1, −1]; class 0
    // weights (0.5, 1): [0.5 + 3, 1 + 5] = [3.5, 6].
    let maps = t(&[2, 1, 2], vec![1.0, 2.0, 3.0, 5.0]);
    let weight = t(&[2, 2], vec![0.5, 2.0, 1.0, -1.0]);
    let c0 = class_activation_map(&maps, &weight, 0).unwrap();
    assert_eq!((c0.height, c0.width), (1, 2));
    assert_eq!(c0.values, vec![3.5, 6.0]);
    assert_eq!(
        class_activation_map(&maps, &weight, 1).unwrap().values,
        vec![-1.0, -1.0]
    );
    assert_eq!(
        class_activation_map(&maps, &weight, 2)
            .unwrap_err()
            .to_string(),
        "class 2 out of range (the exit has 2 classes)"
    );
    let wrong = t(&[3, 2], vec![0.0; 6]);
    assert_eq!(
        class_activation_map(&maps, &wrong, 0)
            .unwrap_err()
            .to_string(),
        "2 map channels but the weight has 3 inputs"
    );
}

#[test]
fn upsampling_is_bilinear_with_centred_pixels() {
    let m = ClassMap {
        height: 2,
        width: 2,
        values: vec![0.0, 4.0, 8.0, 12.0],
    };
    // 2 → 4 samples at source positions −0.25 (clamped to 0), 0.25, 0.75, 1.25 (clamped to 1).
    let up = upsample(&m, 4);
    assert_eq!(&up[..4], &[0.0, 1.0, 3.0, 4.0]);
    assert_eq!(&up[4..8], &[2.0, 3.0, 5.0, 6.0]);
    assert_eq!(&up[12..], &[8.0, 9.0, 11.0, 12.0]);
    let flat = ClassMap {
        height: 3,
        width: 3,
        values: vec![2.5; 9],
    };
    assert!(upsample(&flat, 7).iter().all(|v| *v == 2.5));
}

#[test]
fn positive_part_colours_and_overlay() {
    assert_eq!(
        positive_unit(&[-1.0, 0.0, 2.0, 4.0]),
        vec![0.0, 0.0, 0.5, 1.0]
    );
    assert_eq!(positive_unit(&[-1.0, -2.0]), vec![0.0, 0.0]);
    assert_eq!(heat_colour(0.0), [0, 0, 128]);
    assert_eq!(heat_colour(1.0), [220, 20, 0]);
    assert_eq!(heat_colour(2.0 / 3.0), [250, 230, 0]);
    let mut img = image::RgbImage::new(2, 2);
    img.put_pixel(1, 0, image::Rgb([100, 150, 200]));
    // No heat: the photo, enlarged 3× by nearest neighbour.
    let cold = heatmap_overlay(&img, &[0.0; 4], 0.6, 3);
    assert_eq!(cold.dimensions(), (6, 6));
    assert_eq!(cold.get_pixel(5, 2).0, [100, 150, 200]);
    assert_eq!(cold.get_pixel(0, 5).0, [0, 0, 0]);
    // Full heat at alpha 0.5: halfway between the photo and red.
    let hot = heatmap_overlay(&img, &[0.0, 1.0, 0.0, 0.0], 0.5, 1);
    assert_eq!(hot.get_pixel(1, 0).0, [160, 85, 100]);
}

#[test]
fn lesion_share_hand_values() {
    use fairscreen_core::cam::lesion_share;
    // Heat 3 on a full-lesion pixel, 1 on a half-covered one (255/2 rounds to 128), 4 off it.
    let share = lesion_share(&[3.0, 1.0, 4.0], &[255, 128, 0]).unwrap();
    assert!(
        (share - (3.0 + 128.0 / 255.0) / 8.0).abs() < 1e-7,
        "{share}"
    );
    assert_eq!(lesion_share(&[0.0, 0.0], &[255, 0]), None);
    assert_eq!(lesion_share(&[2.0, 2.0], &[255, 255]), Some(1.0));
}

#[test]
fn group_mean_heat_averages_unit_heat_per_group() {
    use fairscreen_core::cam::{group_mean_heat, heat_image};
    let m = |v: Vec<f32>| ClassMap {
        height: 1,
        width: 2,
        values: v,
    };
    // Group 0: [2, 4] → [0.5, 1] and [−1, 3] → [0, 1]: mean [0.25, 1]. Group 1: [6, −6] → [1, 0].
    // Group 2 is empty; label 7 is skipped.
    let cams = vec![
        m(vec![2.0, 4.0]),
        m(vec![6.0, -6.0]),
        m(vec![-1.0, 3.0]),
        m(vec![9.0, 9.0]),
    ];
    let means = group_mean_heat(&cams, &[0, 1, 0, 7], 3).unwrap();
    assert_eq!(means[0].as_ref().unwrap().values, vec![0.25, 1.0]);
    assert_eq!(means[1].as_ref().unwrap().values, vec![1.0, 0.0]);
    assert!(means[2].is_none());
    assert_eq!(
        group_mean_heat(&cams, &[0, 1], 2).unwrap_err().to_string(),
        "4 maps but 2 group labels"
    );
    let odd = vec![
        m(vec![1.0, 1.0]),
        ClassMap {
            height: 2,
            width: 1,
            values: vec![1.0, 1.0],
        },
    ];
    assert_eq!(
        group_mean_heat(&odd, &[0, 0], 1).unwrap_err().to_string(),
        "maps of 1×2 and 2×1 cannot be averaged"
    );
    let img = heat_image(means[0].as_ref().unwrap(), 3);
    assert_eq!(img.dimensions(), (6, 3));
    assert_eq!(img.get_pixel(4, 2).0, heat_colour(1.0));
}

#[test]
fn group_lesion_focus_by_hand() {
    use fairscreen_core::cam::group_lesion_focus;
    // 1×1 maps upsample to a constant 2×2 heat of 1 (positive) or 0 (no heat).
    let m = |v: f32| ClassMap {
        height: 1,
        width: 1,
        values: vec![v],
    };
    // Image 0: lesion on 1 of 4 pixels → share 0.25, area 0.25. Image 1: lesion on 2 of 4 →
    // 0.5, 0.5. Image 2 (group 1): no heat → no share, area 1.
    let masks = [
        255, 0, 0, 0, //
        255, 255, 0, 0, //
        255, 255, 255, 255,
    ];
    let f = group_lesion_focus(&[m(2.0), m(1.0), m(-1.0)], &masks, 2, &[0, 0, 1], 3).unwrap();
    let g0 = f[0].unwrap();
    assert!((g0.share - 0.375).abs() < 1e-9 && (g0.area - 0.375).abs() < 1e-9);
    assert_eq!(g0.images, 2);
    let g1 = f[1].unwrap();
    assert_eq!((g1.share, g1.area, g1.images), (0.0, 1.0, 1));
    assert!(f[2].is_none());
    assert!(group_lesion_focus(&[m(1.0)], &masks, 2, &[0], 1).is_err());
}
