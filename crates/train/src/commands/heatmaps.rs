//! `fairscreen-train heatmaps`: the per-group heatmap bias analysis (the AU-bias paper's method,
//! papers.md §5, on SynthDerm): for every test image, the class activation map of the predicted
//! class at the final head and at the exit that fired, and the share of its heat that lies on the
//! lesion (SynthDerm knows each pixel's lesion coverage). Shares are compared per skin type, sex,
//! class and spurious cue (ruler/ink artefact, erythema halo), with mean heatmaps per group.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result};
use fairscreen_core::cam::{
    class_activation_map, heat_image, lesion_share, positive_unit, upsample, ClassMap,
};
use fairscreen_core::exit::{exit_names, exit_policy, ExitNaming};
use fairscreen_core::infer::LoadedModel;
use fairscreen_core::preprocess::{encode_png, to_input};
use fairscreen_synth::{draw_spec, generate_with_mask, Artefact, SynthConfig, CLASS_NAMES};
use serde::{Deserialize, Serialize};

use crate::progress::progress;
use crate::provenance::{invocation, machine, utc_now};
use crate::report::{ResultsDir, Table};
use crate::synth_data::TEST_SEED;

/// `heatmaps` arguments.
#[derive(clap::Args)]
pub struct HeatmapsArgs {
    /// Model file.
    #[arg(long, default_value = "www/models/tiny-fair-me.safetensors")]
    model: PathBuf,
    /// Test images (SynthDerm test distribution: balanced skin types and classes, clean labels).
    #[arg(long, default_value_t = 1800)]
    images: usize,
    /// Seed of the test stream.
    #[arg(long, default_value_t = TEST_SEED)]
    seed: u64,
    /// Report directory.
    #[arg(long, default_value = "docs/results/heatmaps")]
    out: PathBuf,
}

/// One image's heatmap facts.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ImageHeat {
    /// Fitzpatrick type 1–6.
    pub skin_type: u8,
    /// 0 female, 1 male.
    pub sex: u8,
    /// True class.
    pub class: u8,
    /// Final head's prediction.
    pub predicted: u8,
    /// Ruler or ink artefact drawn.
    pub artefact: String,
    /// Erythema halo drawn.
    pub halo: bool,
    /// Share of the lesion in the image (the share uniform heat would put on it).
    pub lesion_area: f32,
    /// Share of the final head's heat (predicted class) on the lesion.
    pub share_final: Option<f32>,
    /// Exit that fired at θ.
    pub exit_fired: usize,
    /// Share of that exit's heat (its predicted class) on the lesion.
    pub share_fired: Option<f32>,
}

/// A group's summary.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct GroupHeat {
    /// Attribute (`skin`, `skin type`, `sex`, `class`, `artefact`, `halo`).
    pub attribute: String,
    /// Group name.
    pub group: String,
    /// Images.
    pub images: usize,
    /// Final-head accuracy.
    pub accuracy: f64,
    /// Mean lesion area share.
    pub lesion_area: f64,
    /// Mean share of the final head's heat on the lesion, with a 95 % normal interval.
    pub share_final: Interval,
    /// Mean share of the fired exit's heat on the lesion, with a 95 % normal interval.
    pub share_fired: Interval,
    /// Share of images answered by each exit (shallow to deep): earlier exits have finer maps,
    /// so groups answered earlier can show a higher fired-exit share for that reason alone.
    pub exit_mix: Vec<f64>,
}

/// Mean and 95 % normal-approximation interval.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub struct Interval {
    /// Mean.
    pub mean: f64,
    /// Lower bound.
    pub low: f64,
    /// Upper bound.
    pub high: f64,
}

fn interval(values: &[f64]) -> Interval {
    let n = values.len().max(1) as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
    let half = 1.96 * (var / n).sqrt();
    Interval {
        mean,
        low: mean - half,
        high: mean + half,
    }
}

/// The whole report.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct HeatmapReport {
    /// Command line.
    pub command: String,
    /// Model name.
    pub model: String,
    /// θ of the early-exit policy.
    pub theta: f32,
    /// CPU and cores.
    pub machine: String,
    /// UTC end time.
    pub finished: String,
    /// Wall time in seconds.
    pub wall_seconds: f64,
    /// Per group.
    pub groups: Vec<GroupHeat>,
    /// Per image.
    pub images: Vec<ImageHeat>,
}

/// A group: its name and who belongs to it.
type Group = (String, Box<dyn Fn(&ImageHeat) -> bool>);
/// A grouping: the attribute and its groups.
type Grouping = (&'static str, Vec<Group>);

fn groupings() -> Vec<Grouping> {
    let skin: Vec<Group> = vec![
        ("I–III".into(), Box::new(|h: &ImageHeat| h.skin_type <= 3)),
        ("IV–VI".into(), Box::new(|h: &ImageHeat| h.skin_type >= 4)),
    ];
    let types = (1..=6u8)
        .map(|t| {
            (
                format!("type {t}"),
                Box::new(move |h: &ImageHeat| h.skin_type == t) as Box<dyn Fn(&ImageHeat) -> bool>,
            )
        })
        .collect();
    let sex: Vec<Group> = vec![
        ("female".into(), Box::new(|h: &ImageHeat| h.sex == 0)),
        ("male".into(), Box::new(|h: &ImageHeat| h.sex == 1)),
    ];
    let class = (0..CLASS_NAMES.len() as u8)
        .map(|c| {
            (
                CLASS_NAMES[c as usize].to_string(),
                Box::new(move |h: &ImageHeat| h.class == c) as Box<dyn Fn(&ImageHeat) -> bool>,
            )
        })
        .collect();
    let artefact = ["none", "ruler", "ink"]
        .into_iter()
        .map(|a| {
            (
                a.to_string(),
                Box::new(move |h: &ImageHeat| h.artefact == a) as Box<dyn Fn(&ImageHeat) -> bool>,
            )
        })
        .collect();
    let halo: Vec<Group> = vec![
        ("no halo".into(), Box::new(|h: &ImageHeat| !h.halo)),
        ("halo".into(), Box::new(|h: &ImageHeat| h.halo)),
    ];
    vec![
        ("skin", skin),
        ("skin type", types),
        ("sex", sex),
        ("class", class),
        ("artefact", artefact),
        ("halo", halo),
    ]
}

fn summarise(attribute: &str, group: &str, members: &[&ImageHeat], exits: usize) -> GroupHeat {
    let n = members.len();
    let shares = |f: fn(&ImageHeat) -> Option<f32>| -> Vec<f64> {
        members.iter().filter_map(|h| f(h).map(f64::from)).collect()
    };
    GroupHeat {
        attribute: attribute.into(),
        group: group.into(),
        images: n,
        accuracy: members.iter().filter(|h| h.predicted == h.class).count() as f64
            / n.max(1) as f64,
        lesion_area: members
            .iter()
            .map(|h| f64::from(h.lesion_area))
            .sum::<f64>()
            / n.max(1) as f64,
        share_final: interval(&shares(|h| h.share_final)),
        share_fired: interval(&shares(|h| h.share_fired)),
        exit_mix: (0..exits)
            .map(|e| members.iter().filter(|h| h.exit_fired == e).count() as f64 / n.max(1) as f64)
            .collect(),
    }
}

/// A mean heat map scaled to its maximum, as a colour PNG enlarged `scale` times.
fn heat_png(heat: &[f32], side: usize, scale: u32) -> Vec<u8> {
    let map = ClassMap {
        height: side,
        width: side,
        values: positive_unit(heat),
    };
    encode_png(&heat_image(&map, scale))
}

/// Runs the command.
pub fn run(a: HeatmapsArgs) -> Result<()> {
    let start = Instant::now();
    let bytes =
        std::fs::read(&a.model).with_context(|| format!("reading {}", a.model.display()))?;
    let model = LoadedModel::from_bytes(&bytes, &burn::prelude::Device::flex())
        .with_context(|| a.model.display().to_string())?;
    let config = model.card.config.clone();
    let theta = model.card.default_theta;
    let side = config.input_size;
    let mut synth = SynthConfig::test();
    synth.side = side as u32;
    let exits = config.num_exits();
    let pb = progress(a.images as u64, "heatmaps");
    let mut images = Vec::with_capacity(a.images);
    let mut mean_heat: Vec<(String, Vec<f32>, usize)> = Vec::new();
    for i in 0..a.images as u64 {
        let spec = draw_spec(&synth, a.seed, i);
        let (sample, coverage) = generate_with_mask(&synth, a.seed, i, spec);
        let input = to_input(&sample.image, &config);
        let (logits, maps) = model.logits_and_maps(&input)?;
        let logits = logits.sample(0);
        let heat_of = |e: usize, class: usize| -> Result<Vec<f32>> {
            let cam = class_activation_map(&maps[e], &model.exit_weights[e], class)?;
            Ok(positive_unit(&upsample(&cam, side)))
        };
        let final_class = fairscreen_core::exit::argmax(&logits[exits - 1]);
        let heat_final = heat_of(exits - 1, final_class)?;
        let fired = exit_policy(&logits, theta);
        let heat_fired = heat_of(fired.exit, fired.class)?;
        let m = &sample.meta;
        let h = ImageHeat {
            skin_type: m.skin_type,
            sex: m.sex,
            class: m.true_class,
            predicted: final_class as u8,
            artefact: match m.artefact {
                Artefact::None => "none",
                Artefact::Ruler => "ruler",
                Artefact::Ink => "ink",
            }
            .into(),
            halo: m.halo,
            lesion_area: coverage.iter().map(|c| f32::from(*c) / 255.0).sum::<f32>()
                / coverage.len() as f32,
            share_final: lesion_share(&heat_final, &coverage),
            exit_fired: fired.exit,
            share_fired: lesion_share(&heat_fired, &coverage),
        };
        // Mean final-head heat per skin group and per artefact.
        let keys = [
            format!("skin-{}", if m.skin_type <= 3 { "I-III" } else { "IV-VI" }),
            format!("artefact-{}", h.artefact),
        ];
        for key in keys {
            match mean_heat.iter_mut().find(|(k, _, _)| *k == key) {
                Some((_, sum, n)) => {
                    sum.iter_mut().zip(&heat_final).for_each(|(s, v)| *s += v);
                    *n += 1;
                }
                None => mean_heat.push((key, heat_final.clone(), 1)),
            }
        }
        images.push(h);
        pb.inc(1);
    }
    pb.finish_and_clear();
    let mut groups = Vec::new();
    for (attribute, members) in groupings() {
        for (name, is_member) in members {
            let m: Vec<&ImageHeat> = images.iter().filter(|h| is_member(h)).collect();
            if !m.is_empty() {
                groups.push(summarise(attribute, &name, &m, exits));
            }
        }
    }
    let dir = ResultsDir::create(&a.out)?;
    mean_heat.sort_by(|x, y| x.0.cmp(&y.0));
    for (key, sum, n) in &mean_heat {
        let mean: Vec<f32> = sum.iter().map(|v| v / *n as f32).collect();
        dir.write(&format!("mean-heat-{key}.png"), heat_png(&mean, side, 3))?;
    }
    let report = HeatmapReport {
        command: invocation(),
        model: model.card.name.clone(),
        theta,
        machine: machine(),
        finished: utc_now(),
        wall_seconds: start.elapsed().as_secs_f64(),
        groups,
        images,
    };
    dir.json("results.json", &report)?;
    dir.write("results.md", markdown(&report, &mean_heat))?;
    println!(
        "wrote {} ({} images, {} groups, {} mean heatmaps)",
        a.out.display(),
        report.images.len(),
        report.groups.len(),
        mean_heat.len()
    );
    Ok(())
}

/// The report: provenance, the per-group table and the mean heatmaps.
fn markdown(r: &HeatmapReport, mean_heat: &[(String, Vec<f32>, usize)]) -> String {
    let mut s = format!(
        "# Per-group heatmap analysis\n\n- Command: `{}`\n- Model: `{}`; early-exit policy at θ = {}\n\
         - Data: {} SynthDerm test images (balanced skin types and classes, clean labels; every pixel's lesion coverage known)\n\
         - Heatmap: class activation map of the predicted class (exact for the GAP → Linear heads), positive part, \
         bilinear to the input size; *lesion share* = share of the heat on the lesion; *lesion area* = the share a uniform \
         map would put there\n- Machine: {}; wall time {:.1} min; finished {}\n\n",
        r.command,
        r.model,
        r.theta,
        r.images.len(),
        r.machine,
        r.wall_seconds / 60.0,
        r.finished,
    );
    let exits = r.groups.first().map_or(0, |g| g.exit_mix.len());
    let mut table = Table::new([
        "attribute".to_string(),
        "group".into(),
        "images".into(),
        "accuracy (final head)".into(),
        "lesion area".into(),
        "lesion share, final head [95 %]".into(),
        "lesion share, exit that fired [95 %]".into(),
        format!(
            "answered by {}",
            exit_names(ExitNaming::Short, exits).join(" / ")
        ),
    ]);
    let with_interval = |i: &Interval| format!("{:.3} [{:.3}, {:.3}]", i.mean, i.low, i.high);
    for g in &r.groups {
        table.row([
            g.attribute.clone(),
            g.group.clone(),
            g.images.to_string(),
            format!("{:.3}", g.accuracy),
            format!("{:.3}", g.lesion_area),
            with_interval(&g.share_final),
            with_interval(&g.share_fired),
            g.exit_mix
                .iter()
                .map(|p| format!("{:.0} %", 100.0 * p))
                .collect::<Vec<_>>()
                .join(" / "),
        ]);
    }
    s.push_str(&table.finish());
    s.push_str("\nMean final-head heatmaps (each scaled to its own maximum):\n\n");
    for (key, _, n) in mean_heat {
        s.push_str(&format!(
            "- {key} ({n} images): ![{key}](mean-heat-{key}.png)\n"
        ));
    }
    s
}
