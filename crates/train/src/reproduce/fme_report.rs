//! What `reproduce fme` measured, and its report: `results.json`, `results.md` (the main table in
//! the paper's layout, every exit alone, the θ sweeps, training) and the SVG plots.

use std::path::Path;

use anyhow::Result;
use fairscreen_core::exit::{exit_names, ExitNaming};
use fairscreen_core::exit_analysis::{OperatingPoint, ThetaPoint, THETA_GRID};
use serde::{Deserialize, Serialize};

use crate::plot::{line_chart, Series};
use crate::report::{pct, push_line, report_heading, ResultsDir, Table};
use crate::synth_data::TEST_SEED;

/// Sizes and schedule of one run.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RunSettings {
    /// Training images (SynthDerm training distribution, the seed).
    pub train_images: usize,
    /// Validation images (training distribution, seed + 1).
    pub val_images: usize,
    /// Test images (test distribution: balanced skin types and classes, clean labels, seed 123).
    pub test_images: usize,
    /// Epochs per model.
    pub epochs: usize,
    /// Epochs between ×0.1 learning-rate steps.
    pub lr_step: usize,
    /// Initial learning rate.
    pub lr: f64,
    /// Batch size.
    pub batch_size: usize,
    /// Seed.
    pub seed: u64,
    /// Sampling, augmentation and loss weights in words.
    pub recipe: String,
}

/// Validation and test results of one method.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct MethodResult {
    /// CLI name of the method.
    pub method: String,
    /// What the objective is, in words.
    pub description: String,
    /// Whether every exit is trained by the objective (else the internal exits are probes).
    pub multi_exit: bool,
    /// Teacher checkpoint, for MFD methods.
    pub teacher: Option<String>,
    /// Training wall time in seconds.
    pub train_seconds: f64,
    /// Mean loss of every exit per epoch.
    pub loss_history: Vec<Vec<f64>>,
    /// Each exit alone on validation.
    pub val_exits: Vec<OperatingPoint>,
    /// The θ sweep on validation.
    pub val_sweep: Vec<ThetaPoint>,
    /// θ chosen by the rule on validation.
    pub theta: f32,
    /// Each exit alone on test.
    pub test_exits: Vec<OperatingPoint>,
    /// The early-exit policy at the chosen θ on test.
    pub test_policy: OperatingPoint,
    /// The row of the main table: the policy for multi-exit methods, the final head otherwise.
    pub test_main: OperatingPoint,
    /// FATE of the main row against the baseline's final head on test.
    pub test_fate: f64,
    /// FATE of the main row against the baseline's final head on validation (selection).
    pub val_fate: f64,
    /// SNNL (reference form) of each exit's pooled features w.r.t. the skin group, on test.
    pub test_snnl: Vec<f64>,
    /// SNNL (SCP-code form, self term included) of the same features.
    pub test_snnl_scp_code: Vec<f64>,
}

/// Everything `reproduce fme` measured.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FmeResults {
    /// The command line.
    pub command: String,
    /// Quick (CI) mode.
    pub quick: bool,
    /// Data sizes and schedule.
    pub settings: RunSettings,
    /// CPU model and logical cores.
    pub machine: String,
    /// Backend used for training and evaluation.
    pub backend: String,
    /// Total wall time in seconds.
    pub wall_seconds: f64,
    /// UTC date and time of the run's end.
    pub finished: String,
    /// Sensitive attribute.
    pub sensitive: String,
    /// The θ rule.
    pub theta_rule: String,
    /// The rule that picks the shipped fair multi-exit model.
    pub selection_rule: String,
    /// Method chosen by that rule.
    pub selected: String,
    /// Per method, in training order.
    pub methods: Vec<MethodResult>,
}

/// Writes `results.json`, `results.md` and the SVG plots into `dir`.
pub fn write_results(dir: &Path, r: &FmeResults) -> Result<()> {
    let out = ResultsDir::create(dir)?;
    out.json("results.json", r)?;
    out.write("results.md", markdown(r))?;
    let exits = r.methods.first().map_or(0, |m| m.test_exits.len());
    let xs = exit_names(ExitNaming::Short, exits);
    let per_exit = |f: &dyn Fn(&OperatingPoint) -> f64| -> Vec<Series> {
        r.methods
            .iter()
            .map(|m| Series {
                name: m.method.clone(),
                values: m.test_exits.iter().map(f).collect(),
                dashed: !m.multi_exit,
            })
            .collect()
    };
    let charts = [
        (
            "per_exit_accuracy.svg",
            line_chart(
                "Accuracy of each exit alone (test)",
                "exit (shallow → deep)",
                "accuracy",
                &xs,
                &per_exit(&|p| p.accuracy),
            ),
        ),
        (
            "per_exit_eodd.svg",
            line_chart(
                "EOdd (abs) of each exit alone (test, skin group)",
                "exit (shallow → deep)",
                "EOdd abs",
                &xs,
                &per_exit(&|p| p.eodds_abs),
            ),
        ),
        (
            "per_exit_worst_group.svg",
            line_chart(
                "Worst skin-group accuracy of each exit alone (test)",
                "exit (shallow → deep)",
                "worst-group accuracy",
                &xs,
                &per_exit(&|p| p.worst_group_accuracy),
            ),
        ),
        (
            "per_exit_snnl.svg",
            line_chart(
                "SNNL of each exit's features w.r.t. skin group (test)",
                "exit (shallow → deep)",
                "SNNL (T = 1, cosine; higher = less group info)",
                &xs,
                &r.methods
                    .iter()
                    .map(|m| Series {
                        name: m.method.clone(),
                        values: m.test_snnl.clone(),
                        dashed: !m.multi_exit,
                    })
                    .collect::<Vec<_>>(),
            ),
        ),
        (
            "theta_sweep.svg",
            line_chart(
                "Early-exit policy on validation: accuracy (solid) and compute saved (dashed)",
                "θ",
                "fraction",
                &THETA_GRID.iter().map(|t| t.to_string()).collect::<Vec<_>>(),
                &r.methods
                    .iter()
                    .filter(|m| m.multi_exit)
                    .flat_map(|m| {
                        [
                            Series {
                                name: format!("{} accuracy", m.method),
                                values: m.val_sweep.iter().map(|p| p.point.accuracy).collect(),
                                dashed: false,
                            },
                            Series {
                                name: format!("{} saved", m.method),
                                values: m.val_sweep.iter().map(|p| p.point.compute_saved).collect(),
                                dashed: true,
                            },
                        ]
                    })
                    .collect::<Vec<_>>(),
            ),
        ),
    ];
    for (file, svg) in charts {
        out.write(file, svg)?;
    }
    Ok(())
}

/// Appends `l` and a newline.
/// The report: main table in the paper's layout, per-exit table, θ sweeps, provenance.
fn markdown(r: &FmeResults) -> String {
    let mut s = report_heading(
        "Fair multi-exit reproduction on SynthDerm",
        r.quick,
        &r.command,
    );
    push_line(
        &mut s,
        &format!(
            "- Data: {} training / {} validation images (SynthDerm training distribution, seeds {} and {}), {} test images \
             (test distribution, seed {TEST_SEED}); sensitive attribute: {}",
            r.settings.train_images,
            r.settings.val_images,
            r.settings.seed,
            r.settings.seed + 1,
            r.settings.test_images,
            r.sensitive
        ),
    );
    push_line(
        &mut s,
        &format!(
            "- Training: {} epochs, batch {}, lr {} (×0.1 every {} epochs); {}",
            r.settings.epochs,
            r.settings.batch_size,
            r.settings.lr,
            r.settings.lr_step,
            r.settings.recipe
        ),
    );
    push_line(
        &mut s,
        &format!(
            "- Machine: {}; backend: {}; wall time {:.1} min; finished {}",
            r.machine,
            r.backend,
            r.wall_seconds / 60.0,
            r.finished
        ),
    );
    push_line(&mut s, &format!("- θ rule: {}.", r.theta_rule));
    push_line(
        &mut s,
        &format!(
            "- Shipped fair model: `{}`, chosen as {}.\n",
            r.selected, r.selection_rule
        ),
    );
    push_line(
        &mut s,
        "## Main table (test split, used once)\n\nMulti-exit methods: the early-exit policy at the θ chosen on validation. \
         Other methods: the final head (their internal exits are probes). Metrics in %, EOpp/EOdd are the FME code's `_abs` \
         forms ×100; FATE against the baseline (λ = 1, F1 = macro F1, fairness = EOdd); compute saved: 1 − mean MACs per image / \
         full network MACs.\n",
    );
    s.push_str(&main_table(r));
    push_line(
        &mut s,
        "\n## Every exit alone (test)\n\nSNNL: soft nearest neighbour loss of the exit's pooled features w.r.t. the skin group \
         (reference form, T = 1, cosine, batches of 128; higher = the features carry less group information); SCP-code form \
         (self term included) in brackets.\n",
    );
    s.push_str(&exit_table(r));
    push_line(
        &mut s,
        "\n## θ sweep (validation)\n\nEligible: accuracy within the rule's tolerance of the final exit alone; score: FATE-style \
         score against the final exit alone. ✔ marks the chosen θ.\n",
    );
    s.push_str(&sweep_table(r));
    push_line(&mut s, "\n## Training\n");
    s.push_str(&training_table(r));
    push_line(
        &mut s,
        "\n![accuracy per exit](per_exit_accuracy.svg) ![EOdd per exit](per_exit_eodd.svg)\n\
         ![worst group per exit](per_exit_worst_group.svg) ![SNNL per exit](per_exit_snnl.svg)\n\
         ![θ sweep](theta_sweep.svg)",
    );
    s
}

/// Each method's main row on test: the policy at its θ (multi-exit) or the final head.
fn main_table(r: &FmeResults) -> String {
    let mut t = Table::new([
        "method",
        "θ",
        "accuracy",
        "precision",
        "recall",
        "F1",
        "EOpp0",
        "EOpp1",
        "EOdd",
        "worst group acc.",
        "FATE",
        "exits used (1/2/3/final %)",
        "compute saved",
    ]);
    for m in &r.methods {
        let p = &m.test_main;
        let used: Vec<String> = p.exit_share.iter().map(|v| pct(*v)).collect();
        t.row([
            m.method.clone(),
            if m.multi_exit {
                m.theta.to_string()
            } else {
                "–".into()
            },
            pct(p.accuracy),
            pct(p.precision),
            pct(p.recall),
            pct(p.f1),
            pct(p.eopp0_abs),
            pct(p.eopp1_abs),
            pct(p.eodds_abs),
            pct(p.worst_group_accuracy),
            format!("{:+.3}", m.test_fate),
            used.join(" / "),
            format!("{} %", pct(p.compute_saved)),
        ]);
    }
    t.finish()
}

/// Every exit of every method alone on test, with its features' SNNL.
fn exit_table(r: &FmeResults) -> String {
    let mut t = Table::new([
        "method",
        "exit",
        "accuracy",
        "F1",
        "EOpp0",
        "EOpp1",
        "EOdd",
        "acc. I–III",
        "acc. IV–VI",
        "SNNL",
    ]);
    for m in &r.methods {
        let names = exit_names(ExitNaming::Short, m.test_exits.len());
        for (e, p) in m.test_exits.iter().enumerate() {
            let probe = !m.multi_exit && e + 1 < m.test_exits.len();
            t.row([
                m.method.clone(),
                format!("{}{}", names[e], if probe { " (probe)" } else { "" }),
                pct(p.accuracy),
                pct(p.f1),
                pct(p.eopp0_abs),
                pct(p.eopp1_abs),
                pct(p.eodds_abs),
                pct(p.group_accuracy[0]),
                pct(p.group_accuracy[1]),
                format!("{:.4} ({:.4})", m.test_snnl[e], m.test_snnl_scp_code[e]),
            ]);
        }
    }
    t.finish()
}

/// The θ sweep of every multi-exit method on validation.
fn sweep_table(r: &FmeResults) -> String {
    let mut t = Table::new([
        "method",
        "θ",
        "accuracy",
        "F1",
        "EOdd",
        "exits used (1/2/3/final %)",
        "compute saved",
        "score",
        "eligible",
    ]);
    for m in r.methods.iter().filter(|m| m.multi_exit) {
        for p in &m.val_sweep {
            let used: Vec<String> = p.point.exit_share.iter().map(|v| pct(*v)).collect();
            t.row([
                m.method.clone(),
                format!("{}{}", p.theta, if p.theta == m.theta { " ✔" } else { "" }),
                pct(p.point.accuracy),
                pct(p.point.f1),
                pct(p.point.eodds_abs),
                used.join(" / "),
                format!("{} %", pct(p.point.compute_saved)),
                format!("{:+.3}", p.score),
                if p.eligible { "yes" } else { "no" }.to_string(),
            ]);
        }
    }
    t.finish()
}

/// Training time, first and last epoch losses, and the validation FATE the selection used.
fn training_table(r: &FmeResults) -> String {
    let mut t = Table::new([
        "method",
        "seconds",
        "loss per exit, first → last epoch",
        "validation FATE vs baseline",
    ]);
    for m in &r.methods {
        let first = m.loss_history.first().cloned().unwrap_or_default();
        let last = m.loss_history.last().cloned().unwrap_or_default();
        let pairs: Vec<String> = first
            .iter()
            .zip(&last)
            .map(|(a, b)| format!("{a:.3}→{b:.3}"))
            .collect();
        t.row([
            m.method.clone(),
            format!("{:.0}", m.train_seconds),
            pairs.join(", "),
            format!("{:+.3}", m.val_fate),
        ]);
    }
    t.finish()
}
