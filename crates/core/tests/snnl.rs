//! SNNL (papers.md §3.1) against values computed by hand and by an independent implementation of
//! the formulas, for both forms and several temperatures.

use fairscreen_core::snnl::{batched_snnl, channel_snnl_scores, snnl, SnnlForm};

const X: [[f32; 3]; 5] = [
    [1.0, 0.0, 0.5],
    [0.9, 0.1, 0.4],
    [0.0, 1.0, 0.2],
    [0.1, 0.8, 0.0],
    [0.5, 0.5, 0.5],
];
const Z: [usize; 5] = [0, 0, 1, 1, 0];

fn flat() -> Vec<f32> {
    X.iter().flatten().copied().collect()
}

#[test]
fn two_orthogonal_samples_of_one_group_by_hand() {
    // d = 1, e = exp(−1/T). Reference: same = all = e → −ln((e + ε)/e) ≈ 0.
    // SCP code: same = e + e_ii = e + 1 → −ln((1 + e)/e) = −ln(1 + e^{1/T}).
    let x = [1.0f32, 0.0, 0.0, 1.0];
    for t in [0.5, 1.0, 2.0] {
        let r = snnl(&x, 2, &[0, 0], t, SnnlForm::Reference).unwrap();
        assert!(r.abs() < 1e-8, "T={t}: {r}");
        let c = snnl(&x, 2, &[0, 0], t, SnnlForm::ScpCode).unwrap();
        let want = -(1.0 + (1.0f64 / t).exp()).ln();
        assert!((c - want).abs() < 1e-8, "T={t}: {c} vs {want}");
    }
}

#[test]
fn five_samples_match_the_formula_for_both_forms_and_three_temperatures() {
    // Independent evaluation of the §3.1 formulas (plain Python floats, cosine distance).
    let cases = [
        (0.1, 0.06448081911178628, -0.8468208426949276),
        (1.0, 0.6639804833685703, 0.10961103123721953),
        (10.0, 0.9350312400523706, 0.41117865295673983),
    ];
    for (t, reference, code) in cases {
        let r = snnl(&flat(), 3, &Z, t, SnnlForm::Reference).unwrap();
        let c = snnl(&flat(), 3, &Z, t, SnnlForm::ScpCode).unwrap();
        assert!((r - reference).abs() < 1e-6, "T={t}: {r} vs {reference}");
        assert!((c - code).abs() < 1e-6, "T={t}: {c} vs {code}");
    }
}

#[test]
fn separated_groups_score_lower_than_mixed_groups() {
    let a = [1.0f32, 0.0, 0.9, 0.1, 0.0, 1.0, 0.1, 0.9];
    for form in [SnnlForm::Reference, SnnlForm::ScpCode] {
        let sep = snnl(&a, 2, &[0, 0, 1, 1], 1.0, form).unwrap();
        let mixed = snnl(&a, 2, &[0, 1, 0, 1], 1.0, form).unwrap();
        assert!(sep < mixed, "{form:?}: {sep} !< {mixed}");
    }
    let sep = snnl(&a, 2, &[0, 0, 1, 1], 1.0, SnnlForm::Reference).unwrap();
    assert!((sep - 0.6034161469659526).abs() < 1e-6);
}

#[test]
fn scaling_an_embedding_changes_nothing() {
    let mut scaled = flat();
    for (i, v) in scaled.iter_mut().enumerate() {
        *v *= [3.0, 0.25, 7.0, 1.0, 42.0][i / 3];
    }
    for form in [SnnlForm::Reference, SnnlForm::ScpCode] {
        let a = snnl(&flat(), 3, &Z, 1.0, form).unwrap();
        let b = snnl(&scaled, 3, &Z, 1.0, form).unwrap();
        assert!((a - b).abs() < 1e-9, "{form:?}: {a} vs {b}");
    }
}

#[test]
fn undefined_inputs_give_none() {
    assert_eq!(snnl(&[1.0, 2.0], 2, &[0], 1.0, SnnlForm::Reference), None);
    assert_eq!(snnl(&flat(), 3, &Z, 0.0, SnnlForm::Reference), None);
    assert_eq!(snnl(&flat(), 3, &Z, f64::NAN, SnnlForm::Reference), None);
    assert_eq!(snnl(&flat()[..14], 3, &Z, 1.0, SnnlForm::Reference), None);
    assert_eq!(
        batched_snnl(&flat(), 3, &Z, 6, 1.0, SnnlForm::Reference),
        None
    );
}

#[test]
fn channel_scores_use_each_channels_map_as_the_embedding() {
    // b = 5, c = 2, h·w = 3: channel 0 holds X, channel 1 holds X reversed per row.
    let mut map = Vec::new();
    let mut second = Vec::new();
    for row in X {
        map.extend(row);
        map.extend(row.iter().rev());
        second.extend(row.iter().rev());
    }
    let scores = channel_snnl_scores(&map, [5, 2, 1, 3], &Z, 1.0, SnnlForm::ScpCode).unwrap();
    assert!((scores[0] - 0.10961103123721953).abs() < 1e-6);
    let direct = snnl(&second, 3, &Z, 1.0, SnnlForm::ScpCode).unwrap();
    assert!((scores[1] - direct).abs() < 1e-12);
    assert_eq!(
        channel_snnl_scores(&map, [5, 2, 1, 4], &Z, 1.0, SnnlForm::ScpCode),
        None
    );
}

#[test]
fn batched_snnl_averages_full_batches_and_drops_the_rest() {
    let x = flat();
    let first = snnl(&x[..6], 3, &Z[..2], 1.0, SnnlForm::Reference).unwrap();
    let second = snnl(&x[6..12], 3, &Z[2..4], 1.0, SnnlForm::Reference).unwrap();
    let got = batched_snnl(&x, 3, &Z, 2, 1.0, SnnlForm::Reference).unwrap();
    assert!((got - (first + second) / 2.0).abs() < 1e-12);
}
