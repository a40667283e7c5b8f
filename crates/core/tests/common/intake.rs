//! Every core parser that takes outside bytes, by the corpus folder its files live in: the
//! corpus test and the fuzz harness feed them the same way.

use fairscreen_core::assets::{AssetIndex, Manifest};
use fairscreen_core::bundle::read_eval_bundle;
use fairscreen_core::format::read_model;
use fairscreen_core::labels::read_labels_csv;
use fairscreen_core::metrics::{read_predictions_csv, ReportOptions};
use fairscreen_core::preprocess::decode_image;

/// The parsers, one per corpus folder.
pub const KINDS: [&str; 6] = [
    "images",
    "models",
    "bundles",
    "predictions",
    "labels",
    "manifests",
];

/// Class names of the labelled-folder `labels.csv` cases.
pub const LABEL_CLASSES: [&str; 3] = ["benign", "malignant", "non-neoplastic"];

/// Parses `bytes` as a file of `kind` (`name` picks the manifest or the index reader): a short
/// summary of what was read, or the message the user would see.
pub fn parse(kind: &str, name: &str, bytes: &[u8]) -> Result<String, String> {
    match kind {
        "images" => decode_image(bytes)
            .map(|img| {
                let (w, h) = img.dimensions();
                format!("{w}x{h} {}", red_corner(&img))
            })
            .map_err(|e| e.to_string()),
        "models" => read_model(bytes)
            .map(|m| format!("model {}", m.card.name))
            .map_err(|e| e.to_string()),
        "bundles" => read_eval_bundle(bytes)
            .map(|b| format!("{} images", b.len()))
            .map_err(|e| e.to_string()),
        "predictions" => read_predictions_csv(bytes)
            .map(|t| {
                let opts = ReportOptions {
                    bootstrap: 0,
                    min_group_size: 1,
                    ..ReportOptions::default()
                };
                let warnings: Vec<String> = t
                    .reports(&opts)
                    .into_iter()
                    .flat_map(|r| r.warnings)
                    .collect();
                format!("{} | {}", t.describe(), warnings.join(" | "))
            })
            .map_err(|e| e.located(name)),
        "labels" => {
            let classes: Vec<String> = LABEL_CLASSES.iter().map(|c| c.to_string()).collect();
            read_labels_csv(bytes, &classes)
                .map(|l| {
                    let skipped: Vec<String> = l
                        .skipped
                        .iter()
                        .map(|s| format!("line {}: {}", s.line, s.reason))
                        .collect();
                    format!("{} rows | {}", l.rows.len(), skipped.join(" | "))
                })
                .map_err(|e| e.to_string())
        }
        "manifests" if name.starts_with("manifest") => Manifest::from_json(bytes)
            .map(|m| format!("{} assets", m.assets.len()))
            .map_err(|e| e.to_string()),
        "manifests" => AssetIndex::from_json("models/index.json", bytes)
            .map(|i| format!("{} assets, default {}", i.assets.len(), i.default))
            .map_err(|e| e.to_string()),
        other => panic!("no parser for corpus folder '{other}'"),
    }
}

/// Which corner holds the corpus images' red square: `tl`, `tr`, `bl`, `br`, or `-`.
fn red_corner(img: &image::RgbImage) -> &'static str {
    let (w, h) = img.dimensions();
    if w < 8 || h < 8 {
        return "-";
    }
    let red = |x: u32, y: u32| {
        let p = img.get_pixel(x, y);
        p[0] > 180 && p[1] < 90 && p[2] < 90
    };
    match (red(1, 1), red(w - 2, 1), red(1, h - 2), red(w - 2, h - 2)) {
        (true, false, false, false) => "tl",
        (false, true, false, false) => "tr",
        (false, false, true, false) => "bl",
        (false, false, false, true) => "br",
        _ => "-",
    }
}
