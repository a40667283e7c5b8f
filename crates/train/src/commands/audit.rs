//! `audit`: fairness reports for one of our models on a dataset, or for any model's predictions
//! given as a CSV, computed locally (nothing is uploaded). Same core functions as the browser.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use burn::prelude::Device;
use fairscreen_core::exit::ExitLogits;
use fairscreen_core::infer::{self, InferError, LoadedModel};
use fairscreen_core::metrics::{
    bundle_reports, fairness_report, FairnessReport, FateBaseline, Grouping, Predictions,
    ReportOptions,
};
use fairscreen_core::{read_eval_bundle, EvalBundle};

use crate::bundles::folder_bundle;
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
    let outcome = block_on(infer::bundle_logits(model, bundle, |done, _| {
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

/// Runs a future to completion on this thread (parks until it is woken).
fn block_on<F: std::future::Future>(future: F) -> F::Output {
    use std::sync::Arc;
    use std::task::{Context, Poll, Wake, Waker};
    struct Unpark(std::thread::Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut future = std::pin::pin!(future);
    loop {
        match future.as_mut().poll(&mut cx) {
            Poll::Ready(out) => return out,
            Poll::Pending => std::thread::park(),
        }
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
        folder_bundle(data, side, "audit", String::new())?
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

/// Parses a class cell: a class name, or an integer index when the classes are numbered.
fn class_index(names: &[String], v: &str) -> Option<usize> {
    names.iter().position(|n| n == v)
}

fn audit_predictions(path: &Path, opts: &ReportOptions) -> Result<Vec<FairnessReport>> {
    let mut reader =
        csv::Reader::from_path(path).with_context(|| format!("reading {}", path.display()))?;
    let headers = reader.headers()?.clone();
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h.trim() == name)
            .with_context(|| format!("{}:1: the header has no '{name}' column", path.display()))
    };
    let (label_col, pred_col) = (col("label")?, col("prediction")?);
    let mut rows = Vec::new();
    for (k, rec) in reader.records().enumerate() {
        let rec = rec.with_context(|| format!("{}:{}", path.display(), k + 2))?;
        rows.push(rec);
    }
    if rows.is_empty() {
        bail!("{}: no rows", path.display());
    }
    let cell = |r: &csv::StringRecord, c: usize| r.get(c).unwrap_or("").trim().to_string();
    let seen: BTreeSet<String> = rows
        .iter()
        .flat_map(|r| [cell(r, label_col), cell(r, pred_col)])
        .collect();
    let numbered = seen.iter().all(|s| s.parse::<usize>().is_ok());
    let class_names: Vec<String> = if numbered {
        let max = seen
            .iter()
            .map(|s| s.parse::<usize>().unwrap())
            .max()
            .unwrap();
        (0..=max).map(|i| i.to_string()).collect()
    } else {
        seen.into_iter().collect()
    };
    let prob_cols: Vec<Option<usize>> = class_names
        .iter()
        .map(|c| headers.iter().position(|h| h.trim() == format!("prob_{c}")))
        .collect();
    let has_probs = prob_cols.iter().all(|c| c.is_some());
    if !has_probs && prob_cols.iter().any(|c| c.is_some()) {
        bail!(
            "{}: some but not all prob_<class> columns are present (classes: {})",
            path.display(),
            class_names.join(", ")
        );
    }
    let attr_cols: Vec<usize> = (0..headers.len())
        .filter(|c| *c != label_col && *c != pred_col && !prob_cols.contains(&Some(*c)))
        .collect();
    if attr_cols.is_empty() {
        bail!(
            "{}: no sensitive-attribute column (any column besides label, prediction, prob_*)",
            path.display()
        );
    }
    let mut labels = Vec::new();
    let mut predicted = Vec::new();
    let mut probs = Vec::new();
    for (k, r) in rows.iter().enumerate() {
        let line = k + 2;
        let l = cell(r, label_col);
        let p = cell(r, pred_col);
        labels.push(class_index(&class_names, &l).expect("label is a seen class"));
        predicted.push(class_index(&class_names, &p).expect("prediction is a seen class"));
        if has_probs {
            let v = prob_cols
                .iter()
                .map(|c| {
                    let s = cell(r, c.expect("checked"));
                    s.parse::<f64>().with_context(|| {
                        format!(
                            "{}:{line}: probability '{s}' is not a number",
                            path.display()
                        )
                    })
                })
                .collect::<Result<Vec<f64>>>()?;
            probs.push(v);
        }
    }
    let p = Predictions {
        labels,
        predicted,
        probs: has_probs.then_some(probs),
        classes: class_names.len(),
    };
    let mut groupings: Vec<Grouping> = attr_cols
        .iter()
        .map(|&c| {
            let names: Vec<String> = rows
                .iter()
                .map(|r| cell(r, c))
                .filter(|s| !s.is_empty())
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect();
            let ids = rows
                .iter()
                .map(|r| {
                    let v = cell(r, c);
                    names.iter().position(|n| *n == v).unwrap_or(usize::MAX)
                })
                .collect();
            Grouping {
                attribute: headers[c].trim().to_string(),
                ids,
                names,
            }
        })
        .collect();
    if groupings.len() >= 2 {
        let both = groupings[0].intersect(&groupings[1]);
        groupings.push(both);
    }
    println!(
        "{} predictions from {} ({} classes: {}), attributes: {}",
        p.labels.len(),
        path.display(),
        class_names.len(),
        class_names.join(", "),
        groupings
            .iter()
            .map(|g| g.attribute.as_str())
            .collect::<Vec<_>>()
            .join("; ")
    );
    Ok(groupings
        .iter()
        .map(|g| fairness_report(&g.attribute, &class_names, &p, &g.ids, &g.names, opts))
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
