//! Taking a report away: the current audit as JSON (the structure `fairscreen-train audit --out`
//! writes), CSV (one row per group × metric with intervals) or a printable, self-contained HTML
//! page — saved by the browser from memory; nothing is sent anywhere.

use fairscreen_core::exit::exit_name;
use fairscreen_core::metrics::{reports_csv, FairnessReport};
use fairscreen_core::report_html::{report_html, Figure, HtmlReport};
use leptos::prelude::*;
use wasm_bindgen::JsCast;

use super::{AppState, AuditStatus};

/// A file format of the export.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportFormat {
    /// The reports as JSON.
    Json,
    /// One row per grouping × group × metric.
    Csv,
    /// A printable page with tables, figures and cards.
    Html,
}

impl ExportFormat {
    /// Every format, in the buttons' order.
    pub const ALL: [ExportFormat; 3] = [ExportFormat::Json, ExportFormat::Csv, ExportFormat::Html];

    /// File extension and button label.
    pub fn extension(self) -> &'static str {
        match self {
            ExportFormat::Json => "json",
            ExportFormat::Csv => "csv",
            ExportFormat::Html => "html",
        }
    }

    fn mime(self) -> &'static str {
        match self {
            ExportFormat::Json => "application/json",
            ExportFormat::Csv => "text/csv",
            ExportFormat::Html => "text/html",
        }
    }
}

/// An audit ready to export: a file stem, its reports, and the rest of the HTML page.
pub struct AuditExport {
    /// File name without extension.
    pub stem: String,
    /// The reports.
    pub reports: Vec<FairnessReport>,
    /// The HTML page (its reports are `reports`).
    pub html: HtmlReport,
}

impl AuditExport {
    /// The file's text in `format`.
    pub fn text(&self, format: ExportFormat) -> String {
        match format {
            ExportFormat::Json => serde_json::to_string_pretty(&self.reports).unwrap_or_default(),
            ExportFormat::Csv => reports_csv(&self.reports),
            ExportFormat::Html => report_html(&self.html),
        }
    }

    /// Has the browser save the export in `format` (a blob URL and a download link).
    pub fn save(&self, format: ExportFormat) -> Result<(), String> {
        let name = format!("{}.{}", self.stem, format.extension());
        save_text(&name, format.mime(), &self.text(format))
            .map_err(|e| format!("saving {name} failed: {e}"))
    }
}

fn js_text(e: wasm_bindgen::JsValue) -> String {
    e.as_string().unwrap_or_else(|| format!("{e:?}"))
}

/// Saves `text` as a download named `name`.
fn save_text(name: &str, mime: &str, text: &str) -> Result<(), String> {
    let parts = js_sys::Array::of1(&text.into());
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(mime);
    let blob =
        web_sys::Blob::new_with_str_sequence_and_options(&parts, &options).map_err(js_text)?;
    let url = web_sys::Url::create_object_url_with_blob(&blob).map_err(js_text)?;
    let document = web_sys::window()
        .and_then(|w| w.document())
        .ok_or("no document")?;
    let link: web_sys::HtmlAnchorElement = document
        .create_element("a")
        .map_err(js_text)?
        .unchecked_into();
    link.set_href(&url);
    link.set_download(name);
    link.click();
    // The download has its own copy once it starts; the URL can go at the next task.
    let revoke = wasm_bindgen::closure::Closure::once_into_js(move || {
        let _ = web_sys::Url::revoke_object_url(&url);
    });
    if let Some(w) = web_sys::window() {
        let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(revoke.unchecked_ref(), 0);
    }
    Ok(())
}

/// `2026-12-02T10:00:00.000Z`.
fn now_iso() -> String {
    js_sys::Date::new_0().to_iso_string().into()
}

/// The markup of the page's per-exit chart, if it is drawn.
fn exit_chart_svg() -> Option<String> {
    let document = web_sys::window()?.document()?;
    Some(
        document
            .query_selector("#exit-chart svg")
            .ok()??
            .outer_html(),
    )
}

const VERSION: &str = env!("CARGO_PKG_VERSION");

const SYNTHETIC: &str = "Not a diagnosis: a research model trained and evaluated on generated \
     images (SynthDerm); these numbers describe how it treats synthetic groups, not real patients.";

/// The loaded model's audit of the evaluation subset at the dashboard's θ, with its model and
/// data cards, the per-exit chart and the group heatmaps.
pub fn dashboard_export(s: AppState) -> Option<AuditExport> {
    let AuditStatus::Ready(reports, theta) = s.audit.status.get_untracked() else {
        return None;
    };
    let model = s.models.name.get_untracked();
    let card = s.models.card.get_untracked()?;
    let bundle = s.eval.bundle.get_untracked()?;
    let entry = s.audit.entry(&model);
    let backend = s
        .page
        .backend
        .get_untracked()
        .map(|b| format!("{} ({}), in the {}", b.kind, b.adapter, b.thread))
        .unwrap_or_default();
    let facts = vec![
        (
            "model".to_string(),
            format!("{model} ({})", card.quantization),
        ),
        (
            "data".to_string(),
            format!("{} — {} images", bundle.card.name, bundle.len()),
        ),
        ("early-exit threshold θ".to_string(), format!("{theta}")),
        ("computed".to_string(), now_iso()),
        (
            "app".to_string(),
            format!("FairScreen {VERSION}, in the browser"),
        ),
        ("backend".to_string(), backend),
    ];
    let mut figures = Vec::new();
    if let (Some(svg), Some(chart)) = (exit_chart_svg(), super::derived::exit_chart(s)) {
        let n = chart.exits.len();
        let mut text: Vec<String> = chart
            .exits
            .iter()
            .enumerate()
            .map(|(e, p)| {
                format!(
                    "{} alone: accuracy {:.3}, EOdd {:.3}",
                    exit_name(e, n),
                    p.accuracy,
                    p.eodds_abs
                )
            })
            .collect();
        text.push(format!(
            "policy at θ = {:.3}: accuracy {:.3}, EOdd {:.3}, compute saved {:.1} %",
            chart.theta,
            chart.policy.accuracy,
            chart.policy.eodds_abs,
            100.0 * chart.policy.compute_saved
        ));
        figures.push(Figure::Svg {
            caption: "Each exit alone and the early-exit policy (skin groups I–III vs IV–VI)"
                .into(),
            svg,
            text: text.join("; "),
        });
    }
    for g in entry.iter().flat_map(|e| e.group_heat.iter()) {
        figures.push(Figure::Png {
            caption: format!("mean final-head heatmap, {} ({} images)", g.group, g.images),
            data_url: g.image.clone(),
        });
    }
    let cards = vec![
        (
            "Model card".to_string(),
            serde_json::to_string_pretty(&card).unwrap_or_default(),
        ),
        (
            "Data card".to_string(),
            serde_json::to_string_pretty(&bundle.card).unwrap_or_default(),
        ),
    ];
    let reports = reports.as_ref().clone();
    Some(AuditExport {
        stem: format!("fairscreen-audit-{model}"),
        html: HtmlReport {
            title: format!("FairScreen audit: {model} on {}", bundle.card.name),
            facts,
            reports: reports.clone(),
            figures,
            cards,
            disclaimer: SYNTHETIC.into(),
        },
        reports,
    })
}

/// The audit of the user's predictions CSV.
pub fn predictions_export(s: AppState) -> Option<AuditExport> {
    let audit = s.own.predictions.get_untracked()?;
    let stem = audit
        .file
        .rsplit_once('.')
        .map_or(audit.file.as_str(), |(stem, _)| stem)
        .to_string();
    let facts = vec![
        ("predictions".to_string(), audit.summary.clone()),
        ("computed".to_string(), now_iso()),
        (
            "app".to_string(),
            format!("FairScreen {VERSION}, in the browser"),
        ),
    ];
    Some(AuditExport {
        stem: format!("fairscreen-audit-{stem}"),
        html: HtmlReport {
            title: format!("FairScreen audit of {}", audit.file),
            facts,
            reports: audit.reports.clone(),
            figures: Vec::new(),
            cards: Vec::new(),
            disclaimer: "Computed from the predictions in the file, in the browser; the numbers \
                         are as good as the predictions and labels in it."
                .into(),
        },
        reports: audit.reports.clone(),
    })
}
