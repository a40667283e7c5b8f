//! `fairscreen-train quantize`: int8 twins of the f32 models of a models directory (symmetric
//! per-output-channel weights, f32 scales and biases), their cards re-measured on validation, and
//! the report that puts f32 and int8 side by side — file size, accuracy and per-group fairness on
//! the bundled evaluation subset and the SynthDerm test split, and how far the logits move.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use fairscreen_core::bundle::read_eval_bundle;
use fairscreen_core::exit_analysis::{exit_points, skin_groups, OperatingPoint};
use fairscreen_core::format::{read_model, write_model, AssetIndex, ModelCard};
use fairscreen_core::preprocess::to_input;
use fairscreen_core::quant::{F32, INT8_PER_CHANNEL};
use fairscreen_synth::SynthConfig;
use serde::{Deserialize, Serialize};

use crate::reproduce::{generate, machine, utc_now, TEST_SEED};
use crate::scp::{insert_point_metrics, operating_point, HostModel};
use crate::train::{self, Dataset};

/// `quantize` arguments.
#[derive(clap::Args)]
pub struct QuantizeArgs {
    /// Models directory with `index.json`; every f32 model in it gets an int8 twin `<name>-int8`.
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

/// f32 vs int8 on one split.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SplitComparison {
    /// Split name.
    pub split: String,
    /// Images.
    pub images: usize,
    /// The f32 model's operating point.
    pub f32: OperatingPoint,
    /// The int8 model's.
    pub int8: OperatingPoint,
    /// Largest |Δ logit| over every image and exit.
    pub max_logit_diff: f64,
    /// Share of images whose policy prediction differs.
    pub changed_predictions: f64,
}

/// One model and its int8 twin.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ModelComparison {
    /// f32 name.
    pub model: String,
    /// int8 name.
    pub int8_model: String,
    /// f32 file bytes.
    pub f32_bytes: usize,
    /// int8 file bytes.
    pub int8_bytes: usize,
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
    /// Per model.
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

fn compare(
    name: &str,
    card: &ModelCard,
    a: &HostModel,
    b: &HostModel,
    d: &Dataset,
) -> Result<SplitComparison> {
    let err = anyhow::Error::msg;
    let me = multi_exit(card);
    let theta = card.default_theta;
    let f32p = operating_point(a, me, theta, &d.inputs, &d.labels, &d.groups).map_err(err)?;
    let int8p = operating_point(b, me, theta, &d.inputs, &d.labels, &d.groups).map_err(err)?;
    let la = train::predict_with_features(&a.module().map_err(err)?, &a.config, &d.inputs).logits;
    let lb = train::predict_with_features(&b.module().map_err(err)?, &b.config, &d.inputs).logits;
    let mut worst = 0.0f64;
    let mut changed = 0usize;
    for (x, y) in la.iter().zip(&lb) {
        for (ex, ey) in x.iter().zip(y) {
            for (p, q) in ex.iter().zip(ey) {
                worst = worst.max(f64::from((p - q).abs()));
            }
        }
        let pa = fairscreen_core::exit_policy(x, if me { theta } else { f32::INFINITY });
        let pb = fairscreen_core::exit_policy(y, if me { theta } else { f32::INFINITY });
        changed += usize::from(pa.class != pb.class);
    }
    Ok(SplitComparison {
        split: name.into(),
        images: d.labels.len(),
        f32: f32p,
        int8: int8p,
        max_logit_diff: worst,
        changed_predictions: changed as f64 / d.labels.len().max(1) as f64,
    })
}

/// The card metrics every int8 model carries, measured on validation with the int8 weights.
fn int8_metrics(
    card: &ModelCard,
    model: &HostModel,
    val: &Dataset,
    base_point: Option<&OperatingPoint>,
) -> Result<(BTreeMap<String, f64>, OperatingPoint)> {
    let err = anyhow::Error::msg;
    let point = operating_point(
        model,
        multi_exit(card),
        card.default_theta,
        &val.inputs,
        &val.labels,
        &val.groups,
    )
    .map_err(err)?;
    let logits =
        train::predict_with_features(&model.module().map_err(err)?, &model.config, &val.inputs)
            .logits;
    let mut m = BTreeMap::new();
    for (e, p) in exit_points(&model.config, &logits, &val.labels, &val.groups)
        .iter()
        .enumerate()
    {
        m.insert(format!("val/exit{e}/accuracy"), p.accuracy);
        m.insert(format!("val/exit{e}/eodds_abs"), p.eodds_abs);
    }
    insert_point_metrics(&mut m, "val/point", &point);
    if let Some(b) = base_point {
        insert_point_metrics(&mut m, "val/base", b);
        m.insert(
            "val/fate".into(),
            fairscreen_core::exit_analysis::fate_against(&point, b),
        );
    }
    Ok((m, point))
}

/// Runs the command.
pub fn cmd_quantize(a: QuantizeArgs) -> Result<()> {
    let start = Instant::now();
    let index_path = a.models_dir.join("index.json");
    let mut index: AssetIndex = serde_json::from_slice(
        &std::fs::read(&index_path).with_context(|| format!("reading {}", index_path.display()))?,
    )
    .with_context(|| format!("parsing {}", index_path.display()))?;
    let mut sources = Vec::new();
    for entry in &index.assets {
        let path = a.models_dir.join(&entry.file);
        let file = read_model(
            &std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?,
        )
        .with_context(|| path.display().to_string())?;
        if file.card.quantization == F32 {
            sources.push((entry.clone(), file));
        }
    }
    if sources.is_empty() {
        bail!("{} lists no f32 model to quantize", index_path.display());
    }
    // Unpruned models first, so a pruned model's int8 base is measured before it.
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
    for (entry, file) in &sources {
        let f32_model = HostModel {
            config: file.card.config.clone(),
            tensors: file.tensors.clone(),
        };
        let int8_name = format!("{}-int8", entry.name);
        let mut card = file.card.clone();
        card.name = int8_name.clone();
        card.quantization = INT8_PER_CHANNEL.into();
        card.quantized_from = Some(entry.name.clone());
        if let Some(p) = &mut card.pruning {
            p.base = format!("{}-int8", p.base);
        }
        let bytes = write_model(card.clone(), &file.tensors)?;
        let reread = read_model(&bytes).map_err(|e| anyhow::anyhow!("{int8_name}: {e}"))?;
        let int8_model = HostModel {
            config: reread.card.config.clone(),
            tensors: reread.tensors,
        };
        let base_point = card.pruning.as_ref().and_then(|p| points.get(&p.base));
        let (metrics, point) = int8_metrics(&card, &int8_model, &val, base_point)?;
        points.insert(int8_name.clone(), point);
        card.metrics = metrics;
        let entry8 = crate::write_model_asset(card.clone(), &file.tensors, &a.models_dir)?;
        let splits = vec![
            compare(
                "bundled evaluation subset",
                &card,
                &f32_model,
                &int8_model,
                &subset,
            )?,
            compare(
                "SynthDerm test split",
                &card,
                &f32_model,
                &int8_model,
                &test,
            )?,
        ];
        for s in &splits {
            println!(
                "{int8_name} on the {}: accuracy {:.4} → {:.4}, EOdd {:.4} → {:.4}, max |Δ logit| {:.2e}, {:.2} % predictions changed",
                s.split,
                s.f32.accuracy,
                s.int8.accuracy,
                s.f32.eodds_abs,
                s.int8.eodds_abs,
                s.max_logit_diff,
                100.0 * s.changed_predictions
            );
        }
        report.push(ModelComparison {
            model: entry.name.clone(),
            int8_model: int8_name,
            f32_bytes: entry.bytes,
            int8_bytes: entry8.bytes,
            multi_exit: multi_exit(&card),
            theta: card.default_theta,
            splits,
        });
        index.upsert(entry8);
    }
    if !index.assets.iter().any(|e| e.name == a.default) {
        bail!("--default {} is not in the index", a.default);
    }
    index.default = a.default.clone();
    std::fs::write(&index_path, serde_json::to_vec_pretty(&index)?)?;
    let out = QuantReport {
        command: crate::bench_data::invocation(),
        machine: machine(),
        finished: utc_now(),
        wall_seconds: start.elapsed().as_secs_f64(),
        goals: "int8 file ≤ 27 % of the f32 file; |Δ accuracy| ≤ 0.5 pp and |Δ EOdd| ≤ 0.01 on the bundled subset and the test split".into(),
        models: report,
    };
    std::fs::create_dir_all(&a.out)?;
    std::fs::write(a.out.join("results.json"), serde_json::to_vec_pretty(&out)?)?;
    std::fs::write(a.out.join("results.md"), markdown(&out))?;
    println!(
        "wrote {} int8 models and {}",
        out.models.len(),
        a.out.display()
    );
    Ok(())
}

fn markdown(r: &QuantReport) -> String {
    let mut s = format!(
        "# int8 vs f32\n\n- Command: `{}`\n- Scheme: BN folded into the convs at export, then symmetric per-output-channel int8 \
         for every conv and linear weight (scale = max |w| / 127), f32 scales and biases; dequantized to f32 at load\n\
         - Operating point: the early-exit policy at the model's θ (multi-exit models), the final head otherwise; EOdd is the \
         FME code's `_abs` form between Fitzpatrick I–III and IV–VI\n- Goals: {}\n- Machine: {}; wall time {:.1} min; finished {}\n\n",
        r.command,
        r.goals,
        r.machine,
        r.wall_seconds / 60.0,
        r.finished
    );
    s.push_str("| model | file f32 → int8 | ratio | split | accuracy f32 → int8 | Δ pp | EOdd f32 → int8 | Δ | acc. I–III f32 → int8 | acc. IV–VI f32 → int8 | max \\|Δ logit\\| | predictions changed | goals |\n");
    s.push_str("|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    for m in &r.models {
        let ratio = m.int8_bytes as f64 / m.f32_bytes as f64;
        for sp in &m.splits {
            let dacc = 100.0 * (sp.int8.accuracy - sp.f32.accuracy);
            let deo = sp.int8.eodds_abs - sp.f32.eodds_abs;
            let met = ratio <= 0.27 && dacc.abs() <= 0.5 && deo.abs() <= 0.01;
            s.push_str(&format!(
                "| {} | {} → {} B | {:.1} % | {} | {:.4} → {:.4} | {:+.2} | {:.4} → {:.4} | {:+.4} | {:.3} → {:.3} | {:.3} → {:.3} | {:.2e} | {:.2} % | {} |\n",
                m.model,
                m.f32_bytes,
                m.int8_bytes,
                100.0 * ratio,
                sp.split,
                sp.f32.accuracy,
                sp.int8.accuracy,
                dacc,
                sp.f32.eodds_abs,
                sp.int8.eodds_abs,
                deo,
                sp.f32.group_accuracy[0],
                sp.int8.group_accuracy[0],
                sp.f32.group_accuracy[1],
                sp.int8.group_accuracy[1],
                sp.max_logit_diff,
                100.0 * sp.changed_predictions,
                if met { "met" } else { "MISSED" }
            ));
        }
    }
    s
}
