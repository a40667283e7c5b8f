//! FairTune's validation objectives on hand-made predictions, parsing and every refusal.

use fairscreen_core::metrics::{FairnessObjective, ObjectiveError};
use fairscreen_core::search::Direction;

use FairnessObjective::{AccDiff, AucDiff, MinAcc, MinAuc, OverallAcc, OverallAuc};

fn assert_close(objective: FairnessObjective, got: f64, want: f64) {
    assert!((got - want).abs() < 1e-12, "{objective}: {got} ≠ {want}");
}

/// Binary rows [1 − p, p] from the probabilities of class 1.
fn binary(p1: &[f64]) -> Vec<Vec<f64>> {
    p1.iter().map(|p| vec![1.0 - p, *p]).collect()
}

/// Two groups of four, two classes.
/// Group 0: (y, p₁) = (1, .9) (0, .3) (1, .4) (0, .6): argmax 1 0 0 1 → 2 of 4 right, acc 0.5;
///   AUC: positives {.9, .4} vs negatives {.3, .6}: .9>.3 .9>.6 .4>.3 .4<.6 → 3/4 = 0.75.
/// Group 1: (1, .8) (0, .2) (1, .7) (0, .1): all right, acc 1; every positive above every
///   negative, AUC 1.
/// Everyone: acc 6/8 = 0.75; AUC: positives {.9 .4 .8 .7} vs negatives {.3 .6 .2 .1}: .9, .8
///   and .7 beat all 4, .4 beats 3 (not .6) → 15/16 = 0.9375.
#[test]
fn binary_two_groups() {
    let labels = [1, 0, 1, 0, 1, 0, 1, 0];
    let probs = binary(&[0.9, 0.3, 0.4, 0.6, 0.8, 0.2, 0.7, 0.1]);
    let groups = [0, 0, 0, 0, 1, 1, 1, 1];
    for (objective, want) in [
        (MinAuc, 0.75),       // min(0.75, 1)
        (MinAcc, 0.5),        // min(0.5, 1)
        (AucDiff, 0.25),      // 1 − 0.75
        (AccDiff, 0.5),       // 1 − 0.5
        (OverallAuc, 0.9375), // 15/16
        (OverallAcc, 0.75),   // 6/8
    ] {
        let got = objective.evaluate(&labels, &probs, &groups).unwrap();
        assert_close(objective, got, want);
    }
}

/// Three classes, groups 5 and 2 (ids need not be contiguous), one-vs-rest macro AUC.
/// Group 5: a y0 [.6 .3 .1], b y1 [.2 .5 .3], c y2 [.1 .2 .7]: all right (acc 1), and each
///   class's own sample has the top score for that class: AUC 1.
/// Group 2: d y0 [.5 .4 .1], e y1 [.4 .3 .3], f y2 [.2 .3 .5], h y0 [.3 .6 .1]:
///   argmax 0 0 2 1 → d and f right, acc 2/4 = 0.5;
///   class 0: positives {d .5, h .3} vs {e .4, f .2}: .5>.4 .5>.2 .3<.4 .3>.2 → 3/4;
///   class 1: positive {e .3} vs {d .4, f .3, h .6}: 0 + ½ (tie) + 0 → 1/6;
///   class 2: positive {f .5} vs {.1 .3 .1} → 1;  macro (3/4 + 1/6 + 1)/3 = 23/36.
/// Everyone (7): acc 5/7 (e, h wrong);
///   class 0: positives {.6 .5 .3} vs {b .2, c .1, e .4, f .2}: 4 + 4 + 3 → 11/12;
///   class 1: positives {b .5, e .3} vs {a .3, c .2, d .4, f .3, h .6}: .5 beats 4;
///     .3: tie ½ + .2 ✓ + tie ½ → 2; 6/10;
///   class 2: positives {.7 .5} above all five negatives (≤ .3) → 1;
///   macro (11/12 + 3/5 + 1)/3 = 151/180.
#[test]
fn three_classes_one_vs_rest() {
    let labels = [0, 1, 2, 0, 1, 2, 0];
    let probs = vec![
        vec![0.6, 0.3, 0.1],
        vec![0.2, 0.5, 0.3],
        vec![0.1, 0.2, 0.7],
        vec![0.5, 0.4, 0.1],
        vec![0.4, 0.3, 0.3],
        vec![0.2, 0.3, 0.5],
        vec![0.3, 0.6, 0.1],
    ];
    let groups = [5, 5, 5, 2, 2, 2, 2];
    for (objective, want) in [
        (MinAuc, 23.0 / 36.0),
        (MinAcc, 0.5),
        (AucDiff, 13.0 / 36.0), // 1 − 23/36
        (AccDiff, 0.5),         // 1 − 0.5
        (OverallAuc, 151.0 / 180.0),
        (OverallAcc, 5.0 / 7.0),
    ] {
        let got = objective.evaluate(&labels, &probs, &groups).unwrap();
        assert_close(objective, got, want);
    }
}

/// A tied row counts as its first class: [.5 .5] predicts 0.
#[test]
fn argmax_ties_take_the_first_class() {
    let labels = [0, 1, 0, 1];
    let probs = binary(&[0.5, 0.5, 0.2, 0.9]);
    let groups = [0, 0, 1, 1];
    // Group 0: [.5 .5] → 0 right, [.5 .5] → 0 wrong: 0.5; group 1: both right: 1.
    assert_close(
        MinAcc,
        MinAcc.evaluate(&labels, &probs, &groups).unwrap(),
        0.5,
    );
    assert_close(
        OverallAcc,
        OverallAcc.evaluate(&labels, &probs, &groups).unwrap(),
        0.75,
    );
}

#[test]
fn names_parse_round_trip_and_directions() {
    let names: Vec<&str> = FairnessObjective::ALL.iter().map(|o| o.name()).collect();
    assert_eq!(
        names,
        [
            "min_auc",
            "min_acc",
            "auc_diff",
            "acc_diff",
            "overall_auc",
            "overall_acc"
        ]
    );
    for objective in FairnessObjective::ALL {
        assert_eq!(objective.name().parse::<FairnessObjective>(), Ok(objective));
        assert_eq!(objective.to_string(), objective.name());
        let want = if matches!(objective, AucDiff | AccDiff) {
            Direction::Minimize
        } else {
            Direction::Maximize
        };
        assert_eq!(objective.direction(), want, "{objective}");
    }
    assert_eq!(FairnessObjective::default(), MinAuc);
    let e = "max_loss".parse::<FairnessObjective>().unwrap_err();
    assert_eq!(e, ObjectiveError::UnknownName("max_loss".into()));
    assert_eq!(
        e.to_string(),
        "unknown objective 'max_loss': expected one of min_auc, min_acc, auc_diff, acc_diff, \
         overall_auc, overall_acc"
    );
}

#[test]
fn every_refusal_names_its_fault() {
    let two = binary(&[0.9, 0.1]);
    let err = |o: FairnessObjective, y: &[usize], p: &[Vec<f64>], g: &[usize]| {
        let e = o.evaluate(y, p, g).unwrap_err();
        (e.clone(), e.to_string())
    };
    assert_eq!(err(MinAuc, &[], &[], &[]).0, ObjectiveError::Empty);
    let (e, msg) = err(MinAcc, &[1, 0], &two, &[0]);
    assert_eq!(
        e,
        ObjectiveError::LengthMismatch {
            labels: 2,
            probs: 2,
            groups: 1
        }
    );
    assert_eq!(
        msg,
        "2 labels, 2 probability rows and 1 group ids: they must match"
    );
    // One group present: a gap (or a worst group) needs two; the overall objectives do not.
    let (e, msg) = err(AucDiff, &[1, 0], &two, &[3, 3]);
    assert_eq!(e, ObjectiveError::FewerThanTwoGroups { group: 3 });
    assert!(msg.starts_with("only group 3 is present"), "{msg}");
    assert_close(
        OverallAuc,
        OverallAuc.evaluate(&[1, 0], &two, &[3, 3]).unwrap(),
        1.0,
    );
    // Group 7 holds only label 1: its AUC is undefined; its accuracy is fine.
    let labels = [1, 0, 1, 1];
    let probs = binary(&[0.9, 0.1, 0.8, 0.3]);
    let groups = [0, 0, 7, 7];
    let (e, msg) = err(MinAuc, &labels, &probs, &groups);
    assert_eq!(
        e,
        ObjectiveError::UndefinedAuc {
            group: Some(7),
            label: 1
        }
    );
    assert_eq!(
        msg,
        "group 7: AUC is undefined: every sample of the group has label 1"
    );
    // Group 0: 2/2 right; group 7: .8 → 1 right, .3 → 0 wrong: 0.5.
    assert_close(
        MinAcc,
        MinAcc.evaluate(&labels, &probs, &groups).unwrap(),
        0.5,
    );
    let (e, msg) = err(OverallAuc, &[0, 0], &two, &[0, 1]);
    assert_eq!(
        e,
        ObjectiveError::UndefinedAuc {
            group: None,
            label: 0
        }
    );
    assert_eq!(msg, "AUC is undefined: every sample has label 0");
    let (e, _) = err(MinAcc, &[0, 0], &[vec![1.0], vec![1.0]], &[0, 1]);
    assert_eq!(e, ObjectiveError::TooFewClasses(1));
    let (_, msg) = err(MinAcc, &[0, 0], &[vec![0.5, 0.5], vec![1.0]], &[0, 1]);
    assert_eq!(
        msg,
        "sample 1: probability row has 1 classes, the first row has 2"
    );
    let (_, msg) = err(MinAcc, &[0, 2], &two, &[0, 1]);
    assert_eq!(msg, "sample 1: label 2 is out of range for 2 classes");
    let (_, msg) = err(MinAcc, &[0, 1], &binary(&[0.5, f64::NAN]), &[0, 1]);
    assert_eq!(msg, "sample 1: a probability is not finite");
}
