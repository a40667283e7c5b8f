//! `fairscreen-train reproduce fme`: the fair multi-exit paper (papers.md §2) on SynthDerm —
//! every training method, θ chosen on validation by a stated rule, one final test report with
//! per-exit accuracy, fairness and SNNL, written as JSON, markdown and SVG plots.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result};
use fairscreen_core::card_keys;
use fairscreen_core::exit_analysis::{
    exit_points, fate_against, policy_point, select_theta, theta_sweep, ThetaRule, THETA_GRID,
};
use fairscreen_core::format::{AssetIndex, TrainingInfo};
use fairscreen_core::snnl::{batched_snnl, SnnlForm};
use fairscreen_core::{ModelConfig, MultiExitCnn};

use super::fme_report::{write_results, FmeResults, MethodResult, RunSettings};
use super::shared::{rerender, theta_selection_note, SharedArgs, Splits};
use crate::artifacts::{export_model, write_index};
use crate::provenance::{invocation, machine, utc_now};
use crate::synth_data::class_names;
use crate::training::{self, Augment, CheckpointMeta, Method, TrainOptions};

/// `fairscreen-train reproduce fme`.
#[derive(clap::Args)]
pub struct FmeArgs {
    /// Options of every reproduction.
    #[command(flatten)]
    shared: SharedArgs,
    /// Checkpoint directory: one `<method>.bpk` + `.json` per method.
    #[arg(long, default_value = "checkpoints/fme")]
    checkpoints: PathBuf,
    /// Ship the baseline and the selected fair multi-exit model into this models directory
    /// (`tiny-baseline`, `tiny-fair-me`, the default; the index is rewritten).
    #[arg(long)]
    ship_dir: Option<PathBuf>,
    /// Training epochs (default 10, quick 2).
    #[arg(long)]
    epochs: Option<usize>,
    /// Backend that trains: `cpu` (burn flex) or `wgpu` (a GPU; build with `--features wgpu`).
    #[arg(long, value_enum, default_value = "cpu")]
    backend: training::Backend,
}

/// SNNL batch size (the SCP code's loader batch).
const SNNL_BATCH: usize = 128;
/// SNNL temperature.
const SNNL_TEMPERATURE: f64 = 1.0;

/// The method's name on the command line and in the results.
fn method_name(m: Method) -> &'static str {
    match m {
        Method::Baseline => "baseline",
        Method::Me => "me",
        Method::Hsic => "hsic",
        Method::MeHsic => "me-hsic",
        Method::Mfd => "mfd",
        Method::MeMfd => "me-mfd",
    }
}

/// Runs `reproduce fme`.
pub fn run(a: FmeArgs) -> Result<()> {
    let out_dir = a.shared.out_dir("fme");
    if a.shared.render_only {
        return rerender(&out_dir, write_results);
    }
    let start = Instant::now();
    let q = a.shared.quick;
    let seed = a.shared.seed;
    let settings = RunSettings {
        train_images: a.shared.train_images.unwrap_or(if q { 384 } else { 5000 }),
        val_images: a.shared.val_images.unwrap_or(if q { 128 } else { 1000 }),
        test_images: a.shared.test_images.unwrap_or(if q { 256 } else { 1500 }),
        epochs: a.epochs.unwrap_or(if q { 2 } else { 10 }),
        lr_step: 7,
        lr: 0.05,
        batch_size: 64,
        seed,
        recipe: "SGD (Nesterov momentum 0.9, weight decay 1e-4), class-balanced sampling with replacement \
                 (∝ 1/class count, as the FME code), augmentation: flips, 90° rotations, brightness and \
                 saturation jitter; ME methods: equal exit weights; λ_HSIC = 0.5; MFD α = 0.02, w_m = 5, σ = 0.5; \
                 non-ME methods train the internal exits as probes on detached features"
            .into(),
    };
    let config = ModelConfig::tiny(class_names());
    let Splits {
        train: data,
        val,
        test,
    } = Splits::generate(
        seed,
        settings.train_images,
        settings.val_images,
        settings.test_images,
    );
    std::fs::create_dir_all(&a.checkpoints)
        .with_context(|| format!("creating {}", a.checkpoints.display()))?;
    let rule = ThetaRule::default();
    let methods = [
        Method::Baseline,
        Method::Me,
        Method::Hsic,
        Method::MeHsic,
        Method::Mfd,
        Method::MeMfd,
    ];
    let data_description = format!(
        "SynthDerm ({}; training seed {}, {} images, default knobs; validation seed {}, {} images)",
        fairscreen_synth::GENERATOR_VERSION,
        seed,
        settings.train_images,
        seed + 1,
        settings.val_images
    );
    // Training: methods in rounds whose models train concurrently (one thread each; burn's CPU
    // backend uses one core per model here). MFD teachers come from an earlier round.
    let jobs = a.shared.jobs.max(1);
    let multi = indicatif::MultiProgress::new();
    let make_opts = |method: Method| TrainOptions {
        batch_size: settings.batch_size,
        lr: settings.lr,
        lr_step: settings.lr_step,
        class_balanced: true,
        augment: Augment::Full,
        progress: Some(multi.clone()),
        label: method_name(method).to_string(),
        backend: a.backend,
        ..TrainOptions::new(method, settings.epochs, seed, config.num_exits())
    };
    let teacher_of = |m: Method| match m {
        Method::Mfd => Some("baseline"),
        Method::MeMfd => Some("me"),
        _ => None,
    };
    let mut trained: BTreeMap<&'static str, (MultiExitCnn, training::EpochLosses, f64)> =
        BTreeMap::new();
    let rounds: [&[Method]; 3] = [
        &[Method::Baseline, Method::Me],
        &[Method::Hsic, Method::MeHsic],
        &[Method::Mfd, Method::MeMfd],
    ];
    for round in rounds {
        for chunk in round.chunks(jobs) {
            let outcomes = std::thread::scope(|scope| {
                let handles: Vec<_> = chunk
                    .iter()
                    .map(|&method| {
                        let opts = make_opts(method);
                        let teacher = teacher_of(method).map(|t| trained[t].0.clone());
                        let (config, data) = (&config, &data);
                        scope.spawn(move || {
                            let t0 = Instant::now();
                            let r = training::train_model(config, data, &opts, teacher.as_ref());
                            (method, r, t0.elapsed().as_secs_f64())
                        })
                    })
                    .collect();
                handles
                    .into_iter()
                    .map(|h| h.join().expect("training thread panicked"))
                    .collect::<Vec<_>>()
            });
            for (method, r, secs) in outcomes {
                let (model, history) = r?;
                eprintln!("trained {} in {secs:.0} s", method_name(method));
                trained.insert(method_name(method), (model, history, secs));
            }
        }
    }

    let mut results: Vec<MethodResult> = Vec::new();
    for &method in &methods {
        let name = method_name(method);
        let opts = make_opts(method);
        let teacher_name = teacher_of(method);
        let (model, history, train_seconds) = trained[name].clone();
        let v = training::predict_with_features(&model, &config, &val.inputs);
        let val_exits = exit_points(&config, &v.logits, &val.labels, &val.groups);
        let val_sweep = theta_sweep(
            &config,
            &v.logits,
            &val.labels,
            &val.groups,
            &THETA_GRID,
            &rule,
        );
        let chosen = select_theta(&val_sweep).expect("non-empty grid");
        let theta = val_sweep[chosen].theta;
        let val_main = if method.all_exits() {
            val_sweep[chosen].point.clone()
        } else {
            val_exits.last().expect("final exit").clone()
        };

        // The test split: evaluated once per model, for the report only.
        let t = training::predict_with_features(&model, &config, &test.inputs);
        let test_exits = exit_points(&config, &t.logits, &test.labels, &test.groups);
        let test_policy = policy_point(&config, &t.logits, &test.labels, &test.groups, theta);
        let test_main = if method.all_exits() {
            test_policy.clone()
        } else {
            test_exits.last().expect("final exit").clone()
        };
        let snnl_of = |form| -> Vec<f64> {
            t.features
                .iter()
                .zip(&t.feature_dims)
                .map(|(f, &d)| {
                    batched_snnl(f, d, &test.groups, SNNL_BATCH, SNNL_TEMPERATURE, form)
                        .unwrap_or(f64::NAN)
                })
                .collect()
        };
        let (val_fate, test_fate) = match results.first() {
            Some(base) => (
                fate_against(&val_main, base.val_exits.last().expect("final")),
                fate_against(&test_main, base.test_exits.last().expect("final")),
            ),
            None => (
                fate_against(&val_main, val_exits.last().expect("final")),
                fate_against(&test_main, test_exits.last().expect("final")),
            ),
        };
        let description = method.describe(&opts);
        let mut metrics = BTreeMap::new();
        for (e, p) in val_exits.iter().enumerate() {
            metrics.insert(card_keys::exit_accuracy(e), p.accuracy);
            metrics.insert(card_keys::exit_eodds_abs(e), p.eodds_abs);
        }
        for p in &val_sweep {
            metrics.insert(card_keys::sweep_accuracy(p.theta), p.point.accuracy);
            metrics.insert(card_keys::sweep_eodds_abs(p.theta), p.point.eodds_abs);
            metrics.insert(
                card_keys::sweep_compute_saved(p.theta),
                p.point.compute_saved,
            );
        }
        metrics.insert(
            card_keys::THETA_ACCURACY.into(),
            val_sweep[chosen].point.accuracy,
        );
        metrics.insert(card_keys::TRAIN_SECONDS.into(), train_seconds);
        let meta = CheckpointMeta {
            config: config.clone(),
            training: TrainingInfo {
                method: description.clone(),
                data: data_description.clone(),
                seed,
                epochs: settings.epochs,
                train_images: settings.train_images,
                command: format!("{} (method {name})", invocation()),
            },
            default_theta: theta,
            theta_selection: Some(theta_selection_note(
                theta,
                &rule,
                settings.val_images,
                seed + 1,
            )),
            sensitive_attributes: vec!["skin".into()],
            metrics,
        };
        let stem = a.checkpoints.join(name);
        training::save_checkpoint(model.clone(), &stem.with_extension("bpk"))?;
        meta.save(&stem)?;
        eprintln!(
            "  {name}: {train_seconds:.0} s; θ = {theta}; test accuracy {:.3}, F1 {:.3}, EOdd {:.4}, compute saved {:.1} %",
            test_main.accuracy,
            test_main.f1,
            test_main.eodds_abs,
            100.0 * test_main.compute_saved
        );
        results.push(MethodResult {
            method: name.into(),
            description,
            multi_exit: method.all_exits(),
            teacher: teacher_name.map(|t| a.checkpoints.join(t).display().to_string()),
            train_seconds,
            loss_history: history,
            val_exits,
            val_sweep,
            theta,
            test_exits,
            test_policy,
            test_main,
            test_fate,
            val_fate,
            test_snnl: snnl_of(SnnlForm::Reference),
            test_snnl_scp_code: snnl_of(SnnlForm::ScpCode),
        });
    }
    let selection_rule = "the multi-exit method (me, me-hsic, me-mfd) whose early-exit policy at its θ has \
                          the highest FATE on validation against the baseline's final head (ΔF1/F1 − ΔEOdd/EOdd)"
        .to_string();
    let selected = results
        .iter()
        .filter(|r| r.multi_exit)
        .max_by(|x, y| x.val_fate.total_cmp(&y.val_fate))
        .map(|r| r.method.clone())
        .expect("multi-exit methods ran");
    let wall_seconds = start.elapsed().as_secs_f64();
    let out = FmeResults {
        command: invocation(),
        quick: q,
        settings,
        machine: machine(),
        backend: match a.backend {
            training::Backend::Cpu => "burn 0.22 flex (CPU), autodiff for training".into(),
            training::Backend::Wgpu => {
                "burn 0.22 wgpu (GPU) with autodiff for training; evaluation on flex (CPU)".into()
            }
        },
        wall_seconds,
        finished: utc_now(),
        sensitive: "skin group: Fitzpatrick I–III (0) vs IV–VI (1)".into(),
        theta_rule: rule.describe(),
        selection_rule,
        selected: selected.clone(),
        methods: results,
    };
    write_results(&out_dir, &out)?;
    if let Some(dir) = &a.ship_dir {
        let base = export_model(&a.checkpoints.join("baseline"), "tiny-baseline", dir)?;
        let fair = export_model(&a.checkpoints.join(&selected), "tiny-fair-me", dir)?;
        let index = AssetIndex {
            default: fair.name.clone(),
            assets: vec![base, fair],
        };
        write_index(dir, &index)?;
        println!(
            "shipped tiny-baseline and tiny-fair-me ({selected}) to {}",
            dir.display()
        );
    }
    println!(
        "reproduce fme finished in {:.1} min; results in {}",
        wall_seconds / 60.0,
        out_dir.display()
    );
    Ok(())
}
