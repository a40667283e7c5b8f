//! The per-sample early-exit policy on hand-made logits.

use fairscreen_core::exit::{argmax, exit_policy_computed, softmax};
use fairscreen_core::{exit_policy, exit_policy_batch, ExitDecision};

/// Logits whose softmax has max probability exactly 0.5 (two equal, one -inf-like).
fn half() -> Vec<f32> {
    vec![0.0, 0.0, -1e4]
}

fn confident(class: usize) -> Vec<f32> {
    let mut v = vec![0.0; 3];
    v[class] = 10.0;
    v
}

fn flat() -> Vec<f32> {
    vec![0.0, 0.0, 0.0]
}

#[test]
fn softmax_and_argmax_basics() {
    let p = softmax(&[1.0, 2.0, 3.0]);
    assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-6);
    assert!((p[2] - 0.665_240_94).abs() < 1e-6);
    // Large logits do not overflow.
    let p = softmax(&[1000.0, 1000.0]);
    assert_eq!(p, vec![0.5, 0.5]);
    assert_eq!(argmax(&[0.2, 0.5, 0.5]), 1, "ties go to the lowest index");
    assert_eq!(argmax(&[3.0]), 0);
}

#[test]
fn confidence_equal_to_theta_fires() {
    let d = exit_policy(&[half(), confident(2)], 0.5);
    assert_eq!(
        d,
        ExitDecision {
            exit: 0,
            class: 0,
            confidence: 0.5,
            fell_through: false
        }
    );
}

#[test]
fn confidence_just_below_theta_passes_to_the_next_exit() {
    let d = exit_policy(&[half(), confident(2), flat()], 0.500_001);
    assert_eq!((d.exit, d.class, d.fell_through), (1, 2, false));
}

#[test]
fn ties_within_an_exit_go_to_the_lowest_class() {
    let d = exit_policy(&[vec![1.0, 5.0, 5.0], flat()], 0.4);
    assert_eq!((d.exit, d.class), (0, 1));
}

#[test]
fn no_confident_exit_falls_back_to_the_final_head_even_if_it_is_unsure() {
    let d = exit_policy(&[flat(), flat(), vec![0.1, 0.0, 0.0]], 0.9);
    assert_eq!(d.exit, 2);
    assert_eq!(d.class, 0);
    assert!(d.fell_through);
    assert!(d.confidence < 0.9);
}

#[test]
fn final_head_is_never_a_confident_exit() {
    // Internal exits unsure, final head confident: still reported as the fallback answer.
    let d = exit_policy(&[flat(), confident(1)], 0.9);
    assert_eq!((d.exit, d.class, d.fell_through), (1, 1, true));
}

#[test]
fn theta_zero_fires_the_first_exit_and_theta_above_one_always_falls_through() {
    let exits = [flat(), confident(0), confident(1)];
    assert_eq!(exit_policy(&exits, 0.0).exit, 0);
    let d = exit_policy(&exits, 1.01);
    assert_eq!((d.exit, d.class, d.fell_through), (2, 1, true));
}

#[test]
fn first_confident_exit_wins_over_deeper_more_confident_ones() {
    let d = exit_policy(&[vec![0.0, 3.0, 0.0], confident(2), confident(0)], 0.8);
    assert_eq!((d.exit, d.class), (0, 1));
}

#[test]
fn batch_policy_equals_one_sample_at_a_time() {
    let (b, k, e) = (7usize, 3usize, 4usize);
    let batch: Vec<Vec<f32>> = (0..e)
        .map(|x| {
            (0..b * k)
                .map(|i| (((i * 37 + x * 11) % 17) as f32 - 8.0) * 0.2)
                .collect()
        })
        .collect();
    for theta in [0.0, 0.5, 0.7, 0.9, 0.99] {
        let together = exit_policy_batch(&batch, k, theta);
        assert_eq!(together.len(), b);
        for (i, d) in together.iter().enumerate() {
            let one: Vec<Vec<f32>> = batch
                .iter()
                .map(|l| l[i * k..(i + 1) * k].to_vec())
                .collect();
            assert_eq!(*d, exit_policy(&one, theta), "sample {i} at θ={theta}");
        }
        if theta == 0.7 {
            let exits: std::collections::BTreeSet<usize> =
                together.iter().map(|d| d.exit).collect();
            assert!(exits.len() > 1, "the batch exercises more than one exit");
        }
    }
}

#[test]
fn a_decision_from_the_computed_exits_needs_an_exit_that_reaches_theta() {
    // Four exits; the first two computed.
    let computed = vec![flat(), confident(2)];
    let d = exit_policy_computed(&computed, 4, 0.9).unwrap();
    assert_eq!((d.exit, d.class, d.fell_through), (1, 2, false));
    assert_eq!(
        Some(d),
        Some(exit_policy(&[flat(), confident(2), flat(), flat()], 0.9))
    );
    // θ above exit 2's confidence: the deeper exits decide, and they were not computed.
    assert_eq!(exit_policy_computed(&computed, 4, 0.99999), None);
    // θ at or below the first exit's confidence (1/3): it answers.
    let d = exit_policy_computed(&computed, 4, 1.0 / 3.0 - 1e-6).unwrap();
    assert_eq!((d.exit, d.fell_through), (0, false));
    // Every exit computed: the plain policy, falling through to the final head.
    let all = vec![flat(), flat(), flat(), confident(1)];
    assert_eq!(
        exit_policy_computed(&all, 4, 0.9),
        Some(exit_policy(&all, 0.9))
    );
    assert!(exit_policy_computed(&all, 4, 0.9).unwrap().fell_through);
    // Nothing computed, or more than the model has: no decision.
    assert_eq!(exit_policy_computed(&[], 4, 0.5), None);
    assert_eq!(exit_policy_computed(&all, 3, 0.5), None);
}
