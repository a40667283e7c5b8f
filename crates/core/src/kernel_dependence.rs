//! Kernel dependence terms of the fair training losses (papers.md §2.2), differentiable burn
//! tensors so the trainer can back-propagate through them:
//! * [`hsic_unbiased`]: the FME code's `RbfHSIC` — rows L2-normalised, RBF kernels with
//!   γ = 1/(2·mean squared distance) (detached), Song et al.'s unbiased HSIC estimator;
//! * [`class_conditional_hsic`]: Σ over classes of HSIC(features, one-hot group) within the class;
//! * [`mfd_mmd`]: MFD's class- and group-conditional MMD between student and (detached) teacher
//!   features.

use burn::prelude::*;

/// Squared Euclidean distances between the rows of `a` `[n, d]` and `b` `[m, d]`: `[n, m]`.
fn squared_distances(a: Tensor<2>, b: Tensor<2>) -> Tensor<2> {
    let aa = a.clone().powf_scalar(2.0).sum_dim(1); // [n, 1]
    let bb = b.clone().powf_scalar(2.0).sum_dim(1).transpose(); // [1, m]
    let ab = a.matmul(b.transpose()); // [n, m]
    (aa + bb - ab.mul_scalar(2.0)).clamp_min(0.0)
}

/// The FME code's RBF kernel of `x` `[n, d]`: rows L2-normalised, D clamped at 1e-12,
/// γ = 1/(2·mean D) detached, K = exp(−γ D), diagonal set to zero.
fn rbf_kernel_zero_diagonal(x: Tensor<2>) -> Tensor<2> {
    let [n, _] = x.dims();
    let norm = x
        .clone()
        .powf_scalar(2.0)
        .sum_dim(1)
        .sqrt()
        .clamp_min(1e-12);
    let x = x / norm;
    let d = squared_distances(x.clone(), x).clamp_min(1e-12);
    let mean = d.clone().mean().detach();
    let gamma = mean.mul_scalar(2.0).recip(); // [1]
    let k = (d.neg() * gamma.unsqueeze_dim::<2>(0)).exp();
    let off_diagonal = Tensor::<2>::ones([n, n], &k.device()) - Tensor::<2>::eye(n, &k.device());
    k * off_diagonal
}

/// Song et al.'s unbiased HSIC estimator between the rows of `x` `[n, d]` and `y` `[n, e]`
/// (n ≥ 4), as the FME code's `RbfHSIC`: `[tr(K̃L̃) + 1ᵀK̃1·1ᵀL̃1/((n−1)(n−2)) −
/// 2/(n−2)·1ᵀK̃L̃1] / (n(n−3))` with zero-diagonal kernels. Returns a one-element tensor.
pub fn hsic_unbiased(x: Tensor<2>, y: Tensor<2>) -> Tensor<1> {
    let [n, _] = x.dims();
    assert!(
        n >= 4,
        "the unbiased HSIC estimator needs at least 4 samples, got {n}"
    );
    let k = rbf_kernel_zero_diagonal(x);
    let l = rbf_kernel_zero_diagonal(y);
    let nf = n as f64;
    let trace = (k.clone() * l.clone()).sum(); // tr(K L) for symmetric K, L
    let sum_k = k.clone().sum();
    let sum_l = l.clone().sum();
    let cross = (k.sum_dim(0).transpose() * l.sum_dim(1)).sum(); // 1ᵀK · L1
    let value = trace + (sum_k * sum_l).div_scalar((nf - 1.0) * (nf - 2.0))
        - cross.mul_scalar(2.0 / (nf - 2.0));
    value.div_scalar(nf * (nf - 3.0))
}

fn rows(device: &Device, idx: &[usize]) -> Tensor<1, Int> {
    let v: Vec<i64> = idx.iter().map(|&i| i as i64).collect();
    Tensor::<1, Int>::from_data(TensorData::new(v, [idx.len()]), device)
}

/// Σ over classes l of HSIC(features[y = l], one-hot(group)[y = l]) (the FME HSIC term); classes
/// with fewer than 4 samples, or whose samples are all in one group, are skipped (the estimator
/// is undefined or 0 there). Returns a one-element tensor (0 when every class is skipped).
pub fn class_conditional_hsic(
    features: Tensor<2>,
    labels: &[usize],
    groups: &[usize],
    classes: usize,
    group_count: usize,
) -> Tensor<1> {
    let device = features.device();
    let mut total = Tensor::<1>::zeros([1], &device);
    for c in 0..classes {
        let idx: Vec<usize> = (0..labels.len()).filter(|&i| labels[i] == c).collect();
        if idx.len() < 4 || idx.iter().all(|&i| groups[i] == groups[idx[0]]) {
            continue;
        }
        let f = features.clone().select(0, rows(&device, &idx));
        let mut onehot = vec![0.0f32; idx.len() * group_count];
        for (r, &i) in idx.iter().enumerate() {
            onehot[r * group_count + groups[i].min(group_count - 1)] = 1.0;
        }
        let g = Tensor::<2>::from_data(TensorData::new(onehot, [idx.len(), group_count]), &device);
        total = total + hsic_unbiased(f, g);
    }
    total
}

/// MFD's MMD term: `0.5·w_m·Σ_c Σ_g [mean k(T_c, T_c) + mean k(S_cg, S_cg) − 2 mean k(T_c, S_cg)]`
/// over classes c and groups g present, with `k(a, b) = exp(−‖a − b‖² / (2·σ_base·σ_avg))`,
/// σ_avg = mean squared teacher–student distance (detached); the teacher is detached.
pub fn mfd_mmd(
    student: Tensor<2>,
    teacher: Tensor<2>,
    labels: &[usize],
    groups: &[usize],
    w_m: f64,
    sigma_base: f64,
) -> Tensor<1> {
    let device = student.device();
    let teacher = teacher.detach();
    let sigma_avg = squared_distances(teacher.clone(), student.clone())
        .mean()
        .detach();
    let scale = sigma_avg.mul_scalar(2.0 * sigma_base).recip().neg(); // [1]
    let kernel_mean = |a: Tensor<2>, b: Tensor<2>| {
        (squared_distances(a, b) * scale.clone().unsqueeze_dim::<2>(0))
            .exp()
            .mean()
    };
    let mut total = Tensor::<1>::zeros([1], &device);
    let classes: std::collections::BTreeSet<usize> = labels.iter().copied().collect();
    for c in classes {
        let in_class: Vec<usize> = (0..labels.len()).filter(|&i| labels[i] == c).collect();
        let t = teacher.clone().select(0, rows(&device, &in_class));
        let group_ids: std::collections::BTreeSet<usize> =
            in_class.iter().map(|&i| groups[i]).collect();
        for g in group_ids {
            let idx: Vec<usize> = in_class
                .iter()
                .copied()
                .filter(|&i| groups[i] == g)
                .collect();
            let s = student.clone().select(0, rows(&device, &idx));
            total = total + kernel_mean(t.clone(), t.clone()) + kernel_mean(s.clone(), s.clone())
                - kernel_mean(t.clone(), s).mul_scalar(2.0);
        }
    }
    total.mul_scalar(0.5 * w_m)
}
