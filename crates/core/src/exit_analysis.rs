//! Accuracy, fairness and compute of each exit alone and of the early-exit policy at θ, the θ
//! sweep, and the stated rule that picks θ on validation data (papers.md §2.4).

use serde::{Deserialize, Serialize};

use crate::config::ModelConfig;
use crate::exit::{argmax, exit_policy, ComputeCost, SampleLogits};
use crate::metrics::{fme_metrics, Confusion};

/// The θ grid swept on validation: the FME code's {0.8 … 0.999} extended down to 0.5.
pub const THETA_GRID: [f32; 9] = [0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.99, 0.999];

/// Headline numbers of one operating point: one exit alone, or the early-exit policy at θ.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OperatingPoint {
    /// Accuracy.
    pub accuracy: f64,
    /// Macro precision over the classes seen.
    pub precision: f64,
    /// Macro recall over the classes seen.
    pub recall: f64,
    /// Macro F1 over the classes seen.
    pub f1: f64,
    /// |EOpp0| of the FME/SCP code (two groups).
    pub eopp0_abs: f64,
    /// |EOpp1| of the FME/SCP code.
    pub eopp1_abs: f64,
    /// |EOdd| of the FME/SCP code.
    pub eodds_abs: f64,
    /// Accuracy of each group.
    pub group_accuracy: [f64; 2],
    /// Lowest group accuracy.
    pub worst_group_accuracy: f64,
    /// Share of samples answered by each exit (one-hot for an exit alone).
    pub exit_share: Vec<f64>,
    /// Mean multiply–accumulates spent per sample.
    pub mean_macs: f64,
    /// `1 − mean_macs / full network` (negative when the exit heads cost more than they save).
    pub compute_saved: f64,
}

/// Operating point of predictions `predicted` (with the exit each sample left at).
fn point(
    labels: &[usize],
    groups: &[usize],
    predicted: &[usize],
    exits: &[usize],
    exit_macs: &[u64],
    full_macs: u64,
    classes: usize,
) -> OperatingPoint {
    let n = labels.len().max(1) as f64;
    let (precision, recall, f1) = Confusion::new(classes, labels, predicted).macro_prf();
    let fme = fme_metrics(labels, predicted, groups);
    let mut exit_share = vec![0.0; exit_macs.len()];
    let mut macs = 0.0;
    for &e in exits {
        exit_share[e] += 1.0 / n;
        macs += exit_macs[e] as f64 / n;
    }
    OperatingPoint {
        accuracy: fme.accuracy,
        precision,
        recall,
        f1,
        eopp0_abs: fme.eopp0_abs,
        eopp1_abs: fme.eopp1_abs,
        eodds_abs: fme.eodds_abs,
        group_accuracy: fme.group_accuracy,
        worst_group_accuracy: fme.group_accuracy[0].min(fme.group_accuracy[1]),
        exit_share,
        mean_macs: macs,
        compute_saved: 1.0 - macs / full_macs as f64,
    }
}

/// MACs of each exit evaluated alone: the stages up to it and its own head only.
pub fn standalone_macs(config: &ModelConfig) -> Vec<u64> {
    let cost = ComputeCost::of(config);
    let mut out: Vec<u64> = config
        .exit_stages
        .iter()
        .enumerate()
        .map(|(e, &s)| cost.stage_macs[..=s].iter().sum::<u64>() + cost.exit_head_macs[e])
        .collect();
    out.push(cost.full_network());
    out
}

/// Every exit alone on `per_sample_exit_logits[i][e]` (logits of sample `i` at exit `e`), with
/// `groups` in {0, 1}.
pub fn exit_points(
    config: &ModelConfig,
    per_sample_exit_logits: &[SampleLogits],
    labels: &[usize],
    groups: &[usize],
) -> Vec<OperatingPoint> {
    let macs = standalone_macs(config);
    let full = ComputeCost::of(config).full_network();
    (0..config.num_exits())
        .map(|e| {
            let predicted: Vec<usize> = per_sample_exit_logits
                .iter()
                .map(|s| argmax(&s[e]))
                .collect();
            let exits = vec![e; labels.len()];
            let mut one = vec![0u64; macs.len()];
            one[e] = macs[e];
            point(
                labels,
                groups,
                &predicted,
                &exits,
                &one,
                full,
                config.num_classes(),
            )
        })
        .collect()
}

/// The early-exit policy at `theta` (per sample; compute includes every exit head evaluated).
pub fn policy_point(
    config: &ModelConfig,
    per_sample_exit_logits: &[SampleLogits],
    labels: &[usize],
    groups: &[usize],
    theta: f32,
) -> OperatingPoint {
    let cost = ComputeCost::of(config);
    let decisions: Vec<_> = per_sample_exit_logits
        .iter()
        .map(|s| exit_policy(s, theta))
        .collect();
    let predicted: Vec<usize> = decisions.iter().map(|d| d.class).collect();
    let exits: Vec<usize> = decisions.iter().map(|d| d.exit).collect();
    point(
        labels,
        groups,
        &predicted,
        &exits,
        &cost.macs_per_exit(&config.exit_stages),
        cost.full_network(),
        config.num_classes(),
    )
}

/// One row of a θ sweep.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ThetaPoint {
    /// Threshold.
    pub theta: f32,
    /// The policy's numbers at that threshold.
    pub point: OperatingPoint,
    /// FATE-style score against the final exit alone: `ΔF1/F1 − ΔEOdd/EOdd` (papers.md §3.5,
    /// λ = 1; a zero reference EOdd uses the plain difference).
    pub score: f64,
    /// Whether its accuracy is within the rule's tolerance of the final exit's.
    pub eligible: bool,
}

/// The θ-selection rule, stored in the model card with its result.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ThetaRule {
    /// Largest accuracy drop allowed below the final exit alone (0.01 = 1 pp).
    pub max_accuracy_drop: f64,
}

impl Default for ThetaRule {
    fn default() -> Self {
        Self {
            max_accuracy_drop: 0.01,
        }
    }
}

impl ThetaRule {
    /// The rule in words.
    pub fn describe(&self) -> String {
        format!(
            "on validation: the θ of the grid with the best FATE-style score (ΔF1/F1 − ΔEOdd/EOdd against \
             the final exit alone) among those whose accuracy is at most {:.1} pp below the final exit's; \
             ties go to the larger compute saving; if none qualifies, the most accurate θ",
            self.max_accuracy_drop * 100.0
        )
    }
}

/// FATE-style score of `p` against reference `r` (λ = 1).
pub fn fate_against(p: &OperatingPoint, r: &OperatingPoint) -> f64 {
    let rel = |m: f64, b: f64| if b.abs() > 0.0 { (m - b) / b } else { m - b };
    rel(p.f1, r.f1) - rel(p.eodds_abs, r.eodds_abs)
}

/// Sweeps `thetas` and marks which satisfy `rule` against the final exit alone.
pub fn theta_sweep(
    config: &ModelConfig,
    per_sample_exit_logits: &[SampleLogits],
    labels: &[usize],
    groups: &[usize],
    thetas: &[f32],
    rule: &ThetaRule,
) -> Vec<ThetaPoint> {
    let final_exit = exit_points(config, per_sample_exit_logits, labels, groups)
        .pop()
        .expect("at least the final exit");
    thetas
        .iter()
        .map(|&theta| {
            let point = policy_point(config, per_sample_exit_logits, labels, groups, theta);
            ThetaPoint {
                theta,
                score: fate_against(&point, &final_exit),
                eligible: point.accuracy >= final_exit.accuracy - rule.max_accuracy_drop - 1e-12,
                point,
            }
        })
        .collect()
}

/// Index into `sweep` of the θ the rule picks (see [`ThetaRule::describe`]); `None` if empty.
pub fn select_theta(sweep: &[ThetaPoint]) -> Option<usize> {
    let better = |a: &ThetaPoint, b: &ThetaPoint| {
        a.score > b.score + 1e-12
            || ((a.score - b.score).abs() <= 1e-12 && a.point.mean_macs < b.point.mean_macs)
    };
    let eligible = sweep.iter().enumerate().filter(|(_, p)| p.eligible);
    let mut best: Option<usize> = None;
    for (i, p) in eligible {
        if best.is_none_or(|b| better(p, &sweep[b])) {
            best = Some(i);
        }
    }
    best.or_else(|| {
        (0..sweep.len()).reduce(|a, b| {
            if sweep[b].point.accuracy > sweep[a].point.accuracy {
                b
            } else {
                a
            }
        })
    })
}

/// Binary skin-type group of each sample, as `exit_points`/`policy_point` take it: Fitzpatrick
/// I–III → 0, IV–VI → 1, unknown (0 or out of range) → `usize::MAX` (left out of group metrics).
pub fn skin_groups(skin_types: &[u8]) -> Vec<usize> {
    skin_types
        .iter()
        .map(|t| match t {
            1..=3 => 0,
            4..=6 => 1,
            _ => usize::MAX,
        })
        .collect()
}

/// Parameters of a model as stored in its file (BN folded): the sum of every tensor's elements.
pub fn parameter_count(config: &ModelConfig) -> usize {
    config
        .tensor_shapes()
        .iter()
        .map(|(_, shape)| shape.iter().product::<usize>())
        .sum()
}
