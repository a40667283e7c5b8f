//! `fairscreen-train reproduce fme`: the fair multi-exit paper (papers.md §2) on SynthDerm —
//! every training method, θ chosen on validation by a stated rule, one final test report with
//! per-exit accuracy, fairness and SNNL, written as JSON, markdown and SVG plots.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};
use fairscreen_core::card_keys;
use fairscreen_core::exit::{exit_names, ExitNaming};
use fairscreen_core::exit_analysis::{
    exit_points, fate_against, policy_point, select_theta, theta_sweep, OperatingPoint, ThetaPoint,
    ThetaRule, THETA_GRID,
};
use fairscreen_core::format::{AssetIndex, TrainingInfo};
use fairscreen_core::snnl::{batched_snnl, SnnlForm};
use fairscreen_core::ModelConfig;
use fairscreen_synth::SynthConfig;
use serde::{Deserialize, Serialize};

use crate::plot::{line_chart, Series};
use crate::train::{self, Augment, Method, TrainOptions};
use crate::{bench_data, CheckpointMeta};

/// Which paper to reproduce.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum Paper {
    /// Fair multi-exit networks (seed paper 000), papers.md §2.
    Fme,
    /// Sensitive channel pruning with SNNL (seed paper 001), papers.md §3.
    Scp,
}

/// `reproduce` arguments.
#[derive(clap::Args)]
pub struct ReproduceArgs {
    /// The paper.
    #[arg(value_enum)]
    paper: Paper,
    /// Small data and short training: checks the pipeline end to end in about a minute (CI).
    #[arg(long)]
    pub(crate) quick: bool,
    /// Results directory (default `docs/results/<paper>`).
    #[arg(long)]
    pub(crate) out: Option<PathBuf>,
    /// Checkpoint directory, fme: one `<method>.bpk` + `.json` per method (default
    /// `checkpoints/fme`).
    #[arg(long, default_value = "checkpoints/fme")]
    checkpoints: PathBuf,
    /// Ship models into this models directory. fme: the baseline and the selected fair
    /// multi-exit model (`tiny-baseline`, `tiny-fair-me`, the default; the index is rewritten).
    /// scp: the pruned models (removed channels), added to the index.
    #[arg(long)]
    pub(crate) ship_dir: Option<PathBuf>,
    /// Seed: training data and initialisation; validation uses seed + 1, test the test stream 123.
    #[arg(long, default_value_t = 121)]
    pub(crate) seed: u64,
    /// Training images (default 5000, quick 384).
    #[arg(long)]
    pub(crate) train_images: Option<usize>,
    /// Validation images (default 1000, quick 128).
    #[arg(long)]
    pub(crate) val_images: Option<usize>,
    /// Test images (default 1500, quick 256).
    #[arg(long)]
    pub(crate) test_images: Option<usize>,
    /// Epochs (fme: training, default 10, quick 2; scp: fine-tuning per pruning step, default 2,
    /// quick 1).
    #[arg(long)]
    pub(crate) epochs: Option<usize>,
    /// Models trained at the same time (one core each).
    #[arg(long, default_value_t = 2)]
    pub(crate) jobs: usize,
    /// Backend that trains: `cpu` (burn flex) or `wgpu` (a GPU; build with `--features wgpu`).
    #[arg(long, value_enum, default_value = "cpu")]
    backend: train::Backend,
    /// Re-render `results.md` and the plots from an existing `<out>/results.json` (no training).
    #[arg(long)]
    pub(crate) render_only: bool,
    /// scp: the unpruned models, by index name in `--models-dir`.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "tiny-baseline,tiny-fair-me"
    )]
    pub(crate) base_models: Vec<String>,
    /// scp: directory holding the unpruned models.
    #[arg(long, default_value = "www/models")]
    pub(crate) models_dir: PathBuf,
    /// scp: the conv layer to prune (`stages.S.U`; default: the last conv of the final stage).
    #[arg(long)]
    pub(crate) layer: Option<String>,
    /// scp: mask (the SCP code: zero filters, keep biases; exact conversion to removed channels
    /// for the last conv) or remove (physically, from the start; any layer).
    #[arg(long, value_enum, default_value = "mask")]
    pub(crate) mode: crate::scp::PruneMode,
    /// scp: channels pruned per iteration of the FATE loop.
    #[arg(long, default_value_t = 8)]
    pub(crate) step: usize,
    /// scp: most iterations of the FATE loop.
    #[arg(long, default_value_t = 5)]
    pub(crate) max_iterations: usize,
    /// scp: one-shot pruning levels of the sweep (channels).
    #[arg(long, value_delimiter = ',', default_value = "0,4,8,16,32,64")]
    pub(crate) levels: Vec<usize>,
    /// scp: levels also pruned with random channels (the control for SNNL selection).
    #[arg(long, value_delimiter = ',', default_value = "16,64")]
    pub(crate) random_levels: Vec<usize>,
    /// scp: sweep levels of the last base model shipped (with `--ship-dir`) for the app's slider.
    #[arg(long, value_delimiter = ',', default_value = "16,32,64")]
    pub(crate) ship_levels: Vec<usize>,
    /// scp: fine-tuning learning rate (constant; a fifth of the training schedule's last rate, so
    /// that fine-tuning alone leaves the model near its optimum).
    #[arg(long, default_value_t = 0.001)]
    pub(crate) finetune_lr: f64,
}

/// Seed of the test stream (the bundled evaluation subset's stream).
pub(crate) const TEST_SEED: u64 = 123;
/// SNNL batch size (the SCP code's loader batch) and temperature.
const SNNL_BATCH: usize = 128;
const SNNL_TEMPERATURE: f64 = 1.0;

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

/// SynthDerm images of the `tiny` model's input size, grouped by skin (I–III → 0, IV–VI → 1).
pub(crate) fn generate(
    config: &SynthConfig,
    seed: u64,
    count: usize,
    what: &str,
) -> train::Dataset {
    let side = ModelConfig::tiny(crate::class_names()).input_size as u32;
    crate::synth_dataset(config, seed, count, side, what, |m| {
        usize::from(m.skin_type >= 4)
    })
}

/// CPU model name and logical core count.
pub fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!("{cpu}, {cores} logical cores")
}

pub(crate) fn utc_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let days = secs / 86_400;
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    let t = secs % 86_400;
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02} UTC",
        t / 3600,
        (t / 60) % 60
    )
}

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

/// Runs the reproduction.
pub fn cmd_reproduce(a: ReproduceArgs) -> Result<()> {
    match a.paper {
        Paper::Fme => reproduce_fme(a),
        Paper::Scp => crate::reproduce_scp::reproduce_scp(a),
    }
}

fn reproduce_fme(mut a: ReproduceArgs) -> Result<()> {
    let out_dir = a.out.take().unwrap_or_else(|| "docs/results/fme".into());
    if a.render_only {
        let path = out_dir.join("results.json");
        let r: FmeResults = serde_json::from_slice(
            &std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?,
        )
        .with_context(|| format!("parsing {}", path.display()))?;
        write_results(&out_dir, &r)?;
        println!("re-rendered {}", out_dir.display());
        return Ok(());
    }
    let start = Instant::now();
    let q = a.quick;
    let settings = RunSettings {
        train_images: a.train_images.unwrap_or(if q { 384 } else { 5000 }),
        val_images: a.val_images.unwrap_or(if q { 128 } else { 1000 }),
        test_images: a.test_images.unwrap_or(if q { 256 } else { 1500 }),
        epochs: a.epochs.unwrap_or(if q { 2 } else { 10 }),
        lr_step: 7,
        lr: 0.05,
        batch_size: 64,
        seed: a.seed,
        recipe: "SGD (Nesterov momentum 0.9, weight decay 1e-4), class-balanced sampling with replacement \
                 (∝ 1/class count, as the FME code), augmentation: flips, 90° rotations, brightness and \
                 saturation jitter; ME methods: equal exit weights; λ_HSIC = 0.5; MFD α = 0.02, w_m = 5, σ = 0.5; \
                 non-ME methods train the internal exits as probes on detached features"
            .into(),
    };
    let config = ModelConfig::tiny(crate::class_names());
    let data = generate(
        &SynthConfig::train(),
        a.seed,
        settings.train_images,
        "training data",
    );
    let val = generate(
        &SynthConfig::train(),
        a.seed + 1,
        settings.val_images,
        "validation data",
    );
    let test = generate(
        &SynthConfig::test(),
        TEST_SEED,
        settings.test_images,
        "test data",
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
        a.seed,
        settings.train_images,
        a.seed + 1,
        settings.val_images
    );
    // Training: methods in rounds whose models train concurrently (one thread each; burn's CPU
    // backend uses one core per model here). MFD teachers come from an earlier round.
    let jobs = a.jobs.max(1);
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
        ..TrainOptions::new(method, settings.epochs, a.seed, config.num_exits())
    };
    let teacher_of = |m: Method| match m {
        Method::Mfd => Some("baseline"),
        Method::MeMfd => Some("me"),
        _ => None,
    };
    let mut trained: BTreeMap<
        &'static str,
        (fairscreen_core::MultiExitCnn, train::EpochLosses, f64),
    > = BTreeMap::new();
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
                            let r = train::train_model(config, data, &opts, teacher.as_ref());
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
        let v = train::predict_with_features(&model, &config, &val.inputs);
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
        let t = train::predict_with_features(&model, &config, &test.inputs);
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
                seed: a.seed,
                epochs: settings.epochs,
                train_images: settings.train_images,
                command: format!("{} (method {name})", bench_data::invocation()),
            },
            default_theta: theta,
            theta_selection: Some(format!(
                "θ = {theta} chosen {} over {:?}, on {} validation images (seed {})",
                rule.describe(),
                THETA_GRID,
                settings.val_images,
                a.seed + 1
            )),
            sensitive_attributes: vec!["skin".into()],
            metrics,
        };
        let stem = a.checkpoints.join(name);
        train::save_checkpoint(model.clone(), &stem.with_extension("bpk"))?;
        std::fs::write(
            stem.with_extension("json"),
            serde_json::to_vec_pretty(&meta)?,
        )?;
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
        command: bench_data::invocation(),
        quick: a.quick,
        settings,
        machine: machine(),
        backend: match a.backend {
            train::Backend::Cpu => "burn 0.22 flex (CPU), autodiff for training".into(),
            train::Backend::Wgpu => {
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
        let base = crate::export_model(&a.checkpoints.join("baseline"), "tiny-baseline", dir)?;
        let fair = crate::export_model(&a.checkpoints.join(&selected), "tiny-fair-me", dir)?;
        let index = AssetIndex {
            default: fair.name.clone(),
            assets: vec![base, fair],
        };
        std::fs::write(dir.join("index.json"), serde_json::to_vec_pretty(&index)?)?;
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

fn pct(v: f64) -> String {
    format!("{:.1}", 100.0 * v)
}

/// Writes `results.json`, `results.md` and the SVG plots into `dir`.
fn write_results(dir: &Path, r: &FmeResults) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    std::fs::write(dir.join("results.json"), serde_json::to_vec_pretty(r)?)?;
    std::fs::write(dir.join("results.md"), markdown(r))?;
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
        std::fs::write(dir.join(file), svg)?;
    }
    Ok(())
}

/// The report: main table in the paper's layout, per-exit table, θ sweeps, provenance.
fn markdown(r: &FmeResults) -> String {
    let mut s = String::new();
    let push = |s: &mut String, l: String| {
        s.push_str(&l);
        s.push('\n');
    };
    push(
        &mut s,
        format!(
            "# Fair multi-exit reproduction on SynthDerm{}\n",
            if r.quick {
                " (quick mode: NOT a result)"
            } else {
                ""
            }
        ),
    );
    push(&mut s, format!("- Command: `{}`", r.command));
    push(
        &mut s,
        format!(
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
    push(
        &mut s,
        format!(
            "- Training: {} epochs, batch {}, lr {} (×0.1 every {} epochs); {}",
            r.settings.epochs,
            r.settings.batch_size,
            r.settings.lr,
            r.settings.lr_step,
            r.settings.recipe
        ),
    );
    push(
        &mut s,
        format!(
            "- Machine: {}; backend: {}; wall time {:.1} min; finished {}",
            r.machine,
            r.backend,
            r.wall_seconds / 60.0,
            r.finished
        ),
    );
    push(&mut s, format!("- θ rule: {}.", r.theta_rule));
    push(
        &mut s,
        format!(
            "- Shipped fair model: `{}`, chosen as {}.\n",
            r.selected, r.selection_rule
        ),
    );
    push(
        &mut s,
        "## Main table (test split, used once)\n\nMulti-exit methods: the early-exit policy at the θ chosen on validation. \
         Other methods: the final head (their internal exits are probes). Metrics in %, EOpp/EOdd are the FME code's `_abs` \
         forms ×100; FATE against the baseline (λ = 1, F1 = macro F1, fairness = EOdd); compute saved: 1 − mean MACs per image / \
         full network MACs.\n"
            .into(),
    );
    push(
        &mut s,
        "| method | θ | accuracy | precision | recall | F1 | EOpp0 | EOpp1 | EOdd | worst group acc. | FATE | exits used (1/2/3/final %) | compute saved |".into(),
    );
    push(
        &mut s,
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|".into(),
    );
    for m in &r.methods {
        let p = &m.test_main;
        let used: Vec<String> = p.exit_share.iter().map(|v| pct(*v)).collect();
        push(
            &mut s,
            format!(
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {:+.3} | {} | {} % |",
                m.method,
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
                m.test_fate,
                used.join(" / "),
                pct(p.compute_saved)
            ),
        );
    }
    push(
        &mut s,
        "\n## Every exit alone (test)\n\nSNNL: soft nearest neighbour loss of the exit's pooled features w.r.t. the skin group \
         (reference form, T = 1, cosine, batches of 128; higher = the features carry less group information); SCP-code form \
         (self term included) in brackets.\n"
            .into(),
    );
    push(
        &mut s,
        "| method | exit | accuracy | F1 | EOpp0 | EOpp1 | EOdd | acc. I–III | acc. IV–VI | SNNL |"
            .into(),
    );
    push(&mut s, "|---|---|---|---|---|---|---|---|---|---|".into());
    for m in &r.methods {
        let names = exit_names(ExitNaming::Short, m.test_exits.len());
        for (e, p) in m.test_exits.iter().enumerate() {
            push(
                &mut s,
                format!(
                    "| {} | {}{} | {} | {} | {} | {} | {} | {} | {} | {:.4} ({:.4}) |",
                    m.method,
                    names[e],
                    if !m.multi_exit && e + 1 < m.test_exits.len() {
                        " (probe)"
                    } else {
                        ""
                    },
                    pct(p.accuracy),
                    pct(p.f1),
                    pct(p.eopp0_abs),
                    pct(p.eopp1_abs),
                    pct(p.eodds_abs),
                    pct(p.group_accuracy[0]),
                    pct(p.group_accuracy[1]),
                    m.test_snnl[e],
                    m.test_snnl_scp_code[e]
                ),
            );
        }
    }
    push(
        &mut s,
        "\n## θ sweep (validation)\n\nEligible: accuracy within the rule's tolerance of the final exit alone; score: FATE-style \
         score against the final exit alone. ✔ marks the chosen θ.\n"
            .into(),
    );
    push(
        &mut s,
        "| method | θ | accuracy | F1 | EOdd | exits used (1/2/3/final %) | compute saved | score | eligible |".into(),
    );
    push(&mut s, "|---|---|---|---|---|---|---|---|---|".into());
    for m in r.methods.iter().filter(|m| m.multi_exit) {
        for p in &m.val_sweep {
            let used: Vec<String> = p.point.exit_share.iter().map(|v| pct(*v)).collect();
            push(
                &mut s,
                format!(
                    "| {} | {}{} | {} | {} | {} | {} | {} % | {:+.3} | {} |",
                    m.method,
                    p.theta,
                    if p.theta == m.theta { " ✔" } else { "" },
                    pct(p.point.accuracy),
                    pct(p.point.f1),
                    pct(p.point.eodds_abs),
                    used.join(" / "),
                    pct(p.point.compute_saved),
                    p.score,
                    if p.eligible { "yes" } else { "no" }
                ),
            );
        }
    }
    push(
        &mut s,
        "\n## Training\n\n| method | seconds | loss per exit, first → last epoch | validation FATE vs baseline |".into(),
    );
    push(&mut s, "|---|---|---|---|".into());
    for m in &r.methods {
        let first = m.loss_history.first().cloned().unwrap_or_default();
        let last = m.loss_history.last().cloned().unwrap_or_default();
        let pairs: Vec<String> = first
            .iter()
            .zip(&last)
            .map(|(a, b)| format!("{a:.3}→{b:.3}"))
            .collect();
        push(
            &mut s,
            format!(
                "| {} | {:.0} | {} | {:+.3} |",
                m.method,
                m.train_seconds,
                pairs.join(", "),
                m.val_fate
            ),
        );
    }
    push(
        &mut s,
        "\n![accuracy per exit](per_exit_accuracy.svg) ![EOdd per exit](per_exit_eodd.svg)\n\
         ![worst group per exit](per_exit_worst_group.svg) ![SNNL per exit](per_exit_snnl.svg)\n\
         ![θ sweep](theta_sweep.svg)"
            .into(),
    );
    s
}
