//! `fairscreen-train reproduce scp`: sensitive channel pruning (papers.md §3) of the shipped models
//! on SynthDerm — a one-shot sweep of the number of pruned channels (with a random-channel
//! control), the iterative loop that prunes while FATE on validation improves, one test report,
//! and the pruned models (channels physically removed) shipped to the app.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use fairscreen_core::card_keys;
use fairscreen_core::exit_analysis::{fate_against, OperatingPoint};
use fairscreen_core::format::{read_model, AssetIndex, ModelCard, PruningInfo};
use fairscreen_core::snnl::SnnlForm;
use fairscreen_core::ConvLayer;
use fairscreen_synth::SynthConfig;
use serde::{Deserialize, Serialize};

use crate::plot::{line_chart, Series};
use crate::reproduce::{generate, machine, utc_now, ReproduceArgs, TEST_SEED};
use crate::scp::{
    channel_scores, fine_tune, operating_point, FineTune, HostModel, ModelSize, PruneMode,
    PruneState,
};
use crate::train::Dataset;
use crate::{bench_data, write_model_asset};

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

struct Splits {
    train: Dataset,
    val: Dataset,
    test: Dataset,
}

struct Base {
    name: String,
    card: ModelCard,
    model: HostModel,
    multi_exit: bool,
}

fn load_base(dir: &Path, name: &str) -> Result<Base> {
    let index_path = dir.join("index.json");
    let index: AssetIndex = serde_json::from_slice(
        &std::fs::read(&index_path).with_context(|| format!("reading {}", index_path.display()))?,
    )
    .with_context(|| format!("parsing {}", index_path.display()))?;
    let entry = index
        .assets
        .iter()
        .find(|e| e.name == name)
        .with_context(|| format!("{name} is not in {}", index_path.display()))?;
    let path = dir.join(&entry.file);
    let file =
        read_model(&std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?)
            .with_context(|| format!("{}", path.display()))?;
    if file.card.pruning.is_some() {
        bail!("{name} is already pruned: start from an unpruned model");
    }
    let multi_exit = file.card.training.method.starts_with("me");
    Ok(Base {
        name: name.to_string(),
        multi_exit,
        model: HostModel {
            config: file.card.config.clone(),
            tensors: file.tensors,
        },
        card: file.card,
    })
}

/// What one FATE loop returns: its rows and the chosen state.
type LoopOutcome = Result<(Vec<IterationRow>, PruneState)>;

/// A unit of work for [`in_parallel`].
type Task<'a, T> = Box<dyn FnOnce() -> T + Send + 'a>;

/// Runs `jobs` closures at a time on scoped threads, results in order.
fn in_parallel<T: Send>(jobs: usize, tasks: Vec<Task<'_, T>>) -> Vec<T> {
    let mut out = Vec::with_capacity(tasks.len());
    let mut tasks = tasks.into_iter().peekable();
    while tasks.peek().is_some() {
        let chunk: Vec<_> = tasks.by_ref().take(jobs.max(1)).collect();
        let results = std::thread::scope(|scope| {
            let handles: Vec<_> = chunk.into_iter().map(|t| scope.spawn(t)).collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("worker thread panicked"))
                .collect::<Vec<_>>()
        });
        out.extend(results);
    }
    out
}

struct Ctx<'a> {
    splits: &'a Splits,
    schedule: FineTune,
    layer: ConvLayer,
    mode: PruneMode,
    multi: indicatif::MultiProgress,
}

impl Ctx<'_> {
    fn point(&self, base: &Base, model: &HostModel, d: &Dataset) -> Result<OperatingPoint> {
        operating_point(
            model,
            base.multi_exit,
            base.card.default_theta,
            &d.inputs,
            &d.labels,
            &d.groups,
        )
    }

    /// One-shot: prune `n` channels (SNNL-lowest by `scores`, or random), fine-tune, evaluate.
    fn sweep_row(
        &self,
        base: &Base,
        refs: (&OperatingPoint, &OperatingPoint),
        scores: &[f64],
        n: usize,
        random: bool,
    ) -> Result<SweepRow> {
        let t0 = Instant::now();
        let mut state = PruneState::new(base.model.clone(), self.layer, self.mode);
        let channels = if random {
            state.prune_random(n, self.schedule.seed + n as u64)?
        } else {
            state.prune_lowest(scores, n)?
        };
        let label = format!("{} n={n}{}", base.name, if random { " random" } else { "" });
        fine_tune(
            &mut state,
            base.multi_exit,
            &self.splits.train,
            &self.schedule,
            &label,
            Some(self.multi.clone()),
        )?;
        let val = self.point(base, &state.model, &self.splits.val)?;
        let test = self.point(base, &state.model, &self.splits.test)?;
        let mut channels = channels;
        channels.sort_unstable();
        Ok(SweepRow {
            n,
            selection: if random { "random" } else { "snnl" }.into(),
            channels,
            val_fate: fate_against(&val, refs.0),
            test_fate: fate_against(&test, refs.1),
            val,
            test,
            size: ModelSize::of(&state.removed()?.config),
            seconds: t0.elapsed().as_secs_f64(),
        })
    }

    /// The loop: score → prune `step` → fine-tune → FATE on validation, while FATE improves.
    fn fate_loop(
        &self,
        base: &Base,
        val_ref: &OperatingPoint,
        step: usize,
        max_iterations: usize,
    ) -> Result<(Vec<IterationRow>, PruneState)> {
        let mut state = PruneState::new(base.model.clone(), self.layer, self.mode);
        let mut best = (0.0, state.clone());
        let mut rows = Vec::new();
        for iteration in 1..=max_iterations {
            let t0 = Instant::now();
            let module = state.model.module()?;
            let scores = channel_scores(
                &module,
                &state.model.config,
                &self.splits.train,
                self.layer,
                SnnlForm::ScpCode,
            )?;
            let mut pruned_now = state.prune_lowest(&scores, step)?;
            pruned_now.sort_unstable();
            let label = format!("{} loop {iteration}", base.name);
            fine_tune(
                &mut state,
                base.multi_exit,
                &self.splits.train,
                &self.schedule,
                &label,
                Some(self.multi.clone()),
            )?;
            let val = self.point(base, &state.model, &self.splits.val)?;
            let val_fate = fate_against(&val, val_ref);
            let improved = val_fate > best.0;
            rows.push(IterationRow {
                iteration,
                pruned_now,
                pruned_total: state.pruned.len(),
                val,
                val_fate,
                improved,
                seconds: t0.elapsed().as_secs_f64(),
            });
            if !improved {
                break;
            }
            best = (val_fate, state.clone());
        }
        Ok((rows, best.1))
    }
}

/// Runs the reproduction.
pub fn reproduce_scp(mut a: ReproduceArgs) -> Result<()> {
    let out_dir = a.out.take().unwrap_or_else(|| "docs/results/scp".into());
    if a.render_only {
        let path = out_dir.join("results.json");
        let r: ScpResults = serde_json::from_slice(
            &std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?,
        )
        .with_context(|| format!("parsing {}", path.display()))?;
        write_results(&out_dir, &r)?;
        println!("re-rendered {}", out_dir.display());
        return Ok(());
    }
    let start = Instant::now();
    let q = a.quick;
    let bases: Vec<Base> = a
        .base_models
        .iter()
        .map(|n| load_base(&a.models_dir, n))
        .collect::<Result<_>>()?;
    let first = bases.first().context("no --base-models")?;
    let layer = match &a.layer {
        Some(text) => ConvLayer::parse(text, &first.model.config)?,
        None => ConvLayer::last(&first.model.config),
    };
    if a.mode == PruneMode::Mask && layer != ConvLayer::last(&first.model.config) {
        bail!(
            "mask mode converts exactly to removed channels only for the last conv ({}); prune {} with --mode remove",
            ConvLayer::last(&first.model.config).name(),
            layer.name()
        );
    }
    let (levels, random_levels, step, max_iterations) = if q {
        (vec![0, 4], vec![4], 4.min(a.step), 2.min(a.max_iterations))
    } else {
        (
            a.levels.clone(),
            a.random_levels.clone(),
            a.step,
            a.max_iterations,
        )
    };
    let settings = ScpSettings {
        train_images: a.train_images.unwrap_or(if q { 256 } else { 5000 }),
        val_images: a.val_images.unwrap_or(if q { 128 } else { 1000 }),
        test_images: a.test_images.unwrap_or(if q { 128 } else { 1500 }),
        seed: a.seed,
        fine_tune: FineTune {
            epochs: a.epochs.unwrap_or(if q { 1 } else { 2 }),
            lr: a.finetune_lr,
            batch_size: 64,
            seed: a.seed,
        },
        layer: layer.name(),
        mode: a.mode,
        step,
        max_iterations,
        levels,
        random_levels,
        ship_levels: a.ship_levels.clone(),
        score: format!(
            "SNNL of each channel's spatial map w.r.t. skin group, SCP-code form (self term included), T = {}, \
             cosine, batches of {} training images in order, last partial batch dropped, averaged",
            crate::scp::SCORE_TEMPERATURE,
            crate::scp::SCORE_BATCH
        ),
    };
    for b in &bases {
        layer.check(&b.model.config)?;
        let width = layer.width(&b.model.config);
        if let Some(&n) = settings
            .levels
            .iter()
            .chain(&settings.random_levels)
            .find(|&&n| n >= width)
        {
            bail!(
                "{}: cannot prune {n} of the {width} channels of {}",
                b.name,
                layer.name()
            );
        }
    }
    let splits = Splits {
        train: generate(
            &SynthConfig::train(),
            a.seed,
            settings.train_images,
            "training data",
        ),
        val: generate(
            &SynthConfig::train(),
            a.seed + 1,
            settings.val_images,
            "validation data",
        ),
        test: generate(
            &SynthConfig::test(),
            TEST_SEED,
            settings.test_images,
            "test data",
        ),
    };
    let ctx = Ctx {
        splits: &splits,
        schedule: settings.fine_tune.clone(),
        layer,
        mode: a.mode,
        multi: indicatif::MultiProgress::new(),
    };

    // References and initial scores.
    let mut refs = Vec::new();
    for b in &bases {
        let val = ctx.point(b, &b.model, &splits.val)?;
        let test = ctx.point(b, &b.model, &splits.test)?;
        let scores = channel_scores(
            &b.model.module()?,
            &b.model.config,
            &splits.train,
            layer,
            SnnlForm::ScpCode,
        )?;
        refs.push((val, test, scores));
    }

    // The one-shot sweep, `jobs` fine-tunes at a time.
    let mut tasks: Vec<Task<'_, Result<(usize, SweepRow)>>> = Vec::new();
    for (i, b) in bases.iter().enumerate() {
        let runs = settings
            .levels
            .iter()
            .map(|&n| (n, false))
            .chain(settings.random_levels.iter().map(|&n| (n, true)));
        for (n, random) in runs {
            let (ctx, refs) = (&ctx, &refs);
            tasks.push(Box::new(move || {
                ctx.sweep_row(b, (&refs[i].0, &refs[i].1), &refs[i].2, n, random)
                    .map(|r| (i, r))
            }));
        }
    }
    let mut sweeps: Vec<Vec<SweepRow>> = vec![Vec::new(); bases.len()];
    for r in in_parallel(a.jobs, tasks) {
        let (i, row) = r?;
        eprintln!(
            "  {} n={} {}: val F1 {:.3} EOdd {:.4} FATE {:+.3}",
            bases[i].name, row.n, row.selection, row.val.f1, row.val.eodds_abs, row.val_fate
        );
        sweeps[i].push(row);
    }

    // The FATE loops, one thread per base model.
    let loop_tasks: Vec<Task<'_, LoopOutcome>> = bases
        .iter()
        .zip(&refs)
        .map(|(b, r)| {
            let ctx = &ctx;
            Box::new(move || ctx.fate_loop(b, &r.0, step, max_iterations)) as Task<'_, LoopOutcome>
        })
        .collect();
    let loops = in_parallel(a.jobs, loop_tasks);

    let mut results = Vec::new();
    let mut chosen_models = Vec::new();
    for ((b, (val_ref, test_ref, scores)), (sweep, lp)) in
        bases.iter().zip(refs).zip(sweeps.into_iter().zip(loops))
    {
        let (iterations, chosen) = lp?;
        let chosen_val = ctx.point(b, &chosen.model, &splits.val)?;
        // The test split, once, for the chosen model.
        let chosen_test = ctx.point(b, &chosen.model, &splits.test)?;
        let removed = chosen.removed()?;
        let mut chosen_channels = chosen.pruned.clone();
        chosen_channels.sort_unstable();
        eprintln!(
            "  {}: loop kept {} pruned channels; test F1 {:.3} → {:.3}, EOdd {:.4} → {:.4}",
            b.name,
            chosen_channels.len(),
            test_ref.f1,
            chosen_test.f1,
            test_ref.eodds_abs,
            chosen_test.eodds_abs
        );
        results.push(BaseResult {
            name: b.name.clone(),
            method: b.card.training.method.clone(),
            multi_exit: b.multi_exit,
            theta: b.card.default_theta,
            layer_width: layer.width(&b.model.config),
            reference_size: ModelSize::of(&b.model.config),
            chosen_test_fate: fate_against(&chosen_test, &test_ref),
            val_reference: val_ref,
            test_reference: test_ref,
            scores,
            sweep,
            iterations,
            chosen_channels,
            chosen_val,
            chosen_test,
            chosen_size: ModelSize::of(&removed.config),
        });
        chosen_models.push(removed);
    }

    let stopping_rule = format!(
        "prune the {} lowest-SNNL channels still in the layer, fine-tune, compute FATE on validation against the \
         unpruned model; continue while FATE beats the best so far (the unpruned model counts as FATE 0), at most {} \
         iterations; keep the best",
        step, max_iterations
    );
    let mut shipped = Vec::new();
    if let Some(dir) = &a.ship_dir {
        shipped = ship(dir, &bases, &results, &chosen_models, &ctx, &settings)?;
    }
    let out = ScpResults {
        command: bench_data::invocation(),
        quick: q,
        settings,
        machine: machine(),
        backend: "burn 0.22 flex (CPU), autodiff for fine-tuning".into(),
        wall_seconds: start.elapsed().as_secs_f64(),
        finished: utc_now(),
        sensitive: "skin group: Fitzpatrick I–III (0) vs IV–VI (1)".into(),
        stopping_rule,
        bases: results,
        shipped,
    };
    write_results(&out_dir, &out)?;
    println!(
        "reproduce scp finished in {:.1} min; results in {}",
        out.wall_seconds / 60.0,
        out_dir.display()
    );
    Ok(())
}

/// Writes the pruned models (removed channels) into `dir` and adds them to its index: every
/// base's loop choice as `<base>-scp`, and the last base's sweep levels `--ship-levels` as
/// `<base>-p<n>` (re-pruned and fine-tuned exactly as in the sweep).
fn ship(
    dir: &Path,
    bases: &[Base],
    results: &[BaseResult],
    chosen: &[HostModel],
    ctx: &Ctx<'_>,
    settings: &ScpSettings,
) -> Result<Vec<String>> {
    let mut names = Vec::new();
    let mut write = |b: &Base,
                     model: &HostModel,
                     name: String,
                     channels: &[usize],
                     how: String,
                     metrics: BTreeMap<String, f64>|
     -> Result<()> {
        let mut card = b.card.clone();
        card.name = name.clone();
        card.config = model.config.clone();
        card.metrics = metrics;
        card.training.command = format!("{} (pruned from {})", bench_data::invocation(), b.name);
        card.pruning = Some(PruningInfo {
            base: b.name.clone(),
            layer: settings.layer.clone(),
            channels: channels.to_vec(),
            base_width: ctx.layer.width(&b.model.config),
            method: how,
        });
        let entry = write_model_asset(card, &model.tensors, dir)?;
        crate::update_index(dir, entry)?;
        names.push(name);
        Ok(())
    };
    let schedule = &settings.fine_tune;
    let mode = match settings.mode {
        PruneMode::Mask => {
            "mask mode (filters zeroed, biases kept, as the SCP code), then removed exactly"
        }
        PruneMode::Remove => "remove mode",
    };
    for ((b, r), model) in bases.iter().zip(results).zip(chosen) {
        if r.chosen_channels.is_empty() {
            eprintln!(
                "  {}: the loop pruned nothing that improved FATE; no -scp model shipped",
                b.name
            );
            continue;
        }
        let metrics = pruned_metrics(&r.chosen_val, &r.val_reference);
        let how = format!(
            "SNNL loop: {} iterations of {} lowest-SNNL channels, each fine-tuned {} epochs (CE, lr {}), kept while FATE \
             on validation improved; {mode}",
            r.iterations.iter().filter(|i| i.improved).count(),
            settings.step,
            schedule.epochs,
            schedule.lr
        );
        write(
            b,
            model,
            format!("{}-scp", b.name),
            &r.chosen_channels,
            how,
            metrics,
        )?;
    }
    if let (Some(b), Some(r)) = (bases.last(), results.last()) {
        for n in shipped_levels(settings, r) {
            let row = r
                .sweep
                .iter()
                .find(|s| s.n == n && s.selection == "snnl")
                .expect("level swept");
            // Re-run the sweep's deterministic prune + fine-tune to get its weights.
            let mut state = PruneState::new(b.model.clone(), ctx.layer, ctx.mode);
            state.prune_lowest(&r.scores, n)?;
            fine_tune(
                &mut state,
                b.multi_exit,
                &ctx.splits.train,
                schedule,
                &format!("ship {} n={n}", b.name),
                Some(ctx.multi.clone()),
            )?;
            let val = ctx.point(b, &state.model, &ctx.splits.val)?;
            if (val.f1 - row.val.f1).abs() > 1e-12 {
                bail!(
                    "re-running the n = {n} level did not reproduce its validation F1 ({} vs {})",
                    val.f1,
                    row.val.f1
                );
            }
            let metrics = pruned_metrics(&val, &r.val_reference);
            let how = format!(
                "one shot: the {n} lowest-SNNL channels, fine-tuned {} epochs (CE, lr {}); {mode}",
                schedule.epochs, schedule.lr
            );
            write(
                b,
                &state.removed()?,
                format!("{}-p{n}", b.name),
                &row.channels,
                how,
                metrics,
            )?;
        }
    }
    Ok(names)
}

/// A pruned model's card metrics: its validation point (`val/point/…`, the policy at θ or the
/// final head), the unpruned model's (`val/base/…`) and FATE between them — what the app's
/// pruning chart plots.
fn pruned_metrics(p: &OperatingPoint, base: &OperatingPoint) -> BTreeMap<String, f64> {
    let mut m = BTreeMap::new();
    card_keys::insert_against_base(&mut m, p, base);
    m
}

/// The sweep levels shipped: `--ship-levels` that were swept with SNNL selection (0 excluded:
/// that is the base model itself).
fn shipped_levels(settings: &ScpSettings, r: &BaseResult) -> Vec<usize> {
    settings
        .ship_levels
        .iter()
        .copied()
        .filter(|n| *n > 0 && r.sweep.iter().any(|s| s.n == *n && s.selection == "snnl"))
        .collect()
}

fn pct(v: f64) -> String {
    format!("{:.1}", 100.0 * v)
}

/// Writes `results.json`, `results.md` and the SVG plots into `dir`.
fn write_results(dir: &Path, r: &ScpResults) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    std::fs::write(dir.join("results.json"), serde_json::to_vec_pretty(r)?)?;
    std::fs::write(dir.join("results.md"), markdown(r))?;
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
        std::fs::write(dir.join(file), line_chart(title, &x_label, y, &xs, &s))?;
    }
    Ok(())
}

fn point_cells(p: &OperatingPoint) -> String {
    format!(
        "{} | {} | {} | {} | {} | {}",
        pct(p.accuracy),
        pct(p.f1),
        pct(p.eopp0_abs),
        pct(p.eopp1_abs),
        pct(p.eodds_abs),
        pct(p.worst_group_accuracy)
    )
}

/// The report.
fn markdown(r: &ScpResults) -> String {
    let mut s = String::new();
    let mut line = |l: String| {
        s.push_str(&l);
        s.push('\n');
    };
    let st = &r.settings;
    line(format!(
        "# Sensitive channel pruning (SCP) reproduction on SynthDerm{}\n",
        if r.quick {
            " (quick mode: NOT a result)"
        } else {
            ""
        }
    ));
    line(format!("- Command: `{}`", r.command));
    line(format!(
        "- Data: {} training images (scoring and fine-tuning) and {} validation images (SynthDerm training distribution, seeds {} and {}), \
         {} test images (test distribution, seed {TEST_SEED}); sensitive attribute: {}",
        st.train_images, st.val_images, st.seed, st.seed + 1, st.test_images, r.sensitive
    ));
    line(format!(
        "- Layer `{}`, {} mode; scores: {}",
        st.layer,
        match st.mode {
            PruneMode::Mask => "mask (filters zeroed, biases kept, as the SCP code)",
            PruneMode::Remove => "remove (channels physically removed)",
        },
        st.score
    ));
    line(format!(
        "- Fine-tuning after every pruning step: {} epochs, lr {} (constant), batch {}, SGD (Nesterov momentum 0.9, weight decay \
         1e-4), class-balanced sampling, flips/rotations/colour jitter, cross-entropy only (multi-exit models: at every exit), \
         BN-free (the shipped, folded models are fine-tuned as they are)",
        st.fine_tune.epochs, st.fine_tune.lr, st.fine_tune.batch_size
    ));
    line(format!("- Loop: {}.", r.stopping_rule));
    line(
        "- Judged by: the early-exit policy at the model's own θ (multi-exit models) or the final head; FATE = ΔF1/F1 − ΔEOdd/EOdd \
         against the unpruned model (λ = 1, papers.md §3.5)"
            .into(),
    );
    line(format!(
        "- Machine: {}; backend: {}; wall time {:.1} min; finished {}",
        r.machine,
        r.backend,
        r.wall_seconds / 60.0,
        r.finished
    ));
    if !r.shipped.is_empty() {
        line(format!(
            "- Shipped: {}",
            r.shipped
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    line(String::new());
    line("## The loop's models (test split, used once), in %\n".into());
    line("| model | channels pruned | accuracy | F1 | EOpp0 | EOpp1 | EOdd | worst group acc. | FATE | parameters | MACs (full network) |".into());
    line("|---|---|---|---|---|---|---|---|---|---|---|".into());
    for b in &r.bases {
        line(format!(
            "| {} (unpruned) | 0 | {} | – | {} | {:.2} M |",
            b.name,
            point_cells(&b.test_reference),
            b.reference_size.parameters,
            b.reference_size.macs_full as f64 / 1e6
        ));
        line(format!(
            "| {} + SCP loop | {} | {} | {:+.3} | {} | {:.2} M |",
            b.name,
            b.chosen_channels.len(),
            point_cells(&b.chosen_test),
            b.chosen_test_fate,
            b.chosen_size.parameters,
            b.chosen_size.macs_full as f64 / 1e6
        ));
    }
    for b in &r.bases {
        line(format!(
            "\n## {} ({}{})\n",
            b.name,
            b.method,
            if b.multi_exit {
                format!("; early-exit policy at θ = {}", b.theta)
            } else {
                "; final head".into()
            }
        ));
        line("### The loop (validation)\n".into());
        line("| iteration | channels pruned now | total | accuracy | F1 | EOdd | FATE | improved | seconds |".into());
        line("|---|---|---|---|---|---|---|---|---|".into());
        line(format!(
            "| 0 (unpruned) | – | 0 | {} | {} | {} | +0.000 | – | – |",
            pct(b.val_reference.accuracy),
            pct(b.val_reference.f1),
            pct(b.val_reference.eodds_abs)
        ));
        for it in &b.iterations {
            line(format!(
                "| {} | {:?} | {} | {} | {} | {} | {:+.3} | {} | {:.0} |",
                it.iteration,
                it.pruned_now,
                it.pruned_total,
                pct(it.val.accuracy),
                pct(it.val.f1),
                pct(it.val.eodds_abs),
                it.val_fate,
                if it.improved { "yes" } else { "no: stop" },
                it.seconds
            ));
        }
        line("\n### One-shot sweep (validation FATE; test metrics in %)\n".into());
        line("| n | channels | val FATE | accuracy | F1 | EOpp0 | EOpp1 | EOdd | worst group acc. | test FATE | parameters | MACs |".into());
        line("|---|---|---|---|---|---|---|---|---|---|---|---|".into());
        for row in &b.sweep {
            line(format!(
                "| {} | {} | {:+.3} | {} | {:+.3} | {} | {:.3} M |",
                row.n,
                row.selection,
                row.val_fate,
                point_cells(&row.test),
                row.test_fate,
                row.size.parameters,
                row.size.macs_full as f64 / 1e6
            ));
        }
        let mut order: Vec<usize> = (0..b.scores.len()).collect();
        order.sort_by(|&x, &y| b.scores[x].total_cmp(&b.scores[y]));
        let show = |ids: &[usize]| {
            ids.iter()
                .map(|&c| format!("{c} ({:.4})", b.scores[c]))
                .collect::<Vec<_>>()
                .join(", ")
        };
        line(format!(
            "\nSNNL of the unpruned model's channels (training set): lowest {}; highest {}; mean {:.4}.",
            show(&order[..order.len().min(8)]),
            show(&order[order.len().saturating_sub(3)..]),
            b.scores.iter().sum::<f64>() / b.scores.len().max(1) as f64
        ));
    }
    line("\n![F1](sweep_f1.svg) ![EOdd](sweep_eodd.svg)\n![FATE](sweep_fate.svg) ![parameters](sweep_parameters.svg)".into());
    s
}
