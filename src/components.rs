//! View components: each renders a slice of [`AppState`]; none owns logic beyond formatting.

use fairscreen_core::exit::{argmax, exit_policy, softmax};
use fairscreen_core::{ComputeCost, DataCard};
use leptos::prelude::*;

use crate::app::{AppState, EvalStatus, Status};

fn state() -> AppState {
    expect_context::<AppState>()
}

fn pct(x: f64) -> String {
    format!("{:.1} %", 100.0 * x)
}

/// The error banner (`#error`); empty when there is no error.
#[component]
pub fn ErrorBanner() -> impl IntoView {
    let s = state();
    let message = move || s.error.get().unwrap_or_default();
    view! {
        <div id="error" role="alert" class="error" class:hidden=move || s.error.get().is_none()
            data-error=message>
            <span>{message}</span>
            <button on:click=move |_| s.error.set(None)>"Dismiss"</button>
        </div>
    }
}

/// Which backend runs the model (`#backend`), with the adapter and a software-adapter warning.
#[component]
pub fn BackendBadge() -> impl IntoView {
    let s = state();
    let kind = move || s.backend.get().map(|b| b.kind).unwrap_or("");
    let adapter = move || s.backend.get().map(|b| b.adapter).unwrap_or_default();
    let software = move || s.backend.get().is_some_and(|b| b.software);
    let text = move || match s.backend.get() {
        None => "Backend: choosing…".to_string(),
        Some(b) if b.kind == "webgpu" => format!("Backend: WebGPU on {}", b.adapter),
        Some(b) => format!("Backend: CPU ({})", b.adapter),
    };
    let note = move || {
        let b = s.backend.get()?;
        if b.software {
            Some(
                "This WebGPU adapter is a software renderer (no GPU): expect CPU-like speed."
                    .to_string(),
            )
        } else {
            b.note
        }
    };
    view! {
        <p id="backend" data-backend=kind data-adapter=adapter
            data-software-adapter=move || software().to_string()>
            <span class="badge" class:gpu=move || kind() == "webgpu">{text}</span>
            <span class="note">{move || note().unwrap_or_default()}</span>
        </p>
    }
}

/// File picker and drop zone; also the θ slider.
#[component]
pub fn UploadZone() -> impl IntoView {
    let s = state();
    let dragging = RwSignal::new(false);
    let busy = move || !matches!(s.status.get(), Status::Ready | Status::Done);
    let on_change = move |ev: leptos::ev::Event| {
        let input: web_sys::HtmlInputElement = event_target(&ev);
        if let Some(file) = input.files().and_then(|f| f.get(0)) {
            s.classify_file(file);
        }
        // Allow choosing the same file again.
        input.set_value("");
    };
    let on_drop = move |ev: leptos::ev::DragEvent| {
        ev.prevent_default();
        dragging.set(false);
        let file = ev
            .data_transfer()
            .and_then(|d| d.files())
            .and_then(|f| f.get(0));
        match file {
            Some(file) if !busy() => s.classify_file(file),
            Some(_) => s
                .error
                .set(Some("please wait for the current photo to finish".into())),
            None => s
                .error
                .set(Some("drop an image file (JPEG, PNG or WebP)".into())),
        }
    };
    let on_theta = move |ev: leptos::ev::Event| {
        if let Ok(v) = event_target_value(&ev).parse::<f32>() {
            s.theta.set(v);
        }
    };
    view! {
        <div class="dropzone" class:dragging=move || dragging.get()
            on:dragover=move |ev: leptos::ev::DragEvent| { ev.prevent_default(); dragging.set(true); }
            on:dragleave=move |_| dragging.set(false)
            on:drop=on_drop>
            <label for="file-input">"Choose a photo (JPEG, PNG, WebP) or drop it here"</label>
            <input id="file-input" type="file" accept="image/jpeg,image/png,image/webp"
                prop:disabled=busy on:change=on_change />
        </div>
        <label class="theta">
            "Early-exit threshold θ: "
            <input id="theta" type="range" min="0.3" max="0.999" step="0.001"
                prop:value=move || s.theta.get().to_string() on:input=on_theta />
            <output>{move || format!("{:.3}", s.theta.get())}</output>
        </label>
        <p class="hint">
            "A photo leaves at the first exit whose top probability reaches θ; otherwise the final head answers."
        </p>
    }
}

/// Top classes of the exit that fired (`#result`, with the raw logits as data attributes).
#[component]
pub fn Prediction() -> impl IntoView {
    let s = state();
    let decision = move || {
        let r = s.result.get()?;
        Some(exit_policy(&r.logits, s.theta.get()))
    };
    let logits_json = move || {
        s.result
            .get()
            .map(|r| serde_json::to_string(&r.logits).unwrap_or_default())
            .unwrap_or_default()
    };
    let names = move || {
        s.card
            .get()
            .map(|c| c.config.class_names)
            .unwrap_or_default()
    };
    let rows = move || {
        let r = s.result.get()?;
        let d = decision()?;
        let probs = softmax(&r.logits[d.exit]);
        let mut order: Vec<usize> = (0..probs.len()).collect();
        order.sort_by(|&a, &b| probs[b].total_cmp(&probs[a]));
        let names = names();
        Some(
            order
                .into_iter()
                .map(|c| {
                    let p = probs[c];
                    let name = names.get(c).cloned().unwrap_or_else(|| format!("class {c}"));
                    view! {
                        <li class="prob">
                            <span class="name">{name}</span>
                            <span class="bar"><span style=format!("width:{:.1}%", 100.0 * p)></span></span>
                            <span class="value">{pct(p as f64)}</span>
                        </li>
                    }
                })
                .collect::<Vec<_>>(),
        )
    };
    let prediction = move || {
        let d = decision()?;
        names().get(d.class).cloned()
    };
    view! {
        <section id="result" class="panel" class:hidden=move || s.result.get().is_none()
            data-run=move || s.runs.get().to_string()
            data-logits=logits_json
            data-exit-fired=move || decision().map(|d| d.exit.to_string()).unwrap_or_default()
            data-prediction=move || prediction().unwrap_or_default()
            data-file=move || s.result.get().map(|r| r.file).unwrap_or_default()
            data-theta=move || s.theta.get().to_string()>
            <h2>"Result for " {move || s.result.get().map(|r| r.file).unwrap_or_default()}</h2>
            <p class="headline">
                "Most likely: " <strong>{move || prediction().unwrap_or_default()}</strong>
                {move || decision().map(|d| format!(" (answered by {})", exit_label(d.exit, d.fell_through)))}
            </p>
            <ol class="probs">{rows}</ol>
            <p class="disclaimer">"Not a diagnosis: a model trained on generated images can be wrong about any real photo."</p>
        </section>
    }
}

fn exit_label(exit: usize, final_head: bool) -> String {
    if final_head {
        "the final head".into()
    } else {
        format!("exit {}", exit + 1)
    }
}

/// Every exit's confidence, which one fired at θ, and the compute the policy needs.
#[component]
pub fn ExitStrip() -> impl IntoView {
    let s = state();
    let body = move || {
        let r = s.result.get()?;
        let card = s.card.get()?;
        let theta = s.theta.get();
        let d = exit_policy(&r.logits, theta);
        let cost = ComputeCost::of(&card.config);
        let per_exit = cost.macs_per_exit(&card.config.exit_stages);
        let full = cost.full_network();
        let last = r.logits.len() - 1;
        let cells = r
            .logits
            .iter()
            .enumerate()
            .map(|(e, l)| {
                let p = softmax(l);
                let c = argmax(&p);
                let fired = e == d.exit;
                let reached = p[c] >= theta;
                let name = card.config.class_names.get(c).cloned().unwrap_or_default();
                let why = if fired && e < last {
                    format!("fired: confidence {:.3} ≥ θ", p[c])
                } else if fired {
                    "answered: no earlier exit reached θ".to_string()
                } else if e < d.exit {
                    format!("passed: {:.3} < θ", p[c])
                } else if reached {
                    "not evaluated under the policy (an earlier exit fired)".to_string()
                } else {
                    "not evaluated under the policy".to_string()
                };
                view! {
                    <li class="exit" class:fired=fired data-exit=e.to_string()
                        data-confidence=format!("{:.6}", p[c])>
                        <span class="exit-name">{if e == last { "final head".to_string() } else { format!("exit {}", e + 1) }}</span>
                        <span class="conf">{pct(p[c] as f64)}</span>
                        <span class="cls">{name}</span>
                        <span class="macs">{format!("{:.2} MMAC", per_exit[e] as f64 / 1e6)}</span>
                        <span class="why">{why}</span>
                    </li>
                }
            })
            .collect::<Vec<_>>();
        let used = per_exit[d.exit];
        let summary = format!(
            "At θ = {theta:.3} this photo needs {:.2} MMAC under the early-exit policy: {} of the full network \
             ({:.2} MMAC, all stages + final head). FairScreen computes every exit anyway so that you can see them all.",
            used as f64 / 1e6,
            pct(used as f64 / full as f64),
            full as f64 / 1e6
        );
        Some(view! {
            <h2>"Exits"</h2>
            <ol class="exits">{cells}</ol>
            <p id="compute" data-macs-used=used.to_string() data-macs-full=full.to_string()>{summary}</p>
        })
    };
    view! { <section id="exits" class="panel" class:hidden=move || s.result.get().is_none()>{body}</section> }
}

/// The model card: what the model is, what it was trained on, and its validation numbers.
#[component]
pub fn ModelCardView() -> impl IntoView {
    let s = state();
    let body = move || {
        let c = s.card.get()?;
        let metrics = c
            .metrics
            .iter()
            .filter(|(k, _)| k.starts_with("val/"))
            .map(|(k, v)| view! { <tr><td>{k.clone()}</td><td>{format!("{v:.3}")}</td></tr> })
            .collect::<Vec<_>>();
        Some(view! {
            <h2>"Model card: " {c.name.clone()}</h2>
            <dl>
                <dt>"Trained on"</dt><dd id="trained-on">{c.training.data.clone()}</dd>
                <dt>"Method"</dt><dd>{c.training.method.clone()}</dd>
                <dt>"Architecture"</dt>
                <dd>{format!("{} · {} px · widths {:?} · exits after stages {:?} + final head · {}",
                    c.config.arch, c.config.input_size, c.config.widths,
                    c.config.exit_stages.iter().map(|s| s + 1).collect::<Vec<_>>(), c.quantization)}</dd>
                <dt>"Classes"</dt><dd>{c.config.class_names.join(", ")}</dd>
                <dt>"Rebuild with"</dt><dd><code>{c.training.command.clone()}</code></dd>
            </dl>
            <table class="metrics"><caption>"Validation (generated images)"</caption>{metrics}</table>
            <p class="disclaimer">{c.disclaimer.clone()}</p>
        })
    };
    view! { <section id="card" class="panel">{body}</section> }
}

/// Writes a panic report into the error banner without the reactive system (it may be broken).
pub fn report_panic(message: &str) {
    let Some(doc) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    if let Some(el) = doc.get_element_by_id("error") {
        let text = format!("internal error: {message}. Reload the page to continue.");
        let _ = el.set_attribute("data-error", &text);
        let _ = el.set_attribute("class", "error");
        el.set_text_content(Some(&text));
    } else if let Some(body) = doc.body() {
        body.set_inner_text(&format!("FairScreen stopped: {message}. Reload the page."));
    }
}

/// The evaluation subset's data card (`#data-card`): loading progress, then what the subset is,
/// how it was made and how many images each skin type × sex cell and each class holds.
#[component]
pub fn DataCardView() -> impl IntoView {
    let s = state();
    let body = move || {
        match s.eval.get() {
        EvalStatus::Waiting => view! { <p>"The evaluation subset loads after the model."</p> }.into_any(),
        EvalStatus::Fetching(done, total) => view! {
            <p>"Loading the evaluation subset: " {format!("{:.0} / {:.0} kB", done as f64 / 1e3, total as f64 / 1e3)}</p>
            <progress id="eval-progress" max=total.to_string() value=done.to_string()></progress>
        }
        .into_any(),
        EvalStatus::Decoding => view! { <p>"Decoding the evaluation images…"</p> }.into_any(),
        EvalStatus::Failed(e) => view! {
            <p class="error" id="eval-error">{format!("The evaluation subset could not be loaded: {e}")}</p>
        }
        .into_any(),
        EvalStatus::Ready(card, bytes) => data_card_body(&card, bytes).into_any(),
    }
    };
    let attr = move |f: fn(&DataCard) -> String| match s.eval.get() {
        EvalStatus::Ready(card, _) => f(&card),
        _ => String::new(),
    };
    view! {
        <section id="data-card" class="panel" data-state=move || s.eval.get().state()
            data-count=move || attr(|c| c.count.to_string())
            data-seed=move || attr(|c| c.seed.map(|x| x.to_string()).unwrap_or_default())
            data-name=move || attr(|c| c.name.clone())>
            {body}
        </section>
    }
}

fn roman(t: u8) -> &'static str {
    ["unknown", "I", "II", "III", "IV", "V", "VI"]
        .get(t as usize)
        .copied()
        .unwrap_or("?")
}

fn data_card_body(c: &DataCard, bytes: usize) -> impl IntoView {
    let sexes: Vec<u8> = {
        let mut v: Vec<u8> = c.counts_by_cell.iter().map(|x| x.sex).collect();
        v.sort();
        v.dedup();
        v
    };
    let types: Vec<u8> = {
        let mut v: Vec<u8> = c.counts_by_cell.iter().map(|x| x.skin_type).collect();
        v.sort();
        v.dedup();
        v
    };
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
            view! { <tr><th>{format!("Fitzpatrick {}", roman(*t))}</th>{cells}</tr> }
        })
        .collect::<Vec<_>>();
    let classes = c
        .class_names
        .iter()
        .zip(&c.counts_by_class)
        .map(|(name, n)| view! { <li data-class=name.clone()>{format!("{name}: {n}")}</li> })
        .collect::<Vec<_>>();
    let settings = match &c.settings {
        serde_json::Value::Object(m) => m
            .iter()
            .flat_map(|(k, v)| match v {
                serde_json::Value::Object(inner) => inner
                    .iter()
                    .map(|(k2, v2)| (format!("{k}.{k2}"), v2.to_string()))
                    .collect::<Vec<_>>(),
                other => vec![(k.clone(), other.to_string())],
            })
            .map(|(k, v)| view! { <tr><td><code>{k}</code></td><td>{v}</td></tr> })
            .collect::<Vec<_>>(),
        _ => vec![],
    };
    view! {
        <h2>"Evaluation subset: " {c.name.clone()}</h2>
        <p>{c.description.clone()}</p>
        <dl>
            <dt>"Source"</dt><dd id="data-source">{c.source.clone()}</dd>
            <dt>"Split"</dt><dd>{c.split.clone()}</dd>
            <dt>"Seed"</dt><dd>{c.seed.map(|x| x.to_string()).unwrap_or("—".into())}</dd>
            <dt>"Images"</dt><dd>{format!("{} at {}×{} px ({:.2} MB file, sha256 verified)", c.count, c.side, c.side, bytes as f64 / 1e6)}</dd>
            <dt>"Rebuild with"</dt><dd><code>{c.command.clone()}</code></dd>
        </dl>
        <table class="cells"><caption>"Images per skin type × sex"</caption>
            <tr><th></th>{head}</tr>{rows}
        </table>
        <ul class="classes">{classes}</ul>
        <details><summary>"Generator settings (bias knobs)"</summary>
            <table class="metrics">{settings}</table>
        </details>
        <p class="disclaimer">{c.disclaimer.clone()}</p>
    }
}
