//! The audit of an evaluation bundle: early-exit policy predictions and one report per
//! standard grouping.

use crate::exit::SampleLogits;

use super::bootstrap::fairness_report;
use super::grouping::standard_groupings;
use super::report::{FairnessReport, Predictions, ReportOptions};

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
