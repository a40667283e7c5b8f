//! The FME/SCP fairness forms between groups 0 and 1 (papers.md §1).

use serde::{Deserialize, Serialize};

use super::confusion::Confusion;

/// The FME/SCP fairness metrics between groups 0 and 1 (papers.md §1), keyed as in the reference
/// code's returned dict.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FmeMetrics {
    /// Number of classes K = max(max y, max ŷ) + 1.
    pub classes: usize,
    /// (1/K) Σ_c (TNR_c⁰ − TNR_c¹).
    pub eopp0: f64,
    /// (1/K) Σ_c |TNR_c⁰ − TNR_c¹|.
    pub eopp0_abs: f64,
    /// (1/K) Σ_c (TPR_c⁰ − TPR_c¹).
    pub eopp1: f64,
    /// (1/K) Σ_c |TPR_c⁰ − TPR_c¹|.
    pub eopp1_abs: f64,
    /// (1/K) Σ_c [(ΔTPR_c) + (ΔFPR_c)] / 2.
    pub eodds: f64,
    /// (1/K) Σ_c |ΔTPR_c + ΔFPR_c| / 2 (the absolute value of the sum, as the code).
    pub eodds_abs: f64,
    /// Σ_c [P(ŷ=c|s=0) − P(ŷ=c|s=1)] (identically 0).
    pub dp: f64,
    /// Σ_c |P(ŷ=c|s=0) − P(ŷ=c|s=1)|.
    pub dp_abs: f64,
    /// Overall accuracy.
    pub accuracy: f64,
    /// Overall macro F1.
    pub f1: f64,
    /// Accuracy of groups 0 and 1.
    pub group_accuracy: [f64; 2],
    /// Macro precision of groups 0 and 1.
    pub group_precision: [f64; 2],
    /// Macro recall of groups 0 and 1.
    pub group_recall: [f64; 2],
    /// Macro F1 of groups 0 and 1.
    pub group_f1: [f64; 2],
}

/// FME/SCP metrics for two groups (`s` ∈ {0, 1}; other values are ignored).
pub fn fme_metrics(y: &[usize], yhat: &[usize], s: &[usize]) -> FmeMetrics {
    let k = y.iter().chain(yhat).copied().max().map_or(1, |m| m + 1);
    let pick = |g: usize| -> (Vec<usize>, Vec<usize>) {
        y.iter()
            .zip(yhat)
            .zip(s)
            .filter(|(_, sg)| **sg == g)
            .map(|((a, b), _)| (*a, *b))
            .unzip()
    };
    let (y0, p0) = pick(0);
    let (y1, p1) = pick(1);
    let c0 = Confusion::new(k, &y0, &p0);
    let c1 = Confusion::new(k, &y1, &p1);
    let all = Confusion::new(k, y, yhat);
    fme_from_confusions(k, &c0, &c1, &all)
}

/// The FME/SCP metrics from the confusion matrices (over `k` classes) of groups 0 and 1 and of
/// every sample.
pub(super) fn fme_from_confusions(
    k: usize,
    c0: &Confusion,
    c1: &Confusion,
    all: &Confusion,
) -> FmeMetrics {
    let kf = k as f64;
    let mut m = FmeMetrics {
        classes: k,
        eopp0: 0.0,
        eopp0_abs: 0.0,
        eopp1: 0.0,
        eopp1_abs: 0.0,
        eodds: 0.0,
        eodds_abs: 0.0,
        dp: 0.0,
        dp_abs: 0.0,
        accuracy: all.accuracy(),
        f1: all.macro_prf().2,
        group_accuracy: [c0.accuracy(), c1.accuracy()],
        group_precision: [c0.macro_prf().0, c1.macro_prf().0],
        group_recall: [c0.macro_prf().1, c1.macro_prf().1],
        group_f1: [c0.macro_prf().2, c1.macro_prf().2],
    };
    for c in 0..k {
        let dtnr = c0.tnr(c) - c1.tnr(c);
        let dtpr = c0.tpr(c) - c1.tpr(c);
        let dfpr = c0.fpr(c) - c1.fpr(c);
        m.eopp0 += dtnr / kf;
        m.eopp0_abs += dtnr.abs() / kf;
        m.eopp1 += dtpr / kf;
        m.eopp1_abs += dtpr.abs() / kf;
        m.eodds += (dtpr + dfpr) / 2.0 / kf;
        m.eodds_abs += (dtpr + dfpr).abs() / 2.0 / kf;
        let dsel = c0.selection_rate(c) - c1.selection_rate(c);
        m.dp += dsel;
        m.dp_abs += dsel.abs();
    }
    m
}
