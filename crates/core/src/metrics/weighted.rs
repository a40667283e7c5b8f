//! One grouping's report computed from sample weights: the point estimate (every weight 1) and
//! each bootstrap resample (a sample's weight is how often the resample drew it) share this one
//! implementation. The samples are renumbered once so that each stratum (group id) is one
//! contiguous range of positions, in sample order within it: a stratified resample then draws
//! positions in a range, and a group's tallies read one contiguous stretch. Each position carries
//! its tally slot (confusion cell) and, for AUC, each part's positions sorted by each class's
//! probability are packed with their class and tie-run ends into one `u32` each. A weighting thus
//! costs a few sequential passes instead of re-materialising and re-sorting the resampled
//! predictions; a part's confusion and class counts come from one pass, everyone's from the
//! groups' when the groups cover everyone, and the FME forms reuse those tallies. Every count is
//! an exact integer, so the reports equal a direct computation on the repeated samples.

use std::collections::BTreeMap;

use super::confusion::Confusion;
use super::fairlearn::fairlearn_metrics;
use super::fate::fate;
use super::fme::{fme_from_confusions, FmeMetrics};
use super::group::{metrics_from, GroupMetrics};
use super::report::{FairnessReport, Predictions, ReportOptions};

/// The most samples a grouping may have: an [`AucOrder`] entry packs a position in bits 0–29;
/// bit 30 marks a positive, bit 31 the last entry of a run of tied scores.
pub(super) const MAX_SAMPLES: usize = 1 << 30;
const INDEX_BITS: u32 = (1 << 30) - 1;
const POSITIVE: u32 = 1 << 30;
const RUN_END: u32 = 1 << 31;

/// One AUC score's positions by ascending score, laid out for one sequential sweep: per entry the
/// position, whether its sample is of the scored class ([`POSITIVE`]) and whether a run of tied
/// scores ends there ([`RUN_END`]).
struct AucOrder {
    entries: Vec<u32>,
}

/// The positions of one group (or of everyone), with their AUC orders.
struct Part {
    /// Its positions: one contiguous range.
    positions: std::ops::Range<usize>,
    /// Per AUC score (class 1 for two classes, else each class), the positions by ascending
    /// probability; empty without probabilities.
    orders: Vec<AucOrder>,
}

/// Where a sample of true class `t` predicted `q` counts among `k` classes: its confusion cell
/// `t·k + q`; `k·k + t` when only its label is in range (it counts for its class, not in the
/// confusion matrix); `k·k + k` when neither is.
fn slot(k: usize, t: usize, q: usize) -> u32 {
    let s = match (t < k, q < k) {
        (true, true) => t * k + q,
        (true, false) => k * k + t,
        _ => k * k + k,
    };
    s as u32
}

/// A part's weighted counts per [`slot`]: the confusion matrix, then labels without an in-range
/// prediction per class, then samples with neither.
struct Tally {
    k: usize,
    counts: Vec<u64>,
}

impl Tally {
    fn zero(k: usize) -> Self {
        Self {
            k,
            counts: vec![0; k * k + k + 1],
        }
    }

    /// The confusion matrix.
    fn confusion(&self) -> Confusion {
        Confusion::from_counts(self.k, self.counts[..self.k * self.k].to_vec())
    }

    /// Samples (weighted).
    fn n(&self) -> usize {
        self.counts.iter().sum::<u64>() as usize
    }

    /// Samples (weighted) per true class.
    fn class_counts(&self) -> Vec<usize> {
        let k = self.k;
        (0..k)
            .map(|t| {
                (self.counts[t * k..(t + 1) * k].iter().sum::<u64>() + self.counts[k * k + t])
                    as usize
            })
            .collect()
    }

    /// Whether every sample has its label and prediction in range.
    fn all_in_range(&self) -> bool {
        self.counts[self.k * self.k..].iter().all(|&c| c == 0)
    }

    /// The top-left `k2 × k2` block of the confusion matrix.
    fn confusion_block(&self, k2: usize) -> Confusion {
        let mut counts = Vec::with_capacity(k2 * k2);
        for t in 0..k2 {
            counts.extend_from_slice(&self.counts[t * self.k..t * self.k + k2]);
        }
        Confusion::from_counts(k2, counts)
    }

    /// One more than the largest class that occurs (as label or prediction) with weight; 1 when
    /// none does.
    fn classes_seen(&self) -> usize {
        let k = self.k;
        (0..k * k)
            .filter(|&c| self.counts[c] > 0)
            .map(|c| (c / k).max(c % k) + 1)
            .max()
            .unwrap_or(1)
    }
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
    /// Packs positions by ascending score (each with its [`POSITIVE`] bit) with the ends of the
    /// runs of tied scores. The order inside a run does not matter: a run counts as a whole.
    fn pack(scored: &[(f64, u32)]) -> Self {
        let entries = scored
            .iter()
            .enumerate()
            .map(|(j, &(score, entry))| match scored.get(j + 1) {
                Some(next) if next.0 == score => entry,
                _ => entry | RUN_END,
            })
            .collect();
        Self { entries }
    }
}

/// Per AUC score class, everyone's positions by ascending score, and each part's (ranges of
/// positions, disjoint): one sort per class, the parts' orders taken from everyone's in one pass.
fn auc_orders(
    p: &Predictions,
    probs: &[Vec<f64>],
    position_of: &[u32],
    parts: &[std::ops::Range<usize>],
) -> (Vec<AucOrder>, Vec<Vec<AucOrder>>) {
    const NO_PART: u32 = u32::MAX;
    let mut part_of = vec![NO_PART; position_of.len()];
    for (j, range) in parts.iter().enumerate() {
        part_of[range.clone()].fill(j as u32);
    }
    let mut all = Vec::new();
    let mut per_part: Vec<Vec<AucOrder>> = parts.iter().map(|_| Vec::new()).collect();
    for class in score_classes(p.classes) {
        let mut scored: Vec<(f64, u32)> = probs
            .iter()
            .zip(&p.labels)
            .zip(position_of)
            .map(|((row, &label), &pos)| {
                let positive = if label == class { POSITIVE } else { 0 };
                (row[class], pos | positive)
            })
            .collect();
        scored.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
        let mut split: Vec<Vec<(f64, u32)>> =
            parts.iter().map(|r| Vec::with_capacity(r.len())).collect();
        for &(score, entry) in &scored {
            let j = part_of[(entry & INDEX_BITS) as usize];
            if j != NO_PART {
                split[j as usize].push((score, entry));
            }
        }
        all.push(AucOrder::pack(&scored));
        for (orders, part) in per_part.iter_mut().zip(&split) {
            orders.push(AucOrder::pack(part));
        }
    }
    (all, per_part)
}

/// A grouping's predictions prepared for repeated weighted evaluation. Weights are indexed by
/// position (see the module's description).
pub(super) struct Prepared<'a> {
    p: &'a Predictions,
    /// The sample at each position.
    samples: Vec<u32>,
    /// Each position's [`slot`].
    slots: Vec<u32>,
    /// Each stratum (group id, ascending, named or not) as its range of positions.
    strata: Vec<std::ops::Range<usize>>,
    /// Every position.
    all: Part,
    /// Each group id with a name and members, ascending, with its name.
    groups: Vec<(usize, String, Part)>,
    /// The groups hold every sample (everyone's counts are the sum of theirs).
    groups_cover_all: bool,
}

/// The metrics of everyone and of each group with members (in id order), and the FME/SCP forms,
/// under one weighting.
pub(super) struct Weighted {
    /// Everyone.
    pub(super) overall: GroupMetrics,
    /// Each group with members.
    pub(super) groups: Vec<GroupMetrics>,
    /// Between the first two groups, when there are exactly two.
    pub(super) fme: Option<FmeMetrics>,
}

impl<'a> Prepared<'a> {
    /// Prepares `p` grouped by `groups` (ids indexing `group_names`; other ids belong to no group
    /// but count for everyone, and are strata of their own). At most [`MAX_SAMPLES`] samples.
    pub(super) fn new(p: &'a Predictions, groups: &[usize], group_names: &[String]) -> Self {
        debug_assert!(p.labels.len() <= MAX_SAMPLES);
        let n = p.labels.len();
        let mut samples: Vec<u32> = (0..n as u32).collect();
        samples.sort_by_key(|&i| groups[i as usize]);
        let mut strata: Vec<(usize, std::ops::Range<usize>)> = Vec::new();
        for (pos, &i) in samples.iter().enumerate() {
            let g = groups[i as usize];
            match strata.last_mut() {
                Some((last, range)) if *last == g => range.end = pos + 1,
                _ => strata.push((g, pos..pos + 1)),
            }
        }
        let slots = samples
            .iter()
            .map(|&i| slot(p.classes, p.labels[i as usize], p.predicted[i as usize]))
            .collect();
        let named: Vec<&(usize, std::ops::Range<usize>)> = strata
            .iter()
            .filter(|(g, _)| *g < group_names.len())
            .collect();
        let ranges: Vec<std::ops::Range<usize>> = named.iter().map(|(_, r)| r.clone()).collect();
        let (all_orders, mut group_orders) = match &p.probs {
            Some(probs) => {
                let mut position_of = vec![0u32; n];
                for (pos, &i) in samples.iter().enumerate() {
                    position_of[i as usize] = pos as u32;
                }
                auc_orders(p, probs, &position_of, &ranges)
            }
            None => (Vec::new(), ranges.iter().map(|_| Vec::new()).collect()),
        };
        let all = Part {
            positions: 0..n,
            orders: all_orders,
        };
        let groups: Vec<(usize, String, Part)> = named
            .iter()
            .zip(&mut group_orders)
            .map(|((g, range), orders)| {
                let part = Part {
                    positions: range.clone(),
                    orders: std::mem::take(orders),
                };
                (*g, group_names[*g].clone(), part)
            })
            .collect();
        let covered: usize = groups.iter().map(|(_, _, part)| part.positions.len()).sum();
        Self {
            p,
            samples,
            slots,
            strata: strata.into_iter().map(|(_, range)| range).collect(),
            all,
            groups_cover_all: covered == n,
            groups,
        }
    }

    /// Positions in all.
    pub(super) fn len(&self) -> usize {
        self.samples.len()
    }

    /// Each stratum (group id, ascending) as its range of positions, its samples in sample order.
    pub(super) fn strata(&self) -> &[std::ops::Range<usize>] {
        &self.strata
    }

    /// The counts of `part` under `weight`, in one pass.
    fn tally(&self, part: &Part, weight: &impl Fn(usize) -> u64) -> Tally {
        let mut t = Tally::zero(self.p.classes);
        let range = part.positions.clone();
        for (pos, &s) in range.clone().zip(&self.slots[range]) {
            t.counts[s as usize] += weight(pos);
        }
        t
    }

    /// Everyone's and each group's metrics, and the FME/SCP forms, under `weight`.
    pub(super) fn evaluate(&self, weight: &impl Fn(usize) -> u64) -> Weighted {
        let k = self.p.classes;
        let tallies: Vec<Tally> = self
            .groups
            .iter()
            .map(|(_, _, part)| self.tally(part, weight))
            .collect();
        let all = if self.groups_cover_all {
            let mut sum = Tally::zero(k);
            for t in &tallies {
                for (s, c) in sum.counts.iter_mut().zip(&t.counts) {
                    *s += c;
                }
            }
            sum
        } else {
            self.tally(&self.all, weight)
        };
        let groups = self
            .groups
            .iter()
            .zip(&tallies)
            .map(|((_, name, part), t)| self.part_metrics(name, part, t, weight))
            .collect();
        Weighted {
            overall: self.part_metrics("all", &self.all, &all, weight),
            groups,
            fme: self.fme(&all, &tallies, weight),
        }
    }

    /// A part's metrics from its tally and, for AUC, its orders under `weight`.
    fn part_metrics(
        &self,
        name: &str,
        part: &Part,
        tally: &Tally,
        weight: &impl Fn(usize) -> u64,
    ) -> GroupMetrics {
        let class_counts = tally.class_counts();
        let auc = self.auc(part, &class_counts, weight);
        metrics_from(name, &tally.confusion(), tally.n(), class_counts, auc)
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
    /// (classes: the largest label or prediction with weight, plus one), from the tallies of
    /// everyone (`all`) and of the groups when every label and prediction is in range.
    fn fme(
        &self,
        all: &Tally,
        groups: &[Tally],
        weight: &impl Fn(usize) -> u64,
    ) -> Option<FmeMetrics> {
        let [(_, _, g0), (_, _, g1)] = self.groups.as_slice() else {
            return None;
        };
        if all.all_in_range() {
            let k = all.classes_seen();
            return Some(fme_from_confusions(
                k,
                &groups[0].confusion_block(k),
                &groups[1].confusion_block(k),
                &all.confusion_block(k),
            ));
        }
        let k = self
            .all
            .positions
            .clone()
            .filter(|&pos| weight(pos) > 0)
            .map(|pos| {
                let i = self.samples[pos] as usize;
                self.p.labels[i].max(self.p.predicted[i])
            })
            .max()
            .map_or(1, |m| m + 1);
        Some(fme_from_confusions(
            k,
            &self.confusion(k, g0, weight),
            &self.confusion(k, g1, weight),
            &self.confusion(k, &self.all, weight),
        ))
    }

    /// The confusion matrix over `k` classes of `part` under `weight`, read sample by sample
    /// (for labels or predictions out of range, which the tallies do not place).
    fn confusion(&self, k: usize, part: &Part, weight: &impl Fn(usize) -> u64) -> Confusion {
        let mut counts = vec![0u64; k * k];
        for pos in part.positions.clone() {
            let i = self.samples[pos] as usize;
            let (t, q) = (self.p.labels[i], self.p.predicted[i]);
            if t < k && q < k {
                counts[t * k + q] += weight(pos);
            }
        }
        Confusion::from_counts(k, counts)
    }
}

/// [`binary_auc`] of a sample in which the sample at position `pos` appears `weight(pos)` times,
/// over an order of the positions by ascending score prepared once and reused for every
/// weighting. The Mann–Whitney sum (each positive counts the weight of the negatives below it and
/// half of those tied with it) is exact in f64 for integer weights, so it equals `binary_auc` of
/// the repeated samples bit for bit.
fn weighted_binary_auc(order: &AucOrder, weight: &impl Fn(usize) -> u64) -> Option<f64> {
    let (mut neg_below, mut pos_total, mut sum) = (0u64, 0u64, 0.0f64);
    let (mut pos, mut neg) = (0u64, 0u64);
    for &e in &order.entries {
        let w = weight((e & INDEX_BITS) as usize);
        let positive = u64::from((e & POSITIVE) >> 30);
        pos += w * positive;
        neg += w * (1 - positive);
        if e & RUN_END != 0 {
            sum += pos as f64 * (neg_below as f64 + 0.5 * neg as f64);
            neg_below += neg;
            pos_total += pos;
            (pos, neg) = (0, 0);
        }
    }
    if pos_total == 0 || neg_below == 0 {
        return None;
    }
    Some(sum / (pos_total as f64 * neg_below as f64))
}

/// The report of a prepared grouping in which the sample at position `pos` counts `weight(pos)`
/// times.
pub(super) fn weighted_report(
    attribute: &str,
    class_names: &[String],
    prepared: &Prepared,
    weight: &impl Fn(usize) -> u64,
    opts: &ReportOptions,
) -> FairnessReport {
    let Weighted {
        overall,
        groups: gm,
        fme,
    } = prepared.evaluate(weight);
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
