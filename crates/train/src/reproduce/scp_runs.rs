//! The runs of `reproduce scp`: the unpruned models it starts from, and each pruning run —
//! prune, fine-tune, evaluate — as a one-shot level of the sweep or the FATE loop, several at a
//! time.

use std::path::Path;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use fairscreen_core::exit_analysis::{fate_against, OperatingPoint};
use fairscreen_core::format::{read_model, ModelCard};
use fairscreen_core::snnl::SnnlForm;
use fairscreen_core::ConvLayer;

use super::scp_report::{IterationRow, SweepRow};
use super::shared::Splits;
use crate::artifacts::read_index;
use crate::pruning::{
    channel_scores, fine_tune, operating_point, FineTune, HostModel, ModelSize, PruneMode,
    PruneState,
};
use crate::training::Dataset;

/// An unpruned model the reproduction starts from.
pub struct Base {
    /// Its index name.
    pub name: String,
    /// Its card.
    pub card: ModelCard,
    /// The model as shipped.
    pub model: HostModel,
    /// Judged by its early-exit policy (multi-exit methods) or its final head.
    pub multi_exit: bool,
}

/// Loads the unpruned model `name` of the models directory `dir`.
pub fn load_base(dir: &Path, name: &str) -> Result<Base> {
    let index = read_index(dir)?;
    let entry = index
        .assets
        .iter()
        .find(|e| e.name == name)
        .with_context(|| format!("{name} is not in {}", dir.join("index.json").display()))?;
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
pub type LoopOutcome = Result<(Vec<IterationRow>, PruneState)>;

/// A unit of work for [`in_parallel`].
pub type Task<'a, T> = Box<dyn FnOnce() -> T + Send + 'a>;

/// Runs `jobs` closures at a time on scoped threads, results in order.
pub fn in_parallel<T: Send>(jobs: usize, tasks: Vec<Task<'_, T>>) -> Vec<T> {
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

/// What every pruning run of one reproduction shares.
pub struct Ctx<'a> {
    /// The data.
    pub splits: &'a Splits,
    /// Fine-tuning after each pruning step.
    pub schedule: FineTune,
    /// The pruned layer.
    pub layer: ConvLayer,
    /// Mask or remove.
    pub mode: PruneMode,
    /// Progress bars of runs that go on at the same time.
    pub multi: indicatif::MultiProgress,
}

impl Ctx<'_> {
    /// The operating point `base` is judged by, of `model` on `d`.
    pub fn point(&self, base: &Base, model: &HostModel, d: &Dataset) -> Result<OperatingPoint> {
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
    pub fn sweep_row(
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
    pub fn fate_loop(
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
