//! What `reproduce fairtune` records and writes: its settings, the two searches, every stage-2
//! run; `results.json`, `results.md` (tables and findings computed from the runs) and the plots
//! (objective per trial, the best masks as a grid).

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Result;
use fairscreen_core::metrics::FairnessReport;
use fairscreen_core::peft::peft_groups;
use fairscreen_core::search::TpeOptions;
use fairscreen_core::ModelConfig;
use serde::{Deserialize, Serialize};

use super::fairtune_data::FairtuneSettings;
use super::fairtune_search::SearchOutcome;
use super::fairtune_stage2::{Stage2Config, Stage2Run};
use crate::plot::{line_chart, Series};
use crate::report::{push_line, report_heading, ResultsDir, Table};
use crate::synth_data::{class_names, TEST_SEED};

/// Everything the run produced.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FairtuneResults {
    /// A quick (CI) run: not a result.
    pub quick: bool,
    /// The command line.
    pub command: String,
    /// CPU and cores.
    pub machine: String,
    /// When it finished.
    pub finished: String,
    /// Wall-clock seconds of the whole run.
    pub wall_seconds: f64,
    /// Seconds of pretraining.
    pub pretrain_seconds: f64,
    /// Settings.
    pub settings: FairtuneSettings,
    /// Stage 2's configurations.
    pub configs: Vec<Stage2Config>,
    /// TPE's and random search's trials.
    pub searches: Vec<SearchOutcome>,
    /// Every stage-2 run.
    pub stage2: Vec<Stage2Run>,
    /// The shipped models' names (the FairTune model first, then its baselines; empty when
    /// nothing was shipped).
    pub shipped: Vec<String>,
}

/// Writes `results.json`, `results.md` and the plots into `out_dir`.
pub fn write_results(out_dir: &Path, r: &FairtuneResults) -> Result<()> {
    let dir = ResultsDir::create(out_dir)?;
    dir.json("results.json", r)?;
    dir.write("search.svg", search_chart(r))?;
    dir.write("masks.svg", mask_grid(r))?;
    dir.write("results.md", markdown(r))?;
    Ok(())
}

/// A metric of a test report: its point value and 95 % interval, by the report's scalar name.
fn metric(t: &FairnessReport, key: &str) -> Option<(f64, Option<(f64, f64)>)> {
    let v = *t.scalars.get(key)?;
    Some((v, t.intervals.get(key).map(|i| (i.lo, i.hi))))
}

/// The best group's AUC (the highest), with its interval.
fn best_group_auc(t: &FairnessReport) -> Option<(f64, Option<(f64, f64)>)> {
    let best = t
        .groups
        .iter()
        .filter(|g| g.auc.is_some())
        .max_by(|a, b| a.auc.unwrap_or(0.0).total_cmp(&b.auc.unwrap_or(0.0)))?;
    metric(t, &format!("group/{}/auc", best.name))
}

/// The reported metrics: column title and how to read it off a test report.
type Column = (
    String,
    Box<dyn Fn(&FairnessReport) -> Option<(f64, Option<(f64, f64)>)>>,
);

fn columns(group_names: &[String]) -> Vec<Column> {
    let mut c: Vec<Column> = vec![
        ("AUC overall".into(), Box::new(|t| metric(t, "overall/auc"))),
        ("AUC best group".into(), Box::new(best_group_auc)),
        (
            "AUC worst group".into(),
            Box::new(|t| metric(t, "worst_group_auc")),
        ),
        ("AUC gap".into(), Box::new(|t| metric(t, "auc_gap"))),
    ];
    for g in group_names {
        let key = format!("group/{g}/accuracy");
        c.push((format!("accuracy {g}"), Box::new(move |t| metric(t, &key))));
    }
    c.push((
        "EOdd diff (fairlearn)".into(),
        Box::new(|t| metric(t, "fairlearn/equalized_odds_difference")),
    ));
    c.push((
        "DP diff (fairlearn)".into(),
        Box::new(|t| metric(t, "fairlearn/demographic_parity_difference")),
    ));
    c.push((
        "EOdd (FME)".into(),
        Box::new(|t| metric(t, "fme/eodds_abs")),
    ));
    c
}

fn runs_of<'a>(r: &'a FairtuneResults, config: &str) -> Vec<&'a Stage2Run> {
    r.stage2.iter().filter(|s| s.config == config).collect()
}

/// Mean and sample standard deviation.
fn mean_sd(v: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    let var = if v.len() > 1 {
        v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)
    } else {
        0.0
    };
    (mean, var.sqrt())
}

/// `mean ± sd` over seeds; the value alone for one seed, `–` for none.
fn mean_sd_cell(v: &[f64]) -> String {
    match v.len() {
        0 => "–".into(),
        1 => format!("{:.3}", v[0]),
        _ => {
            let (m, sd) = mean_sd(v);
            format!("{m:.3} ± {sd:.3}")
        }
    }
}

fn markdown(r: &FairtuneResults) -> String {
    let st = &r.settings;
    let config = ModelConfig::tiny(class_names());
    let mut s = report_heading("FairTune reproduction on SynthDerm", r.quick, &r.command);
    push_line(
        &mut s,
        &format!(
            "- Source clinic (pretraining, the stand-in for ImageNet): {} images (seed {}), {} epochs, CE at every exit, {:.0} s; \
             generator `SynthConfig::source()`: {}",
            st.source_images,
            st.seed + 10,
            st.source_epochs,
            r.pretrain_seconds,
            st.source_distribution
        ),
    );
    push_line(
        &mut s,
        &format!(
            "- Target: {} fine-tuning and {} validation images (SynthDerm training distribution, seeds {} and {}), {} test images \
             (test distribution, seed {TEST_SEED}); sensitive attribute: {}",
            st.train_images,
            st.val_images,
            st.seed,
            st.seed + 1,
            st.test_images,
            st.sensitive.describe()
        ),
    );
    push_line(
        &mut s,
        &format!(
            "- Search: {} groups ({}) + lr log-uniform in [{}, {}]; {} trials per sampler of at most {} epochs, batch {}; \
             successive halving (min resource 1 epoch, η = 4); objective `{}` on the whole validation set",
            peft_groups(&config).len(),
            peft_groups(&config)
                .iter()
                .map(|g| g.to_string())
                .collect::<Vec<_>>()
                .join(", "),
            st.search.lr_range.0,
            st.search.lr_range.1,
            st.search.trials,
            st.search.max_epochs,
            st.search.batch_size,
            st.search.objective
        ),
    );
    push_line(
        &mut s,
        &format!(
            "- Stage 2: {} seed(s) per configuration, {} epochs, fixed lr {} for the baselines; machine: {}; finished {}, {:.1} min in all\n",
            st.stage2_seeds,
            st.search.max_epochs,
            st.stage2_lr,
            r.machine,
            r.finished,
            r.wall_seconds / 60.0
        ),
    );

    push_line(&mut s, "## Stage 1: the searches (validation)\n");
    let mut t = Table::new([
        "sampler",
        "trials complete / pruned",
        "best validation value",
        "best trial",
        "its mask",
        "its lr",
        "minutes",
    ]);
    for search in &r.searches {
        let b = search.best_trial();
        let pruned = search.trials.iter().filter(|t| t.state == "pruned").count();
        t.row([
            search.sampler.clone(),
            format!("{} / {pruned}", search.trials.len() - pruned),
            format!("{:.4}", b.value.unwrap_or(f64::NAN)),
            b.number.to_string(),
            format!("`{}`", b.mask),
            format!("{:.5}", b.lr),
            format!("{:.1}", search.seconds / 60.0),
        ]);
    }
    s.push_str(&t.finish());
    push_line(
        &mut s,
        "\nMask bits follow the group order above (1 = trains). Plots: [objective per trial](search.svg), \
         [the best masks](masks.svg).\n",
    );

    push_line(
        &mut s,
        "## Stage 2: test split (final head), mean ± sd over seeds\n",
    );
    let group_names = st.sensitive.group_names();
    let cols = columns(&group_names);
    let mut headers = vec![
        "configuration".to_string(),
        "lr".into(),
        format!("val {}", st.search.objective),
    ];
    headers.extend(cols.iter().map(|(h, _)| h.clone()));
    let mut t = Table::new(headers);
    for c in &r.configs {
        let runs = runs_of(r, &c.name);
        if runs.is_empty() {
            continue;
        }
        let val: Vec<f64> = runs.iter().map(|x| x.val_objective).collect();
        let mut row = vec![c.name.clone(), format!("{:.4}", c.lr), mean_sd_cell(&val)];
        for (_, read) in &cols {
            let v: Vec<f64> = runs
                .iter()
                .filter_map(|x| read(&x.test).map(|m| m.0))
                .collect();
            row.push(mean_sd_cell(&v));
        }
        t.row(row);
    }
    s.push_str(&t.finish());
    push_line(&mut s, "");
    for c in &r.configs {
        push_line(&mut s, &format!("- `{}`: {}", c.name, c.description));
    }
    if !r.shipped.is_empty() {
        push_line(
            &mut s,
            &format!(
                "\nShipped in the app (seed 0 of stage 2, each with its θ chosen on validation): {}.",
                r.shipped
                    .iter()
                    .map(|n| format!("`{n}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
    }

    push_line(&mut s, "\n## Stage 2 per seed, with 95 % bootstrap intervals (200 resamples, stratified by group)\n");
    let mut headers = vec!["configuration".to_string(), "seed".into()];
    headers.extend(cols.iter().map(|(h, _)| h.clone()));
    let mut t = Table::new(headers);
    for run in &r.stage2 {
        let mut row = vec![run.config.clone(), run.seed.to_string()];
        for (_, read) in &cols {
            row.push(match read(&run.test) {
                Some((v, Some((lo, hi)))) => format!("{v:.3} [{lo:.3}, {hi:.3}]"),
                Some((v, None)) => format!("{v:.3}"),
                None => "–".into(),
            });
        }
        t.row(row);
    }
    s.push_str(&t.finish());

    push_line(&mut s, "\n## Findings (computed from the runs above)\n");
    for line in findings(r) {
        push_line(&mut s, &format!("- {line}"));
    }
    s
}

/// Statements computed from the results: TPE vs random on validation, and the searched mask vs
/// full fine-tuning on worst-group test AUC, beyond the intervals or not.
fn findings(r: &FairtuneResults) -> Vec<String> {
    let mut out = Vec::new();
    let value = |name: &str| {
        r.searches
            .iter()
            .find(|s| s.sampler == name)
            .and_then(|s| s.best_trial().value)
    };
    if let (Some(t), Some(rn)) = (value("tpe"), value("random")) {
        out.push(format!(
            "Best validation `{}`: TPE {t:.4}, random search {rn:.4} ({}).",
            r.settings.search.objective,
            if (t - rn).abs() < 1e-12 {
                "a tie".to_string()
            } else {
                format!(
                    "{} found the better one by {:.4}",
                    if t > rn { "TPE" } else { "random search" },
                    (t - rn).abs()
                )
            }
        ));
    }
    if let Some(tpe) = r.searches.iter().find(|s| s.sampler == "tpe") {
        let startup = TpeOptions::default().n_startup_trials;
        let best = tpe.best_trial().number;
        out.push(if best < startup {
            format!(
                "TPE's best trial was number {best}, one of its {startup} random start-up trials: its model-based \
                 trials ({} of {}) found nothing better.",
                tpe.trials.len().saturating_sub(startup),
                tpe.trials.len()
            )
        } else {
            format!("TPE's best trial was number {best}, after its {startup} random start-up trials.")
        });
    }
    let worst = |config: &str| -> Vec<(f64, (f64, f64))> {
        runs_of(r, config)
            .iter()
            .filter_map(|x| match metric(&x.test, "worst_group_auc") {
                Some((v, Some(i))) => Some((v, i)),
                _ => None,
            })
            .collect()
    };
    let (ft, full) = (worst("fairtune-tpe"), worst("full-fine-tuning"));
    if !ft.is_empty() && ft.len() == full.len() {
        let (m_ft, _) = mean_sd(&ft.iter().map(|x| x.0).collect::<Vec<_>>());
        let (m_full, _) = mean_sd(&full.iter().map(|x| x.0).collect::<Vec<_>>());
        let separated = ft
            .iter()
            .zip(&full)
            .filter(|(a, b)| a.1 .0 > b.1 .1 || b.1 .0 > a.1 .1)
            .count();
        out.push(format!(
            "Worst-group test AUC: FairTune (TPE mask) {m_ft:.3} vs full fine-tuning {m_full:.3} (mean over {} seeds); \
             the 95 % intervals are disjoint in {separated} of {} seeds, so the difference is {}.",
            ft.len(),
            ft.len(),
            if separated == ft.len() {
                "beyond the intervals"
            } else {
                "within the intervals (not told apart from noise)"
            }
        ));
    }
    out
}

/// Objective per trial (complete trials' final values, pruned ones at their last value) and the
/// best so far, for both samplers.
fn search_chart(r: &FairtuneResults) -> String {
    let n = r.searches.iter().map(|s| s.trials.len()).max().unwrap_or(0);
    let x: Vec<String> = (0..n).map(|i| i.to_string()).collect();
    let mut series = Vec::new();
    for search in &r.searches {
        series.push(Series {
            name: format!("{} trial", search.sampler),
            values: search
                .trials
                .iter()
                .map(|t| t.values.last().copied().unwrap_or(f64::NAN))
                .collect(),
            dashed: true,
        });
        series.push(Series {
            name: format!("{} best so far", search.sampler),
            values: search.best_so_far.clone(),
            dashed: false,
        });
    }
    line_chart(
        &format!("Validation {} per trial", r.settings.search.objective),
        "trial",
        &r.settings.search.objective,
        &x,
        &series,
    )
}

/// The five best complete trials of each sampler as rows of cells, one per group (filled = trains).
fn mask_grid(r: &FairtuneResults) -> String {
    let config = ModelConfig::tiny(class_names());
    let groups: Vec<String> = peft_groups(&config).iter().map(|g| g.to_string()).collect();
    let mut rows: Vec<(String, &str)> = Vec::new();
    for search in &r.searches {
        let mut done: Vec<_> = search.trials.iter().filter(|t| t.value.is_some()).collect();
        done.sort_by(|a, b| {
            b.value
                .unwrap_or(f64::MIN)
                .total_cmp(&a.value.unwrap_or(f64::MIN))
        });
        for t in done.into_iter().take(5) {
            rows.push((
                format!(
                    "{} #{} ({:.3}, lr {:.4})",
                    search.sampler,
                    t.number,
                    t.value.unwrap_or(f64::NAN),
                    t.lr
                ),
                t.mask.as_str(),
            ));
        }
    }
    let (cell, left, top) = (22.0, 230.0, 150.0);
    let w = left + cell * groups.len() as f64 + 20.0;
    let h = top + cell * rows.len() as f64 + 20.0;
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="11"><rect width="100%" height="100%" fill="white"/>"#
    );
    for (j, g) in groups.iter().enumerate() {
        let x = left + cell * (j as f64 + 0.6);
        let _ = writeln!(
            s,
            r#"<text transform="translate({x},{}) rotate(-60)">{g}</text>"#,
            top - 6.0
        );
    }
    for (i, (label, bits)) in rows.iter().enumerate() {
        let y = top + cell * i as f64;
        let _ = writeln!(s, r#"<text x="4" y="{}">{label}</text>"#, y + cell * 0.7);
        for (j, b) in bits.chars().enumerate() {
            let fill = if b == '1' { "#2b7a4b" } else { "#eeeeee" };
            let _ = writeln!(
                s,
                r##"<rect x="{}" y="{y}" width="{}" height="{}" fill="{fill}" stroke="#999"/>"##,
                left + cell * j as f64,
                cell - 2.0,
                cell - 2.0
            );
        }
    }
    s.push_str("</svg>\n");
    s
}
