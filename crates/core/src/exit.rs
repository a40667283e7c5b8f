//! Per-sample early-exit policy, the exits' names, and compute accounting (multiply–accumulates
//! per exit).

use serde::{Deserialize, Serialize};

use crate::config::ModelConfig;

/// One sample's logits at every exit, shallow to deep (the final head last): `[e][class]`.
pub type SampleLogits = Vec<Vec<f32>>;

/// Per-sample, per-exit logits of a set of images: `[sample][exit][class]`.
pub type ExitLogits = Vec<SampleLogits>;

/// Where an exit's name appears; each place has its own wording of the final head.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitNaming {
    /// Charts, tables and lists: `exit 1`, …, `final`.
    Short,
    /// Headings such as the exit strip: `exit 1`, …, `final head`.
    Title,
    /// Inside a sentence: `exit 1`, …, `the final head`.
    Sentence,
    /// ONNX graph outputs: `exit1_logits`, …, `final_logits`.
    OnnxOutput,
}

/// The name of exit `exit` (0-based) of a model with `exits` exits (the last is the final head),
/// worded for `naming`. Every exit name the app and the trainer show comes from here.
pub fn exit_name_as(naming: ExitNaming, exit: usize, exits: usize) -> String {
    let number = exit + 1;
    match (naming, number == exits) {
        (ExitNaming::Short, true) => "final".into(),
        (ExitNaming::Title, true) => "final head".into(),
        (ExitNaming::Sentence, true) => "the final head".into(),
        (ExitNaming::OnnxOutput, true) => "final_logits".into(),
        (ExitNaming::OnnxOutput, false) => format!("exit{number}_logits"),
        (_, false) => format!("exit {number}"),
    }
}

/// The short name of exit `exit` of `exits`: `exit 1`, …, `final` ([`ExitNaming::Short`]).
pub fn exit_name(exit: usize, exits: usize) -> String {
    exit_name_as(ExitNaming::Short, exit, exits)
}

/// The names of all `exits` exits, shallow to deep, worded for `naming`.
pub fn exit_names(naming: ExitNaming, exits: usize) -> Vec<String> {
    (0..exits).map(|e| exit_name_as(naming, e, exits)).collect()
}

/// Numerically stable softmax of one logit vector.
pub fn softmax(logits: &[f32]) -> Vec<f32> {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let exps: Vec<f32> = logits.iter().map(|&l| (l - max).exp()).collect();
    let sum: f32 = exps.iter().sum();
    exps.into_iter().map(|e| e / sum).collect()
}

/// Index of the largest value; ties go to the lowest index (as `argmax` in PyTorch/NumPy).
pub fn argmax(values: &[f32]) -> usize {
    let mut best = 0;
    for (i, &v) in values.iter().enumerate() {
        if v > values[best] {
            best = i;
        }
    }
    best
}

/// What the early-exit policy decided for one sample.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExitDecision {
    /// Exit that fired (0-based; the last index is the final head).
    pub exit: usize,
    /// Predicted class at that exit.
    pub class: usize,
    /// Max softmax probability at that exit.
    pub confidence: f32,
    /// True when no internal exit reached θ and the final head answered.
    pub fell_through: bool,
}

/// The class an exit predicts (softmax argmax) and its probability.
pub fn top_class(logits: &[f32]) -> (usize, f32) {
    let probs = softmax(logits);
    let class = argmax(&probs);
    (class, probs[class])
}

/// Whether an internal exit of this confidence answers at `theta` (the policy's one rule).
pub fn fires(confidence: f32, theta: f32) -> bool {
    confidence >= theta
}

/// Early-exit policy of the fair multi-exit paper: the first exit (shallow → deep) whose max
/// softmax probability is ≥ `theta` answers; if none does, the final head answers.
/// `exit_logits[e]` are the logits of exit `e` for one sample; the last entry is the final head.
pub fn exit_policy(exit_logits: &[Vec<f32>], theta: f32) -> ExitDecision {
    assert!(
        !exit_logits.is_empty(),
        "exit_policy needs at least the final head"
    );
    let last = exit_logits.len() - 1;
    for (e, logits) in exit_logits.iter().enumerate() {
        let (class, confidence) = top_class(logits);
        if e < last && fires(confidence, theta) {
            return ExitDecision {
                exit: e,
                class,
                confidence,
                fell_through: false,
            };
        }
        if e == last {
            return ExitDecision {
                exit: e,
                class,
                confidence,
                fell_through: true,
            };
        }
    }
    unreachable!("loop returns at the last exit")
}

/// The policy's decision from the exits computed so far: `computed` is a prefix of a model's
/// `exits` exits, as a stage-by-stage pass leaves it. `None` when no computed internal exit
/// reaches θ and the deeper exits were not computed (the answer needs them).
pub fn exit_policy_computed(
    computed: &[Vec<f32>],
    exits: usize,
    theta: f32,
) -> Option<ExitDecision> {
    if computed.is_empty() || computed.len() > exits {
        return None;
    }
    let decision = exit_policy(computed, theta);
    if computed.len() == exits || decision.exit + 1 < computed.len() {
        return Some(decision);
    }
    // The last computed exit is an internal one: it answers only if it reaches θ.
    fires(decision.confidence, theta).then_some(ExitDecision {
        fell_through: false,
        ..decision
    })
}

/// Applies [`exit_policy`] to every sample of a batch. `batch[e]` holds exit `e`'s logits as a
/// row-major `[B, K]` slice; each sample is decided on its own (no batch-level coupling).
pub fn exit_policy_batch(batch: &[Vec<f32>], num_classes: usize, theta: f32) -> Vec<ExitDecision> {
    let b = batch.first().map_or(0, |l| l.len() / num_classes);
    (0..b)
        .map(|i| {
            let per_exit: Vec<Vec<f32>> = batch
                .iter()
                .map(|l| l[i * num_classes..(i + 1) * num_classes].to_vec())
                .collect();
            exit_policy(&per_exit, theta)
        })
        .collect()
}

/// Multiply–accumulate counts of the network's parts, from the config alone.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ComputeCost {
    /// MACs of each backbone stage.
    pub stage_macs: Vec<u64>,
    /// MACs of each internal exit head (conv + linear).
    pub exit_head_macs: Vec<u64>,
    /// MACs of the final head's linear layer.
    pub final_head_macs: u64,
}

impl ComputeCost {
    /// Counts convolution and linear MACs (pooling, BN and ReLU are not counted).
    pub fn of(config: &ModelConfig) -> Self {
        let conv = |side: usize, cin: usize, cout: usize| (side * side * cin * cout * 9) as u64;
        let k = config.num_classes() as u64;
        let stage_macs = (0..config.widths.len())
            .map(|s| {
                let side = config.side_after_stage(s);
                (0..config.convs_per_stage)
                    .map(|u| conv(side, config.unit_inputs(s, u), config.unit_width(s, u)))
                    .sum::<u64>()
            })
            .collect();
        let exit_head_macs = config
            .exit_stages
            .iter()
            .enumerate()
            .map(|(e, &s)| {
                conv(
                    config.exit_side(e),
                    config.stage_output(s),
                    config.exit_width,
                ) + config.exit_width as u64 * k
            })
            .collect();
        let last = config.stage_output(config.widths.len() - 1);
        Self {
            stage_macs,
            exit_head_macs,
            final_head_macs: last as u64 * k,
        }
    }

    /// MACs of the plain full network: all stages and the final head, no internal exits evaluated.
    pub fn full_network(&self) -> u64 {
        self.stage_macs.iter().sum::<u64>() + self.final_head_macs
    }

    /// MACs spent when a sample leaves at `exit` under the early-exit policy: the stages up to that
    /// exit plus every internal exit head evaluated on the way (the final exit also paid for all
    /// internal heads, which did not fire).
    pub fn macs_at_exit(&self, exit: usize, exit_stages: &[usize]) -> u64 {
        let heads = self.exit_head_macs.len();
        if exit >= heads {
            return self.full_network() + self.exit_head_macs.iter().sum::<u64>();
        }
        let stage = exit_stages[exit];
        self.stage_macs[..=stage].iter().sum::<u64>()
            + self.exit_head_macs[..=exit].iter().sum::<u64>()
    }

    /// MACs of every exit under the policy, shallow to deep (final head last).
    pub fn macs_per_exit(&self, exit_stages: &[usize]) -> Vec<u64> {
        (0..=self.exit_head_macs.len())
            .map(|e| self.macs_at_exit(e, exit_stages))
            .collect()
    }
}
