//! The per-exit chart: each exit alone and the early-exit policy at θ on the evaluation subset.

use leptos::prelude::*;

use super::chart::{chart_panel, ticks, Series, ACC_COLOUR, EODD_COLOUR, PLOT_X, POLICY_COLOUR};
use fairscreen_core::exit::{exit_name, exit_names, ExitNaming};

use super::format::{csv, pct, saved_text};
use crate::state::derived::{exit_chart, ExitChartData};
use crate::state::AppState;

/// The chart as inline SVG: accuracy and EOdd of each exit alone against its compute, and the
/// early-exit policy's point at θ.
fn exit_chart_svg(d: &ExitChartData) -> impl IntoView {
    let (left, right) = PLOT_X;
    let policy_compute = 1.0 - d.policy.compute_saved;
    let x_max = d
        .exit_compute
        .iter()
        .copied()
        .chain([policy_compute, 1.0])
        .fold(0.0, f64::max);
    let x_max = (x_max / 0.25).ceil() * 0.25;
    let x = move |v: f64| left + v / x_max * (right - left);
    let xs: Vec<f64> = d.exit_compute.iter().map(|&c| x(c)).collect();
    let px = x(policy_compute);
    let n = d.exits.len();
    let names = exit_names(ExitNaming::Short, n);
    let acc: Vec<f64> = d.exits.iter().map(|p| p.accuracy).collect();
    let eodds: Vec<f64> = d.exits.iter().map(|p| p.eodds_abs).collect();
    let (acc_top, acc_bottom, eo_top, eo_bottom) = (70.0, 200.0, 236.0, 340.0);
    let x_ticks = ticks(0.0, x_max, 0.25)
        .into_iter()
        .map(|t| {
            view! {
                <line x1=x(t) x2=x(t) y1=eo_bottom y2=eo_bottom + 4.0 stroke="#6b7280" />
                <line x1=x(t) x2=x(t) y1=acc_bottom y2=acc_bottom + 4.0 stroke="#6b7280" />
                <text
                    x=x(t)
                    y=eo_bottom + 17.0
                    text-anchor="middle"
                    font-size="11"
                    fill="#4b5563"
                >
                    {format!("{:.0} %", t * 100.0)}
                </text>
            }
        })
        .collect::<Vec<_>>();
    let legend_policy = format!(
        "early-exit policy at θ = {:.3}: {}",
        d.theta,
        saved_text(d.policy.compute_saved)
    );
    let accuracy = Series {
        title: "accuracy",
        colour: ACC_COLOUR,
        values: &acc,
        xs: &xs,
        policy: (d.policy.accuracy, px),
        labels: Some(names),
    };
    let eodd = Series {
        title: "EOdd (abs): Fitzpatrick I–III vs IV–VI",
        colour: EODD_COLOUR,
        values: &eodds,
        xs: &xs,
        policy: (d.policy.eodds_abs, px),
        labels: None,
    };
    view! {
        <svg
            viewBox="0 0 640 390"
            role="img"
            class="chart"
            aria-label="Accuracy and EOdd of each exit and of the early-exit policy against compute"
        >
            <g class="legend" font-size="12" fill="#1f2937">
                <line x1="70" x2="94" y1="16" y2="16" stroke=ACC_COLOUR stroke-width="2" />
                <circle cx="82" cy="16" r="4.5" fill=ACC_COLOUR />
                <text x="100" y="20">
                    "accuracy, each exit alone"
                </text>
                <line x1="290" x2="314" y1="16" y2="16" stroke=EODD_COLOUR stroke-width="2" />
                <rect x="298" y="12" width="8" height="8" fill=EODD_COLOUR />
                <text x="320" y="20">
                    "EOdd (abs), each exit alone"
                </text>
                <path d="M 82 33 L 89 40 L 82 47 L 75 40 Z" fill=POLICY_COLOUR />
                <text x="100" y="44">
                    {legend_policy}
                </text>
            </g>
            {chart_panel(accuracy, acc_top, acc_bottom, false)}
            {chart_panel(eodd, eo_top, eo_bottom, true)}
            <line x1=left x2=right y1=eo_bottom y2=eo_bottom stroke="#6b7280" />
            <line x1=left x2=right y1=acc_bottom y2=acc_bottom stroke="#6b7280" />
            {x_ticks}
            <text
                x=(left + right) / 2.0
                y="384"
                text-anchor="middle"
                font-size="12"
                fill="#374151"
            >
                "compute per image (share of the full network's multiply–accumulates)"
            </text>
        </svg>
    }
}

/// The chart's caption: the numbers in words.
fn caption(d: &ExitChartData) -> String {
    let shares = d
        .policy
        .exit_share
        .iter()
        .enumerate()
        .map(|(e, v)| format!("{} {}", exit_name(e, d.policy.exit_share.len()), pct(*v)))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "{} on {}. Each exit alone: its accuracy \
         and EOdd between Fitzpatrick I–III and IV–VI, placed at the compute it needs. The \
         diamond is the early-exit policy at θ = {:.3}: accuracy {:.3}, EOdd {:.3}, {} (answered \
         by {shares}). Move θ to move it.",
        d.model,
        if d.user_data {
            format!("your {} photos", d.samples)
        } else {
            format!(
                "the {} evaluation images (generated, not patients)",
                d.samples
            )
        },
        d.theta,
        d.policy.accuracy,
        d.policy.eodds_abs,
        saved_text(d.policy.compute_saved)
    )
}

/// The chart as a table (its text equivalent): each exit alone, then the policy.
fn numbers_table(d: &ExitChartData) -> impl IntoView {
    let n = d.exits.len();
    let rows = d
        .exits
        .iter()
        .zip(&d.exit_compute)
        .enumerate()
        .map(|(e, (p, c))| {
            view! {
                <tr>
                    <th scope="row">{format!("{} alone", exit_name(e, n))}</th>
                    <td>{format!("{:.3}", p.accuracy)}</td>
                    <td>{format!("{:.3}", p.eodds_abs)}</td>
                    <td>{pct(*c)}</td>
                </tr>
            }
        })
        .collect::<Vec<_>>();
    view! {
        <table class="cells">
            <tr>
                <th scope="col">"exit"</th>
                <th scope="col">"accuracy"</th>
                <th scope="col">"EOdd (abs)"</th>
                <th scope="col">"compute"</th>
            </tr>
            {rows}
            <tr>
                <th scope="row">{format!("policy at θ = {:.3}", d.theta)}</th>
                <td>{format!("{:.3}", d.policy.accuracy)}</td>
                <td>{format!("{:.3}", d.policy.eodds_abs)}</td>
                <td>{pct(1.0 - d.policy.compute_saved)}</td>
            </tr>
        </table>
    }
}

/// The per-exit chart (`#exit-chart`): follows θ live from the audit's logits (no inference).
/// Its numbers are also data attributes (comma-separated, shallow to deep).
#[component]
pub fn ExitChart(state: AppState) -> impl IntoView {
    let data = Memo::new(move |_| exit_chart(state));
    let attr =
        move |f: fn(&ExitChartData) -> String| data.with(|d| d.as_ref().map(f).unwrap_or_default());
    // The page's own logits over the subset, for checking the numbers (changes only with an audit).
    let logits_json = move || {
        state
            .audit
            .entry(&state.models.name.get())
            .map(|e| serde_json::to_string(&e.logits).unwrap_or_default())
            .unwrap_or_default()
    };
    view! {
        <figure
            id="exit-chart"
            class="chart"
            class:hidden=move || data.with(|d| d.is_none())
            data-model=move || attr(|d| d.model.clone())
            data-theta=move || attr(|d| d.theta.to_string())
            data-exit-accuracy=move || attr(|d| csv(d.exits.iter().map(|p| p.accuracy)))
            data-exit-eodds=move || attr(|d| csv(d.exits.iter().map(|p| p.eodds_abs)))
            data-exit-compute=move || attr(|d| csv(d.exit_compute.iter().copied()))
            data-policy-accuracy=move || attr(|d| d.policy.accuracy.to_string())
            data-policy-eodds=move || attr(|d| d.policy.eodds_abs.to_string())
            data-policy-compute-saved=move || attr(|d| d.policy.compute_saved.to_string())
            data-policy-exit-share=move || attr(|d| csv(d.policy.exit_share.iter().copied()))
            data-logits=logits_json
        >
            {move || data.get().map(|d| exit_chart_svg(&d))}
            <figcaption>{move || data.with(|d| d.as_ref().map(caption))}</figcaption>
            <details class="chart-numbers">
                <summary>"The chart's numbers"</summary>
                {move || data.with(|d| d.as_ref().map(numbers_table))}
            </details>
        </figure>
    }
}
