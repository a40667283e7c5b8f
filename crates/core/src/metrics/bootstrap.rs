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
    let mut run = BootstrapRun::new(attribute, class_names, p, groups, group_names, opts);
    run.step(run.total());
    run.finish()
}

/// One grouping's report computed a few resamples at a time, so that a caller can show progress
/// and stop (the page's worker): the point estimates at once, then [`BootstrapRun::step`] until
/// [`BootstrapRun::done`] reaches [`BootstrapRun::total`], then [`BootstrapRun::finish`]. The
/// intervals equal [`fairness_report`]'s however the resamples are split into steps.
pub struct BootstrapRun<'a> {
    attribute: &'a str,
    class_names: &'a [String],
    opts: &'a ReportOptions,
    prepared: Prepared<'a>,
    /// Number of samples.
    n: usize,
    report: FairnessReport,
    samples: BTreeMap<String, Vec<f64>>,
    done: usize,
}

impl<'a> BootstrapRun<'a> {
    /// Prepares the groups and computes the point estimates (no resample yet).
    pub fn new(
        attribute: &'a str,
        class_names: &'a [String],
        p: &'a Predictions,
        groups: &[usize],
        group_names: &[String],
        opts: &'a ReportOptions,
    ) -> Self {
        let prepared = Prepared::new(p, groups, group_names);
        let report = weighted_report(attribute, class_names, &prepared, &|_| 1, opts);
        Self {
            attribute,
            class_names,
            opts,
            n: prepared.len(),
            prepared,
            report,
            samples: BTreeMap::new(),
            done: 0,
        }
    }

    /// Resamples in all (none without samples).
    pub fn total(&self) -> usize {
        if self.n == 0 {
            0
        } else {
            self.opts.bootstrap
        }
    }

    /// Resamples computed so far.
    pub fn done(&self) -> usize {
        self.done
    }

    /// Computes the next `count` resamples (fewer at the end), natively on every core.
    pub fn step(&mut self, count: usize) {
        let range = self.done..(self.done + count).min(self.total());
        // A resample as the number of times it drew each sample: the same draws, in the same
        // order, as re-materialising the drawn samples (group by group, ascending id, the r-th
        // member of a group being the r-th position of its stratum), and the same metrics (see
        // `weighted`). The counts are bytes (a quarter of the memory traffic); a count past 255
        // — a sample drawn that often, vanishingly rare — redoes the resample with wider counts.
        let resample = |r: usize, drawn: &mut Vec<u8>| {
            drawn.fill(0);
            let mut overflow = false;
            self.draw(r, |pos| {
                drawn[pos] = drawn[pos].wrapping_add(1);
                overflow |= drawn[pos] == 0;
            });
            if !overflow {
                return weighted_scalars(self, &|pos| u64::from(drawn[pos]));
            }
            let mut wide = vec![0u32; self.n];
            self.draw(r, |pos| wide[pos] += 1);
            weighted_scalars(self, &|pos| u64::from(wide[pos]))
        };
        let start = range.start;
        let run = |part: std::ops::Range<usize>| {
            let mut drawn = vec![0u8; self.n];
            part.map(|r| resample(start + r, &mut drawn))
                .collect::<Vec<_>>()
        };
        let results = in_parallel(range.len(), run);
        self.done = range.end;
        for scalars in results {
            for (k, v) in scalars {
                self.samples.entry(k).or_default().push(v);
            }
        }
    }

    /// Draws resample `r`, calling `hit` with each drawn position. Each resample draws one index
    /// per sample, so resample r starts r·n draws into the stream: SplitMix's state after m draws
    /// is seed + m·γ, and the resamples can run on several threads (and in any steps) with
    /// exactly the draws of one thread in one go.
    fn draw(&self, r: usize, mut hit: impl FnMut(usize)) {
        let start = (r as u64)
            .wrapping_mul(self.n as u64)
            .wrapping_mul(SPLITMIX_GAMMA);
        let mut rng = SplitMix(self.opts.seed.wrapping_add(start));
        for stratum in self.prepared.strata() {
            for _ in 0..stratum.len() {
                hit(stratum.start + rng.below(stratum.len()));
            }
        }
    }

    /// The report, with intervals from the resamples computed (none when no step ran).
    pub fn finish(self) -> FairnessReport {
        let mut report = self.report;
        for (k, v) in self.samples {
            // A metric undefined in some resamples (e.g. AUC) gets an interval from the rest.
            let point = report.scalars.get(&k).copied();
            if let Some(point) = point {
                report
                    .intervals
                    .insert(k, percentile_interval(v, point, self.opts.level));
            }
        }
        report
    }
}

/// The scalars of `run`'s grouping in which the sample at position `pos` counts `weight(pos)`
/// times.
fn weighted_scalars(run: &BootstrapRun, weight: &impl Fn(usize) -> u64) -> BTreeMap<String, f64> {
    weighted_report(
        run.attribute,
        run.class_names,
        &run.prepared,
        weight,
        run.opts,
    )
    .scalars
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
