//! One grouping's report computed from sample weights: the point estimate (every weight 1) and
//! each bootstrap resample (a sample's weight is how often the resample drew it) share this one
//! implementation. The groups' members and, for AUC, each group's samples sorted by each class's
//! probability are prepared once; a weighting then costs a few passes over the samples instead of
//! re-materialising and re-sorting the resampled predictions.

use std::collections::BTreeMap;

use super::confusion::Confusion;
use super::fairlearn::fairlearn_metrics;
use super::fate::fate;
use super::fme::{fme_from_confusions, FmeMetrics};
use super::group::{metrics_from, GroupMetrics};
use super::report::{FairnessReport, Predictions, ReportOptions};

/// One AUC score's samples by ascending score, laid out for sequential sweeps: the sample, whether
/// it is positive, and where each run of tied scores ends.
struct AucOrder {
    /// Sample indices by ascending score.
    samples: Vec<u32>,
    /// Whether each sample (in `samples` order) is of the scored class.
    positive: Vec<bool>,
    /// End (exclusive) of each run of equal scores in `samples`.
    runs: Vec<u32>,
}

/// The samples of one group (or of everyone), with their AUC orders.
struct Part {
    /// Sample indices.
    members: Vec<u32>,
    /// Per AUC score (class 1 for two classes, else each class), the members by ascending
    /// probability; empty without probabilities.
    orders: Vec<AucOrder>,
}

/// The AUC score classes: class 1 for two classes (binary AUC), else every class (one-vs-rest).
fn score_classes(k: usize) -> Vec<usize> {
    if k == 2 {
        vec![1]
    } else {
        (0..k).collect()
    }
}

impl AucOrder {
    /// `members` sorted by the probability of `class`.
    fn new(p: &Predictions, probs: &[Vec<f64>], members: &[u32], class: usize) -> Self {
        let mut scored: Vec<(f64, u32)> = members
            .iter()
            .map(|&i| (probs[i as usize][class], i))
            .collect();
        scored.sort_by(|a, b| a.0.total_cmp(&b.0));
        let mut runs = Vec::new();
        for j in 1..scored.len() {
            if scored[j].0 != scored[j - 1].0 {
                runs.push(j as u32);
            }
        }
        if !scored.is_empty() {
            runs.push(scored.len() as u32);
        }
        Self {
            positive: scored
                .iter()
                .map(|&(_, i)| p.labels[i as usize] == class)
                .collect(),
            samples: scored.into_iter().map(|(_, i)| i).collect(),
            runs,
        }
    }
}

impl Part {
    fn new(p: &Predictions, members: Vec<u32>) -> Self {
        let orders = match &p.probs {
            Some(probs) => score_classes(p.classes)
                .into_iter()
                .map(|c| AucOrder::new(p, probs, &members, c))
                .collect(),
            None => Vec::new(),
        };
        Self { members, orders }
    }
}

/// A grouping's predictions prepared for repeated weighted evaluation.
pub(super) struct Prepared<'a> {
    p: &'a Predictions,
    /// Every sample.
    all: Part,
    /// Each group id with a name and members, ascending, with its name.
    groups: Vec<(usize, String, Part)>,
}

impl<'a> Prepared<'a> {
    /// Prepares `p` grouped by `groups` (ids indexing `group_names`; other ids belong to no group
    /// but count for everyone).
    pub(super) fn new(p: &'a Predictions, groups: &[usize], group_names: &[String]) -> Self {
        let all = Part::new(p, (0..p.labels.len() as u32).collect());
        let mut members: Vec<Vec<u32>> = vec![Vec::new(); group_names.len()];
        for (i, &g) in groups.iter().enumerate() {
            if let Some(m) = members.get_mut(g) {
                m.push(i as u32);
            }
        }
        let groups = members
            .into_iter()
            .enumerate()
            .filter(|(_, m)| !m.is_empty())
            .map(|(g, m)| (g, group_names[g].clone(), Part::new(p, m)))
            .collect();
        Self { p, all, groups }
    }

    /// The metrics of everyone and of each group with members (in id order) under `weight`.
    pub(super) fn group_metrics(
        &self,
        weight: &impl Fn(usize) -> u64,
    ) -> (GroupMetrics, Vec<GroupMetrics>) {
        let overall = self.part_metrics("all", &self.all, weight);
        let groups = self
            .groups
            .iter()
            .map(|(_, name, part)| self.part_metrics(name, part, weight))
            .collect();
        (overall, groups)
    }

    /// The confusion matrix over `k` classes of `part` under `weight`.
    fn confusion(&self, k: usize, part: &Part, weight: &impl Fn(usize) -> u64) -> Confusion {
        let mut counts = vec![0u64; k * k];
        for &i in &part.members {
            let i = i as usize;
            let (t, q) = (self.p.labels[i], self.p.predicted[i]);
            if t < k && q < k {
                counts[t * k + q] += weight(i);
            }
        }
        Confusion::from_counts(k, counts)
    }

    fn part_metrics(
        &self,
        name: &str,
        part: &Part,
        weight: &impl Fn(usize) -> u64,
    ) -> GroupMetrics {
        let k = self.p.classes;
        let mut class_counts = vec![0usize; k];
        let mut n = 0usize;
        for &i in &part.members {
            let i = i as usize;
            let w = weight(i) as usize;
            n += w;
            if let Some(c) = class_counts.get_mut(self.p.labels[i]) {
                *c += w;
            }
        }
        let auc = self.auc(part, &class_counts, weight);
        metrics_from(name, &self.confusion(k, part, weight), n, class_counts, auc)
    }

    /// AUC of `part` under `weight`: binary, or one-vs-rest macro over the classes present
    /// (as [`super::auc::auc`] on the repeated samples).
    fn auc(
        &self,
        part: &Part,
        class_counts: &[usize],
        weight: &impl Fn(usize) -> u64,
    ) -> Option<f64> {
        self.p.probs.as_ref()?;
        let k = self.p.classes;
        if k == 2 {
            return weighted_binary_auc(&part.orders[0], weight);
        }
        let present: Vec<usize> = (0..k).filter(|&c| class_counts[c] > 0).collect();
        if present.len() < 2 {
            return None;
        }
        let mut sum = 0.0;
        for &c in &present {
            sum += weighted_binary_auc(&part.orders[c], weight)?;
        }
        Some(sum / present.len() as f64)
    }

    /// The FME/SCP forms between the first two groups with members, when there are exactly two
    /// (classes: the largest label or prediction with weight, plus one).
    pub(super) fn fme(&self, weight: &impl Fn(usize) -> u64) -> Option<FmeMetrics> {
        let [(_, _, g0), (_, _, g1)] = self.groups.as_slice() else {
            return None;
        };
        let k = self
            .all
            .members
            .iter()
            .map(|&i| i as usize)
            .filter(|&i| weight(i) > 0)
            .map(|i| self.p.labels[i].max(self.p.predicted[i]))
            .max()
            .map_or(1, |m| m + 1);
        Some(fme_from_confusions(
            k,
            &self.confusion(k, g0, weight),
            &self.confusion(k, g1, weight),
            &self.confusion(k, &self.all, weight),
        ))
    }
}

/// [`binary_auc`] of a sample in which sample `i` appears `weight(i)` times, over an order of
/// the samples by ascending score prepared once and reused for every weighting. The
/// Mann–Whitney sum (each positive counts the weight of the negatives below it and half of
/// those tied with it) is exact in f64 for integer weights, so it equals `binary_auc` of the
/// repeated samples bit for bit.
fn weighted_binary_auc(order: &AucOrder, weight: &impl Fn(usize) -> u64) -> Option<f64> {
    let (mut neg_below, mut pos_total, mut sum) = (0u64, 0u64, 0.0f64);
    let mut start = 0;
    for &end in &order.runs {
        let end = end as usize;
        let (mut pos, mut neg) = (0u64, 0u64);
        for j in start..end {
            let w = weight(order.samples[j] as usize);
            if order.positive[j] {
                pos += w;
            } else {
                neg += w;
            }
        }
        sum += pos as f64 * (neg_below as f64 + 0.5 * neg as f64);
        neg_below += neg;
        pos_total += pos;
        start = end;
    }
    if pos_total == 0 || neg_below == 0 {
        return None;
    }
    Some(sum / (pos_total as f64 * neg_below as f64))
}

/// The report of a prepared grouping in which sample `i` counts `weight(i)` times.
pub(super) fn weighted_report(
    attribute: &str,
    class_names: &[String],
    prepared: &Prepared,
    weight: &impl Fn(usize) -> u64,
    opts: &ReportOptions,
) -> FairnessReport {
    let (overall, gm) = prepared.group_metrics(weight);
    let fme = prepared.fme(weight);
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
    let mut warnings: Vec<String> = gm
        .iter()
        .filter(|g| g.n < opts.min_group_size)
        .map(|g| {
            format!(
                "group '{}' has {} samples, fewer than {}: its metrics are unreliable",
                g.name, g.n, opts.min_group_size
            )
        })
        .collect();
    if gm.len() < 2 {
        warnings.push(format!(
            "nothing to compare: {} — the gaps and differences between groups are 0 by definition",
            match gm.first() {
                Some(g) => format!("only the group '{}' has samples", g.name),
                None => "no group has samples".to_string(),
            }
        ));
    }
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
