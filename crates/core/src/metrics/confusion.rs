//! The K×K confusion matrix and the per-class rates, accuracy and macro scores read from it.

/// `a / b`, or 0 when `b` is 0 (sklearn's `zero_division=0`).
fn div(a: f64, b: f64) -> f64 {
    if b == 0.0 {
        0.0
    } else {
        a / b
    }
}

/// A K×K confusion matrix, `counts[true][predicted]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Confusion {
    k: usize,
    counts: Vec<u64>,
}

impl Confusion {
    /// Counts `(y, ŷ)` pairs over `k` classes (labels ≥ k are ignored).
    pub fn new(k: usize, y: &[usize], yhat: &[usize]) -> Self {
        let mut counts = vec![0u64; k * k];
        for (t, p) in y.iter().zip(yhat) {
            if *t < k && *p < k {
                counts[t * k + p] += 1;
            }
        }
        Self { k, counts }
    }

    /// A matrix from its `k·k` counts, `counts[true·k + predicted]`.
    pub(super) fn from_counts(k: usize, counts: Vec<u64>) -> Self {
        debug_assert_eq!(counts.len(), k * k);
        Self { k, counts }
    }

    /// Samples counted.
    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// Samples of true class `c` predicted as `p`.
    pub fn count(&self, c: usize, p: usize) -> u64 {
        self.counts[c * self.k + p]
    }

    /// One-vs-rest (TP, FP, FN, TN) of class `c`.
    pub fn one_vs_rest(&self, c: usize) -> (f64, f64, f64, f64) {
        let tp = self.count(c, c) as f64;
        let actual: u64 = (0..self.k).map(|p| self.count(c, p)).sum();
        let predicted: u64 = (0..self.k).map(|t| self.count(t, c)).sum();
        let fn_ = actual as f64 - tp;
        let fp = predicted as f64 - tp;
        let tn = self.total() as f64 - tp - fp - fn_;
        (tp, fp, fn_, tn)
    }

    /// TPR of class `c` (0 when the class is absent).
    pub fn tpr(&self, c: usize) -> f64 {
        let (tp, _, fn_, _) = self.one_vs_rest(c);
        div(tp, tp + fn_)
    }

    /// TNR of class `c` (0 when every sample is of class `c`).
    pub fn tnr(&self, c: usize) -> f64 {
        let (_, fp, _, tn) = self.one_vs_rest(c);
        div(tn, tn + fp)
    }

    /// FPR of class `c`.
    pub fn fpr(&self, c: usize) -> f64 {
        let (_, fp, _, tn) = self.one_vs_rest(c);
        div(fp, tn + fp)
    }

    /// Share of samples predicted as class `c`.
    pub fn selection_rate(&self, c: usize) -> f64 {
        let (tp, fp, _, _) = self.one_vs_rest(c);
        div(tp + fp, self.total() as f64)
    }

    /// Accuracy.
    pub fn accuracy(&self) -> f64 {
        let correct: u64 = (0..self.k).map(|c| self.count(c, c)).sum();
        div(correct as f64, self.total() as f64)
    }

    /// Classes present among the labels or the predictions (sklearn's default `labels`).
    pub fn classes_seen(&self) -> Vec<usize> {
        (0..self.k)
            .filter(|&c| {
                let (tp, fp, fn_, _) = self.one_vs_rest(c);
                tp + fp + fn_ > 0.0
            })
            .collect()
    }

    /// Macro precision, recall and F1 over the classes seen (sklearn `average='macro'`,
    /// zero division → 0).
    pub fn macro_prf(&self) -> (f64, f64, f64) {
        let classes = self.classes_seen();
        if classes.is_empty() {
            return (0.0, 0.0, 0.0);
        }
        let (mut p, mut r, mut f) = (0.0, 0.0, 0.0);
        for &c in &classes {
            let (tp, fp, fn_, _) = self.one_vs_rest(c);
            p += div(tp, tp + fp);
            r += div(tp, tp + fn_);
            f += div(2.0 * tp, 2.0 * tp + fp + fn_);
        }
        let n = classes.len() as f64;
        (p / n, r / n, f / n)
    }
}
