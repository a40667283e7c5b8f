//! The pruning trade-off: a slider over the shipped pruning levels of the loaded model's family
//! and the curve of validation F1 and EOdd against channels removed, from the model cards.

use leptos::prelude::*;

use super::chart::{chart_panel, Series, ACC_COLOUR, EODD_COLOUR, PLOT_X};
use super::format::{csv, megabytes, mmac, thousands};
use crate::state::derived::{pruning_family, PruningFamily, PruningLevel};
use crate::state::AppState;

const VALIDATION_NOTE: &str = "Validation numbers are from the model cards (SynthDerm validation \
     images, measured by the trainer at export; the unpruned model's from its pruned versions' \
     cards). Every pruned level was fine-tuned after pruning and the unpruned model was not, so \
     part of any difference is the fine-tuning itself: the reproduction's unpruned, fine-tuned \
     control (docs/results/scp) separates the two. Audit a level in the dashboard to measure it \
     on the evaluation subset in this browser.";
const HEADERS: [&str; 8] = [
    "model",
    "channels removed",
    "parameters",
    "compute (full network)",
    "file",
    "val. accuracy",
    "val. macro F1",
    "val. EOdd (abs)",
];

/// Validation F1 and EOdd of every level against channels removed, the loaded level as a diamond.
fn pruning_chart_svg(f: &PruningFamily) -> Option<impl IntoView> {
    let (left, right) = PLOT_X;
    let known: Vec<&PruningLevel> = f
        .levels
        .iter()
        .filter(|l| l.val_f1.is_some() && l.val_eodds.is_some())
        .collect();
    let current = &f.levels[f.current];
    let (cur_f1, cur_eodds) = (current.val_f1?, current.val_eodds?);
    if known.len() < 2 {
        return None;
    }
    let x_max = known.iter().map(|l| l.removed).max().unwrap_or(1).max(1) as f64;
    let x = move |v: f64| left + v / x_max * (right - left);
    let xs: Vec<f64> = known.iter().map(|l| x(l.removed as f64)).collect();
    let px = x(current.removed as f64);
    let f1: Vec<f64> = known.iter().map(|l| l.val_f1.unwrap_or_default()).collect();
    let eodds: Vec<f64> = known
        .iter()
        .map(|l| l.val_eodds.unwrap_or_default())
        .collect();
    let labels: Vec<String> = known.iter().map(|l| l.removed.to_string()).collect();
    let (f1_top, f1_bottom, eo_top, eo_bottom) = (40.0, 160.0, 196.0, 300.0);
    let x_ticks = known
        .iter()
        .map(|l| {
            let xv = x(l.removed as f64);
            view! {
                <line x1=xv x2=xv y1=eo_bottom y2=eo_bottom + 4.0 stroke="#6b7280" />
                <text x=xv y=eo_bottom + 17.0 text-anchor="middle" font-size="11" fill="#4b5563">
                    {l.removed.to_string()}
                </text>
            }
        })
        .collect::<Vec<_>>();
    let f1_series = Series {
        title: "validation macro F1",
        colour: ACC_COLOUR,
        values: &f1,
        xs: &xs,
        policy: (cur_f1, px),
        labels: Some(labels),
    };
    let eodd_series = Series {
        title: "validation EOdd (abs): Fitzpatrick I–III vs IV–VI",
        colour: EODD_COLOUR,
        values: &eodds,
        xs: &xs,
        policy: (cur_eodds, px),
        labels: None,
    };
    let axis = format!(
        "channels removed from {} (diamond: the loaded model)",
        f.layer
    );
    Some(view! {
        <svg
            viewBox="0 0 640 340"
            role="img"
            class="chart"
            id="pruning-chart"
            aria-label="Validation F1 and EOdd against channels removed"
        >
            {chart_panel(f1_series, f1_top, f1_bottom, false)}
            {chart_panel(eodd_series, eo_top, eo_bottom, true)}
            <line x1=left x2=right y1=eo_bottom y2=eo_bottom stroke="#6b7280" />
            <line x1=left x2=right y1=f1_bottom y2=f1_bottom stroke="#6b7280" />
            {x_ticks}
            <text x=(left + right) / 2.0 y="334" text-anchor="middle" font-size="12" fill="#374151">
                {axis}
            </text>
        </svg>
    })
}

/// The table of levels, the loaded one marked.
fn levels_table(f: &PruningFamily) -> impl IntoView {
    let opt = |v: Option<f64>| v.map(|v| format!("{v:.3}")).unwrap_or("—".into());
    let rows = f
        .levels
        .iter()
        .enumerate()
        .map(|(i, l)| {
            view! {
                <tr class:active=i == f.current data-level=l.name.clone()>
                    <th>{l.name.clone()}</th>
                    <td class="num">{format!("{} / {}", l.removed, l.base_width)}</td>
                    <td class="num">{thousands(l.parameters)}</td>
                    <td class="num">{mmac(l.macs_full as f64)}</td>
                    <td class="num">{megabytes(l.bytes)}</td>
                    <td class="num">{opt(l.val_accuracy)}</td>
                    <td class="num">{opt(l.val_f1)}</td>
                    <td class="num">{opt(l.val_eodds)}</td>
                </tr>
            }
        })
        .collect::<Vec<_>>();
    let headers = HEADERS
        .iter()
        .map(|h| view! { <th>{*h}</th> })
        .collect::<Vec<_>>();
    view! {
        <div class="scroll" tabindex="0" role="region" aria-label="Pruning levels (scrolls sideways)">
            <table id="pruning-table">
                <tr>{headers}</tr>
                {rows}
            </table>
        </div>
    }
}

/// The pruning panel (`#pruning`): moving the slider loads that level.
#[component]
pub fn PruningLevels(state: AppState) -> impl IntoView {
    let family = Memo::new(move |_| pruning_family(state));
    let locked =
        move || state.models.switching.get().is_some() || !state.page.status.get().is_idle();
    let attr = move |f: fn(&PruningFamily) -> String| {
        family.with(|d| d.as_ref().map(f).unwrap_or_default())
    };
    let on_change = move |ev: leptos::ev::Event| {
        let Ok(i) = event_target_value(&ev).parse::<usize>() else {
            return;
        };
        let name = family.with_untracked(|f| {
            f.as_ref()
                .and_then(|f| f.levels.get(i))
                .map(|l| l.name.clone())
        });
        if let Some(name) = name {
            state.switch_model(name);
        }
    };
    let body = move || {
        let f = family.get()?;
        let current = f.levels[f.current].clone();
        let ticks = f
            .levels
            .iter()
            .map(|l| view! { <option value=l.removed.to_string() label=l.name.clone()></option> })
            .collect::<Vec<_>>();
        let intro = format!(
            "Channels of {} removed by sensitive channel pruning (SNNL w.r.t. skin group, \
             papers.md §3). Move the slider to load a level; the picker above offers the same \
             models.",
            f.layer
        );
        Some(view! {
            <h2>"Pruning: " {f.base.clone()} " and its pruned versions"</h2>
            <p class="hint">{intro}</p>
            <label class="slider">
                "Channels removed: "
                <input
                    id="pruning-level"
                    type="range"
                    min="0"
                    max=(f.levels.len() - 1).to_string()
                    step="1"
                    list="pruning-ticks"
                    prop:value=f.current.to_string()
                    prop:disabled=locked
                    on:change=on_change
                />
                <output>{format!("{} ({})", current.removed, current.name)}</output>
            </label>
            <datalist id="pruning-ticks">{ticks}</datalist>
            {pruning_chart_svg(&f)}
            {levels_table(&f)}
            <p class="hint">{current.method.clone()}</p>
            <p class="hint">{VALIDATION_NOTE}</p>
        })
    };
    view! {
        <section
            id="pruning"
            class="panel"
            class:hidden=move || family.with(|f| f.is_none())
            data-base=move || attr(|f| f.base.clone())
            data-current=move || attr(|f| f.levels[f.current].name.clone())
            data-levels=move || {
                attr(|f| f.levels.iter().map(|l| l.name.clone()).collect::<Vec<_>>().join(","))
            }
            data-removed=move || attr(|f| csv(f.levels.iter().map(|l| l.removed as f64)))
            data-parameters=move || attr(|f| csv(f.levels.iter().map(|l| l.parameters as f64)))
            data-val-f1=move || {
                attr(|f| csv(f.levels.iter().map(|l| l.val_f1.unwrap_or(f64::NAN))))
            }
            data-val-eodds=move || {
                attr(|f| csv(f.levels.iter().map(|l| l.val_eodds.unwrap_or(f64::NAN))))
            }
        >
            {body}
        </section>
    }
}
