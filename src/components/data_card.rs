//! The evaluation subset's data card: loading progress, then what the subset is, how it was made
//! and how many images each skin type × sex cell and each class holds.

use fairscreen_core::DataCard;
use leptos::prelude::*;

use super::format::roman;
use crate::state::{AppState, EvalStatus};

/// The sorted distinct values of `f` over the card's cells.
fn distinct(c: &DataCard, f: fn(&fairscreen_core::bundle::CellCount) -> u8) -> Vec<u8> {
    let mut v: Vec<u8> = c.counts_by_cell.iter().map(f).collect();
    v.sort();
    v.dedup();
    v
}

/// The generator settings as (key, value) rows, nested objects flattened to `a.b`.
fn settings_rows(settings: &serde_json::Value) -> Vec<(String, String)> {
    let serde_json::Value::Object(m) = settings else {
        return Vec::new();
    };
    m.iter()
        .flat_map(|(k, v)| match v {
            serde_json::Value::Object(inner) => inner
                .iter()
                .map(|(k2, v2)| (format!("{k}.{k2}"), v2.to_string()))
                .collect::<Vec<_>>(),
            other => vec![(k.clone(), other.to_string())],
        })
        .collect()
}

/// The cells table: images per Fitzpatrick type (rows) × sex (columns).
fn cells_table(c: &DataCard) -> impl IntoView {
    let sexes = distinct(c, |x| x.sex);
    let types = distinct(c, |x| x.skin_type);
    let sex_name = |s: u8| {
        c.sex_names
            .get(s as usize)
            .cloned()
            .unwrap_or("unknown".into())
    };
    let head = sexes
        .iter()
        .map(|s| view! { <th>{sex_name(*s)}</th> })
        .collect::<Vec<_>>();
    let rows = types
        .iter()
        .map(|t| {
            let cells = sexes
                .iter()
                .map(|sx| {
                    let n = c
                        .counts_by_cell
                        .iter()
                        .find(|x| x.skin_type == *t && x.sex == *sx)
                        .map_or(0, |x| x.count);
                    view! { <td data-cell=format!("{t}-{sx}")>{n}</td> }
                })
                .collect::<Vec<_>>();
            view! {
                <tr>
                    <th>{format!("Fitzpatrick {}", roman(*t))}</th>
                    {cells}
                </tr>
            }
        })
        .collect::<Vec<_>>();
    view! {
        <table class="cells">
            <caption>"Images per skin type × sex"</caption>
            <tr>
                <th>"skin type"</th>
                {head}
            </tr>
            {rows}
        </table>
    }
}

fn data_card_body(c: &DataCard, bytes: usize) -> impl IntoView {
    let classes = c
        .class_names
        .iter()
        .zip(&c.counts_by_class)
        .map(|(name, n)| view! { <li data-class=name.clone()>{format!("{name}: {n}")}</li> })
        .collect::<Vec<_>>();
    let settings = settings_rows(&c.settings)
        .into_iter()
        .map(|(k, v)| {
            view! {
                <tr>
                    <td>
                        <code>{k}</code>
                    </td>
                    <td>{v}</td>
                </tr>
            }
        })
        .collect::<Vec<_>>();
    let images = format!(
        "{} at {}×{} px ({:.2} MB file, sha256 verified)",
        c.count,
        c.side,
        c.side,
        bytes as f64 / 1e6
    );
    view! {
        <h2>"Evaluation subset: " {c.name.clone()}</h2>
        <p>{c.description.clone()}</p>
        <dl>
            <dt>"Source"</dt>
            <dd id="data-source">{c.source.clone()}</dd>
            <dt>"Split"</dt>
            <dd>{c.split.clone()}</dd>
            <dt>"Seed"</dt>
            <dd>{c.seed.map(|x| x.to_string()).unwrap_or("—".into())}</dd>
            <dt>"Images"</dt>
            <dd>{images}</dd>
            <dt>"Rebuild with"</dt>
            <dd>
                <code>{c.command.clone()}</code>
            </dd>
        </dl>
        {cells_table(c)}
        <ul class="classes">{classes}</ul>
        <details>
            <summary>"Generator settings (bias knobs)"</summary>
            <table class="metrics">{settings}</table>
        </details>
        <p class="disclaimer">{c.disclaimer.clone()}</p>
    }
}

/// The button that fetches the bundled subset (before its first use, or after a failure).
fn load_button(state: AppState) -> impl IntoView {
    view! {
        <button id="load-eval" type="button" on:click=move |_| state.load_eval()>
            "Load the evaluation subset"
        </button>
    }
}

/// The body for each loading state.
fn status_body(state: AppState, status: EvalStatus) -> AnyView {
    match status {
        EvalStatus::Waiting => view! {
            <p>
                "The evaluation subset (labelled images with lesion masks; its progress bar shows \
                 its size) is fetched when you first ask for it: here, or by computing fairness statistics. \
                 Screening a photo does not need it."
            </p>
            {load_button(state)}
        }
        .into_any(),
        EvalStatus::Fetching(done, total) => {
            let text = format!("{:.0} / {:.0} kB", done as f64 / 1e3, total as f64 / 1e3);
            view! {
                <p>"Loading the evaluation subset: " {text}</p>
                <progress id="eval-progress" max=total.to_string() value=done.to_string()></progress>
            }
            .into_any()
        }
        EvalStatus::Decoding => view! { <p>"Decoding the evaluation images…"</p> }.into_any(),
        EvalStatus::Failed(e) => {
            let text = format!("The evaluation subset could not be loaded: {e}");
            view! { <p class="error" id="eval-error">{text}</p> {load_button(state)} }.into_any()
        }
        EvalStatus::Ready(card, bytes) => data_card_body(&card, bytes).into_any(),
    }
}

/// The evaluation subset's data card (`#data-card`).
#[component]
pub fn DataCardView(state: AppState) -> impl IntoView {
    let eval = state.eval;
    let attr = move |f: fn(&DataCard) -> String| match eval.status.get() {
        EvalStatus::Ready(card, _) => f(&card),
        _ => String::new(),
    };
    view! {
        <section
            id="data-card"
            class="panel"
            data-state=move || eval.status.get().state()
            data-count=move || attr(|c| c.count.to_string())
            data-seed=move || attr(|c| c.seed.map(|x| x.to_string()).unwrap_or_default())
            data-name=move || attr(|c| c.name.clone())
        >
            {move || status_body(state, eval.status.get())}
        </section>
    }
}
