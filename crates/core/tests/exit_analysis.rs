//! Per-exit and early-exit operating points, the θ sweep and its selection rule, and the policy on
//! a real model's batch against one sample at a time.

mod common;

use common::*;
use fairscreen_core::exit::{argmax, exit_policy};
use fairscreen_core::exit_analysis::{
    exit_points, fate_against, parameter_count, policy_point, select_theta, skin_groups,
    standalone_macs, theta_sweep, OperatingPoint, ThetaPoint, ThetaRule, THETA_GRID,
};
use fairscreen_core::{read_model, write_model, ComputeCost};

fn onehot(class: usize, strength: f32) -> Vec<f32> {
    let mut v = vec![0.0; 3];
    v[class] = strength;
    v
}

/// Four samples, four exits. Exit 0 is right for group 0 only; the final head is right for all.
fn logits() -> (Vec<Vec<Vec<f32>>>, Vec<usize>, Vec<usize>) {
    let labels = vec![0, 1, 2, 0];
    let groups = vec![0, 0, 1, 1];
    let per_sample = labels
        .iter()
        .zip(&groups)
        .map(|(&y, &g)| {
            let e0 = if g == 0 {
                onehot(y, 5.0)
            } else {
                onehot((y + 1) % 3, 1.0)
            };
            vec![e0, onehot((y + 2) % 3, 0.1), onehot(y, 0.2), onehot(y, 4.0)]
        })
        .collect();
    (per_sample, labels, groups)
}

#[test]
fn exits_alone_by_hand() {
    let (l, y, g) = logits();
    let c = config();
    let points = exit_points(&c, &l, &y, &g);
    assert_eq!(points.len(), 4);
    assert_eq!(points[0].accuracy, 0.5);
    assert_eq!(points[0].group_accuracy, [1.0, 0.0]);
    assert_eq!(points[0].worst_group_accuracy, 0.0);
    assert_eq!(points[1].accuracy, 0.0);
    assert_eq!(points[3].accuracy, 1.0);
    // Even the perfect final head has EOdd 1/3 here: class 1 is absent from group 1 and class 2
    // from group 0, and the FME code counts an absent class's TPR as 0 (papers.md §1):
    // (0 + |1 − 0|/2 + |0 − 1|/2) / 3.
    assert!((points[3].eodds_abs - 1.0 / 3.0).abs() < 1e-12);
    // Exit 0: class 0 has ΔTPR = 1 and ΔFPR = −1 (they cancel, as in the code's |ΔTPR + ΔFPR|),
    // class 1 ΔTPR = 1, ΔFPR = −0.5, class 2 nothing: (0 + 0.25 + 0) / 3.
    assert!((points[0].eodds_abs - 0.25 / 3.0).abs() < 1e-12);
    assert_eq!(points[2].exit_share, vec![0.0, 0.0, 1.0, 0.0]);
    let macs = standalone_macs(&c);
    let cost = ComputeCost::of(&c);
    assert_eq!(macs[3], cost.full_network());
    assert_eq!(
        macs[0],
        cost.stage_macs[0] + cost.exit_head_macs[0],
        "exit 0 alone: stage 1 and its head"
    );
    assert_eq!(points[0].mean_macs, macs[0] as f64);
    assert!((points[0].compute_saved - (1.0 - macs[0] as f64 / macs[3] as f64)).abs() < 1e-12);
    assert_eq!(points[3].compute_saved, 0.0);
}

#[test]
fn policy_point_counts_exits_and_compute_per_sample() {
    let (l, y, g) = logits();
    let c = config();
    // exit 0 softmax of [5,0,0]: 0.9867 → group 0 leaves at exit 0 for θ ≤ 0.98; group 1's exit 0
    // has confidence 0.576 and exits 1–2 are near uniform, so group 1 falls through to the final.
    let p = policy_point(&c, &l, &y, &g, 0.9);
    assert_eq!(p.exit_share, vec![0.5, 0.0, 0.0, 0.5]);
    assert_eq!(p.accuracy, 1.0);
    let per_exit = ComputeCost::of(&c).macs_per_exit(&c.exit_stages);
    assert_eq!(p.mean_macs, (per_exit[0] + per_exit[3]) as f64 / 2.0);
    // θ = 0.5: group 1 also leaves at exit 0, and is wrong there.
    let p = policy_point(&c, &l, &y, &g, 0.5);
    assert_eq!(p.exit_share[0], 1.0);
    assert_eq!(p.accuracy, 0.5);
    assert_eq!(p.group_accuracy, [1.0, 0.0]);
    // Every sample's decision is the exit_policy's.
    for s in &l {
        assert_eq!(exit_policy(s, 0.5).exit, 0);
    }
}

fn tp(theta: f32, score: f64, macs: f64, accuracy: f64, eligible: bool) -> ThetaPoint {
    ThetaPoint {
        theta,
        point: OperatingPoint {
            accuracy,
            precision: 0.0,
            recall: 0.0,
            f1: 0.0,
            eopp0_abs: 0.0,
            eopp1_abs: 0.0,
            eodds_abs: 0.0,
            group_accuracy: [0.0; 2],
            worst_group_accuracy: 0.0,
            exit_share: vec![],
            mean_macs: macs,
            compute_saved: 0.0,
        },
        score,
        eligible,
    }
}

#[test]
fn selection_rule_prefers_eligible_best_score_then_less_compute() {
    let sweep = vec![
        tp(0.5, 0.9, 10.0, 0.60, false),
        tp(0.8, 0.2, 30.0, 0.70, true),
        tp(0.9, 0.3, 50.0, 0.71, true),
        tp(0.95, 0.3, 40.0, 0.71, true),
        tp(0.99, 0.1, 60.0, 0.72, true),
    ];
    assert_eq!(select_theta(&sweep), Some(3), "tie on score → less compute");
    let none_eligible: Vec<_> = sweep
        .iter()
        .cloned()
        .map(|mut p| {
            p.eligible = false;
            p
        })
        .collect();
    assert_eq!(select_theta(&none_eligible), Some(4), "most accurate");
    assert_eq!(select_theta(&[]), None);
}

#[test]
fn sweep_marks_eligibility_against_the_final_exit() {
    let (l, y, g) = logits();
    let c = config();
    let sweep = theta_sweep(&c, &l, &y, &g, &THETA_GRID, &ThetaRule::default());
    assert_eq!(sweep.len(), THETA_GRID.len());
    for p in &sweep {
        // θ ≤ 0.5 sends group 1 out wrong at exit 0 (accuracy 0.5 < 1.0 − 1 pp); θ ≥ 0.6 keeps
        // accuracy 1.0.
        assert_eq!(p.eligible, p.theta > 0.58, "θ={}", p.theta);
        let final_alone = exit_points(&c, &l, &y, &g).pop().unwrap();
        assert!((p.score - fate_against(&p.point, &final_alone)).abs() < 1e-12);
    }
    let chosen = &sweep[select_theta(&sweep).unwrap()];
    // Every eligible θ up to 0.98 gives the same predictions; the rule takes the cheapest, and
    // at 0.99 and 0.999 group 0 no longer exits early (0.9867 < θ), costing more.
    assert!(
        chosen.theta >= 0.6 && chosen.theta <= 0.95,
        "{}",
        chosen.theta
    );
    assert!(chosen.point.mean_macs < sweep.last().unwrap().point.mean_macs);
}

#[test]
fn fate_is_relative_f1_gain_minus_relative_eodd_increase() {
    let mut a = tp(0.8, 0.0, 0.0, 0.0, true).point;
    let mut b = a.clone();
    a.f1 = 0.66;
    a.eodds_abs = 0.05;
    b.f1 = 0.6;
    b.eodds_abs = 0.1;
    assert!((fate_against(&a, &b) - (0.1 + 0.5)).abs() < 1e-12);
    b.eodds_abs = 0.0;
    assert!((fate_against(&a, &b) - (0.1 - 0.05)).abs() < 1e-12);
}

#[test]
fn a_real_models_batch_decides_like_one_sample_at_a_time() {
    let model = folded_model(11);
    let xs = inputs(6, 64);
    let batch_logits: Vec<Vec<f32>> = model
        .forward(batch(&xs, 64))
        .into_iter()
        .map(values)
        .collect();
    let k = 3;
    for theta in [0.34, 0.4, 0.5, 0.9] {
        for (i, x) in xs.iter().enumerate() {
            let alone: Vec<Vec<f32>> = model
                .forward(batch(std::slice::from_ref(x), 64))
                .into_iter()
                .map(values)
                .collect();
            let from_batch: Vec<Vec<f32>> = batch_logits
                .iter()
                .map(|l| l[i * k..(i + 1) * k].to_vec())
                .collect();
            let (a, b) = (exit_policy(&alone, theta), exit_policy(&from_batch, theta));
            assert_eq!(
                (a.exit, a.class),
                (b.exit, b.class),
                "sample {i}, θ={theta}"
            );
            for (la, lb) in alone.iter().zip(&from_batch) {
                assert_eq!(argmax(la), argmax(lb));
                for (u, v) in la.iter().zip(lb) {
                    assert!((u - v).abs() < 1e-4);
                }
            }
        }
    }
}

#[test]
fn skin_groups_split_fitzpatrick_at_three() {
    assert_eq!(
        skin_groups(&[1, 2, 3, 4, 5, 6, 0, 7]),
        vec![0, 0, 0, 1, 1, 1, usize::MAX, usize::MAX]
    );
    // Unknown skin types are left out of the groups, not of the overall accuracy.
    let (l, y, _) = logits();
    let g = skin_groups(&[1, 0, 4, 6]);
    let p = exit_points(&config(), &l, &y, &g);
    assert_eq!(p[0].accuracy, 0.5);
    assert_eq!(p[0].group_accuracy, [1.0, 0.0]);
}

#[test]
fn parameter_count_is_the_files_element_count() {
    let c = config();
    let tensors = folded_model(3).named_tensors().unwrap();
    let file = read_model(&write_model(card(c.clone()), &tensors).unwrap()).unwrap();
    let in_file: usize = file.tensors.values().map(|t| t.values.len()).sum();
    assert_eq!(parameter_count(&c), in_file);
    // By hand for the tiny config with three classes: stage convs, exit heads, final head.
    let conv = |cin: usize, cout: usize| cin * cout * 9 + cout;
    let stages = conv(3, 16)
        + conv(16, 16)
        + conv(16, 32)
        + conv(32, 32)
        + conv(32, 64)
        + conv(64, 64)
        + conv(64, 128)
        + conv(128, 128);
    let exits = conv(16, 32) + conv(32, 32) + conv(64, 32) + 3 * (32 * 3 + 3);
    assert_eq!(parameter_count(&c), stages + exits + 128 * 3 + 3);
}
