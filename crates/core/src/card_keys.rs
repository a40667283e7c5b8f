//! The names of the metrics a model card records ([`crate::ModelCard::metrics`]). Every writer
//! (the trainer's commands) and every reader (the app, the tests) takes them from here.

use std::collections::BTreeMap;

use crate::exit_analysis::{fate_against, OperatingPoint};

/// Prefix of every metric measured on validation data.
pub const VALIDATION: &str = "val/";
/// Training wall time in seconds.
pub const TRAIN_SECONDS: &str = "train/seconds";
/// Accuracy of the early-exit policy at the card's θ on validation.
pub const THETA_ACCURACY: &str = "val/theta/accuracy";
/// FATE of the model's validation point against its base model's ([`POINT`] against [`BASE`]).
pub const FATE: &str = "val/fate";

/// Accuracy of exit `exit` (0-based) alone on validation: `val/exit{exit}/accuracy`.
pub fn exit_accuracy(exit: usize) -> String {
    format!("val/exit{exit}/accuracy")
}

/// |EOdd| of exit `exit` (0-based) alone on validation: `val/exit{exit}/eodds_abs`.
pub fn exit_eodds_abs(exit: usize) -> String {
    format!("val/exit{exit}/eodds_abs")
}

/// Share of validation images leaving at exit `exit` (0-based) at the card's θ.
pub fn theta_exit_share(exit: usize) -> String {
    format!("val/theta/exit{exit}/share")
}

/// Accuracy of the early-exit policy at `theta` of the θ sweep: `val/theta{θ:.3}/accuracy`.
pub fn sweep_accuracy(theta: f32) -> String {
    format!("val/theta{theta:.3}/accuracy")
}

/// |EOdd| of the early-exit policy at `theta` of the θ sweep.
pub fn sweep_eodds_abs(theta: f32) -> String {
    format!("val/theta{theta:.3}/eodds_abs")
}

/// Compute saved by the early-exit policy at `theta` of the θ sweep.
pub fn sweep_compute_saved(theta: f32) -> String {
    format!("val/theta{theta:.3}/compute_saved")
}

/// The headline numbers of one validation operating point, under a prefix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PointKeys(&'static str);

/// The model's own validation point (the early-exit policy at θ for multi-exit models, the final
/// head otherwise): `val/point/…`.
pub const POINT: PointKeys = PointKeys("val/point");
/// The validation point of the model it was made from (unpruned): `val/base/…`.
pub const BASE: PointKeys = PointKeys("val/base");

impl PointKeys {
    /// `<prefix>/accuracy`.
    pub fn accuracy(self) -> String {
        format!("{}/accuracy", self.0)
    }

    /// `<prefix>/f1` (macro F1).
    pub fn f1(self) -> String {
        format!("{}/f1", self.0)
    }

    /// `<prefix>/eodds_abs`.
    pub fn eodds_abs(self) -> String {
        format!("{}/eodds_abs", self.0)
    }

    /// `<prefix>/worst_group_accuracy`.
    pub fn worst_group_accuracy(self) -> String {
        format!("{}/worst_group_accuracy", self.0)
    }

    /// Writes `p`'s accuracy, F1, |EOdd| and worst-group accuracy under this prefix.
    pub fn insert(self, metrics: &mut BTreeMap<String, f64>, p: &OperatingPoint) {
        metrics.insert(self.accuracy(), p.accuracy);
        metrics.insert(self.f1(), p.f1);
        metrics.insert(self.eodds_abs(), p.eodds_abs);
        metrics.insert(self.worst_group_accuracy(), p.worst_group_accuracy);
    }
}

/// Writes a derived model's validation point ([`POINT`]), its base model's ([`BASE`]) and
/// [`FATE`] between them: what the app's pruning chart plots.
pub fn insert_against_base(
    metrics: &mut BTreeMap<String, f64>,
    point: &OperatingPoint,
    base: &OperatingPoint,
) {
    POINT.insert(metrics, point);
    BASE.insert(metrics, base);
    metrics.insert(FATE.into(), fate_against(point, base));
}
