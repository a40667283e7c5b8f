//! `fairscreen-train quantize`: int8 twins (symmetric per-output-channel weights, f32 scales and
//! biases) and f16 twins of the f32 models of a models directory, their cards re-measured on
//! validation, and the report that puts f32 and each twin side by side — file size, accuracy and
//! per-group fairness on the bundled evaluation subset and the SynthDerm test split, and how far
//! the logits move.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use burn::tensor::FloatDType;
use fairscreen_core::bundle::read_eval_bundle;
use fairscreen_core::card_keys;
use fairscreen_core::exit::ExitLogits;
use fairscreen_core::exit_analysis::{exit_points, skin_groups, OperatingPoint};
use fairscreen_core::format::{read_model, write_model, ModelCard};
use fairscreen_core::preprocess::to_input;
use fairscreen_core::quant::{F16, F32, INT8_PER_CHANNEL};
use fairscreen_synth::SynthConfig;
use serde::{Deserialize, Serialize};

use crate::artifacts::{read_index, write_index, write_model_asset};
use crate::provenance::{invocation, machine, utc_now};
use crate::pruning::{point_of_logits, HostModel};
use crate::report::{ResultsDir, Table};
use crate::synth_data::{generate, TEST_SEED};
use crate::training::{self, Dataset};

/// `quantize` arguments.
#[derive(clap::Args)]
pub struct QuantizeArgs {
    /// Models directory with `index.json`; every f32 model in it gets an int8 twin `<name>-int8`
    /// and an f16 twin `<name>-f16` (except the baselines shipped with a fine-tuned model).
    #[arg(long, default_value = "www/models")]
    models_dir: PathBuf,
    /// The evaluation bundle for the report.
    #[arg(long, default_value = "www/eval/synthderm-test.safetensors")]
    data: PathBuf,
    /// Report directory.
    #[arg(long, default_value = "docs/results/quant")]
    out: PathBuf,
    /// Index default afterwards (an int8 name; the app loads it first).
    #[arg(long, default_value = "tiny-fair-me-int8")]
    default: String,
    /// Validation images (SynthDerm training distribution, seed + 1) for the int8 cards' metrics.
    #[arg(long, default_value_t = 1000)]
    val_images: usize,
    /// Test images (test distribution, seed 123) for the report.
    #[arg(long, default_value_t = 1500)]
    test_images: usize,
    /// Seed of the training run (validation uses seed + 1).
    #[arg(long, default_value_t = 121)]
    seed: u64,
}

/// A reduced-precision twin of an f32 model.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Twin {
    /// Per-channel int8 weights, dequantized to f32 at load.
    Int8,
    /// f16 tensors, computed in f16 (as on a WebGPU adapter with `shader-f16`).
    F16,
}

impl Twin {
    /// Both twins, in the report's order.
    pub const ALL: [Twin; 2] = [Twin::Int8, Twin::F16];

    /// Name suffix and short label (`int8`, `f16`).
    pub fn label(self) -> &'static str {
        match self {
            Twin::Int8 => "int8",
            Twin::F16 => "f16",
        }
    }

    /// The card's `quantization` value.
    fn quantization(self) -> &'static str {
        match self {
            Twin::Int8 => INT8_PER_CHANNEL,
            Twin::F16 => F16,
        }
    }

    /// Precision the twin is evaluated in (f16 files: the f16-compute path, the one that moves
    /// further from f32; elsewhere they are widened to f32).
    fn compute(self) -> FloatDType {
        match self {
            Twin::Int8 => FloatDType::F32,
            Twin::F16 => FloatDType::F16,
        }
    }

    /// `<name>-<label>`.
    fn name_of(self, name: &str) -> String {
        format!("{name}-{}", self.label())
    }
}

/// f32 vs one twin on one split.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SplitComparison {
    /// Split name.
    pub split: String,
    /// Images.
    pub images: usize,
    /// The f32 model's operating point.
    pub f32: OperatingPoint,
    /// The twin's.
    pub twin: OperatingPoint,
    /// Largest |Δ logit| over every image and exit.
    pub max_logit_diff: f64,
    /// Share of images whose policy prediction differs.
    pub changed_predictions: f64,
    /// f16 twins: largest |Δ logit| when the f16 weights are widened and computed in f32 (the
    /// CPU backend and WebGPU adapters without `shader-f16`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub widened_max_logit_diff: Option<f64>,
}

/// One model and one of its twins.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ModelComparison {
    /// f32 name.
    pub model: String,
    /// `int8` or `f16`.
    pub precision: String,
    /// Twin name.
    pub twin_model: String,
    /// Precision the twin was evaluated in (`F32` or `F16`).
    pub compute: String,
    /// f32 file bytes.
    pub f32_bytes: usize,
    /// Twin file bytes.
    pub twin_bytes: usize,
    /// Judged by the early-exit policy at θ (multi-exit) or the final head.
    pub multi_exit: bool,
    /// θ.
    pub theta: f32,
    /// Bundled subset and test split.
    pub splits: Vec<SplitComparison>,
}

/// The whole report.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct QuantReport {
    /// Command line.
    pub command: String,
    /// CPU and cores.
    pub machine: String,
    /// UTC end time.
    pub finished: String,
    /// Wall time in seconds.
    pub wall_seconds: f64,
    /// Goals checked.
    pub goals: String,
    /// Per model and twin.
    pub models: Vec<ModelComparison>,
}

fn multi_exit(card: &ModelCard) -> bool {
    card.training.method.starts_with("me")
}

fn bundle_dataset(path: &Path, card: &ModelCard) -> Result<Dataset> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let bundle = read_eval_bundle(&bytes).with_context(|| format!("reading {}", path.display()))?;
    if bundle.card.side as usize != card.config.input_size {
        bail!(
            "{} holds {} px images, the models need {} px",
            path.display(),
            bundle.card.side,
            card.config.input_size
        );
    }
    Ok(Dataset {
        inputs: (0..bundle.len())
            .map(|i| to_input(&bundle.rgb_image(i), &card.config))
            .collect(),
        labels: bundle.labels.iter().map(|&l| l as usize).collect(),
        groups: skin_groups(&bundle.skin_types),
    })
}

/// Per-sample exit logits of `model` computed in `dtype` on the CPU backend.
fn logits_in(model: &HostModel, dtype: FloatDType, inputs: &[Vec<f32>]) -> Result<ExitLogits> {
    let module = model.module_in(dtype)?;
    Ok(training::predict_with_features(&module, &model.config, inputs).logits)
}

fn max_diff(a: &ExitLogits, b: &ExitLogits) -> f64 {
    let mut worst = 0.0f64;
    for (x, y) in a.iter().zip(b) {
        for (ex, ey) in x.iter().zip(y) {
            for (p, q) in ex.iter().zip(ey) {
                worst = worst.max(f64::from((p - q).abs()));
            }
        }
    }
    worst
}

fn compare(
    name: &str,
    card: &ModelCard,
    twin: Twin,
    a: &HostModel,
    b: &HostModel,
    d: &Dataset,
) -> Result<SplitComparison> {
    let me = multi_exit(card);
    let theta = card.default_theta;
    let la = logits_in(a, FloatDType::F32, &d.inputs)?;
    let lb = logits_in(b, twin.compute(), &d.inputs)?;
    let point = |l: &ExitLogits| point_of_logits(&a.config, l, me, theta, &d.labels, &d.groups);
    let widened_max_logit_diff = match twin {
        Twin::F16 => Some(max_diff(&la, &logits_in(b, FloatDType::F32, &d.inputs)?)),
        Twin::Int8 => None,
    };
    let changed = la
        .iter()
        .zip(&lb)
        .filter(|(x, y)| {
            let t = if me { theta } else { f32::INFINITY };
            fairscreen_core::exit_policy(x, t).class != fairscreen_core::exit_policy(y, t).class
        })
        .count();
    Ok(SplitComparison {
        split: name.into(),
        images: d.labels.len(),
        f32: point(&la),
        twin: point(&lb),
        max_logit_diff: max_diff(&la, &lb),
        changed_predictions: changed as f64 / d.labels.len().max(1) as f64,
        widened_max_logit_diff,
    })
}

/// The card metrics every twin carries, measured on validation in the twin's compute precision.
fn twin_metrics(
    card: &ModelCard,
    twin: Twin,
    model: &HostModel,
    val: &Dataset,
    base_point: Option<&OperatingPoint>,
) -> Result<(BTreeMap<String, f64>, OperatingPoint)> {
    let logits = logits_in(model, twin.compute(), &val.inputs)?;
    let point = point_of_logits(
        &model.config,
        &logits,
        multi_exit(card),
        card.default_theta,
        &val.labels,
        &val.groups,
    );
    let mut m = BTreeMap::new();
    for (e, p) in exit_points(&model.config, &logits, &val.labels, &val.groups)
        .iter()
        .enumerate()
    {
        m.insert(card_keys::exit_accuracy(e), p.accuracy);
        m.insert(card_keys::exit_eodds_abs(e), p.eodds_abs);
    }
    match base_point {
        Some(b) => card_keys::insert_against_base(&mut m, &point, b),
        None => card_keys::POINT.insert(&mut m, &point),
    }
    Ok((m, point))
}

/// Runs the command.
pub fn run(a: QuantizeArgs) -> Result<()> {
    let start = Instant::now();
    let mut index = read_index(&a.models_dir)?;
    let mut sources = Vec::new();
    for entry in &index.assets {
        let path = a.models_dir.join(&entry.file);
        let file = read_model(
            &std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?,
        )
        .with_context(|| path.display().to_string())?;
        // A baseline shipped to be compared with a fine-tuned model stays f32 like the model
        // it is compared with.
        let baseline = file
            .card
            .fine_tuning
            .as_ref()
            .is_some_and(|f| f.baseline_of.is_some());
        if file.card.quantization == F32 && !baseline {
            sources.push((entry.clone(), file));
        }
    }
    if sources.is_empty() {
        bail!(
            "{} lists no f32 model to quantize",
            a.models_dir.join("index.json").display()
        );
    }
    // Unpruned models first, so a pruned model's twin base is measured before it.
    sources.sort_by_key(|(_, f)| f.card.pruning.is_some());
    let config0 = sources[0].1.card.clone();
    let val = generate(
        &SynthConfig::train(),
        a.seed + 1,
        a.val_images,
        "validation data",
    );
    let test = generate(&SynthConfig::test(), TEST_SEED, a.test_images, "test data");
    let subset = bundle_dataset(&a.data, &config0)?;
    let mut points: BTreeMap<String, OperatingPoint> = BTreeMap::new();
    let mut report = Vec::new();
    for twin in Twin::ALL {
        for (entry, file) in &sources {
            let f32_model = HostModel {
                config: file.card.config.clone(),
                tensors: file.tensors.clone(),
            };
            let twin_name = twin.name_of(&entry.name);
            let mut card = file.card.clone();
            card.name = twin_name.clone();
            card.quantization = twin.quantization().into();
            card.quantized_from = Some(entry.name.clone());
            if let Some(p) = &mut card.pruning {
                p.base = twin.name_of(&p.base);
            }
            let bytes = write_model(card.clone(), &file.tensors)?;
            let reread = read_model(&bytes).map_err(|e| anyhow::anyhow!("{twin_name}: {e}"))?;
            let twin_model = HostModel {
                config: reread.card.config.clone(),
                tensors: reread.tensors,
            };
            let base_point = card.pruning.as_ref().and_then(|p| points.get(&p.base));
            let (metrics, point) = twin_metrics(&card, twin, &twin_model, &val, base_point)?;
            points.insert(twin_name.clone(), point);
            card.metrics = metrics;
            let written = write_model_asset(card.clone(), &file.tensors, &a.models_dir)?;
            let mut splits = Vec::new();
            for (split, data) in [
                ("bundled evaluation subset", &subset),
                ("SynthDerm test split", &test),
            ] {
                splits.push(compare(split, &card, twin, &f32_model, &twin_model, data)?);
            }
            for s in &splits {
                println!(
                    "{twin_name} on the {}: accuracy {:.4} → {:.4}, EOdd {:.4} → {:.4}, max |Δ logit| {:.2e}, {:.2} % predictions changed",
                    s.split,
                    s.f32.accuracy,
                    s.twin.accuracy,
                    s.f32.eodds_abs,
                    s.twin.eodds_abs,
                    s.max_logit_diff,
                    100.0 * s.changed_predictions
                );
            }
            report.push(ModelComparison {
                model: entry.name.clone(),
                precision: twin.label().into(),
                twin_model: twin_name,
                compute: format!("{:?}", twin.compute()),
                f32_bytes: entry.bytes,
                twin_bytes: written.bytes,
                multi_exit: multi_exit(&card),
                theta: card.default_theta,
                splits,
            });
            index.upsert(written);
        }
    }
    if !index.assets.iter().any(|e| e.name == a.default) {
        bail!("--default {} is not in the index", a.default);
    }
    index.default = a.default.clone();
    write_index(&a.models_dir, &index)?;
    let out = QuantReport {
        command: invocation(),
        machine: machine(),
        finished: utc_now(),
        wall_seconds: start.elapsed().as_secs_f64(),
        goals: format!(
            "int8 file ≤ {:.0} % and f16 file ≤ {:.0} % of the f32 file; |Δ accuracy| ≤ 0.5 pp and |Δ EOdd| ≤ 0.01 on the bundled subset and the test split",
            100.0 * size_goal(Twin::Int8),
            100.0 * size_goal(Twin::F16)
        ),
        models: report,
    };
    let dir = ResultsDir::create(&a.out)?;
    dir.json("results.json", &out)?;
    dir.write("results.md", markdown(&out))?;
    println!(
        "wrote {} int8 and {} f16 models and {}",
        sources.len(),
        sources.len(),
        a.out.display()
    );
    Ok(())
}

/// Largest twin/f32 file-size ratio accepted (int8: the 27 %; f16: half plus headers).
fn size_goal(twin: Twin) -> f64 {
    match twin {
        Twin::Int8 => 0.27,
        Twin::F16 => 0.51,
    }
}

/// The report: provenance, then f32 against each twin on each split.
fn markdown(r: &QuantReport) -> String {
    let mut s = format!(
        "# int8 and f16 vs f32\n\n- Command: `{}`\n- Schemes: BN folded into the convs at export; **int8**: symmetric \
         per-output-channel int8 for every conv and linear weight (scale = max |w| / 127), f32 scales and biases, dequantized \
         to f32 at load and computed in f32; **f16**: every tensor stored as IEEE half (round to nearest even), evaluated \
         here computing in f16 on burn's CPU backend (what a WebGPU adapter with `shader-f16` runs; without it the app widens \
         the weights to f32 — the \"widened\" column)\n- Operating point: the early-exit policy at the model's θ (multi-exit \
         models), the final head otherwise; EOdd is the FME code's `_abs` form between Fitzpatrick I–III and IV–VI\n\
         - Goals: {}\n- Machine: {}; wall time {:.1} min; finished {}\n\n",
        r.command,
        r.goals,
        r.machine,
        r.wall_seconds / 60.0,
        r.finished
    );
    let mut table = Table::new([
        "model",
        "twin",
        "file f32 → twin",
        "ratio",
        "split",
        "accuracy f32 → twin",
        "Δ pp",
        "EOdd f32 → twin",
        "Δ",
        "acc. I–III f32 → twin",
        "acc. IV–VI f32 → twin",
        "max \\|Δ logit\\|",
        "widened f16 max \\|Δ logit\\|",
        "predictions changed",
        "goals",
    ]);
    for m in &r.models {
        let ratio = m.twin_bytes as f64 / m.f32_bytes as f64;
        let goal = if m.precision == "f16" {
            size_goal(Twin::F16)
        } else {
            size_goal(Twin::Int8)
        };
        for sp in &m.splits {
            let dacc = 100.0 * (sp.twin.accuracy - sp.f32.accuracy);
            let deo = sp.twin.eodds_abs - sp.f32.eodds_abs;
            let met = ratio <= goal && dacc.abs() <= 0.5 && deo.abs() <= 0.01;
            table.row([
                m.model.clone(),
                format!("{} ({} compute)", m.precision, m.compute.to_lowercase()),
                format!("{} → {} B", m.f32_bytes, m.twin_bytes),
                format!("{:.1} %", 100.0 * ratio),
                sp.split.clone(),
                format!("{:.4} → {:.4}", sp.f32.accuracy, sp.twin.accuracy),
                format!("{dacc:+.2}"),
                format!("{:.4} → {:.4}", sp.f32.eodds_abs, sp.twin.eodds_abs),
                format!("{deo:+.4}"),
                format!(
                    "{:.3} → {:.3}",
                    sp.f32.group_accuracy[0], sp.twin.group_accuracy[0]
                ),
                format!(
                    "{:.3} → {:.3}",
                    sp.f32.group_accuracy[1], sp.twin.group_accuracy[1]
                ),
                format!("{:.2e}", sp.max_logit_diff),
                sp.widened_max_logit_diff
                    .map(|d| format!("{d:.2e}"))
                    .unwrap_or_else(|| "—".into()),
                format!("{:.2} %", 100.0 * sp.changed_predictions),
                if met { "met" } else { "MISSED" }.to_string(),
            ]);
        }
    }
    s.push_str(&table.finish());
    s
}
