//! The exit strip: every exit's confidence for the photo, which one fired at θ and the compute
//! the policy needs.

use fairscreen_core::exit::{argmax, exit_name_as, exit_policy, softmax, ExitDecision, ExitNaming};
use fairscreen_core::ComputeCost;
use leptos::prelude::*;

use super::format::pct;
use crate::state::{ModelState, PhotoState};

/// Why an exit did or did not answer under the policy.
fn why(e: usize, last: usize, d: &ExitDecision, confidence: f32, theta: f32) -> String {
    if e == d.exit && e < last {
        format!("fired: confidence {confidence:.3} ≥ θ")
    } else if e == d.exit {
        "answered: no earlier exit reached θ".to_string()
    } else if e < d.exit {
        format!("passed: {confidence:.3} < θ")
    } else if confidence >= theta {
        "not evaluated under the policy (an earlier exit fired)".to_string()
    } else {
        "not evaluated under the policy".to_string()
    }
}

/// The compute sentence under the strip.
fn compute_summary(theta: f32, used: u64, full: u64) -> String {
    format!(
        "At θ = {theta:.3} this photo needs {:.2} MMAC under the early-exit policy: {} of the full \
         network ({:.2} MMAC, all stages + final head). FairScreen computes every exit anyway so \
         that you can see them all.",
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

/// Every exit's confidence, which one fired at θ, and the compute the policy needs (`#exits`).
#[component]
pub fn ExitStrip(photo: PhotoState, models: ModelState) -> impl IntoView {
    let body = move || {
        let r = photo.result.get()?;
        let card = models.card.get()?;
        let theta = photo.theta.get();
        let cost = ComputeCost::of(&card.config);
        let per_exit = cost.macs_per_exit(&card.config.exit_stages);
        let full = cost.full_network();
        // The result and the card come from the same model (they are committed together).
        if r.logits.is_empty() || r.logits.len() != per_exit.len() {
            return None;
        }
        let d = exit_policy(&r.logits, theta);
        let last = r.logits.len() - 1;
        let cells = r
            .logits
            .iter()
            .enumerate()
            .map(|(e, l)| {
                let p = softmax(l);
                let c = argmax(&p);
                let name = card.config.class_names.get(c).cloned().unwrap_or_default();
                let macs = per_exit.get(e).copied().unwrap_or_default() as f64 / 1e6;
                view! {
                    <li
                        class="exit"
                        class:fired=e == d.exit
                        data-exit=e.to_string()
                        data-confidence=format!("{:.6}", p[c])
                    >
                        <span class="exit-name">{exit_name_as(ExitNaming::Title, e, r.logits.len())}</span>
                        <span class="conf">{pct(p[c] as f64)}</span>
                        <span class="cls">{name}</span>
                        <span class="macs">{format!("{macs:.2} MMAC")}</span>
                        <span class="why">{why(e, last, &d, p[c], theta)}</span>
                    </li>
                }
            })
            .collect::<Vec<_>>();
        let used = per_exit.get(d.exit).copied()?;
        let saved = 1.0 - used as f64 / full as f64;
        Some(view! {
            <h2>"Exits"</h2>
            <ol class="exits">{cells}</ol>
            <p
                id="compute"
                data-macs-used=used.to_string()
                data-macs-full=full.to_string()
                data-compute-saved=saved.to_string()
            >
                <strong class="saved">{saved_headline(saved)}</strong>
                {compute_summary(theta, used, full)}
            </p>
        })
    };
    view! {
        <section id="exits" class="panel" class:hidden=move || photo.result.get().is_none()>
            {body}
        </section>
    }
}
