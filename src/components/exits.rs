//! The exit strip: every exit's confidence for the photo, which one fired at θ and the compute
//! the policy needs.

use fairscreen_core::exit::{argmax, exit_name_as, softmax, ExitDecision, ExitNaming};
use fairscreen_core::ComputeCost;
use leptos::prelude::*;

use super::format::pct;
use crate::protocol::PhotoResult;
use crate::state::AppState;

/// Why an exit did or did not answer under the policy; `confidence` is `None` for an exit that
/// was not computed.
fn why(
    e: usize,
    last: usize,
    d: Option<&ExitDecision>,
    confidence: Option<f32>,
    theta: f32,
) -> String {
    let Some(confidence) = confidence else {
        return match d {
            Some(_) => {
                "not computed: an earlier exit fired, so the stages after it never ran".to_string()
            }
            None => "not computed yet".to_string(),
        };
    };
    match d {
        Some(d) if e == d.exit && e < last => format!("fired: confidence {confidence:.3} ≥ θ"),
        Some(d) if e == d.exit => "answered: no earlier exit reached θ".to_string(),
        Some(d) if e > d.exit => "computed, not used: an earlier exit fires at this θ".to_string(),
        _ if confidence >= theta && e < last => format!("fires: confidence {confidence:.3} ≥ θ"),
        _ => format!("passed: {confidence:.3} < θ"),
    }
}

/// What the pass computed, in words.
fn how_computed(r: &PhotoResult) -> String {
    match r.stopped_at {
        None => "Every exit was computed in one pass, so that you can compare them.".into(),
        Some(theta) if r.complete() => {
            format!("No internal exit reached θ = {theta:.3}, so every stage ran.")
        }
        Some(theta) => format!(
            "The pass stopped at the exit that fired at θ = {theta:.3}: the stages after it were \
             not computed."
        ),
    }
}

/// The compute sentence under the strip.
fn compute_summary(theta: f32, used: u64, full: u64, how: &str) -> String {
    format!(
        "At θ = {theta:.3} this photo needs {:.2} MMAC under the early-exit policy: {} of the full \
         network ({:.2} MMAC, all stages + final head). {how}",
        used as f64 / 1e6,
        pct(used as f64 / full as f64),
        full as f64 / 1e6
    )
}

/// The saving in bold, with a note when no exit reached θ.
fn saved_headline(saved: f64) -> String {
    let note = if saved < 0.0 {
        " (no exit reached θ: every exit head ran before the final head answered)"
    } else {
        ""
    };
    format!("Compute saved vs the full network: {}{note}. ", pct(saved))
}

/// The measured times: this photo's pass and the full network's.
fn timing_summary(r: &PhotoResult) -> String {
    let computed = r.logits.len();
    let this = if r.stopped_at.is_none() {
        format!("Every exit computed in one pass: {:.1} ms.", r.model_ms)
    } else if r.complete() {
        format!(
            "Stage by stage, every exit computed (none reached θ before the final head): {:.1} ms.",
            r.model_ms
        )
    } else {
        format!(
            "Stage by stage: {:.1} ms with {computed} of {} exits computed.",
            r.model_ms, r.exits
        )
    };
    let full = match r.full_network_ms {
        Some(ms) if r.stopped_at.is_some() => format!(
            " The full network (every exit, one pass) took {ms:.1} ms on this backend when last \
             measured."
        ),
        Some(_) => String::new(),
        None => " Compute every exit to measure the full network on this backend.".to_string(),
    };
    format!(
        "Measured in this browser: decoding and preparing the photo {:.1} ms; the model (upload, \
         the stages run, read-back; the first run on WebGPU also compiles its kernels): \
         {this}{full}",
        r.prepare_ms
    )
}

/// Every exit's confidence, which one fired at θ, and the compute the policy needs (`#exits`);
/// exits the stage-by-stage pass did not reach are shown as not computed, with a control that
/// computes them all.
#[component]
pub fn ExitStrip(state: AppState) -> impl IntoView {
    let photo = state.photo;
    let models = state.models;
    let body = move || {
        let r = photo.result.get()?;
        let card = models.card.get()?;
        let theta = photo.theta.get();
        let cost = ComputeCost::of(&card.config);
        let per_exit = cost.macs_per_exit(&card.config.exit_stages);
        let full = cost.full_network();
        // The result and the card come from the same model (they are committed together).
        if r.logits.is_empty() || r.exits != per_exit.len() {
            return None;
        }
        let d = r.decision(theta);
        let last = r.exits - 1;
        let cells = (0..r.exits)
            .map(|e| {
                let top = r.logits.get(e).map(|l| {
                    let p = softmax(l);
                    let c = argmax(&p);
                    (c, p[c])
                });
                let name = top
                    .and_then(|(c, _)| card.config.class_names.get(c).cloned())
                    .unwrap_or_default();
                let conf = top.map_or_else(|| "not computed".to_string(), |(_, p)| pct(p as f64));
                let macs = per_exit.get(e).copied().unwrap_or_default() as f64 / 1e6;
                view! {
                    <li
                        class="exit"
                        class:fired=d.as_ref().is_some_and(|d| d.exit == e)
                        class:not-computed=top.is_none()
                        data-exit=e.to_string()
                        data-computed=top.is_some().to_string()
                        data-confidence=top.map(|(_, p)| format!("{p:.6}")).unwrap_or_default()
                    >
                        <span class="exit-name">{exit_name_as(ExitNaming::Title, e, r.exits)}</span>
                        <span class="conf">{conf}</span>
                        <span class="cls">{name}</span>
                        <span class="macs">{format!("{macs:.2} MMAC")}</span>
                        <span class="why">{why(e, last, d.as_ref(), top.map(|(_, p)| p), theta)}</span>
                    </li>
                }
            })
            .collect::<Vec<_>>();
        let compute = d.as_ref().and_then(|d| {
            let used = per_exit.get(d.exit).copied()?;
            let saved = 1.0 - used as f64 / full as f64;
            Some(view! {
                <p
                    id="compute"
                    data-macs-used=used.to_string()
                    data-macs-full=full.to_string()
                    data-compute-saved=saved.to_string()
                >
                    <strong class="saved">{saved_headline(saved)}</strong>
                    {compute_summary(theta, used, full, &how_computed(&r))}
                </p>
            })
        });
        Some(view! {
            <h2>"Exits"</h2>
            <ol class="exits">{cells}</ol>
            {compute}
            <p
                id="timing"
                data-exits-computed=r.logits.len().to_string()
                data-model-ms=r.model_ms.to_string()
                data-full-network-ms=r.full_network_ms.map(|t| t.to_string()).unwrap_or_default()
                data-prepare-ms=r.prepare_ms.to_string()
                data-worker-memory=r.worker_memory_bytes.to_string()
            >
                {timing_summary(&r)}
            </p>
            <button
                id="compute-all"
                type="button"
                class:hidden=r.complete()
                disabled=move || photo.rescreening.get()
                on:click=move |_| state.rescreen(true)
            >
                "Compute every exit"
            </button>
        })
    };
    view! {
        <section id="exits" class="panel" class:hidden=move || photo.result.get().is_none()>
            {body}
        </section>
    }
}
