//! Optuna's univariate Parzen estimators (`_ParzenEstimator`, `multivariate=False`): a categorical
//! mixture for bits and a truncated Gaussian mixture in log space for log-uniform floats, each with
//! one kernel per observation (weighted by [`default_weights`]) plus a prior kernel.

use super::rng::Stream;
use super::space::ParamKind;

/// ln √(2π).
const LN_SQRT_2PI: f64 = 0.918_938_533_204_672_8;

/// Draws before a truncated-normal draw gives up and returns the kernel's mean (the mean is always
/// inside the bounds and each draw lands inside with probability ≥ 0.19, so this never happens
/// in practice).
const MAX_REJECTIONS: usize = 1000;

/// A density over one parameter, in internal units (a bit as 0/1, a float as its logarithm).
pub(crate) enum ParzenEstimator {
    /// Probabilities of 0 and 1.
    Bit([f64; 2]),
    /// A mixture of Gaussians truncated to [low, high].
    Mixture(TruncatedMixture),
}

/// Kernels of a truncated Gaussian mixture.
pub(crate) struct TruncatedMixture {
    weights: Vec<f64>,
    means: Vec<f64>,
    sigmas: Vec<f64>,
    log_masses: Vec<f64>,
    low: f64,
    high: f64,
}

/// Kernel weights: `default_weights(n)` then `prior_weight`, normalised (the prior alone when
/// there are no observations).
fn kernel_weights(n: usize, prior_weight: f64) -> Vec<f64> {
    if n == 0 {
        return vec![1.0];
    }
    let mut weights = default_weights(n);
    weights.push(prior_weight);
    let total: f64 = weights.iter().sum();
    weights.iter().map(|w| w / total).collect()
}

impl ParzenEstimator {
    /// The estimator of `observations` (internal units, in trial order) for a parameter of `kind`.
    pub(crate) fn new(kind: ParamKind, observations: &[f64], prior_weight: f64) -> Self {
        let weights = kernel_weights(observations.len(), prior_weight);
        match kind {
            ParamKind::Bit => Self::Bit(bit_probabilities(observations, &weights, prior_weight)),
            ParamKind::LogUniform { low, high } => Self::Mixture(TruncatedMixture::new(
                observations,
                weights,
                low.ln(),
                high.ln(),
            )),
        }
    }

    /// One draw.
    pub(crate) fn sample(&self, stream: &mut Stream) -> f64 {
        match self {
            Self::Bit(p) => stream.weighted_index(p) as f64,
            Self::Mixture(m) => m.sample(stream),
        }
    }

    /// The log density (log probability for a bit) at `x`; for floats, of ln x, so the Jacobian
    /// −ln x is left out (it cancels in log l(x) − log g(x)).
    pub(crate) fn log_pdf(&self, x: f64) -> f64 {
        match self {
            Self::Bit(p) => p[usize::from(x >= 0.5)].ln(),
            Self::Mixture(m) => m.log_pdf(x),
        }
    }
}

/// Optuna's categorical kernels for two choices: observation i's kernel puts
/// `(prior_weight/(n+1) + [c = oᵢ]) / (2·prior_weight/(n+1) + 1)` on choice c, the prior's kernel
/// is uniform; the mixture of those with `weights` (observations', then the prior's).
fn bit_probabilities(observations: &[f64], weights: &[f64], prior_weight: f64) -> [f64; 2] {
    let n = observations.len();
    if n == 0 {
        return [0.5, 0.5];
    }
    let smoothing = prior_weight / (n + 1) as f64;
    let row_total = 2.0 * smoothing + 1.0;
    let prior_share = weights[n] * 0.5;
    let mut p = [prior_share, prior_share];
    for (o, w) in observations.iter().zip(weights) {
        let chosen = usize::from(*o >= 0.5);
        for (c, pc) in p.iter_mut().enumerate() {
            let hit = if c == chosen { 1.0 } else { 0.0 };
            *pc += w * (smoothing + hit) / row_total;
        }
    }
    p
}

impl TruncatedMixture {
    /// Optuna's univariate kernels: a mean at each observation with σ the larger gap to its
    /// neighbours among {low, observations, centre, high} sorted (the smallest and largest take
    /// their inner gap: `consider_endpoints=False`), clipped to
    /// `[range / min(100, n + 2), range]` (magic clip); plus the prior (centre, σ = range).
    fn new(observations: &[f64], weights: Vec<f64>, low: f64, high: f64) -> Self {
        let range = high - low;
        let centre = 0.5 * (low + high);
        let n = observations.len();
        let mut means: Vec<f64> = observations.to_vec();
        means.push(centre);
        let mut sigmas = vec![range; n + 1];
        if n > 0 {
            let mut order: Vec<usize> = (0..=n).collect();
            order.sort_by(|&a, &b| means[a].total_cmp(&means[b]));
            let mut points = vec![low];
            points.extend(order.iter().map(|&i| means[i]));
            points.push(high);
            let mut sorted_sigmas: Vec<f64> = (0..=n)
                .map(|j| (points[j + 1] - points[j]).max(points[j + 2] - points[j + 1]))
                .collect();
            sorted_sigmas[0] = points[2] - points[1];
            sorted_sigmas[n] = points[n + 1] - points[n];
            let min_sigma = range / 100f64.min(n as f64 + 2.0);
            for (j, &i) in order.iter().enumerate() {
                if i < n {
                    sigmas[i] = sorted_sigmas[j].clamp(min_sigma, range);
                }
            }
        }
        let log_masses = means
            .iter()
            .zip(&sigmas)
            .map(|(mu, sigma)| {
                (normal_cdf((high - mu) / sigma) - normal_cdf((low - mu) / sigma)).ln()
            })
            .collect();
        Self {
            weights,
            means,
            sigmas,
            log_masses,
            low,
            high,
        }
    }

    /// A kernel chosen by weight, then a draw from it by rejection until inside [low, high].
    fn sample(&self, stream: &mut Stream) -> f64 {
        let k = stream.weighted_index(&self.weights);
        let (mu, sigma) = (self.means[k], self.sigmas[k]);
        for _ in 0..MAX_REJECTIONS {
            let x = mu + sigma * stream.standard_normal();
            if (self.low..=self.high).contains(&x) {
                return x;
            }
        }
        mu
    }

    /// log Σₖ wₖ · φ((x − μₖ)/σₖ) / (σₖ · massₖ), by log-sum-exp.
    fn log_pdf(&self, x: f64) -> f64 {
        let terms: Vec<f64> = (0..self.means.len())
            .map(|k| {
                let z = (x - self.means[k]) / self.sigmas[k];
                self.weights[k].ln()
                    - LN_SQRT_2PI
                    - self.sigmas[k].ln()
                    - 0.5 * z * z
                    - self.log_masses[k]
            })
            .collect();
        let top = terms.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        if top == f64::NEG_INFINITY {
            return top;
        }
        top + terms.iter().map(|t| (t - top).exp()).sum::<f64>().ln()
    }
}

/// The standard normal CDF, Φ(z) = erfc(−z/√2)/2.
fn normal_cdf(z: f64) -> f64 {
    0.5 * erfc(-z * std::f64::consts::FRAC_1_SQRT_2)
}

/// The complementary error function (Numerical Recipes' Chebyshev fit `erfcc`, relative error
/// < 1.2e-7 everywhere: ample for kernel masses, which are ≥ 0.19 here).
fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98
                                + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let r = t * poly.exp();
    if x >= 0.0 {
        r
    } else {
        2.0 - r
    }
}

/// Optuna's `default_weights`: observation weights, oldest first: none for 0, all 1 below 25,
/// else `linspace(1/n, 1, n − 25)` for the oldest followed by 25 ones.
pub fn default_weights(n: usize) -> Vec<f64> {
    if n < 25 {
        return vec![1.0; n];
    }
    let ramp_len = n - 25;
    let start = 1.0 / n as f64;
    let mut weights: Vec<f64> = match ramp_len {
        0 => Vec::new(),
        1 => vec![start],
        _ => {
            let step = (1.0 - start) / (ramp_len - 1) as f64;
            (0..ramp_len).map(|i| start + i as f64 * step).collect()
        }
    };
    weights.extend(std::iter::repeat_n(1.0, 25));
    weights
}
