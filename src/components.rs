//! View components: each renders a slice of [`AppState`]; none owns logic beyond formatting.

use fairscreen_core::exit::{argmax, exit_policy, softmax};
use fairscreen_core::{ComputeCost, DataCard};
use leptos::prelude::*;

use crate::app::{audit_options, AppState, AuditStatus, EvalStatus, Status};
use fairscreen_core::metrics::FairnessReport;

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
                prop:value=move || s.theta.get().to_string() on:input=on_theta
                on:change=move |_| s.recompute_audit() />
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

/// Definitions shown next to the gap metrics (papers.md §1 and §6).
const DEFINITIONS: [(&str, &str, &str); 11] = [
    ("worst_group_accuracy", "worst-group accuracy", "the lowest accuracy of any group"),
    ("accuracy_gap", "accuracy gap", "highest minus lowest group accuracy"),
    ("worst_group_auc", "worst-group AUC", "the lowest AUC (one-vs-rest macro) of any group"),
    ("auc_gap", "AUC gap", "highest minus lowest group AUC"),
    ("fme/eopp0_abs", "EOpp0 (abs)", "mean over classes of |TNR(group 0) − TNR(group 1)| (FME/SCP code; two groups only)"),
    ("fme/eopp1_abs", "EOpp1 (abs)", "mean over classes of |TPR(group 0) − TPR(group 1)| (FME/SCP code; two groups only)"),
    ("fme/eodds_abs", "EOdd (abs)", "mean over classes of |ΔTPR + ΔFPR| / 2 — the absolute value of the sum, as the FME/SCP code (opposite gaps cancel)"),
    ("fme/dp_abs", "DP (abs)", "sum over classes of |P(ŷ = c | group 0) − P(ŷ = c | group 1)|"),
    ("fairlearn/demographic_parity_difference", "demographic parity difference", "fairlearn: max − min over groups of the selection rate (one-vs-rest, averaged over classes)"),
    ("fairlearn/equalized_odds_difference", "equalized odds difference", "fairlearn (worst case): max of the TPR and FPR differences between groups (one-vs-rest, averaged over classes)"),
    ("fairlearn/equal_opportunity_difference", "equal opportunity difference", "fairlearn: max − min over groups of the TPR (one-vs-rest, averaged over classes)"),
];

fn interval_text(r: &FairnessReport, key: &str, v: f64) -> String {
    match r.intervals.get(key) {
        Some(i) => format!("{v:.3} [{:.3}, {:.3}]", i.lo, i.hi),
        None => format!("{v:.3}"),
    }
}

/// A horizontal bar (0–1) with the bootstrap interval as a whisker.
fn ci_bar(r: &FairnessReport, key: String, v: f64) -> impl IntoView {
    let i = r.intervals.get(&key).copied();
    let whisker = i.map(|i| {
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
                    <td><details><summary>{*label}</summary><p class="hint">{*def}</p></details></td>
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
            <tr><th>"group"</th><th>"n"</th><th>"accuracy (95 % interval)"</th><th>"macro F1"</th><th>"AUC"</th></tr>
            {rows}
        </table>
        <ul class="warnings">{warnings}</ul>
        <table class="gaps"><caption>"Gaps between groups (click a name for its definition)"</caption>{gaps}</table>
    }
}

/// The fairness dashboard (`#dashboard`): runs the model over the bundled evaluation subset in
/// this browser and shows per-group metrics with bootstrap intervals, gap metrics and warnings.
#[component]
pub fn Dashboard() -> impl IntoView {
    let s = state();
    let can_run = move || {
        matches!(s.eval.get(), EvalStatus::Ready(..))
            && matches!(s.status.get(), Status::Ready | Status::Done)
            && !matches!(s.audit.get(), AuditStatus::Running(..))
    };
    let report_json = move || match s.audit.get() {
        AuditStatus::Ready(r) => serde_json::to_string(&*r).unwrap_or_default(),
        _ => String::new(),
    };
    let opts = audit_options();
    let body = move || {
        match s.audit.get() {
        AuditStatus::Idle => view! {
            <p>"Runs the model on every image of the evaluation subset, here on your device, and computes accuracy and fairness statistics per skin type and sex."</p>
        }
        .into_any(),
        AuditStatus::Running(done, total) => view! {
            <p>{format!("Running the model on the evaluation subset: {done} / {total} images")}</p>
            <progress id="audit-progress" max=total.to_string() value=done.to_string()></progress>
        }
        .into_any(),
        AuditStatus::Failed(e) => view! { <p class="error" id="audit-error">{e}</p> }.into_any(),
        AuditStatus::Ready(reports) => {
            let tabs = reports
                .iter()
                .enumerate()
                .map(|(i, r)| {
                    view! {
                        <button class="tab" class:active=move || s.grouping.get() == i
                            data-grouping=i.to_string()
                            on:click=move |_| s.grouping.set(i)>{r.attribute.clone()}</button>
                    }
                })
                .collect::<Vec<_>>();
            let shown = move || {
                let i = s.grouping.get().min(reports.len().saturating_sub(1));
                reports.get(i).map(report_view)
            };
            view! {
                <p class="hint">{format!(
                    "Computed in this browser at θ = {:.3} (the exits' policy decides each prediction). Intervals: {} % bootstrap, {} resamples stratified by group, seed {}.",
                    s.theta.get_untracked(), (opts.level * 100.0).round(), opts.bootstrap, opts.seed)}</p>
                <div class="tabs">{tabs}</div>
                {shown}
            }
            .into_any()
        }
    }
    };
    view! {
        <section id="dashboard" class="panel" data-state=move || s.audit.get().state()
            data-report=report_json>
            <h2>"Fairness on the evaluation subset"</h2>
            <button id="run-audit" prop:disabled=move || !can_run() on:click=move |_| s.run_audit()>
                {move || if matches!(s.audit.get(), AuditStatus::Ready(_)) { "Run again" } else { "Compute fairness statistics" }}
            </button>
            {body}
            <p class="disclaimer">"Statistics of a model trained and evaluated on generated images: they show how it treats these synthetic groups, not how it would treat real patients."</p>
        </section>
    }
}
