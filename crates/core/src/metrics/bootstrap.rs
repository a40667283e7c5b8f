//! The seeded, group-stratified bootstrap that puts intervals on a report's scalars.

use std::collections::BTreeMap;

use super::report::{FairnessReport, Interval, Predictions, ReportOptions};
use super::weighted::{weighted_report, Prepared};

/// SplitMix64's increment: its state after m draws is seed + m·γ.
const SPLITMIX_GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

/// SplitMix64: a tiny deterministic generator for bootstrap indices (identical on every target).
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(SPLITMIX_GAMMA);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        ((self.next() >> 11) as f64 / (1u64 << 53) as f64 * n as f64) as usize
    }
}

/// `run` over `0..count` split into one contiguous range per core (natively; one range in the
/// browser, which gives this module no threads), the results in order.
fn in_parallel<T: Send>(
    count: usize,
    run: impl Fn(std::ops::Range<usize>) -> Vec<T> + Sync,
) -> Vec<T> {
    #[cfg(not(target_arch = "wasm32"))]
    {
        let threads = std::thread::available_parallelism()
            .map_or(1, |t| t.get())
            .clamp(1, count.max(1));
        if threads > 1 {
            let per = count.div_ceil(threads);
            return std::thread::scope(|scope| {
                let handles: Vec<_> = (0..threads)
                    .map(|t| {
                        let run = &run;
                        scope.spawn(move || run(t * per..((t + 1) * per).min(count)))
                    })
                    .collect();
                handles
                    .into_iter()
                    .flat_map(|h| h.join().expect("a bootstrap thread panicked"))
                    .collect()
            });
        }
    }
    run(0..count)
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
    // Each resample draws one index per sample, so resample r starts r·n draws into the stream:
    // SplitMix's state after m draws is seed + m·γ, and the resamples can run on several threads
    // with exactly the draws (and results) of one thread.
    let n = groups.len() as u64;
    let resample = |r: usize, drawn: &mut Vec<u32>| {
        let mut rng = SplitMix(
            opts.seed
                .wrapping_add((r as u64).wrapping_mul(n).wrapping_mul(SPLITMIX_GAMMA)),
        );
        // A resample as the number of times it drew each sample: the same draws, in the same
        // order, as re-materialising the drawn samples, and the same metrics (see `weighted`).
        drawn.fill(0);
        for members in by_group.values() {
            for _ in 0..members.len() {
                drawn[members[rng.below(members.len())]] += 1;
            }
        }
        weighted_report(
            attribute,
            class_names,
            &prepared,
            &|i| u64::from(drawn[i]),
            opts,
        )
        .scalars
    };
    let run = |range: std::ops::Range<usize>| {
        let mut drawn = vec![0u32; p.labels.len()];
        range.map(|r| resample(r, &mut drawn)).collect::<Vec<_>>()
    };
    let mut samples: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for scalars in in_parallel(opts.bootstrap, run) {
        for (k, v) in scalars {
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
