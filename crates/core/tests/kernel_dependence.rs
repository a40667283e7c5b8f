//! HSIC and MFD's MMD term: against plain-f64 references written from the formulas, hand values
//! and properties.

use burn::prelude::*;
use fairscreen_core::kernel_dependence::{class_conditional_hsic, hsic_unbiased, mfd_mmd};

fn tensor(rows: &[Vec<f64>]) -> Tensor<2> {
    let d = rows[0].len();
    let flat: Vec<f32> = rows.iter().flatten().map(|v| *v as f32).collect();
    Tensor::<2>::from_data(TensorData::new(flat, [rows.len(), d]), &Device::flex())
}

fn scalar(t: Tensor<1>) -> f64 {
    t.into_data().try_to_vec::<f32>().unwrap()[0] as f64
}

/// The FME `RbfHSIC` written out with loops in f64.
fn reference_hsic(x: &[Vec<f64>], y: &[Vec<f64>]) -> f64 {
    fn kernel(x: &[Vec<f64>]) -> Vec<Vec<f64>> {
        let n = x.len();
        let xn: Vec<Vec<f64>> = x
            .iter()
            .map(|r| {
                let norm = r.iter().map(|v| v * v).sum::<f64>().sqrt().max(1e-12);
                r.iter().map(|v| v / norm).collect()
            })
            .collect();
        let mut d = vec![vec![0.0; n]; n];
        for i in 0..n {
            for j in 0..n {
                let s: f64 = xn[i]
                    .iter()
                    .zip(&xn[j])
                    .map(|(a, b)| (a - b) * (a - b))
                    .sum();
                d[i][j] = s.max(1e-12);
            }
        }
        let mean = d.iter().flatten().sum::<f64>() / (n * n) as f64;
        let gamma = 1.0 / (2.0 * mean);
        (0..n)
            .map(|i| {
                (0..n)
                    .map(|j| {
                        if i == j {
                            0.0
                        } else {
                            (-gamma * d[i][j]).exp()
                        }
                    })
                    .collect()
            })
            .collect()
    }
    let n = x.len();
    let (k, l) = (kernel(x), kernel(y));
    let nf = n as f64;
    let mut tr = 0.0;
    for i in 0..n {
        for j in 0..n {
            tr += k[i][j] * l[j][i];
        }
    }
    let sk: f64 = k.iter().flatten().sum();
    let sl: f64 = l.iter().flatten().sum();
    let mut cross = 0.0;
    for j in 0..n {
        let colk: f64 = (0..n).map(|i| k[i][j]).sum();
        let rowl: f64 = l[j].iter().sum();
        cross += colk * rowl;
    }
    (tr + sk * sl / ((nf - 1.0) * (nf - 2.0)) - 2.0 / (nf - 2.0) * cross) / (nf * (nf - 3.0))
}

fn pseudo_random(n: usize, d: usize, seed: u64) -> Vec<Vec<f64>> {
    let mut x = seed;
    (0..n)
        .map(|_| {
            (0..d)
                .map(|_| {
                    x = x
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    ((x >> 33) as f64 / (1u64 << 31) as f64) - 0.5
                })
                .collect()
        })
        .collect()
}

fn onehot(groups: &[usize], k: usize) -> Vec<Vec<f64>> {
    groups
        .iter()
        .map(|g| (0..k).map(|c| if c == *g { 1.0 } else { 0.0 }).collect())
        .collect()
}

#[test]
fn hsic_matches_the_reference_formula() {
    for (n, d, seed) in [(6, 3, 1), (9, 5, 2), (16, 4, 3)] {
        let x = pseudo_random(n, d, seed);
        let y = onehot(
            &(0..n)
                .map(|i| (i * 7 + seed as usize) % 2)
                .collect::<Vec<_>>(),
            2,
        );
        let want = reference_hsic(&x, &y);
        let got = scalar(hsic_unbiased(tensor(&x), tensor(&y)));
        assert!((got - want).abs() < 1e-5, "n={n}: {got} vs {want}");
    }
}

#[test]
fn hsic_is_near_zero_for_independent_and_positive_for_identical_variables() {
    let x = pseudo_random(120, 4, 9);
    let independent: Vec<usize> = (0..120).map(|i| i % 2).collect();
    let h0 = scalar(hsic_unbiased(tensor(&x), tensor(&onehot(&independent, 2))));
    let h1 = scalar(hsic_unbiased(tensor(&x), tensor(&x)));
    assert!(h0.abs() < 0.002, "independent: {h0}");
    assert!(h1 > 10.0 * h0.abs(), "identical: {h1} vs independent {h0}");
    // Features that encode the group are dependent on it.
    let dependent: Vec<Vec<f64>> = x
        .iter()
        .zip(&independent)
        .map(|(r, g)| r.iter().map(|v| v + 2.0 * *g as f64).collect())
        .collect();
    let h2 = scalar(hsic_unbiased(
        tensor(&dependent),
        tensor(&onehot(&independent, 2)),
    ));
    assert!(
        h2 > 10.0 * h0.abs().max(1e-4),
        "dependent: {h2} vs independent {h0}"
    );
}

#[test]
fn class_conditional_hsic_sums_the_classes_that_qualify() {
    let x = pseudo_random(14, 3, 4);
    let labels = [0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 2, 2];
    let groups = [0, 1, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0];
    // Class 1 has one group only and class 2 has 2 samples: only class 0 counts.
    let want = reference_hsic(&x[..6], &onehot(&groups[..6], 2));
    let got = scalar(class_conditional_hsic(tensor(&x), &labels, &groups, 3, 2));
    assert!((got - want).abs() < 1e-5, "{got} vs {want}");
}

#[test]
fn mfd_mmd_matches_a_hand_computed_value() {
    // 1-D features 0 and 1, one class. σ_avg = (0 + 1 + 1 + 0)/4 = 0.5, so with σ_base = 0.5
    // k(a, b) = exp(−2 (a − b)²).
    let f = tensor(&[vec![0.0], vec![1.0]]);
    let e2 = (-2.0f64).exp();
    // One group: the student equals the teacher, so the MMD is 0.
    let same = scalar(mfd_mmd(f.clone(), f.clone(), &[0, 0], &[0, 0], 5.0, 0.5));
    assert!(same.abs() < 1e-6, "{same}");
    // Two groups of one sample each: Σ_g [A + 1 − 2·(1 + e⁻²)/2] with A = (2 + 2e⁻²)/4, i.e.
    // 1 − e⁻², times 0.5·w_m.
    let split = scalar(mfd_mmd(f.clone(), f, &[0, 0], &[0, 1], 5.0, 0.5));
    let want = 0.5 * 5.0 * (1.0 - e2);
    assert!((split - want).abs() < 1e-5, "{split} vs {want}");
}

/// Both terms back-propagate to the student features (finite, non-zero gradients), and MFD's
/// teacher gets none.
#[test]
fn the_terms_have_gradients_for_training() {
    let device = Device::flex().autodiff();
    let rows = pseudo_random(12, 5, 8);
    let flat: Vec<f32> = rows.iter().flatten().map(|v| *v as f32).collect();
    let x = Tensor::<2>::from_data(TensorData::new(flat.clone(), [12, 5]), &device).require_grad();
    let labels = [0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1];
    let groups = [0, 1, 0, 1, 0, 1, 1, 0, 1, 0, 0, 1];
    let loss = class_conditional_hsic(x.clone(), &labels, &groups, 2, 2);
    let g = x.grad(&loss.backward()).expect("HSIC gradient");
    let g: Vec<f32> = g.into_data().try_to_vec().unwrap();
    assert!(g.iter().all(|v| v.is_finite()) && g.iter().any(|v| *v != 0.0));

    let s = Tensor::<2>::from_data(TensorData::new(flat.clone(), [12, 5]), &device).require_grad();
    let shifted: Vec<f32> = flat.iter().map(|v| v + 0.3).collect();
    let t = Tensor::<2>::from_data(TensorData::new(shifted, [12, 5]), &device).require_grad();
    let loss = mfd_mmd(s.clone(), t.clone(), &labels, &groups, 5.0, 0.5);
    let grads = loss.backward();
    let gs: Vec<f32> = s
        .grad(&grads)
        .expect("student gradient")
        .into_data()
        .try_to_vec()
        .unwrap();
    assert!(gs.iter().all(|v| v.is_finite()) && gs.iter().any(|v| *v != 0.0));
    assert!(t.grad(&grads).is_none(), "the teacher is detached");
}
