//! Fairness metrics: the reference code's test vector, hand-worked cases and properties.

mod common;

use common::SplitMix;
use fairscreen_core::metrics::{
    auc, binary_auc, fairlearn_metrics, fairness_report, fme_metrics, standard_groupings,
    FairnessReport, Predictions, ReportOptions,
};

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol
}

macro_rules! assert_close {
    ($a:expr, $b:expr) => {
        assert!(close($a, $b, 1e-6), "{} = {} ≠ {}", stringify!($a), $a, $b)
    };
}

/// papers.md §1.2 vector A: outputs of the reference `compute_fairness_metrics`.
#[test]
fn vector_a_reproduces_the_reference_code() {
    let y = [0, 0, 0, 1, 1, 1, 2, 2, 2, 0, 0, 0, 1, 1, 1, 2, 2, 2, 2, 1];
    let yhat = [0, 0, 1, 1, 1, 2, 2, 2, 0, 0, 0, 1, 1, 0, 1, 2, 1, 1, 2, 1];
    let s: Vec<usize> = (0..20).map(|i| usize::from(i >= 10)).collect();
    let m = fme_metrics(&y, &yhat, &s);
    assert_eq!(m.classes, 3);
    assert_close!(m.accuracy, 0.650000);
    assert_close!(m.f1, 0.652778);
    assert_close!(m.group_accuracy[0], 0.700000);
    assert_close!(m.group_accuracy[1], 0.600000);
    assert_close!(m.group_precision[0], 0.694444);
    assert_close!(m.group_recall[0], 0.694444);
    assert_close!(m.group_f1[0], 0.694444);
    assert_close!(m.group_precision[1], 0.666667);
    assert_close!(m.group_recall[1], 0.583333);
    assert_close!(m.group_f1[1], 0.588889);
    assert_close!(m.dp, 0.0);
    assert_close!(m.dp_abs, 0.600000);
    assert_close!(m.eopp0, 0.057540);
    assert_close!(m.eopp0_abs, 0.180556);
    assert_close!(m.eopp1, 0.111111);
    assert_close!(m.eopp1_abs, 0.166667);
    assert_close!(m.eodds, 0.026786);
    assert_close!(m.eodds_abs, 0.173611);
}

fn preds(y: &[usize], yhat: &[usize], k: usize) -> Predictions {
    Predictions {
        labels: y.to_vec(),
        predicted: yhat.to_vec(),
        probs: None,
        classes: k,
    }
}

fn names(n: usize) -> Vec<String> {
    (0..n).map(|g| format!("g{g}")).collect()
}

fn report(p: &Predictions, s: &[usize], groups: usize) -> FairnessReport {
    let classes: Vec<String> = (0..p.classes).map(|c| format!("c{c}")).collect();
    let opts = ReportOptions {
        bootstrap: 0,
        min_group_size: 2,
        ..ReportOptions::default()
    };
    fairness_report("s", &classes, p, s, &names(groups), &opts)
}

#[test]
fn fairlearn_forms_binary_by_hand() {
    // Group 0: TPR 1/2, FPR 0, selection 1/4. Group 1: TPR 1, FPR 1/2, selection 3/4.
    let y = [1, 1, 0, 0, 1, 1, 0, 0];
    let yhat = [1, 0, 0, 0, 1, 1, 1, 0];
    let s = [0, 0, 0, 0, 1, 1, 1, 1];
    let f = report(&preds(&y, &yhat, 2), &s, 2).fairlearn;
    assert_close!(f.demographic_parity_difference, 0.5);
    assert_close!(f.demographic_parity_ratio, 1.0 / 3.0);
    assert_close!(f.equalized_odds_difference, 0.5);
    assert_close!(f.equalized_odds_difference_mean, 0.5);
    assert_close!(f.equalized_odds_ratio, 0.0);
    assert_close!(f.equalized_odds_ratio_mean, 0.25);
    assert_close!(f.equal_opportunity_difference, 0.5);
    assert_close!(f.equal_opportunity_ratio, 0.5);
}

#[test]
fn fairlearn_forms_multiclass_one_vs_rest_by_hand() {
    // Group 0 perfect; group 1 predicts its class-1 sample as class 2.
    let y = [0, 1, 2, 0, 1, 2];
    let yhat = [0, 1, 2, 0, 2, 2];
    let s = [0, 0, 0, 1, 1, 1];
    let f = report(&preds(&y, &yhat, 3), &s, 2).fairlearn;
    // Per class (c0, c1, c2): selection diffs (0, 1/3, 1/3), ratios (1, 0, 1/2);
    // TPR diffs (0, 1, 0), ratios (1, 0, 1); FPR diffs (0, 0, 1/2), ratios (1, 1 [0/0], 0).
    assert_close!(f.demographic_parity_difference, 2.0 / 9.0);
    assert_close!(f.demographic_parity_ratio, 0.5);
    assert_close!(f.equalized_odds_difference, 0.5);
    assert_close!(f.equalized_odds_difference_mean, 0.25);
    assert_close!(f.equalized_odds_ratio, 1.0 / 3.0);
    assert_close!(f.equalized_odds_ratio_mean, 2.0 / 3.0);
    assert_close!(f.equal_opportunity_difference, 1.0 / 3.0);
    assert_close!(f.equal_opportunity_ratio, 2.0 / 3.0);
}

#[test]
fn a_class_missing_from_a_group_counts_as_zero_tpr() {
    // Group 1 has no class-2 sample: TPR_2¹ = 0 (zero division), so ΔTPR_2 = 1 for a perfect group 0.
    let y = [0, 1, 2, 0, 1, 1];
    let yhat = [0, 1, 2, 0, 1, 1];
    let s = [0, 0, 0, 1, 1, 1];
    let m = fme_metrics(&y, &yhat, &s);
    assert_close!(m.eopp1, 1.0 / 3.0);
    assert_close!(m.eopp1_abs, 1.0 / 3.0);
    let r = report(&preds(&y, &yhat, 3), &s, 2);
    assert_eq!(r.groups[1].tpr, vec![1.0, 1.0, 0.0]);
    assert_eq!(r.groups[1].class_counts, vec![1, 2, 0]);
    // Macro scores of group 1 average over the classes it has (sklearn's labels = seen).
    assert_close!(r.groups[1].f1, 1.0);
}

#[test]
fn a_single_sample_group_is_computed_and_warned_about() {
    let y = [0, 1, 1, 0, 1];
    let yhat = [0, 1, 0, 0, 0];
    let s = [0, 0, 0, 0, 1];
    let classes = vec!["a".to_string(), "b".to_string()];
    let p = Predictions {
        labels: y.to_vec(),
        predicted: yhat.to_vec(),
        probs: Some(vec![
            vec![0.9, 0.1],
            vec![0.2, 0.8],
            vec![0.6, 0.4],
            vec![0.7, 0.3],
            vec![0.8, 0.2],
        ]),
        classes: 2,
    };
    let r = fairness_report(
        "s",
        &classes,
        &p,
        &s,
        &names(2),
        &ReportOptions {
            bootstrap: 0,
            ..Default::default()
        },
    );
    assert_eq!(r.groups[1].n, 1);
    assert_eq!(r.groups[1].accuracy, 0.0);
    assert_eq!(r.groups[1].auc, None, "AUC needs both classes");
    assert_eq!(r.worst_group_auc, None);
    assert_eq!(r.warnings.len(), 2, "{:?}", r.warnings);
    assert!(r.warnings[1].contains("'g1' has 1 samples, fewer than 30"));
    assert_close!(r.groups[0].auc.unwrap(), 1.0);
}

#[test]
fn perfect_and_worst_case_predictors() {
    let y = [0, 1, 2, 0, 1, 2, 0, 1];
    let s = [0, 0, 0, 0, 1, 1, 1, 1];
    let one_hot: Vec<Vec<f64>> = y
        .iter()
        .map(|t| (0..3).map(|c| f64::from(u8::from(c == *t))).collect())
        .collect();
    let mut p = preds(&y, &y, 3);
    p.probs = Some(one_hot);
    let r = report(&p, &s, 2);
    assert_eq!(r.overall.accuracy, 1.0);
    assert_eq!(r.worst_group_accuracy, 1.0);
    assert_eq!(r.accuracy_gap, 0.0);
    let f = r.fme.unwrap();
    for v in [f.eopp0_abs, f.eopp1_abs, f.eodds_abs, f.dp] {
        assert_close!(v, 0.0);
    }
    assert_close!(r.overall.auc.unwrap(), 1.0);
    assert_close!(r.fairlearn.equalized_odds_difference, 0.0);
    // Always wrong: predict (y + 1) mod 3.
    let wrong: Vec<usize> = y.iter().map(|t| (t + 1) % 3).collect();
    let r = report(&preds(&y, &wrong, 3), &s, 2);
    assert_eq!(r.overall.accuracy, 0.0);
    assert_eq!(r.overall.f1, 0.0);
    assert!(r.groups.iter().all(|g| g.tpr.iter().all(|t| *t == 0.0)));
}

#[test]
fn auc_matches_hand_values_with_ties() {
    // sklearn's doc example.
    assert_close!(
        binary_auc(&[0.1, 0.4, 0.35, 0.8], &[false, false, true, true]).unwrap(),
        0.75
    );
    // A tie between a positive and a negative counts one half.
    assert_close!(
        binary_auc(&[0.5, 0.5, 0.9], &[false, true, true]).unwrap(),
        0.75
    );
    assert_eq!(binary_auc(&[0.2, 0.3], &[true, true]), None);
    // One-vs-rest macro over the classes present.
    let y = [0, 1, 2];
    let probs = vec![
        vec![0.8, 0.1, 0.1],
        vec![0.1, 0.8, 0.1],
        vec![0.3, 0.3, 0.4],
    ];
    assert_close!(auc(&y, &probs, 3).unwrap(), 1.0);
    assert_eq!(auc(&[1, 1], &probs[..2], 3), None);
}

/// A deterministic pseudo-random case with 3 classes and 3 groups of unequal size.
fn random_case(seed: u64, n: usize) -> (Predictions, Vec<usize>) {
    let mut x = seed;
    let mut next = || {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (x >> 33) as usize
    };
    let mut labels = Vec::new();
    let mut predicted = Vec::new();
    let mut probs = Vec::new();
    let mut groups = Vec::new();
    for _ in 0..n {
        let y = next() % 3;
        let g = if next() % 10 < 5 {
            0
        } else if next() % 2 == 0 {
            1
        } else {
            2
        };
        let yhat = if next() % 10 < 6 + g { y } else { next() % 3 };
        let mut p: Vec<f64> = (0..3)
            .map(|_| (next() % 100) as f64 / 100.0 + 0.01)
            .collect();
        p[yhat] += 1.0;
        let sum: f64 = p.iter().sum();
        probs.push(p.iter().map(|v| v / sum).collect());
        labels.push(y);
        predicted.push(yhat);
        groups.push(g);
    }
    (
        Predictions {
            labels,
            predicted,
            probs: Some(probs),
            classes: 3,
        },
        groups,
    )
}

#[test]
fn abs_metrics_are_unchanged_when_the_two_groups_swap() {
    let (p, g) = random_case(7, 300);
    let two: Vec<usize> = g.iter().map(|x| usize::from(*x > 0)).collect();
    let swapped: Vec<usize> = two.iter().map(|x| 1 - x).collect();
    let a = fme_metrics(&p.labels, &p.predicted, &two);
    let b = fme_metrics(&p.labels, &p.predicted, &swapped);
    for (x, y) in [
        (a.eopp0_abs, b.eopp0_abs),
        (a.eopp1_abs, b.eopp1_abs),
        (a.eodds_abs, b.eodds_abs),
        (a.dp_abs, b.dp_abs),
    ] {
        assert_close!(x, y);
    }
    assert_close!(a.eopp1, -b.eopp1);
    assert_close!(a.eodds, -b.eodds);
    assert!(a.eopp1_abs > 0.0);
}

#[test]
fn rates_are_in_the_unit_interval_and_invariant_to_sample_order() {
    let (p, g) = random_case(11, 400);
    let r = report(&p, &g, 3);
    for gm in r.groups.iter().chain([&r.overall]) {
        for v in gm
            .tpr
            .iter()
            .chain(&gm.tnr)
            .chain(&gm.fpr)
            .chain(&gm.selection_rate)
            .chain([&gm.accuracy, &gm.f1, &gm.precision, &gm.recall])
        {
            assert!((0.0..=1.0).contains(v), "{} has {v}", gm.name);
        }
        assert!((0.0..=1.0).contains(&gm.auc.unwrap()));
    }
    for (k, v) in &r.scalars {
        if !k.starts_with("fme/eopp") && !k.starts_with("fme/eodds") && k != "fme/dp" {
            assert!((0.0..=2.0).contains(v), "{k} = {v}");
        }
    }
    // Reverse the samples: same report.
    let rev = Predictions {
        labels: p.labels.iter().rev().copied().collect(),
        predicted: p.predicted.iter().rev().copied().collect(),
        probs: p.probs.as_ref().map(|x| x.iter().rev().cloned().collect()),
        classes: 3,
    };
    let g_rev: Vec<usize> = g.iter().rev().copied().collect();
    let r2 = report(&rev, &g_rev, 3);
    for (k, v) in &r.scalars {
        assert!(
            close(*v, r2.scalars[k], 1e-12),
            "{k}: {v} vs {}",
            r2.scalars[k]
        );
    }
}

#[test]
fn bootstrap_intervals_are_seeded_and_contain_the_estimates() {
    let (p, g) = random_case(3, 600);
    let classes: Vec<String> = (0..3).map(|c| format!("c{c}")).collect();
    let two: Vec<usize> = g.iter().map(|x| usize::from(*x > 0)).collect();
    let opts = ReportOptions {
        bootstrap: 200,
        seed: 5,
        ..Default::default()
    };
    let a = fairness_report("s", &classes, &p, &two, &names(2), &opts);
    let b = fairness_report("s", &classes, &p, &two, &names(2), &opts);
    assert_eq!(a.intervals, b.intervals, "same seed, same intervals");
    let c = fairness_report(
        "s",
        &classes,
        &p,
        &two,
        &names(2),
        &ReportOptions {
            seed: 6,
            ..opts.clone()
        },
    );
    assert_ne!(a.intervals, c.intervals);
    assert_eq!(
        a.intervals.len(),
        a.scalars.len(),
        "every metric has an interval"
    );
    for (k, v) in &a.scalars {
        let i = a.intervals[k];
        assert!(
            i.lo <= *v && *v <= i.hi,
            "{k}: {v} outside [{}, {}]",
            i.lo,
            i.hi
        );
        // fme/dp is identically 0 (up to rounding), so its interval may be a point.
        assert!(i.lo < i.hi || k == "fme/dp", "{k}: empty interval");
    }
}

#[test]
fn standard_groupings_cover_skin_sex_and_their_intersection() {
    let skin = [1, 3, 4, 6, 0, 2];
    let sex = [0, 1, 1, 0, 1, 2];
    let sexes = vec!["female".to_string(), "male".to_string()];
    let g = standard_groupings(&skin, &sex, &sexes);
    assert_eq!(g.len(), 4);
    assert_eq!(g[0].ids, vec![0, 0, 1, 1, usize::MAX, 0]);
    assert_eq!(g[1].ids, vec![0, 2, 3, 5, usize::MAX, 1]);
    assert_eq!(g[2].ids, vec![0, 1, 1, 0, 1, usize::MAX]);
    assert_eq!(g[3].ids, vec![0, 1, 3, 2, usize::MAX, usize::MAX]);
    assert_eq!(g[3].names[3], "Fitzpatrick IV–VI · male");
}

#[test]
fn fairlearn_forms_need_every_group() {
    let f = fairlearn_metrics(&[]);
    assert_eq!(f.equalized_odds_difference, 0.0);
}

/// Two groups drawn alike: every gap is near 0 and its resamples are biased upward; the
/// intervals must still contain the estimates.
#[test]
fn intervals_of_near_zero_gaps_contain_the_estimates() {
    let (p, _) = random_case(21, 500);
    let parity: Vec<usize> = (0..500).map(|i| i % 2).collect();
    let classes: Vec<String> = (0..3).map(|c| format!("c{c}")).collect();
    let r = fairness_report(
        "s",
        &classes,
        &p,
        &parity,
        &names(2),
        &ReportOptions::default(),
    );
    assert!(r.accuracy_gap < 0.06, "{}", r.accuracy_gap);
    for (k, v) in &r.scalars {
        let i = r.intervals[k];
        assert!(
            i.lo <= *v && *v <= i.hi,
            "{k}: {v} outside [{}, {}]",
            i.lo,
            i.hi
        );
    }
    let gap = r.intervals["accuracy_gap"];
    assert!(
        gap.hi > r.accuracy_gap,
        "the interval is not degenerate: {gap:?}"
    );
}

/// The bootstrap as it was before it weighted the samples: every resample's predictions
/// re-materialised and their report recomputed from scratch; percentile intervals widened to
/// reach the estimate.
fn rematerialised_intervals(
    p: &Predictions,
    groups: &[usize],
    group_names: &[String],
    opts: &ReportOptions,
) -> std::collections::BTreeMap<String, (f64, f64)> {
    use std::collections::BTreeMap;
    let classes: Vec<String> = (0..p.classes).map(|c| format!("c{c}")).collect();
    let point_opts = ReportOptions {
        bootstrap: 0,
        ..opts.clone()
    };
    let point = fairness_report("s", &classes, p, groups, group_names, &point_opts);
    let mut by_group: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (i, g) in groups.iter().enumerate() {
        by_group.entry(*g).or_default().push(i);
    }
    let mut rng = SplitMix(opts.seed);
    let mut samples: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for _ in 0..opts.bootstrap {
        let mut idx = Vec::new();
        for members in by_group.values() {
            for _ in 0..members.len() {
                idx.push(members[rng.below(members.len())]);
            }
        }
        let rp = Predictions {
            labels: idx.iter().map(|&i| p.labels[i]).collect(),
            predicted: idx.iter().map(|&i| p.predicted[i]).collect(),
            probs: p
                .probs
                .as_ref()
                .map(|pp| idx.iter().map(|&i| pp[i].clone()).collect()),
            classes: p.classes,
        };
        let rg: Vec<usize> = idx.iter().map(|&i| groups[i]).collect();
        let r = fairness_report("s", &classes, &rp, &rg, group_names, &point_opts);
        for (k, v) in r.scalars {
            samples.entry(k).or_default().push(v);
        }
    }
    let quantile = |s: &[f64], q: f64| {
        let pos = q * (s.len() - 1) as f64;
        let (i, f) = (pos.floor() as usize, pos - pos.floor());
        if i + 1 < s.len() {
            s[i] + (s[i + 1] - s[i]) * f
        } else {
            s[i]
        }
    };
    let alpha = (1.0 - opts.level) / 2.0;
    samples
        .into_iter()
        .filter_map(|(k, mut v)| {
            let est = *point.scalars.get(&k)?;
            v.sort_by(f64::total_cmp);
            Some((
                k,
                (
                    quantile(&v, alpha).min(est),
                    quantile(&v, 1.0 - alpha).max(est),
                ),
            ))
        })
        .collect()
}

/// The weighted bootstrap gives the intervals of re-materialising every resample (same seed,
/// same draws): three classes with probabilities on a coarse grid (ties for AUC) and samples in
/// an unnamed group, and two classes (binary AUC).
#[test]
fn weighted_bootstrap_intervals_equal_rematerialised_resamples() {
    let (p3, g) = random_case(11, 1500);
    let mut p2 = p3.clone();
    p2.classes = 2;
    for i in 0..p2.labels.len() {
        p2.labels[i] %= 2;
        p2.predicted[i] %= 2;
        let pr = p2.probs.as_mut().unwrap();
        let one = pr[i][1];
        pr[i] = vec![1.0 - one, one];
    }
    let opts = ReportOptions {
        bootstrap: 60,
        seed: 9,
        ..Default::default()
    };
    for (p, names) in [(&p3, names(2)), (&p3, names(3)), (&p2, names(3))] {
        let classes: Vec<String> = (0..p.classes).map(|c| format!("c{c}")).collect();
        let fast = fairness_report("s", &classes, p, &g, &names, &opts);
        let reference = rematerialised_intervals(p, &g, &names, &opts);
        assert_eq!(
            fast.intervals.keys().collect::<Vec<_>>(),
            reference.keys().collect::<Vec<_>>()
        );
        assert!(fast.intervals.keys().any(|k| k.ends_with("/auc")));
        for (k, (lo, hi)) in &reference {
            let i = fast.intervals[k];
            assert!(
                (i.lo - lo).abs() <= 1e-12 && (i.hi - hi).abs() <= 1e-12,
                "{k}: [{}, {}] vs [{lo}, {hi}]",
                i.lo,
                i.hi
            );
        }
    }
}
