//! Building blocks of the inline SVG charts: value axes with ticks, one panel per metric.

use leptos::prelude::*;

/// Colour of accuracy / F1 series.
pub const ACC_COLOUR: &str = "#2f6fdb";
/// Colour of EOdd series.
pub const EODD_COLOUR: &str = "#c2410c";
/// Colour of the policy's (or the loaded level's) diamond.
pub const POLICY_COLOUR: &str = "#111827";
/// Left and right edge of the plotting area in SVG units.
pub const PLOT_X: (f64, f64) = (64.0, 616.0);

/// Ticks of a value axis within [0, 1]: (low, high, step), about four steps over the data.
pub fn nice_axis(min: f64, max: f64, from_zero: bool) -> (f64, f64, f64) {
    let min = if from_zero { 0.0 } else { min };
    let span = (max - min).max(0.02);
    let step = [0.005, 0.01, 0.02, 0.025, 0.05, 0.1, 0.2, 0.25, 0.5, 1.0]
        .into_iter()
        .find(|s| span / s <= 4.0)
        .unwrap_or(1.0);
    let lo = if from_zero {
        0.0
    } else {
        ((min - step / 4.0) / step).floor().max(0.0) * step
    };
    let hi = (((max + step / 4.0) / step).ceil() * step)
        .min(1.0)
        .max(lo + step);
    (lo, hi, step)
}

/// Tick positions from `lo` to `hi` by `step`.
pub fn ticks(lo: f64, hi: f64, step: f64) -> Vec<f64> {
    let n = ((hi - lo) / step + 1e-9).floor() as usize;
    (0..=n).map(|i| lo + i as f64 * step).collect()
}

/// A tick's label with as many decimals as the step needs.
fn tick_label(v: f64, step: f64) -> String {
    let decimals = if (step * 10.0 - (step * 10.0).round()).abs() < 1e-9 {
        1
    } else if (step * 100.0 - (step * 100.0).round()).abs() < 1e-9 {
        2
    } else {
        3
    };
    format!("{v:.decimals$}")
}

/// One series of a panel: its values at screen x positions, and the policy's point.
pub struct Series<'a> {
    /// Panel title.
    pub title: &'static str,
    /// Line and mark colour.
    pub colour: &'static str,
    /// Values, one per x.
    pub values: &'a [f64],
    /// Screen x of each value.
    pub xs: &'a [f64],
    /// The policy's value and screen x (drawn as a diamond).
    pub policy: (f64, f64),
    /// Labels above the marks.
    pub labels: Option<Vec<String>>,
}

/// One panel of a chart between `top` and `bottom`: a y axis with ticks and grid lines, the
/// series and the policy's diamond; `from_zero` draws squares on an axis starting at 0.
pub fn chart_panel(series: Series, top: f64, bottom: f64, from_zero: bool) -> impl IntoView {
    let (left, right) = PLOT_X;
    let Series {
        title,
        colour,
        values,
        xs,
        policy: (policy, px),
        labels,
    } = series;
    let all = values.iter().copied().chain([policy]);
    let (min, max) = all.fold((f64::MAX, f64::MIN), |(a, b), v| (a.min(v), b.max(v)));
    let (lo, hi, step) = nice_axis(min, max, from_zero);
    let y = move |v: f64| bottom - (v - lo) / (hi - lo) * (bottom - top);
    let grid = ticks(lo, hi, step)
        .into_iter()
        .map(|t| {
            view! {
                <line x1=left x2=right y1=y(t) y2=y(t) stroke="#e5e7eb" />
                <line x1=left - 4.0 x2=left y1=y(t) y2=y(t) stroke="#6b7280" />
                <text x=left - 7.0 y=y(t) + 4.0 text-anchor="end" font-size="11" fill="#4b5563">
                    {tick_label(t, step)}
                </text>
            }
        })
        .collect::<Vec<_>>();
    let points = xs
        .iter()
        .zip(values)
        .map(|(x, v)| format!("{x:.1},{:.1}", y(*v)))
        .collect::<Vec<_>>()
        .join(" ");
    let marks = xs
        .iter()
        .zip(values)
        .enumerate()
        .map(|(e, (x, v))| {
            let label = labels.as_ref().and_then(|l| l.get(e).cloned()).map(|l| {
                view! {
                    <text x=*x y=y(*v) - 9.0 text-anchor="middle" font-size="11" fill="#374151">
                        {l}
                    </text>
                }
            });
            let mark = if from_zero {
                view! { <rect x=x - 4.0 y=y(*v) - 4.0 width="8" height="8" fill=colour /> }
                    .into_any()
            } else {
                view! { <circle cx=*x cy=y(*v) r="4.5" fill=colour /> }.into_any()
            };
            view! {
                {mark}
                {label}
            }
        })
        .collect::<Vec<_>>();
    let py = y(policy);
    let diamond = format!(
        "M {px:.1} {:.1} L {:.1} {py:.1} L {px:.1} {:.1} L {:.1} {py:.1} Z",
        py - 7.0,
        px + 7.0,
        py + 7.0,
        px - 7.0
    );
    view! {
        <g class="panel">
            {grid}
            <line x1=left x2=left y1=top y2=bottom stroke="#6b7280" />
            <text x=left + 6.0 y=top - 6.0 font-size="12" font-weight="600" fill=colour>
                {title}
            </text>
            <polyline points=points fill="none" stroke=colour stroke-width="2" />
            {marks}
            <path d=diamond fill=POLICY_COLOUR stroke="#fff" stroke-width="1" />
        </g>
    }
}
