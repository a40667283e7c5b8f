//! An audit as one self-contained, printable HTML page: facts (model, data, θ, date, version),
//! every report's tables with their intervals, figures with text equivalents, and the cards. No
//! external reference: styles inline, images as `data:` URLs, so it opens offline anywhere.

use crate::metrics::FairnessReport;

/// A figure of the report.
#[derive(Clone, Debug, PartialEq)]
pub enum Figure {
    /// An inline SVG the app drew (e.g. the per-exit chart), with its text equivalent.
    Svg {
        /// Caption.
        caption: String,
        /// The `<svg>…</svg>` markup.
        svg: String,
        /// What it shows, in words (for readers who cannot see it).
        text: String,
    },
    /// A PNG as a `data:image/png;base64,…` URL (e.g. a group's mean heatmap).
    Png {
        /// Caption (also the image's alt text).
        caption: String,
        /// The `data:` URL.
        data_url: String,
    },
}

/// What the HTML report holds.
#[derive(Clone, Debug, PartialEq)]
pub struct HtmlReport {
    /// Page title and top heading.
    pub title: String,
    /// Facts as (label, value): model, data, θ, date, app version, backend…
    pub facts: Vec<(String, String)>,
    /// The reports, one section each.
    pub reports: Vec<FairnessReport>,
    /// Figures, after the reports.
    pub figures: Vec<Figure>,
    /// Cards as (heading, pretty JSON), at the end.
    pub cards: Vec<(String, String)>,
    /// The caveat printed under the title.
    pub disclaimer: String,
}

/// Escapes text for HTML element content and attribute values.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font:14px/1.4 system-ui,sans-serif;margin:2em auto;max-width:60em;\
padding:0 1em;color:#111}table{border-collapse:collapse;margin:.5em 0 1em}th,td{border:1px solid \
#bbb;padding:.2em .5em;text-align:left}td.num{text-align:right;font-variant-numeric:tabular-nums}\
.disclaimer{border-left:4px solid #b60;padding-left:.6em}figure{display:inline-block;margin:.5em \
1em .5em 0;vertical-align:top}figure img{width:10em;image-rendering:pixelated}pre{white-space:\
pre-wrap;font-size:12px;background:#f4f4f4;padding:.5em}@media print{section{break-inside:avoid}}";

/// `v` with its interval from `r`, three decimals.
fn with_interval(r: &FairnessReport, key: &str, v: f64) -> String {
    match r.intervals.get(key) {
        Some(i) => format!("{v:.3} [{:.3}, {:.3}]", i.lo, i.hi),
        None => format!("{v:.3}"),
    }
}

fn report_section(r: &FairnessReport, out: &mut String) {
    out.push_str(&format!(
        "<section><h2>{}</h2>\n<table><tr><th>group</th><th>n</th><th>accuracy</th><th>macro F1</th>\
         <th>AUC</th></tr>\n",
        escape_html(&r.attribute)
    ));
    for g in std::iter::once(&r.overall).chain(&r.groups) {
        let prefix = if g.name == "all" {
            "overall".to_string()
        } else {
            format!("group/{}", g.name)
        };
        let auc = g
            .auc
            .map(|a| with_interval(r, &format!("{prefix}/auc"), a))
            .unwrap_or_else(|| "—".into());
        out.push_str(&format!(
            "<tr><th>{}</th><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
             <td class=\"num\">{}</td></tr>\n",
            escape_html(&g.name),
            g.n,
            with_interval(r, &format!("{prefix}/accuracy"), g.accuracy),
            with_interval(r, &format!("{prefix}/f1"), g.f1),
            auc
        ));
    }
    out.push_str(
        "</table>\n<table><tr><th>between groups</th><th>value [95 % interval]</th></tr>\n",
    );
    for (key, v) in &r.scalars {
        if key.starts_with("overall/") || key.starts_with("group/") {
            continue;
        }
        out.push_str(&format!(
            "<tr><td>{}</td><td class=\"num\">{}</td></tr>\n",
            escape_html(key),
            with_interval(r, key, *v)
        ));
    }
    out.push_str("</table>\n");
    if !r.warnings.is_empty() {
        out.push_str("<ul>");
        for w in &r.warnings {
            out.push_str(&format!("<li>{}</li>", escape_html(w)));
        }
        out.push_str("</ul>\n");
    }
    out.push_str(&format!(
        "<p>Intervals: {:.0} % bootstrap, {} resamples stratified by group, seed {}.</p></section>\n",
        r.options.level * 100.0,
        r.options.bootstrap,
        r.options.seed
    ));
}

/// The report as a complete HTML document.
pub fn report_html(r: &HtmlReport) -> String {
    let mut out = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title>\
         <style>{STYLE}</style></head><body>\n<h1>{}</h1>\n<p class=\"disclaimer\">{}</p>\n<table>\n",
        escape_html(&r.title),
        escape_html(&r.title),
        escape_html(&r.disclaimer)
    );
    for (label, value) in &r.facts {
        out.push_str(&format!(
            "<tr><th>{}</th><td>{}</td></tr>\n",
            escape_html(label),
            escape_html(value)
        ));
    }
    out.push_str("</table>\n");
    for report in &r.reports {
        report_section(report, &mut out);
    }
    if !r.figures.is_empty() {
        out.push_str("<section><h2>Figures</h2>\n");
        for f in &r.figures {
            match f {
                Figure::Svg { caption, svg, text } => {
                    // Only plain inline SVG: anything that could reference another file is
                    // left out (the text equivalent stays).
                    let plain = svg.trim_start().starts_with("<svg")
                        && !svg.contains("href")
                        && !svg.contains("url(");
                    out.push_str(&format!(
                        "<figure>{}<figcaption>{}<br>{}</figcaption></figure>\n",
                        if plain { svg.as_str() } else { "" },
                        escape_html(caption),
                        escape_html(text)
                    ))
                }
                Figure::Png { caption, data_url } if !data_url.starts_with("data:image/png;") => {
                    out.push_str(&format!(
                        "<figure><figcaption>{} (image left out: not a PNG data URL)</figcaption></figure>\n",
                        escape_html(caption)
                    ))
                }
                Figure::Png { caption, data_url } => out.push_str(&format!(
                    "<figure><img src=\"{}\" alt=\"{}\"><figcaption>{}</figcaption></figure>\n",
                    escape_html(data_url),
                    escape_html(caption),
                    escape_html(caption)
                )),
            }
        }
        out.push_str("</section>\n");
    }
    for (heading, json) in &r.cards {
        out.push_str(&format!(
            "<section><h2>{}</h2><pre>{}</pre></section>\n",
            escape_html(heading),
            escape_html(json)
        ));
    }
    out.push_str("</body></html>\n");
    out
}
