//! Minimal SVG line charts for the reproduction reports (categorical x axis, one line per series).

use std::fmt::Write;

/// Colours of successive series (colour-blind friendly, Okabe–Ito).
const COLOURS: [&str; 8] = [
    "#000000", "#e69f00", "#56b4e9", "#009e73", "#d55e00", "#0072b2", "#cc79a7", "#f0e442",
];

/// One line of a chart: a name and one value per x label (`NaN` leaves a gap).
pub struct Series {
    /// Legend text.
    pub name: String,
    /// Values, one per x label.
    pub values: Vec<f64>,
    /// Dashed line.
    pub dashed: bool,
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The 1, 2, 2.5 or 5 × 10^k step nearest above `raw` (tick spacing).
fn nice_step(raw: f64) -> f64 {
    let raw = raw.max(1e-12);
    let magnitude = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0]
        .into_iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= raw * (1.0 - 1e-9))
        .unwrap_or(10.0 * magnitude)
}

/// A 640×400 SVG line chart with axes, ticks, a legend and a title.
pub fn line_chart(
    title: &str,
    x_label: &str,
    y_label: &str,
    x: &[String],
    series: &[Series],
) -> String {
    let (w, h) = (640.0, 400.0);
    let (left, right, top, bottom) = (70.0, 190.0, 40.0, 60.0);
    let values = series
        .iter()
        .flat_map(|s| s.values.iter().copied())
        .filter(|v| v.is_finite());
    let (mut lo, mut hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
        (a.min(v), b.max(v))
    });
    if !lo.is_finite() {
        (lo, hi) = (0.0, 1.0);
    }
    if hi - lo < 1e-9 {
        (lo, hi) = (lo - 0.5, hi + 0.5);
    }
    let pad = (hi - lo) * 0.08;
    let step = nice_step((hi - lo + 2.0 * pad) / 5.0);
    let (lo, hi) = (
        ((lo - pad) / step).floor() * step,
        ((hi + pad) / step).ceil() * step,
    );
    let pw = w - left - right;
    let ph = h - top - bottom;
    let px = |i: usize| left + pw * (i as f64 + 0.5) / x.len().max(1) as f64;
    let py = |v: f64| top + ph * (1.0 - (v - lo) / (hi - lo));
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="sans-serif" font-size="12">
<rect width="100%" height="100%" fill="white"/>
<text x="{}" y="22" text-anchor="middle" font-size="15">{}</text>
"#,
        w / 2.0,
        escape(title)
    );
    let _ = writeln!(
        s,
        r##"<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="#444"/>"##
    );
    let mut decimals = (-step.log10().floor()).max(0.0) as usize;
    let scaled = step * 10f64.powi(decimals as i32);
    if (scaled - scaled.round()).abs() > 1e-6 {
        decimals += 1; // 2.5 × 10^k
    }
    let ticks = ((hi - lo) / step).round() as usize;
    for t in 0..=ticks {
        let v = lo + step * t as f64;
        let y = py(v);
        let stroke = if v.abs() < step * 1e-6 {
            "#888"
        } else {
            "#ddd"
        };
        let _ = writeln!(
            s,
            r##"<line x1="{left}" x2="{}" y1="{y:.1}" y2="{y:.1}" stroke="{stroke}"/><text x="{}" y="{:.1}" text-anchor="end">{v:.decimals$}</text>"##,
            left + pw,
            left - 6.0,
            y + 4.0
        );
    }
    for (i, label) in x.iter().enumerate() {
        let _ = writeln!(
            s,
            r#"<text x="{:.1}" y="{}" text-anchor="middle">{}</text>"#,
            px(i),
            top + ph + 18.0,
            escape(label)
        );
    }
    let _ = writeln!(
        s,
        r#"<text x="{:.1}" y="{}" text-anchor="middle">{}</text>"#,
        left + pw / 2.0,
        h - 14.0,
        escape(x_label)
    );
    let _ = writeln!(
        s,
        r#"<text transform="translate(18 {:.1}) rotate(-90)" text-anchor="middle">{}</text>"#,
        top + ph / 2.0,
        escape(y_label)
    );
    for (n, ser) in series.iter().enumerate() {
        let colour = COLOURS[n % COLOURS.len()];
        let dash = if ser.dashed {
            r#" stroke-dasharray="6 4""#
        } else {
            ""
        };
        let mut path = String::new();
        let mut pen_down = false;
        for (i, v) in ser.values.iter().enumerate() {
            if !v.is_finite() {
                pen_down = false;
                continue;
            }
            let _ = write!(
                path,
                "{}{:.1},{:.1} ",
                if pen_down { "L" } else { "M" },
                px(i),
                py(*v)
            );
            pen_down = true;
            let _ = writeln!(
                s,
                r#"<circle cx="{:.1}" cy="{:.1}" r="3" fill="{colour}"/>"#,
                px(i),
                py(*v)
            );
        }
        let _ = writeln!(
            s,
            r#"<path d="{}" fill="none" stroke="{colour}" stroke-width="2"{dash}/>"#,
            path.trim_end()
        );
        let ly = top + 10.0 + 20.0 * n as f64;
        let lx = w - right + 12.0;
        let _ = writeln!(
            s,
            r#"<line x1="{lx}" x2="{}" y1="{ly}" y2="{ly}" stroke="{colour}" stroke-width="2"{dash}/><text x="{}" y="{}">{}</text>"#,
            lx + 22.0,
            lx + 28.0,
            ly + 4.0,
            escape(&ser.name)
        );
    }
    s.push_str("</svg>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_are_round_numbers() {
        assert_eq!(nice_step(0.027), 0.05);
        assert_eq!(nice_step(0.02), 0.02);
        assert_eq!(nice_step(0.21), 0.25);
        assert_eq!(nice_step(3.0), 5.0);
        assert_eq!(nice_step(0.0011), 0.002);
    }
}
