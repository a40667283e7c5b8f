//! `audit`: fairness reports for one of our models on a dataset, or for any model's predictions
//! given as a CSV, computed locally (nothing is uploaded). Same core functions as the browser.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use burn::prelude::Device;
use fairscreen_core::exit::ExitLogits;
use fairscreen_core::folder_bundle::{FolderBundle, NO_SUCH_FILE};
use fairscreen_core::infer::{self, InferError, LoadedModel};
use fairscreen_core::labels::read_labels_csv;
use fairscreen_core::metrics::{
    bundle_reports, read_predictions_csv, FairnessReport, FateBaseline, ReportOptions,
};
use fairscreen_core::{read_eval_bundle, EvalBundle};

use crate::progress::progress;

/// `fairscreen-train audit`.
#[derive(clap::Args)]
pub struct AuditArgs {
    /// Model file to evaluate (with --data).
    #[arg(long)]
    model: Option<PathBuf>,
    /// Evaluation data for --model: an evaluation bundle (.safetensors) or a labelled folder.
    #[arg(long)]
    data: Option<PathBuf>,
    /// Predictions of any model instead: CSV with columns `label`, `prediction`, optional
    /// `prob_<class>` per class; every other column is a sensitive attribute.
    #[arg(long)]
    predictions: Option<PathBuf>,
    /// Early-exit threshold θ for --model (default: the model card's).
    #[arg(long)]
    theta: Option<f32>,
    /// Bootstrap resamples for the confidence intervals (0 = none).
    #[arg(long, default_value_t = 200)]
    bootstrap: usize,
    /// Bootstrap seed.
    #[arg(long, default_value_t = 121)]
    seed: u64,
    /// Groups with fewer samples get a warning.
    #[arg(long, default_value_t = 30)]
    min_group_size: usize,
    /// FATE baseline `F1,EOdd_abs` (SCP's vanilla Fitzpatrick-17k model: 0.5513,0.1636).
    #[arg(long)]
    fate_baseline: Option<String>,
    /// Write the reports here as JSON.
    #[arg(long)]
    out: Option<PathBuf>,
}

/// Runs `audit`.
pub fn run(a: AuditArgs) -> Result<()> {
    let fate_baseline = match &a.fate_baseline {
        None => None,
        Some(s) => {
            let v: Vec<f64> = s
                .split(',')
                .map(|x| x.trim().parse::<f64>())
                .collect::<Result<_, _>>()
                .with_context(|| format!("--fate-baseline '{s}' is not F1,EOdd_abs"))?;
            if v.len() != 2 || v[0] <= 0.0 || v[1] <= 0.0 {
                bail!("--fate-baseline needs two positive numbers: F1,EOdd_abs");
            }
            Some(FateBaseline {
                f1: v[0],
                eodds_abs: v[1],
                lambda: 1.0,
            })
        }
    };
    let opts = ReportOptions {
        min_group_size: a.min_group_size,
        bootstrap: a.bootstrap,
        seed: a.seed,
        fate_baseline,
        ..ReportOptions::default()
    };
    let reports = match (&a.model, &a.data, &a.predictions) {
        (Some(model), Some(data), None) => audit_model(model, data, a.theta, &opts)?,
        (None, None, Some(csv)) => audit_predictions(csv, &opts)?,
        _ => bail!("give either --model FILE --data PATH, or --predictions FILE.csv"),
    };
    for r in &reports {
        print_report(r);
    }
    if let Some(out) = &a.out {
        std::fs::write(out, serde_json::to_vec_pretty(&reports)?)
            .with_context(|| format!("writing {}", out.display()))?;
        println!("wrote {}", out.display());
    }
    Ok(())
}

/// Per-sample exit logits of `model` on every image of `bundle` on the CPU backend, with a
/// progress bar: core's [`fairscreen_core::infer::bundle_logits`], the browser's audit, run to
/// completion here (the CPU backend reads back at once).
fn bundle_logits(model: &LoadedModel, bundle: &EvalBundle) -> Result<ExitLogits> {
    let pb = progress(bundle.len() as u64, "inference");
    let outcome = infer::block_on(infer::bundle_logits(model, bundle, |done, _| {
        pb.set_position(done as u64)
    }));
    pb.finish_and_clear();
    match outcome {
        Ok((logits, _cams)) => Ok(logits),
        // The trainer's own wording of the two mismatches.
        Err(InferError::SideMismatch { data, model }) => {
            bail!("the data has {data} px images, the model needs {model} px")
        }
        Err(InferError::ClassMismatch { data, model }) => {
            bail!("the data's classes {data:?} differ from the model's {model:?}")
        }
        Err(e) => Err(e.into()),
    }
}

fn audit_model(
    model_path: &Path,
    data: &Path,
    theta: Option<f32>,
    opts: &ReportOptions,
) -> Result<Vec<FairnessReport>> {
    let bytes =
        std::fs::read(model_path).with_context(|| format!("reading {}", model_path.display()))?;
    let model = LoadedModel::from_bytes(&bytes, &Device::flex())?;
    let side = model.card.config.input_size as u32;
    let bundle = if data.is_dir() {
        folder_for_audit(data, &model.card.config.class_names, side)?
    } else {
        let b = std::fs::read(data).with_context(|| format!("reading {}", data.display()))?;
        read_eval_bundle(&b).with_context(|| format!("reading {}", data.display()))?
    };
    let theta = theta.unwrap_or(model.card.default_theta);
    println!(
        "model {} on {} ({} images), early exit at θ = {theta}",
        model.card.name,
        data.display(),
        bundle.len()
    );
    let logits = bundle_logits(&model, &bundle)?;
    Ok(bundle_reports(&bundle, &logits, theta, opts))
}

/// The photos of a labelled folder as a bundle for `class_names` at `side` px, built by core's
/// [`FolderBundle`] (the page's folder audit builds its bundle the same way); rows and photos
/// that cannot be used are listed and left out.
fn folder_for_audit(dir: &Path, class_names: &[String], side: u32) -> Result<EvalBundle> {
    let csv = dir.join("labels.csv");
    let bytes = std::fs::read(&csv).with_context(|| format!("reading {}", csv.display()))?;
    let labels =
        read_labels_csv(&bytes, class_names).map_err(|e| anyhow!("{}: {e}", csv.display()))?;
    let mut folder = FolderBundle::new("audit", class_names.to_vec(), side, &labels);
    let pb = progress(labels.rows.len() as u64, "reading");
    for row in &labels.rows {
        let path = dir.join(&row.file);
        let photo = if path.is_file() {
            std::fs::read(&path).map_err(|e| format!("cannot read it: {e}"))
        } else {
            Err(NO_SUCH_FILE.to_string())
        };
        folder.add(row, photo.as_deref().map_err(|e| e.clone()));
        pb.inc(1);
    }
    pb.finish();
    let (bundle, skipped) = folder
        .finish(&format!("folder {}", dir.display()))
        .map_err(|e| anyhow!(e))?;
    for s in &skipped {
        println!(
            "skipped {}:{} {}: {}",
            csv.display(),
            s.line,
            s.file,
            s.reason
        );
    }
    Ok(bundle)
}

/// Reads any model's predictions CSV with core's reader (the page's) and reports every grouping,
/// the bootstrap's progress on a bar per grouping (on stderr).
fn audit_predictions(path: &Path, opts: &ReportOptions) -> Result<Vec<FairnessReport>> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let table = read_predictions_csv(&bytes)
        .map_err(|e| anyhow!(e.located(&path.display().to_string())))?;
    println!("{} from {}", table.describe(), path.display());
    // A few resamples per core per step: the cores stay busy between the bar's updates.
    let per_step = 4 * std::thread::available_parallelism().map_or(1, |t| t.get());
    Ok(table
        .bootstrap_runs(opts)
        .into_iter()
        .zip(&table.groupings)
        .map(|(mut run, grouping)| {
            let bar = progress(run.total() as u64, &grouping.attribute);
            while run.done() < run.total() {
                run.step(per_step);
                bar.set_position(run.done() as u64);
            }
            bar.finish_and_clear();
            run.finish()
        })
        .collect())
}

fn with_ci(r: &FairnessReport, key: &str, v: f64) -> String {
    match r.intervals.get(key) {
        Some(i) => format!("{v:.3} [{:.3}, {:.3}]", i.lo, i.hi),
        None => format!("{v:.3}"),
    }
}

/// Prints one report as a readable table.
pub fn print_report(r: &FairnessReport) {
    println!("\n== {} ==", r.attribute);
    println!(
        "{:<32} {:>6}  {:<24} {:<24} {:<24}",
        "group", "n", "accuracy", "macro F1", "AUC"
    );
    for g in std::iter::once(&r.overall).chain(&r.groups) {
        let prefix = if g.name == "all" {
            "overall".to_string()
        } else {
            format!("group/{}", g.name)
        };
        println!(
            "{:<32} {:>6}  {:<24} {:<24} {:<24}",
            g.name,
            g.n,
            with_ci(r, &format!("{prefix}/accuracy"), g.accuracy),
            with_ci(r, &format!("{prefix}/f1"), g.f1),
            g.auc
                .map(|a| with_ci(r, &format!("{prefix}/auc"), a))
                .unwrap_or_else(|| "—".into())
        );
    }
    for key in [
        "worst_group_accuracy",
        "accuracy_gap",
        "worst_group_auc",
        "auc_gap",
        "fme/eopp0_abs",
        "fme/eopp1_abs",
        "fme/eodds_abs",
        "fme/dp_abs",
        "fairlearn/demographic_parity_difference",
        "fairlearn/equalized_odds_difference",
        "fairlearn/equal_opportunity_difference",
        "fate",
    ] {
        if let Some(v) = r.scalars.get(key) {
            println!("  {key:<44} {}", with_ci(r, key, *v));
        }
    }
    for w in &r.warnings {
        println!("  warning: {w}");
    }
}
