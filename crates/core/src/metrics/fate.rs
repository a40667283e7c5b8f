//! FATE (papers.md §3.5): the fairness–accuracy trade-off against a baseline.

use serde::{Deserialize, Serialize};

/// A baseline for FATE (papers.md §3.5): the vanilla model's macro F1 and EOdd_abs.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct FateBaseline {
    /// Baseline macro F1 (ACC_b).
    pub f1: f64,
    /// Baseline EOdd_abs (FC_b).
    pub eodds_abs: f64,
    /// Weight λ of the fairness term (1 in the SCP code).
    pub lambda: f64,
}

/// FATE = (F1 − F1_b)/F1_b − λ·(EOdd_abs − FC_b)/FC_b.
pub fn fate(f1: f64, eodds_abs: f64, b: &FateBaseline) -> f64 {
    (f1 - b.f1) / b.f1 - b.lambda * (eodds_abs - b.eodds_abs) / b.eodds_abs
}
