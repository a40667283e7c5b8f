//! The seeded, group-stratified bootstrap that puts intervals on a report's scalars.

use std::collections::BTreeMap;

use super::report::{weighted_report, FairnessReport, Interval, Predictions, ReportOptions};
use super::weighted::Prepared;

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
    let prepared = Prepared::new(p, groups, group_names);
    let mut report = weighted_report(attribute, class_names, &prepared, &|_| 1, opts);
    if opts.bootstrap == 0 || p.labels.is_empty() {
        return report;
    }
    let mut by_group: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (i, g) in groups.iter().enumerate() {
        by_group.entry(*g).or_default().push(i);
    }
    let mut rng = SplitMix(opts.seed);
    let mut samples: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    // A resample as the number of times it drew each sample: the same draws, in the same order,
    // as re-materialising the drawn samples, and the same metrics (see `weighted`).
    let mut drawn = vec![0u32; p.labels.len()];
    for _ in 0..opts.bootstrap {
        drawn.fill(0);
        for members in by_group.values() {
            for _ in 0..members.len() {
                drawn[members[rng.below(members.len())]] += 1;
            }
        }
        let r = weighted_report(
            attribute,
            class_names,
            &prepared,
            &|i| u64::from(drawn[i]),
            opts,
        );
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
