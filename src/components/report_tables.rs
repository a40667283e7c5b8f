//! One fairness report as tables: per-group metrics with interval bars, the gaps between groups
//! with their definitions, and the small-group warnings. The dashboard and the predictions audit
//! both show reports this way.

use std::sync::Arc;

use fairscreen_core::metrics::FairnessReport;
use leptos::prelude::*;

/// Definitions shown next to the gap metrics (papers.md §1 and §6).
const DEFINITIONS: [(&str, &str, &str); 11] = [
    (
        "worst_group_accuracy",
        "worst-group accuracy",
        "the lowest accuracy of any group",
    ),
    (
        "accuracy_gap",
        "accuracy gap",
        "highest minus lowest group accuracy",
    ),
    (
        "worst_group_auc",
        "worst-group AUC",
        "the lowest AUC (one-vs-rest macro) of any group",
    ),
    ("auc_gap", "AUC gap", "highest minus lowest group AUC"),
    (
        "fme/eopp0_abs",
        "EOpp0 (abs)",
        "mean over classes of |TNR(group 0) − TNR(group 1)| (FME/SCP code; two groups \
         only)",
    ),
    (
        "fme/eopp1_abs",
        "EOpp1 (abs)",
        "mean over classes of |TPR(group 0) − TPR(group 1)| (FME/SCP code; two groups \
         only)",
    ),
    (
        "fme/eodds_abs",
        "EOdd (abs)",
        "mean over classes of |ΔTPR + ΔFPR| / 2 — the absolute value of the sum, as the \
         FME/SCP code (opposite gaps cancel)",
    ),
    (
        "fme/dp_abs",
        "DP (abs)",
        "sum over classes of |P(ŷ = c | group 0) − P(ŷ = c | group 1)|",
    ),
    (
        "fairlearn/demographic_parity_difference",
        "demographic parity difference",
        "fairlearn: max − min over groups of the selection rate (one-vs-rest, averaged \
         over classes)",
    ),
    (
        "fairlearn/equalized_odds_difference",
        "equalized odds difference",
        "fairlearn (worst case): max of the TPR and FPR differences between groups \
         (one-vs-rest, averaged over classes)",
    ),
    (
        "fairlearn/equal_opportunity_difference",
        "equal opportunity difference",
        "fairlearn: max − min over groups of the TPR (one-vs-rest, averaged over \
         classes)",
    ),
];

fn interval_text(r: &FairnessReport, key: &str, v: f64) -> String {
    match r.intervals.get(key) {
        Some(i) => format!("{v:.3} [{:.3}, {:.3}]", i.lo, i.hi),
        None => format!("{v:.3}"),
    }
}

/// A horizontal bar (0–1) with the bootstrap interval as a whisker.
fn ci_bar(r: &FairnessReport, key: String, v: f64) -> impl IntoView {
    let whisker = r.intervals.get(&key).map(|i| {
        format!(
            "left: {:.1}%; width: {:.1}%",
            100.0 * i.lo,
            (100.0 * (i.hi - i.lo)).max(0.3)
        )
    });
    view! {
        <div class="cibar" data-key=key.clone() data-value=v.to_string()>
            <div class="fill" style=format!("width: {:.1}%", 100.0 * v)></div>
            {whisker.map(|w| view! { <div class="whisker" style=w></div> })}
        </div>
        <span class="cival">{interval_text(r, &key, v)}</span>
    }
}

/// One report: the groups table, its warnings and the gaps table.
fn report_view(r: &FairnessReport) -> impl IntoView {
    let rows = std::iter::once(&r.overall)
        .chain(&r.groups)
        .map(|g| {
            let prefix = if g.name == "all" {
                "overall".to_string()
            } else {
                format!("group/{}", g.name)
            };
            let auc = g.auc.map(|a| interval_text(r, &format!("{prefix}/auc"), a));
            view! {
                <tr class:overall=g.name == "all" class:small=g.n < r.options.min_group_size>
                    <th>{g.name.clone()}</th>
                    <td class="n">{g.n}</td>
                    <td class="acc">{ci_bar(r, format!("{prefix}/accuracy"), g.accuracy)}</td>
                    <td>{interval_text(r, &format!("{prefix}/f1"), g.f1)}</td>
                    <td>{auc.unwrap_or_else(|| "—".into())}</td>
                </tr>
            }
        })
        .collect::<Vec<_>>();
    let gaps = DEFINITIONS
        .iter()
        .filter_map(|(key, label, def)| {
            let v = *r.scalars.get(*key)?;
            Some(view! {
                <tr data-metric=*key>
                    <td>
                        <details>
                            <summary>{*label}</summary>
                            <p class="hint">{*def}</p>
                        </details>
                    </td>
                    <td class="num">{interval_text(r, key, v)}</td>
                </tr>
            })
        })
        .collect::<Vec<_>>();
    let warnings = r
        .warnings
        .iter()
        .map(|w| view! { <li>{w.clone()}</li> })
        .collect::<Vec<_>>();
    view! {
        <table class="groups">
            <tr>
                <th>"group"</th>
                <th>"n"</th>
                <th>"accuracy (95 % interval)"</th>
                <th>"macro F1"</th>
                <th>"AUC"</th>
            </tr>
            {rows}
        </table>
        <ul class="warnings">{warnings}</ul>
        <table class="gaps">
            <caption>"Gaps between groups (click a name for its definition)"</caption>
            {gaps}
        </table>
    }
}

/// The reports behind one tab per grouping; `grouping` holds the tab shown.
pub fn grouped_reports(
    reports: Arc<Vec<FairnessReport>>,
    grouping: RwSignal<usize>,
) -> impl IntoView {
    let tabs = reports
        .iter()
        .enumerate()
        .map(|(i, r)| {
            view! {
                <button
                    class="tab"
                    class:active=move || grouping.get() == i
                    aria-pressed=move || (grouping.get() == i).to_string()
                    data-grouping=i.to_string()
                    on:click=move |_| grouping.set(i)
                >
                    {r.attribute.clone()}
                </button>
            }
        })
        .collect::<Vec<_>>();
    let shown = move || {
        let i = grouping.get().min(reports.len().saturating_sub(1));
        reports.get(i).map(report_view)
    };
    view! {
        <div class="tabs">{tabs}</div>
        {shown}
    }
}
