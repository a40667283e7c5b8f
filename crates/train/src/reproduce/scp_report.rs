//! What `reproduce scp` measured, and its report: `results.json`, `results.md` (the loop's models
//! on test, and per base model the loop and the one-shot sweep) and the SVG plots.

use std::path::Path;

use anyhow::Result;
use fairscreen_core::exit_analysis::OperatingPoint;
use serde::{Deserialize, Serialize};

use crate::plot::{line_chart, Series};
use crate::pruning::{FineTune, ModelSize, PruneMode};
use crate::report::{pct, push_line, report_heading, ResultsDir, Table};
use crate::synth_data::TEST_SEED;

/// Sizes and schedule of one run.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ScpSettings {
    /// Training images (scoring and fine-tuning; SynthDerm training distribution, the seed).
    pub train_images: usize,
    /// Validation images (FATE, the stopping rule; seed + 1).
    pub val_images: usize,
    /// Test images (balanced test distribution, seed 123).
    pub test_images: usize,
    /// Seed of data, fine-tuning and the random control.
    pub seed: u64,
    /// Fine-tuning after every pruning step.
    pub fine_tune: FineTune,
    /// Pruned layer.
    pub layer: String,
    /// Mask or remove.
    pub mode: PruneMode,
    /// Channels pruned per loop iteration.
    pub step: usize,
    /// Most loop iterations.
    pub max_iterations: usize,
    /// One-shot sweep levels (SNNL-lowest channels).
    pub levels: Vec<usize>,
    /// Sweep levels also pruned with random channels.
    pub random_levels: Vec<usize>,
    /// Sweep levels of the last base model shipped for the app's slider.
    #[serde(default)]
    pub ship_levels: Vec<usize>,
    /// SNNL used to score channels.
    pub score: String,
}

/// One one-shot pruning level.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SweepRow {
    /// Channels pruned.
    pub n: usize,
    /// `snnl` (lowest scores) or `random` (the control).
    pub selection: String,
    /// Original indices pruned.
    pub channels: Vec<usize>,
    /// Validation operating point after fine-tuning.
    pub val: OperatingPoint,
    /// FATE on validation against the unpruned model.
    pub val_fate: f64,
    /// Test operating point (reported, never used to choose).
    pub test: OperatingPoint,
    /// FATE on test against the unpruned model.
    pub test_fate: f64,
    /// Size and compute with the channels removed.
    pub size: ModelSize,
    /// Fine-tuning wall time.
    pub seconds: f64,
}

/// One iteration of the FATE loop.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct IterationRow {
    /// 1-based iteration.
    pub iteration: usize,
    /// Original channels pruned in this iteration.
    pub pruned_now: Vec<usize>,
    /// Channels pruned so far.
    pub pruned_total: usize,
    /// Validation point after fine-tuning.
    pub val: OperatingPoint,
    /// FATE on validation against the unpruned model.
    pub val_fate: f64,
    /// Whether FATE improved on the best so far (else the loop stops here).
    pub improved: bool,
    /// Scoring + fine-tuning wall time.
    pub seconds: f64,
}

/// Everything measured for one unpruned model.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct BaseResult {
    /// Index name of the unpruned model.
    pub name: String,
    /// Its training method (card).
    pub method: String,
    /// Judged by its early-exit policy (multi-exit) or its final head.
    pub multi_exit: bool,
    /// θ of the policy (the card's, chosen on validation by the FME rule).
    pub theta: f32,
    /// Channels of the pruned layer.
    pub layer_width: usize,
    /// The unpruned model on validation (the FATE reference).
    pub val_reference: OperatingPoint,
    /// The unpruned model on test.
    pub test_reference: OperatingPoint,
    /// Its size and compute.
    pub reference_size: ModelSize,
    /// SNNL of every channel of the unpruned model (training set).
    pub scores: Vec<f64>,
    /// The one-shot sweep.
    pub sweep: Vec<SweepRow>,
    /// The FATE loop.
    pub iterations: Vec<IterationRow>,
    /// Channels pruned by the loop's chosen model (original indices, ascending).
    pub chosen_channels: Vec<usize>,
    /// The loop's chosen model on validation.
    pub chosen_val: OperatingPoint,
    /// …and on test (once).
    pub chosen_test: OperatingPoint,
    /// FATE of the chosen model on test against the unpruned model.
    pub chosen_test_fate: f64,
    /// Its size and compute.
    pub chosen_size: ModelSize,
}

/// Everything `reproduce scp` measured.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ScpResults {
    /// The command line.
    pub command: String,
    /// Quick (CI) mode.
    pub quick: bool,
    /// Data, schedule, layer.
    pub settings: ScpSettings,
    /// CPU and cores.
    pub machine: String,
    /// Backend.
    pub backend: String,
    /// Total wall time in seconds.
    pub wall_seconds: f64,
    /// UTC end time.
    pub finished: String,
    /// Sensitive attribute.
    pub sensitive: String,
    /// The loop's stopping rule in words.
    pub stopping_rule: String,
    /// Per unpruned model.
    pub bases: Vec<BaseResult>,
    /// Models written to the ship directory.
    pub shipped: Vec<String>,
}

/// Writes `results.json`, `results.md` and the SVG plots into `dir`.
pub fn write_results(dir: &Path, r: &ScpResults) -> Result<()> {
    let out = ResultsDir::create(dir)?;
    out.json("results.json", r)?;
    out.write("results.md", markdown(r))?;
    let levels = &r.settings.levels;
    let xs: Vec<String> = levels.iter().map(|n| n.to_string()).collect();
    let series = |f: &dyn Fn(&SweepRow) -> f64| -> Vec<Series> {
        r.bases
            .iter()
            .map(|b| Series {
                name: b.name.clone(),
                values: levels
                    .iter()
                    .map(|n| {
                        b.sweep
                            .iter()
                            .find(|s| s.n == *n && s.selection == "snnl")
                            .map_or(f64::NAN, f)
                    })
                    .collect(),
                dashed: !b.multi_exit,
            })
            .collect()
    };
    let layer = &r.settings.layer;
    let charts = [
        (
            "sweep_f1.svg",
            "Macro F1 after pruning n channels (test)",
            "macro F1",
            series(&|s| s.test.f1),
        ),
        (
            "sweep_eodd.svg",
            "EOdd (abs, skin group) after pruning n channels (test)",
            "EOdd abs",
            series(&|s| s.test.eodds_abs),
        ),
        (
            "sweep_fate.svg",
            "FATE against the unpruned model (test)",
            "FATE",
            series(&|s| s.test_fate),
        ),
        (
            "sweep_parameters.svg",
            "Parameters with the channels removed",
            "parameters",
            series(&|s| s.size.parameters as f64),
        ),
    ];
    for (file, title, y, s) in charts {
        let x_label = format!("channels pruned of {layer}");
        out.write(file, line_chart(title, &x_label, y, &xs, &s))?;
    }
    Ok(())
}

/// The test-split cells of a row: accuracy, F1, EOpp0, EOpp1, EOdd, worst group accuracy (%).
fn point_cells(p: &OperatingPoint) -> [String; 6] {
    [
        pct(p.accuracy),
        pct(p.f1),
        pct(p.eopp0_abs),
        pct(p.eopp1_abs),
        pct(p.eodds_abs),
        pct(p.worst_group_accuracy),
    ]
}

/// Appends `l` and a newline.
/// The report.
fn markdown(r: &ScpResults) -> String {
    let mut s = report_heading(
        "Sensitive channel pruning (SCP) reproduction on SynthDerm",
        r.quick,
        &r.command,
    );
    let st = &r.settings;
    push_line(
        &mut s,
        &format!(
            "- Data: {} training images (scoring and fine-tuning) and {} validation images (SynthDerm training distribution, seeds {} and {}), \
             {} test images (test distribution, seed {TEST_SEED}); sensitive attribute: {}",
            st.train_images, st.val_images, st.seed, st.seed + 1, st.test_images, r.sensitive
        ),
    );
    push_line(
        &mut s,
        &format!(
            "- Layer `{}`, {} mode; scores: {}",
            st.layer,
            match st.mode {
                PruneMode::Mask => "mask (filters zeroed, biases kept, as the SCP code)",
                PruneMode::Remove => "remove (channels physically removed)",
            },
            st.score
        ),
    );
    push_line(
        &mut s,
        &format!(
            "- Fine-tuning after every pruning step: {} epochs, lr {} (constant), batch {}, SGD (Nesterov momentum 0.9, weight decay \
             1e-4), class-balanced sampling, flips/rotations/colour jitter, cross-entropy only (multi-exit models: at every exit), \
             BN-free (the shipped, folded models are fine-tuned as they are)",
            st.fine_tune.epochs, st.fine_tune.lr, st.fine_tune.batch_size
        ),
    );
    push_line(&mut s, &format!("- Loop: {}.", r.stopping_rule));
    push_line(
        &mut s,
        "- Judged by: the early-exit policy at the model's own θ (multi-exit models) or the final head; FATE = ΔF1/F1 − ΔEOdd/EOdd \
         against the unpruned model (λ = 1, papers.md §3.5)",
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
    if !r.shipped.is_empty() {
        push_line(
            &mut s,
            &format!(
                "- Shipped: {}",
                r.shipped
                    .iter()
                    .map(|n| format!("`{n}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
    }
    push_line(&mut s, "");
    push_line(
        &mut s,
        "## The loop's models (test split, used once), in %\n",
    );
    s.push_str(&loop_models_table(r));
    for b in &r.bases {
        push_line(
            &mut s,
            &format!(
                "\n## {} ({}{})\n",
                b.name,
                b.method,
                if b.multi_exit {
                    format!("; early-exit policy at θ = {}", b.theta)
                } else {
                    "; final head".into()
                }
            ),
        );
        push_line(&mut s, "### The loop (validation)\n");
        s.push_str(&loop_table(b));
        push_line(
            &mut s,
            "\n### One-shot sweep (validation FATE; test metrics in %)\n",
        );
        s.push_str(&sweep_table(b));
        let mut order: Vec<usize> = (0..b.scores.len()).collect();
        order.sort_by(|&x, &y| b.scores[x].total_cmp(&b.scores[y]));
        let show = |ids: &[usize]| {
            ids.iter()
                .map(|&c| format!("{c} ({:.4})", b.scores[c]))
                .collect::<Vec<_>>()
                .join(", ")
        };
        push_line(
            &mut s,
            &format!(
                "\nSNNL of the unpruned model's channels (training set): lowest {}; highest {}; mean {:.4}.",
                show(&order[..order.len().min(8)]),
                show(&order[order.len().saturating_sub(3)..]),
                b.scores.iter().sum::<f64>() / b.scores.len().max(1) as f64
            ),
        );
    }
    push_line(
        &mut s,
        "\n![F1](sweep_f1.svg) ![EOdd](sweep_eodd.svg)\n![FATE](sweep_fate.svg) ![parameters](sweep_parameters.svg)",
    );
    s
}

/// Every base model unpruned and as the loop left it, on test.
fn loop_models_table(r: &ScpResults) -> String {
    let mut t = Table::new([
        "model",
        "channels pruned",
        "accuracy",
        "F1",
        "EOpp0",
        "EOpp1",
        "EOdd",
        "worst group acc.",
        "FATE",
        "parameters",
        "MACs (full network)",
    ]);
    for b in &r.bases {
        let mut row = vec![format!("{} (unpruned)", b.name), "0".into()];
        row.extend(point_cells(&b.test_reference));
        row.extend([
            "–".into(),
            b.reference_size.parameters.to_string(),
            format!("{:.2} M", b.reference_size.macs_full as f64 / 1e6),
        ]);
        t.row(row);
        let mut row = vec![
            format!("{} + SCP loop", b.name),
            b.chosen_channels.len().to_string(),
        ];
        row.extend(point_cells(&b.chosen_test));
        row.extend([
            format!("{:+.3}", b.chosen_test_fate),
            b.chosen_size.parameters.to_string(),
            format!("{:.2} M", b.chosen_size.macs_full as f64 / 1e6),
        ]);
        t.row(row);
    }
    t.finish()
}

/// One base model's FATE loop on validation, from the unpruned model.
fn loop_table(b: &BaseResult) -> String {
    let mut t = Table::new([
        "iteration",
        "channels pruned now",
        "total",
        "accuracy",
        "F1",
        "EOdd",
        "FATE",
        "improved",
        "seconds",
    ]);
    t.row([
        "0 (unpruned)".to_string(),
        "–".into(),
        "0".into(),
        pct(b.val_reference.accuracy),
        pct(b.val_reference.f1),
        pct(b.val_reference.eodds_abs),
        "+0.000".into(),
        "–".into(),
        "–".into(),
    ]);
    for it in &b.iterations {
        t.row([
            it.iteration.to_string(),
            format!("{:?}", it.pruned_now),
            it.pruned_total.to_string(),
            pct(it.val.accuracy),
            pct(it.val.f1),
            pct(it.val.eodds_abs),
            format!("{:+.3}", it.val_fate),
            if it.improved { "yes" } else { "no: stop" }.to_string(),
            format!("{:.0}", it.seconds),
        ]);
    }
    t.finish()
}

/// One base model's one-shot sweep: validation FATE, test metrics, size.
fn sweep_table(b: &BaseResult) -> String {
    let mut t = Table::new([
        "n",
        "channels",
        "val FATE",
        "accuracy",
        "F1",
        "EOpp0",
        "EOpp1",
        "EOdd",
        "worst group acc.",
        "test FATE",
        "parameters",
        "MACs",
    ]);
    for row in &b.sweep {
        let mut cells = vec![
            row.n.to_string(),
            row.selection.clone(),
            format!("{:+.3}", row.val_fate),
        ];
        cells.extend(point_cells(&row.test));
        cells.extend([
            format!("{:+.3}", row.test_fate),
            row.size.parameters.to_string(),
            format!("{:.3} M", row.size.macs_full as f64 / 1e6),
        ]);
        t.row(cells);
    }
    t.finish()
}
