//! `fairscreen-train reproduce scp`: sensitive channel pruning (papers.md §3) of the shipped models
//! on SynthDerm — a one-shot sweep of the number of pruned channels (with a random-channel
//! control), the iterative loop that prunes while FATE on validation improves, one test report,
//! and the pruned models (channels physically removed) shipped to the app.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use fairscreen_core::card_keys;
use fairscreen_core::exit_analysis::{fate_against, OperatingPoint};
use fairscreen_core::format::PruningInfo;
use fairscreen_core::snnl::SnnlForm;
use fairscreen_core::ConvLayer;

use super::scp_report::{write_results, BaseResult, ScpResults, ScpSettings, SweepRow};
use super::scp_runs::{in_parallel, load_base, Base, Ctx, LoopOutcome, Task};
use super::shared::{rerender, SharedArgs, Splits};
use crate::artifacts::{update_index, write_model_asset};
use crate::provenance::{invocation, machine, utc_now};
use crate::pruning::{
    channel_scores, fine_tune, FineTune, HostModel, ModelSize, PruneMode, PruneState,
};

/// `fairscreen-train reproduce scp`.
#[derive(clap::Args)]
pub struct ScpArgs {
    /// Options of every reproduction.
    #[command(flatten)]
    shared: SharedArgs,
    /// Ship the pruned models (removed channels) into this models directory, added to its index.
    #[arg(long)]
    ship_dir: Option<PathBuf>,
    /// Fine-tuning epochs per pruning step (default 2, quick 1).
    #[arg(long)]
    epochs: Option<usize>,
    /// The unpruned models, by index name in `--models-dir`.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "tiny-baseline,tiny-fair-me"
    )]
    base_models: Vec<String>,
    /// Directory holding the unpruned models.
    #[arg(long, default_value = "www/models")]
    models_dir: PathBuf,
    /// The conv layer to prune (`stages.S.U`; default: the last conv of the final stage).
    #[arg(long)]
    layer: Option<String>,
    /// mask (the SCP code: zero filters, keep biases; exact conversion to removed channels for
    /// the last conv) or remove (physically, from the start; any layer).
    #[arg(long, value_enum, default_value = "mask")]
    mode: PruneMode,
    /// Channels pruned per iteration of the FATE loop.
    #[arg(long, default_value_t = 8)]
    step: usize,
    /// Most iterations of the FATE loop.
    #[arg(long, default_value_t = 5)]
    max_iterations: usize,
    /// One-shot pruning levels of the sweep (channels).
    #[arg(long, value_delimiter = ',', default_value = "0,4,8,16,32,64")]
    levels: Vec<usize>,
    /// Levels also pruned with random channels (the control for SNNL selection).
    #[arg(long, value_delimiter = ',', default_value = "16,64")]
    random_levels: Vec<usize>,
    /// Sweep levels of the last base model shipped (with `--ship-dir`) for the app's slider.
    #[arg(long, value_delimiter = ',', default_value = "16,32,64")]
    ship_levels: Vec<usize>,
    /// Fine-tuning learning rate (constant; a fifth of the training schedule's last rate, so
    /// that fine-tuning alone leaves the model near its optimum).
    #[arg(long, default_value_t = 0.001)]
    finetune_lr: f64,
}

/// Runs `reproduce scp`.
pub fn run(a: ScpArgs) -> Result<()> {
    let out_dir = a.shared.out_dir("scp");
    if a.shared.render_only {
        return rerender(&out_dir, write_results);
    }
    let seed = a.shared.seed;
    let start = Instant::now();
    let q = a.shared.quick;
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
        train_images: a.shared.train_images.unwrap_or(if q { 256 } else { 5000 }),
        val_images: a.shared.val_images.unwrap_or(if q { 128 } else { 1000 }),
        test_images: a.shared.test_images.unwrap_or(if q { 128 } else { 1500 }),
        seed,
        fine_tune: FineTune {
            epochs: a.epochs.unwrap_or(if q { 1 } else { 2 }),
            lr: a.finetune_lr,
            batch_size: 64,
            seed,
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
            crate::pruning::SCORE_TEMPERATURE,
            crate::pruning::SCORE_BATCH
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
    let splits = Splits::generate(
        seed,
        settings.train_images,
        settings.val_images,
        settings.test_images,
    );
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
    for r in in_parallel(a.shared.jobs, tasks) {
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
    let loops = in_parallel(a.shared.jobs, loop_tasks);

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
        command: invocation(),
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
        card.training.command = format!("{} (pruned from {})", invocation(), b.name);
        card.theta_selection = Some(inherited_theta_note(b));
        card.pruning = Some(PruningInfo {
            base: b.name.clone(),
            layer: settings.layer.clone(),
            channels: channels.to_vec(),
            base_width: ctx.layer.width(&b.model.config),
            method: how,
        });
        let entry = write_model_asset(card, &model.tensors, dir)?;
        update_index(dir, entry)?;
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

/// Why a pruned model's θ is its base's, for its card (`theta_selection`).
fn inherited_theta_note(b: &Base) -> String {
    let why = if b.multi_exit {
        "the SCP reproduction judges every pruned level (sweep, FATE loop, shipped levels) by the early-exit \
         policy at the unpruned model's θ, so that a change in accuracy or fairness is the pruning's and not the \
         threshold's, and FATE compares like with like"
    } else {
        "the SCP reproduction judges this model by its final head, as its unpruned model (not trained for early \
         exit), so θ plays no part in how it was chosen"
    };
    let base_note = b
        .card
        .theta_selection
        .as_deref()
        .unwrap_or("set by hand, not selected");
    format!(
        "θ = {} inherited from {}, not re-selected after pruning: {why}. {}'s θ: {base_note}",
        b.card.default_theta, b.name, b.name
    )
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
