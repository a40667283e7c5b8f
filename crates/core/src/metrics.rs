//! Classification and fairness metrics from (labels, predictions, probabilities, group ids), for
//! any number of classes and groups. Two families, both as in papers.md:
//! * the FME/SCP forms (§1): EOpp0/EOpp1/EOdd/DP between groups 0 and 1, signed and `_abs`, with
//!   `K = max(max y, max ŷ) + 1` classes and zero division → 0;
//! * the fairlearn forms (§6): demographic parity, equalized odds (worst case and mean) and equal
//!   opportunity differences (max − min over groups) and ratios (min / max), for the positive class
//!   when there are two classes and averaged one-vs-rest over classes otherwise.
//!
//! Plus per-group accuracy, macro precision/recall/F1, per-class TPR/TNR/FPR, AUC, worst-group and
//! gap summaries, FATE against a baseline, and seeded, group-stratified bootstrap intervals.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::exit::SampleLogits;

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

/// Area under the ROC curve of `scores` for `positive` labels (Mann–Whitney with average ranks
/// for ties); None when either class is empty.
pub fn binary_auc(scores: &[f64], positive: &[bool]) -> Option<f64> {
    let n_pos = positive.iter().filter(|p| **p).count();
    let n_neg = positive.len() - n_pos;
    if n_pos == 0 || n_neg == 0 {
        return None;
    }
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    let mut rank_sum = 0.0;
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && scores[order[j + 1]] == scores[order[i]] {
            j += 1;
        }
        let avg_rank = (i + j) as f64 / 2.0 + 1.0;
        for &o in &order[i..=j] {
            if positive[o] {
                rank_sum += avg_rank;
            }
        }
        i = j + 1;
    }
    let np = n_pos as f64;
    Some((rank_sum - np * (np + 1.0) / 2.0) / (np * n_neg as f64))
}

/// AUC: binary (score = probability of class 1) for two classes, else one-vs-rest macro over the
/// classes present in `y` (sklearn's `multi_class='ovr'`); None when fewer than two classes are
/// present.
pub fn auc(y: &[usize], probs: &[Vec<f64>], k: usize) -> Option<f64> {
    if k == 2 {
        let scores: Vec<f64> = probs.iter().map(|p| p[1]).collect();
        let pos: Vec<bool> = y.iter().map(|t| *t == 1).collect();
        return binary_auc(&scores, &pos);
    }
    let present: Vec<usize> = (0..k).filter(|c| y.contains(c)).collect();
    if present.len() < 2 {
        return None;
    }
    let mut sum = 0.0;
    for &c in &present {
        let scores: Vec<f64> = probs.iter().map(|p| p[c]).collect();
        let pos: Vec<bool> = y.iter().map(|t| *t == c).collect();
        sum += binary_auc(&scores, &pos)?;
    }
    Some(sum / present.len() as f64)
}

/// Metrics of one group (or of everyone).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GroupMetrics {
    /// Group name, e.g. `Fitzpatrick IV–VI` or `all`.
    pub name: String,
    /// Samples.
    pub n: usize,
    /// Samples per true class.
    pub class_counts: Vec<usize>,
    /// Accuracy.
    pub accuracy: f64,
    /// Macro precision over the classes seen in the group.
    pub precision: f64,
    /// Macro recall over the classes seen in the group.
    pub recall: f64,
    /// Macro F1 over the classes seen in the group.
    pub f1: f64,
    /// TPR per class (0 for a class absent from the group).
    pub tpr: Vec<f64>,
    /// TNR per class.
    pub tnr: Vec<f64>,
    /// FPR per class.
    pub fpr: Vec<f64>,
    /// Share predicted as each class.
    pub selection_rate: Vec<f64>,
    /// AUC (binary or one-vs-rest macro), when defined and probabilities were given.
    pub auc: Option<f64>,
}

fn group_metrics(
    name: &str,
    k: usize,
    y: &[usize],
    yhat: &[usize],
    probs: Option<&[Vec<f64>]>,
) -> GroupMetrics {
    let c = Confusion::new(k, y, yhat);
    let (precision, recall, f1) = c.macro_prf();
    let mut class_counts = vec![0; k];
    for t in y {
        if *t < k {
            class_counts[*t] += 1;
        }
    }
    GroupMetrics {
        name: name.into(),
        n: y.len(),
        class_counts,
        accuracy: c.accuracy(),
        precision,
        recall,
        f1,
        tpr: (0..k).map(|i| c.tpr(i)).collect(),
        tnr: (0..k).map(|i| c.tnr(i)).collect(),
        fpr: (0..k).map(|i| c.fpr(i)).collect(),
        selection_rate: (0..k).map(|i| c.selection_rate(i)).collect(),
        auc: probs.and_then(|p| auc(y, p, k)),
    }
}

/// The fairlearn between-group forms (papers.md §6). With two classes they concern the positive
/// class 1; with more, each is computed one-vs-rest per class and averaged over classes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FairlearnMetrics {
    /// max_g − min_g of the selection rate.
    pub demographic_parity_difference: f64,
    /// min_g / max_g of the selection rate.
    pub demographic_parity_ratio: f64,
    /// max(TPR difference, FPR difference) (`agg='worst_case'`).
    pub equalized_odds_difference: f64,
    /// (TPR difference + FPR difference) / 2 (`agg='mean'`).
    pub equalized_odds_difference_mean: f64,
    /// min(TPR ratio, FPR ratio).
    pub equalized_odds_ratio: f64,
    /// (TPR ratio + FPR ratio) / 2.
    pub equalized_odds_ratio_mean: f64,
    /// max_g − min_g of the TPR.
    pub equal_opportunity_difference: f64,
    /// min_g / max_g of the TPR.
    pub equal_opportunity_ratio: f64,
}

fn spread(values: &[f64]) -> (f64, f64) {
    let max = values.iter().copied().fold(f64::MIN, f64::max);
    let min = values.iter().copied().fold(f64::MAX, f64::min);
    (max - min, if max == 0.0 { 1.0 } else { min / max })
}

/// fairlearn forms over `groups` (each group's metrics must have the same class count).
pub fn fairlearn_metrics(groups: &[GroupMetrics]) -> FairlearnMetrics {
    let k = groups.first().map_or(0, |g| g.tpr.len());
    let classes: Vec<usize> = if k == 2 { vec![1] } else { (0..k).collect() };
    let mut m = FairlearnMetrics {
        demographic_parity_difference: 0.0,
        demographic_parity_ratio: 0.0,
        equalized_odds_difference: 0.0,
        equalized_odds_difference_mean: 0.0,
        equalized_odds_ratio: 0.0,
        equalized_odds_ratio_mean: 0.0,
        equal_opportunity_difference: 0.0,
        equal_opportunity_ratio: 0.0,
    };
    if groups.is_empty() || classes.is_empty() {
        return m;
    }
    let n = classes.len() as f64;
    for &c in &classes {
        let per = |f: fn(&GroupMetrics, usize) -> f64| -> Vec<f64> {
            groups.iter().map(|g| f(g, c)).collect()
        };
        let (dp_d, dp_r) = spread(&per(|g, c| g.selection_rate[c]));
        let (tpr_d, tpr_r) = spread(&per(|g, c| g.tpr[c]));
        let (fpr_d, fpr_r) = spread(&per(|g, c| g.fpr[c]));
        m.demographic_parity_difference += dp_d / n;
        m.demographic_parity_ratio += dp_r / n;
        m.equalized_odds_difference += tpr_d.max(fpr_d) / n;
        m.equalized_odds_difference_mean += (tpr_d + fpr_d) / 2.0 / n;
        m.equalized_odds_ratio += tpr_r.min(fpr_r) / n;
        m.equalized_odds_ratio_mean += (tpr_r + fpr_r) / 2.0 / n;
        m.equal_opportunity_difference += tpr_d / n;
        m.equal_opportunity_ratio += tpr_r / n;
    }
    m
}

/// A baseline for FATE (papers.md §3.5): the vanilla model's macro F1 and EOdd_abs.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct FateBaseline {
    /// Baseline macro F1 (ACC_b).
    pub f1: f64,
    /// Baseline EOdd_abs (FC_b).
    pub eodds_abs: f64,
    /// Weight λ of the fairness term (1 in the SCP code).
    pub lambda: f64,
}

/// FATE = (F1 − F1_b)/F1_b − λ·(EOdd_abs − FC_b)/FC_b.
pub fn fate(f1: f64, eodds_abs: f64, b: &FateBaseline) -> f64 {
    (f1 - b.f1) / b.f1 - b.lambda * (eodds_abs - b.eodds_abs) / b.eodds_abs
}

/// One evaluated set of predictions: what every metric is computed from.
#[derive(Clone, Debug, PartialEq)]
pub struct Predictions {
    /// True class per sample.
    pub labels: Vec<usize>,
    /// Predicted class per sample.
    pub predicted: Vec<usize>,
    /// Class probabilities per sample (optional; AUC needs them).
    pub probs: Option<Vec<Vec<f64>>>,
    /// Number of classes.
    pub classes: usize,
}

/// How the report is computed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReportOptions {
    /// Groups with fewer samples get a warning.
    pub min_group_size: usize,
    /// Bootstrap resamples (0 = no intervals).
    pub bootstrap: usize,
    /// Bootstrap seed.
    pub seed: u64,
    /// Confidence level of the intervals (e.g. 0.95).
    pub level: f64,
    /// FATE baseline, if any.
    pub fate_baseline: Option<FateBaseline>,
}

impl Default for ReportOptions {
    fn default() -> Self {
        Self {
            min_group_size: 30,
            bootstrap: 200,
            seed: 121,
            level: 0.95,
            fate_baseline: None,
        }
    }
}

/// A confidence interval.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    /// Lower bound.
    pub lo: f64,
    /// Upper bound.
    pub hi: f64,
}

/// Metrics of one grouping (one sensitive attribute or an intersection).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FairnessReport {
    /// The grouping, e.g. `skin type (I–III / IV–VI)`.
    pub attribute: String,
    /// Class names.
    pub class_names: Vec<String>,
    /// Everyone.
    pub overall: GroupMetrics,
    /// Each group, in group-id order (empty groups left out).
    pub groups: Vec<GroupMetrics>,
    /// FME/SCP forms between the first two groups, when there are exactly two.
    pub fme: Option<FmeMetrics>,
    /// fairlearn forms over all groups.
    pub fairlearn: FairlearnMetrics,
    /// Lowest group accuracy.
    pub worst_group_accuracy: f64,
    /// Highest minus lowest group accuracy.
    pub accuracy_gap: f64,
    /// Lowest group AUC (when every group's AUC is defined).
    pub worst_group_auc: Option<f64>,
    /// Highest minus lowest group AUC.
    pub auc_gap: Option<f64>,
    /// FATE against the options' baseline (needs exactly two groups).
    pub fate: Option<f64>,
    /// Every scalar metric by name (see [`FairnessReport::scalars`]).
    pub scalars: BTreeMap<String, f64>,
    /// Bootstrap interval per scalar metric.
    pub intervals: BTreeMap<String, Interval>,
    /// Bootstrap settings used (resamples, seed, level).
    pub options: ReportOptions,
    /// Groups below the minimum size, and other caveats.
    pub warnings: Vec<String>,
}

fn point_report(
    attribute: &str,
    class_names: &[String],
    p: &Predictions,
    groups: &[usize],
    group_names: &[String],
    opts: &ReportOptions,
) -> FairnessReport {
    let k = p.classes;
    let overall = group_metrics("all", k, &p.labels, &p.predicted, p.probs.as_deref());
    let mut present = Vec::new();
    let mut gm = Vec::new();
    for (g, name) in group_names.iter().enumerate() {
        let idx: Vec<usize> = (0..groups.len()).filter(|&i| groups[i] == g).collect();
        if idx.is_empty() {
            continue;
        }
        let y: Vec<usize> = idx.iter().map(|&i| p.labels[i]).collect();
        let yh: Vec<usize> = idx.iter().map(|&i| p.predicted[i]).collect();
        let pr: Option<Vec<Vec<f64>>> = p
            .probs
            .as_ref()
            .map(|pp| idx.iter().map(|&i| pp[i].clone()).collect());
        gm.push(group_metrics(name, k, &y, &yh, pr.as_deref()));
        present.push(g);
    }
    let fme = (gm.len() == 2).then(|| {
        let s: Vec<usize> = groups
            .iter()
            .map(|g| {
                if *g == present[0] {
                    0
                } else if *g == present[1] {
                    1
                } else {
                    usize::MAX
                }
            })
            .collect();
        fme_metrics(&p.labels, &p.predicted, &s)
    });
    let fairlearn = fairlearn_metrics(&gm);
    let accs: Vec<f64> = gm.iter().map(|g| g.accuracy).collect();
    let worst_group_accuracy = accs.iter().copied().fold(f64::MAX, f64::min);
    let accuracy_gap = accs.iter().copied().fold(f64::MIN, f64::max) - worst_group_accuracy;
    let aucs: Option<Vec<f64>> = gm.iter().map(|g| g.auc).collect();
    let (worst_group_auc, auc_gap) = match aucs {
        Some(a) if !a.is_empty() => {
            let lo = a.iter().copied().fold(f64::MAX, f64::min);
            let hi = a.iter().copied().fold(f64::MIN, f64::max);
            (Some(lo), Some(hi - lo))
        }
        _ => (None, None),
    };
    let fate = match (&fme, &opts.fate_baseline) {
        (Some(f), Some(b)) => Some(fate(f.f1, f.eodds_abs, b)),
        _ => None,
    };
    let warnings = gm
        .iter()
        .filter(|g| g.n < opts.min_group_size)
        .map(|g| {
            format!(
                "group '{}' has {} samples, fewer than {}: its metrics are unreliable",
                g.name, g.n, opts.min_group_size
            )
        })
        .collect();
    let mut r = FairnessReport {
        attribute: attribute.into(),
        class_names: class_names.to_vec(),
        overall,
        groups: gm,
        fme,
        fairlearn,
        worst_group_accuracy,
        accuracy_gap,
        worst_group_auc,
        auc_gap,
        fate,
        scalars: BTreeMap::new(),
        intervals: BTreeMap::new(),
        options: opts.clone(),
        warnings,
    };
    r.scalars = r.scalars();
    r
}

impl FairnessReport {
    /// Every scalar metric by a stable name: `overall/accuracy`, `group/<name>/f1`,
    /// `fme/eodds_abs`, `fairlearn/equalized_odds_difference`, `worst_group_accuracy`, …
    pub fn scalars(&self) -> BTreeMap<String, f64> {
        let mut m = BTreeMap::new();
        let mut put_group = |prefix: String, g: &GroupMetrics| {
            m.insert(format!("{prefix}/accuracy"), g.accuracy);
            m.insert(format!("{prefix}/precision"), g.precision);
            m.insert(format!("{prefix}/recall"), g.recall);
            m.insert(format!("{prefix}/f1"), g.f1);
            if let Some(a) = g.auc {
                m.insert(format!("{prefix}/auc"), a);
            }
        };
        put_group("overall".into(), &self.overall);
        for g in &self.groups {
            put_group(format!("group/{}", g.name), g);
        }
        if let Some(f) = &self.fme {
            for (k, v) in [
                ("eopp0", f.eopp0),
                ("eopp0_abs", f.eopp0_abs),
                ("eopp1", f.eopp1),
                ("eopp1_abs", f.eopp1_abs),
                ("eodds", f.eodds),
                ("eodds_abs", f.eodds_abs),
                ("dp", f.dp),
                ("dp_abs", f.dp_abs),
            ] {
                m.insert(format!("fme/{k}"), v);
            }
        }
        let fl = &self.fairlearn;
        for (k, v) in [
            (
                "demographic_parity_difference",
                fl.demographic_parity_difference,
            ),
            ("demographic_parity_ratio", fl.demographic_parity_ratio),
            ("equalized_odds_difference", fl.equalized_odds_difference),
            (
                "equalized_odds_difference_mean",
                fl.equalized_odds_difference_mean,
            ),
            ("equalized_odds_ratio", fl.equalized_odds_ratio),
            ("equalized_odds_ratio_mean", fl.equalized_odds_ratio_mean),
            (
                "equal_opportunity_difference",
                fl.equal_opportunity_difference,
            ),
            ("equal_opportunity_ratio", fl.equal_opportunity_ratio),
        ] {
            m.insert(format!("fairlearn/{k}"), v);
        }
        m.insert("worst_group_accuracy".into(), self.worst_group_accuracy);
        m.insert("accuracy_gap".into(), self.accuracy_gap);
        if let Some(a) = self.worst_group_auc {
            m.insert("worst_group_auc".into(), a);
        }
        if let Some(a) = self.auc_gap {
            m.insert("auc_gap".into(), a);
        }
        if let Some(f) = self.fate {
            m.insert("fate".into(), f);
        }
        m
    }
}

/// SplitMix64: a tiny deterministic generator for bootstrap indices (identical on every target).
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        ((self.next() >> 11) as f64 / (1u64 << 53) as f64 * n as f64) as usize
    }
}

/// Linear-interpolated quantile of sorted values.
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let pos = q * (sorted.len() - 1) as f64;
    let (i, f) = (pos.floor() as usize, pos - pos.floor());
    if i + 1 < sorted.len() {
        sorted[i] + (sorted[i + 1] - sorted[i]) * f
    } else {
        sorted[i]
    }
}

/// The report for one grouping: `groups[i]` is sample i's group id (an index into
/// `group_names`; ids without a name are left out of the groups). Bootstrap intervals resample
/// within each group (stratified), seeded; each is a percentile interval widened to reach the
/// estimate if needed (see `percentile_interval`).
pub fn fairness_report(
    attribute: &str,
    class_names: &[String],
    p: &Predictions,
    groups: &[usize],
    group_names: &[String],
    opts: &ReportOptions,
) -> FairnessReport {
    let mut report = point_report(attribute, class_names, p, groups, group_names, opts);
    if opts.bootstrap == 0 || p.labels.is_empty() {
        return report;
    }
    let mut by_group: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (i, g) in groups.iter().enumerate() {
        by_group.entry(*g).or_default().push(i);
    }
    let mut rng = SplitMix(opts.seed);
    let mut samples: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for _ in 0..opts.bootstrap {
        let mut idx = Vec::with_capacity(p.labels.len());
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
        let r = point_report(attribute, class_names, &rp, &rg, group_names, opts);
        for (k, v) in r.scalars {
            samples.entry(k).or_default().push(v);
        }
    }
    for (k, v) in samples {
        // A metric undefined in some resamples (e.g. AUC) gets an interval from the rest.
        let point = report.scalars.get(&k).copied();
        if let Some(point) = point {
            report
                .intervals
                .insert(k, percentile_interval(v, point, opts.level));
        }
    }
    report
}

/// Percentile bootstrap interval, widened to reach the estimate when it falls outside. Gap
/// metrics (max − min, |Δ|) are biased upward under resampling, so near zero their resamples can
/// all exceed the estimate; widening keeps the interval conservative instead of misleading.
/// (Efron's bias-corrected percentiles were tried and collapse to a sliver there.)
fn percentile_interval(mut v: Vec<f64>, point: f64, level: f64) -> Interval {
    v.sort_by(f64::total_cmp);
    let alpha = (1.0 - level) / 2.0;
    Interval {
        lo: quantile(&v, alpha).min(point),
        hi: quantile(&v, 1.0 - alpha).max(point),
    }
}

/// A way to split samples into groups: a name, each sample's group id (`usize::MAX` = unknown,
/// left out) and the group names.
#[derive(Clone, Debug, PartialEq)]
pub struct Grouping {
    /// What the groups are, e.g. `skin type (I–III / IV–VI)`.
    pub attribute: String,
    /// Group id per sample.
    pub ids: Vec<usize>,
    /// Group names by id.
    pub names: Vec<String>,
}

impl Grouping {
    /// The intersection of two groupings (e.g. skin × sex): one group per pair of ids.
    pub fn intersect(&self, other: &Grouping) -> Grouping {
        let names = self
            .names
            .iter()
            .flat_map(|a| other.names.iter().map(move |b| format!("{a} · {b}")))
            .collect();
        let ids = self
            .ids
            .iter()
            .zip(&other.ids)
            .map(|(a, b)| {
                if *a == usize::MAX || *b == usize::MAX {
                    usize::MAX
                } else {
                    a * other.names.len() + b
                }
            })
            .collect();
        Grouping {
            attribute: format!("{} × {}", self.attribute, other.attribute),
            ids,
            names,
        }
    }
}

const ROMAN: [&str; 6] = ["I", "II", "III", "IV", "V", "VI"];

/// The standard groupings of an evaluation subset: skin type in two groups (I–III / IV–VI) and
/// in six, sex, and skin group × sex. Unknown values are left out.
pub fn standard_groupings(skin_types: &[u8], sexes: &[u8], sex_names: &[String]) -> Vec<Grouping> {
    let skin2 = Grouping {
        attribute: "skin type (I–III / IV–VI)".into(),
        ids: skin_types
            .iter()
            .map(|t| match t {
                1..=3 => 0,
                4..=6 => 1,
                _ => usize::MAX,
            })
            .collect(),
        names: vec!["Fitzpatrick I–III".into(), "Fitzpatrick IV–VI".into()],
    };
    let skin6 = Grouping {
        attribute: "skin type (Fitzpatrick I–VI)".into(),
        ids: skin_types
            .iter()
            .map(|t| match t {
                1..=6 => *t as usize - 1,
                _ => usize::MAX,
            })
            .collect(),
        names: ROMAN.iter().map(|r| format!("Fitzpatrick {r}")).collect(),
    };
    let sex = Grouping {
        attribute: "sex".into(),
        ids: sexes
            .iter()
            .map(|s| {
                if (*s as usize) < sex_names.len().min(2) {
                    *s as usize
                } else {
                    usize::MAX
                }
            })
            .collect(),
        names: sex_names.iter().take(2).cloned().collect(),
    };
    let both = skin2.intersect(&sex);
    vec![skin2, skin6, sex, both]
}

/// Predictions of a multi-exit model under the early-exit policy at `theta`: each sample's class
/// is the answer of the exit that fired, its probabilities that exit's softmax.
pub fn policy_predictions(
    per_sample_exit_logits: &[SampleLogits],
    labels: &[usize],
    classes: usize,
    theta: f32,
) -> Predictions {
    let mut predicted = Vec::with_capacity(labels.len());
    let mut probs = Vec::with_capacity(labels.len());
    for exits in per_sample_exit_logits {
        let d = crate::exit::exit_policy(exits, theta);
        predicted.push(d.class);
        probs.push(
            crate::exit::softmax(&exits[d.exit])
                .into_iter()
                .map(f64::from)
                .collect(),
        );
    }
    Predictions {
        labels: labels.to_vec(),
        predicted,
        probs: Some(probs),
        classes,
    }
}

/// The audit of an evaluation subset: one report per standard grouping (skin type in two and six
/// groups, sex, skin × sex), from the model's per-sample exit logits. The browser dashboard and
/// `fairscreen-train audit` both call this, so their numbers are the same computation.
pub fn bundle_reports(
    bundle: &crate::EvalBundle,
    per_sample_exit_logits: &[SampleLogits],
    theta: f32,
    opts: &ReportOptions,
) -> Vec<FairnessReport> {
    let labels: Vec<usize> = bundle.labels.iter().map(|l| *l as usize).collect();
    let p = policy_predictions(
        per_sample_exit_logits,
        &labels,
        bundle.card.class_names.len(),
        theta,
    );
    standard_groupings(&bundle.skin_types, &bundle.sexes, &bundle.card.sex_names)
        .iter()
        .map(|g| {
            fairness_report(
                &g.attribute,
                &bundle.card.class_names,
                &p,
                &g.ids,
                &g.names,
                opts,
            )
        })
        .collect()
}
