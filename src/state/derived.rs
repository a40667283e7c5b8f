//! View data derived from the state (reactive when read inside a view; no inference): the
//! per-exit chart, the pruning family of the loaded model, and the comparison of audited models.

use fairscreen_core::card_keys::{BASE, POINT};
use fairscreen_core::exit_analysis::{
    exit_points, parameter_count, policy_point, skin_groups, standalone_macs, OperatingPoint,
};
use fairscreen_core::metrics::{bundle_reports, FairnessReport, ReportOptions};
use fairscreen_core::{ComputeCost, ModelCard};
use leptos::prelude::*;

use super::audit::audit_options;
use super::{AppState, ModelChoice};

/// Each exit alone and the early-exit policy at θ for the loaded model on the evaluation subset
/// (groups: Fitzpatrick I–III vs IV–VI), for the per-exit chart.
#[derive(Clone, Debug, PartialEq)]
pub struct ExitChartData {
    /// Model name.
    pub model: String,
    /// θ of the policy point.
    pub theta: f32,
    /// Every exit alone, shallow to deep (final head last).
    pub exits: Vec<OperatingPoint>,
    /// Compute of each exit alone as a share of the full network.
    pub exit_compute: Vec<f64>,
    /// The early-exit policy at θ.
    pub policy: OperatingPoint,
    /// Evaluation images.
    pub samples: usize,
    /// True when the data is the user's own folder (not the generated subset).
    pub user_data: bool,
}

/// One shipped pruning level of a model family (the unpruned base and the models pruned from it).
#[derive(Clone, Debug, PartialEq)]
pub struct PruningLevel {
    /// Index name.
    pub name: String,
    /// Channels removed from the base's pruned layer (0 for the base).
    pub removed: usize,
    /// Channels the base layer had.
    pub base_width: usize,
    /// How it was pruned, in words (empty for the base).
    pub method: String,
    /// Parameters of the file.
    pub parameters: usize,
    /// MACs of the full network.
    pub macs_full: u64,
    /// File bytes.
    pub bytes: usize,
    /// Validation macro F1 at export (card; the base's from its pruned models' cards).
    pub val_f1: Option<f64>,
    /// Validation EOdd (abs, skin groups) at export.
    pub val_eodds: Option<f64>,
    /// Validation accuracy at export.
    pub val_accuracy: Option<f64>,
}

/// The loaded model's pruning family, smallest pruning first.
#[derive(Clone, Debug, PartialEq)]
pub struct PruningFamily {
    /// The unpruned model's name.
    pub base: String,
    /// Pruned layer.
    pub layer: String,
    /// Every shipped level, by channels removed (the base first).
    pub levels: Vec<PruningLevel>,
    /// Index of the loaded model in `levels`.
    pub current: usize,
}

/// One audited model in the side-by-side comparison, at that model's current θ.
#[derive(Clone, Debug, PartialEq)]
pub struct ComparisonRow {
    /// Model name.
    pub model: String,
    /// Whether it is the loaded model.
    pub active: bool,
    /// The card (method, data, weights).
    pub card: ModelCard,
    /// File size in bytes.
    pub bytes: usize,
    /// θ the row is computed at (the slider's for the loaded model, else the last one used).
    pub theta: f32,
    /// The dashboard's report for skin type in two groups at θ (point estimates).
    pub report: FairnessReport,
    /// The early-exit policy at θ (exits used, compute saved).
    pub policy: OperatingPoint,
    /// Wall time of its last run over the evaluation subset in this browser, in ms.
    pub audit_ms: Option<f64>,
}

/// Runs `f`, logging its wall time when it is long enough to be felt on the page's thread.
pub fn timed<T>(what: &str, f: impl FnOnce() -> T) -> T {
    let started = js_sys::Date::now();
    let out = f();
    let ms = js_sys::Date::now() - started;
    if ms > 20.0 {
        log::warn!("{what} took {ms} ms on the page's thread");
    }
    out
}

/// True when the evaluation data audited is a folder the user read (not the bundled subset).
pub fn on_user_data(s: AppState) -> bool {
    s.eval.active_choice().is_some_and(|c| c.user_folder)
}

/// Each exit alone and the policy at the current θ for the loaded model's audit logits
/// (follows θ, the model and new audits).
pub fn exit_chart(s: AppState) -> Option<ExitChartData> {
    timed("the per-exit chart", || exit_chart_untimed(s))
}

fn exit_chart_untimed(s: AppState) -> Option<ExitChartData> {
    let theta = s.photo.theta.get();
    let model = s.models.name.get();
    let config = s
        .models
        .card
        .with(|c| c.as_ref().map(|c| c.config.clone()))?;
    let entry = s.audit.entry(&model)?;
    let logits = &entry.logits;
    let bundle = s.eval.bundle.get()?;
    let labels: Vec<usize> = bundle.labels.iter().map(|&l| l as usize).collect();
    // The cached logits must be this model's (exit count) and this subset's (sample count).
    if logits.len() != labels.len()
        || logits.iter().any(|s| s.len() != config.num_exits())
        || labels.is_empty()
    {
        return None;
    }
    let groups = skin_groups(&bundle.skin_types);
    let full = ComputeCost::of(&config).full_network() as f64;
    Some(ExitChartData {
        model,
        theta,
        exits: exit_points(&config, logits, &labels, &groups),
        exit_compute: standalone_macs(&config)
            .iter()
            .map(|&m| m as f64 / full)
            .collect(),
        policy: policy_point(&config, logits, &labels, &groups, theta),
        samples: labels.len(),
        user_data: on_user_data(s),
    })
}

/// The shipped pruning levels of the loaded model's family, when it has more than one (from the
/// cards).
pub fn pruning_family(s: AppState) -> Option<PruningFamily> {
    timed("the pruning family", || pruning_family_untimed(s))
}

fn pruning_family_untimed(s: AppState) -> Option<PruningFamily> {
    let loaded = s.models.name.get();
    let models = s.models.models.get();
    let card_of = |name: &str| {
        models
            .iter()
            .find(|m| m.entry.name == name)
            .and_then(|m| m.card.clone())
    };
    let loaded_card = card_of(&loaded)?;
    let base = loaded_card
        .pruning
        .as_ref()
        .map_or(loaded.clone(), |p| p.base.clone());
    let pruned: Vec<&ModelChoice> = models
        .iter()
        .filter(|m| {
            m.card
                .as_ref()
                .and_then(|c| c.pruning.as_ref())
                .is_some_and(|p| p.base == base)
        })
        .collect();
    let first = pruned.first()?.card.as_ref()?.pruning.clone()?;
    let metric = |c: &ModelCard, key: &str| c.metrics.get(key).copied();
    let reference = pruned[0].card.clone()?;
    let mut levels = Vec::new();
    if let Some(b) = models.iter().find(|m| m.entry.name == base) {
        let card = b.card.clone()?;
        levels.push(PruningLevel {
            name: base.clone(),
            removed: 0,
            base_width: first.base_width,
            method: String::new(),
            parameters: parameter_count(&card.config),
            macs_full: ComputeCost::of(&card.config).full_network(),
            bytes: b.entry.bytes,
            val_f1: metric(&reference, &BASE.f1()),
            val_eodds: metric(&reference, &BASE.eodds_abs()),
            val_accuracy: metric(&reference, &BASE.accuracy()),
        });
    }
    for m in pruned {
        let card = m.card.clone()?;
        let p = card.pruning.clone()?;
        levels.push(PruningLevel {
            name: m.entry.name.clone(),
            removed: p.channels.len(),
            base_width: p.base_width,
            method: p.method,
            parameters: parameter_count(&card.config),
            macs_full: ComputeCost::of(&card.config).full_network(),
            bytes: m.entry.bytes,
            val_f1: metric(&card, &POINT.f1()),
            val_eodds: metric(&card, &POINT.eodds_abs()),
            val_accuracy: metric(&card, &POINT.accuracy()),
        });
    }
    levels.sort_by(|a, b| a.removed.cmp(&b.removed).then(a.name.cmp(&b.name)));
    let current = levels.iter().position(|l| l.name == loaded)?;
    Some(PruningFamily {
        base,
        layer: first.layer,
        levels,
        current,
    })
}

/// One row per audited model, in index order, each at its own θ (point estimates only).
pub fn comparison(s: AppState) -> Vec<ComparisonRow> {
    timed("the comparison", || comparison_untimed(s))
}

fn comparison_untimed(s: AppState) -> Vec<ComparisonRow> {
    let active = s.models.name.get();
    let theta = s.photo.theta.get();
    let thetas = s.photo.model_theta.get();
    let Some(bundle) = s.eval.bundle.get() else {
        return Vec::new();
    };
    let labels: Vec<usize> = bundle.labels.iter().map(|&l| l as usize).collect();
    let groups = skin_groups(&bundle.skin_types);
    let cache = s.audit.cache.get();
    // Point estimates only: the bootstrap is for the dashboard of the loaded model.
    let opts = ReportOptions {
        bootstrap: 0,
        ..audit_options()
    };
    s.models
        .models
        .get()
        .into_iter()
        .filter_map(|m| {
            let name = m.entry.name;
            let audit = cache.get(&name)?;
            let logits = &audit.logits;
            let card = m.card?;
            let ok = logits.len() == labels.len()
                && logits.iter().all(|s| s.len() == card.config.num_exits());
            if !ok {
                return None;
            }
            let theta = if name == active {
                theta
            } else {
                thetas.get(&name).copied().unwrap_or(card.default_theta)
            };
            // bundle_reports' first report is skin type in two groups (I–III / IV–VI).
            let report = bundle_reports(&bundle, logits, theta, &opts)
                .into_iter()
                .next()?;
            let policy = policy_point(&card.config, logits, &labels, &groups, theta);
            Some(ComparisonRow {
                audit_ms: Some(audit.ms),
                active: name == active,
                model: name,
                bytes: m.entry.bytes,
                card,
                theta,
                report,
                policy,
            })
        })
        .collect()
}
