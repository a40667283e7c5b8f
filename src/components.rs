//! View components: each renders a slice of [`AppState`]; none owns logic beyond formatting.

use base64::Engine;
use fairscreen_core::cam::{
    class_activation_map, group_lesion_focus, group_mean_heat, heat_image, heatmap_overlay,
    positive_unit, upsample,
};
use fairscreen_core::exit::{argmax, exit_policy, softmax};
use fairscreen_core::exit_analysis::parameter_count;
use fairscreen_core::preprocess::encode_png;
use fairscreen_core::{ComputeCost, DataCard, ModelCard};
use leptos::prelude::*;

use crate::app::{
    audit_options, AppState, AuditStatus, ComparisonRow, EvalStatus, ExitChartData, ModelChoice,
    OfflineStatus, PruningFamily, PruningLevel, Status,
};
use fairscreen_core::metrics::FairnessReport;

fn state() -> AppState {
    expect_context::<AppState>()
}

fn pct(x: f64) -> String {
    format!("{:.1} %", 100.0 * x)
}

fn mmac(macs: f64) -> String {
    format!("{:.2} MMAC", macs / 1e6)
}

fn megabytes(bytes: usize) -> String {
    format!("{:.2} MB", bytes as f64 / 1e6)
}

/// `1234567` → `1,234,567`.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Values for a data attribute: comma-separated, each printed exactly (shortest round trip).
fn csv(values: impl IntoIterator<Item = f64>) -> String {
    values
        .into_iter()
        .map(|v| v.to_string())
        .collect::<Vec<_>>()
        .join(",")
}

/// What the compute saving means in words (negative: the exit heads cost more than they saved).
fn saved_text(saved: f64) -> String {
    if saved >= 0.0 {
        format!("{} less compute than the full network", pct(saved))
    } else {
        format!("{} more compute than the full network", pct(-saved))
    }
}

fn exit_name(e: usize, exits: usize) -> String {
    if e + 1 == exits {
        "final".into()
    } else {
        format!("exit {}", e + 1)
    }
}

/// One picker option's text: name, method, file size, parameters, full-network compute.
fn option_label(m: &ModelChoice) -> String {
    let mut text = format!("{} · {}", m.entry.name, megabytes(m.entry.bytes));
    if let Some(c) = &m.card {
        let method = c.training.method.split(' ').next().unwrap_or_default();
        text = format!(
            "{} · {method} · {} {} · {} parameters · {} full network",
            m.entry.name,
            c.quantization,
            megabytes(m.entry.bytes),
            thousands(parameter_count(&c.config)),
            mmac(ComputeCost::of(&c.config).full_network() as f64)
        );
    }
    text
}

/// The model picker (`#model-picker`): every model of `models/index.json` with its size and
/// compute; choosing one loads it on the same backend. Says what the loaded model was trained on.
#[component]
pub fn ModelPicker() -> impl IntoView {
    let s = state();
    let locked = move || {
        s.switching.get().is_some()
            || !matches!(s.status.get(), Status::Ready | Status::Done)
            || matches!(s.audit.get(), AuditStatus::Running(..))
    };
    let options = move || {
        s.models
            .get()
            .into_iter()
            .map(|m| {
                let name = m.entry.name.clone();
                let selected = {
                    let name = name.clone();
                    move || s.model_name.get() == name
                };
                let facts = m.card.as_ref().map(|c| {
                    (
                        parameter_count(&c.config).to_string(),
                        ComputeCost::of(&c.config).full_network().to_string(),
                    )
                });
                let (params, macs) = facts.unwrap_or_default();
                view! {
                    <option value=name.clone() prop:selected=selected
                        data-bytes=m.entry.bytes.to_string() data-parameters=params data-macs-full=macs>
                        {option_label(&m)}
                    </option>
                }
            })
            .collect::<Vec<_>>()
    };
    let on_change = move |ev: leptos::ev::Event| s.switch_model(event_target_value(&ev));
    let note = move || match s.switching.get() {
        Some(name) => format!("Loading {name}…"),
        None if matches!(s.audit.get(), AuditStatus::Running(..)) => {
            "Locked while the fairness audit runs.".into()
        }
        None => String::new(),
    };
    let trained_on = move || {
        s.card
            .get()
            .map(|c| format!("{} was trained on {}.", c.name, c.training.data))
            .unwrap_or_default()
    };
    view! {
        <div class="picker">
            <label for="model-picker">"Model: "</label>
            <select id="model-picker" data-model=move || s.model_name.get()
                data-state=move || if s.switching.get().is_some() { "switching" } else { "idle" }
                prop:disabled=locked on:change=on_change>
                {options}
            </select>
            <span class="note">{note}</span>
            <p class="hint" id="picker-trained-on">
                {trained_on}
                " Not a diagnosis: every model here is a research demo trained on generated images."
            </p>
        </div>
    }
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
        Some(b) if b.kind == "webgpu" => format!(
            "Backend: WebGPU on {} (shader-f16: {})",
            b.adapter,
            if b.shader_f16 { "yes" } else { "no" }
        ),
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
            data-shader-f16=move || s.backend.get().is_some_and(|b| b.shader_f16).to_string()
            data-software-adapter=move || software().to_string()>
            <span class="badge" class:gpu=move || kind() == "webgpu">{text}</span>
            <span class="note">{move || note().unwrap_or_default()}</span>
        </p>
    }
}

/// Whether the site works offline (`#offline`): stored by the service worker, or why not.
#[component]
pub fn OfflineBadge() -> impl IntoView {
    let s = state();
    let data_state = move || match s.offline.get() {
        OfflineStatus::Pending => "pending",
        OfflineStatus::Ready => "ready",
        OfflineStatus::Unavailable(_) => "unavailable",
    };
    let text = move || {
        match s.offline.get() {
        OfflineStatus::Pending => "Offline use: storing the app on this device…".to_string(),
        OfflineStatus::Ready => "Offline use: ready. The app, the default model and the evaluation subset are stored on this device; other models are stored once loaded.".to_string(),
        OfflineStatus::Unavailable(why) => format!("Offline use: unavailable ({why})."),
    }
    };
    view! { <p id="offline" data-state=data_state class="note">{text}</p> }
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

/// Largest display side of the heatmap, in pixels.
const HEATMAP_SCALE: u32 = 4;
/// Opacity of the hottest heatmap pixel over the photo.
const HEATMAP_ALPHA: f32 = 0.6;

/// The heatmap (`#heatmap`): the class activation map of the exit that fired, for the class it
/// predicted, over the photo as the model saw it; follows θ like the prediction.
#[component]
pub fn Heatmap() -> impl IntoView {
    let s = state();
    let cam = Memo::new(move |_| {
        let r = s.result.get()?;
        let d = exit_policy(&r.logits, s.theta.get());
        let weights = s
            .model
            .with_value(|m| m.as_ref().and_then(|m| m.exit_weights.get(d.exit).cloned()))?;
        let cam = class_activation_map(&r.maps[d.exit], &weights, d.class).ok()?;
        Some((d, cam, r.image.clone()))
    });
    let data_url = move || {
        let (_, cam, image) = cam.get()?;
        let side = image.width() as usize;
        let heat = positive_unit(&upsample(&cam, side));
        let png = encode_png(&heatmap_overlay(
            &image,
            &heat,
            HEATMAP_ALPHA,
            HEATMAP_SCALE,
        ));
        Some(format!(
            "data:image/png;base64,{}",
            base64::engine::general_purpose::STANDARD.encode(png)
        ))
    };
    let caption = move || {
        let (d, cam, _) = cam.get()?;
        let class = s
            .card
            .get()
            .and_then(|c| c.config.class_names.get(d.class).cloned())
            .unwrap_or_else(|| format!("class {}", d.class));
        Some(format!(
            "Where {} found evidence for “{class}”: the class activation map of its {}×{} maps, upsampled. Red is the \
             strongest positive evidence; only positive evidence is shown, scaled to its maximum. This head pools its maps \
             and applies a linear layer, so the map is exact: its mean plus the class bias is the logit. A heatmap explains \
             the model, not the lesion.",
            exit_label(d.exit, d.fell_through),
            cam.height,
            cam.width
        ))
    };
    view! {
        <section id="heatmap" class="panel" class:hidden=move || cam.get().is_none()
            data-exit=move || cam.get().map(|(d, _, _)| d.exit.to_string()).unwrap_or_default()
            data-class=move || cam.get().map(|(d, _, _)| d.class.to_string()).unwrap_or_default()
            data-cam=move || cam.get().map(|(_, c, _)| serde_json::to_string(&c.values).unwrap_or_default()).unwrap_or_default()>
            <h2>"Heatmap"</h2>
            <img class="heatmap" alt="Class activation map over the photo" src=data_url />
            <p class="hint">{caption}</p>
        </section>
    }
}

/// Mean final-head heatmaps per skin group on the evaluation subset (`#group-heatmaps`), from the
/// loaded model's audit: the per-group review of heatmaps of the facial-expression bias paper.
#[component]
pub fn GroupHeatmaps() -> impl IntoView {
    let s = state();
    let groups = Memo::new(move |_| {
        s.audit_version.track();
        let name = s.model_name.get();
        let cams = s.audit_cams.with_value(|c| c.get(&name).cloned())?;
        let bundle = s.bundle.get_value()?;
        if cams.len() != bundle.len() {
            return None;
        }
        let mut out = Vec::new();
        let skin = fairscreen_core::exit_analysis::skin_groups(&bundle.skin_types);
        let types: Vec<usize> = bundle
            .skin_types
            .iter()
            .map(|t| usize::from(*t).wrapping_sub(1))
            .collect();
        let side = bundle.card.side as usize;
        for (labels, names) in [
            (&skin, vec!["I–III".to_string(), "IV–VI".to_string()]),
            (&types, (1..=6).map(|t| format!("type {t}")).collect()),
        ] {
            let means = group_mean_heat(&cams, labels, names.len()).ok()?;
            let focus = match &bundle.lesion_masks {
                Some(masks) => group_lesion_focus(&cams, masks, side, labels, names.len()).ok()?,
                None => vec![None; names.len()],
            };
            for (g, ((mean, group), focus)) in means.into_iter().zip(names).zip(focus).enumerate() {
                if let Some(mean) = mean {
                    let n = labels.iter().filter(|&&l| l == g).count();
                    out.push((group, n, mean, focus));
                }
            }
        }
        Some(out)
    });
    let json = move || {
        groups
            .get()
            .map(|g| {
                let rows: Vec<_> = g
                    .iter()
                    .map(|(name, n, m, f)| {
                        serde_json::json!({
                            "group": name,
                            "images": n,
                            "heat": m.values,
                            "lesion_share": f.map(|f| f.share),
                            "lesion_area": f.map(|f| f.area),
                        })
                    })
                    .collect();
                serde_json::to_string(&rows).unwrap_or_default()
            })
            .unwrap_or_default()
    };
    let figures = move || {
        groups.get().map(|g| {
            g.into_iter()
                .map(|(name, n, mean, focus)| {
                    let scale = (96 / mean.width.max(1)) as u32;
                    let src = format!(
                        "data:image/png;base64,{}",
                        base64::engine::general_purpose::STANDARD
                            .encode(encode_png(&heat_image(&mean, scale)))
                    );
                    view! {
                        <figure class="group-heat">
                            <img src=src alt=format!("Mean heatmap, {name}") />
                            <figcaption>{format!("{name} ({n})")}</figcaption>
                            {focus.map(|f| view! {
                                <figcaption class="focus">{format!("on lesion {:.3} (area {:.3})", f.share, f.area)}</figcaption>
                            })}
                        </figure>
                    }
                })
                .collect::<Vec<_>>()
        })
    };
    view! {
        <section id="group-heatmaps" class="panel" class:hidden=move || groups.get().is_none()
            data-groups=json>
            <h2>"Heatmaps per skin group"</h2>
            <p class="hint">"Where the final head looks, per group of the evaluation subset: each image's class activation map for the class the final head predicts, positive part scaled to [0, 1], averaged over the group (red: where the group's maps are hottest). Computed in this browser from the audit above. Under each map, when the subset carries lesion masks: the mean share of each image's heat that lies on the lesion, and the lesion's mean share of the image (what a map that ignores the lesion would get). A per-group review of heatmaps, as in the facial-expression bias paper."</p>
            <div class="group-heat-row">{figures}</div>
        </section>
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
                        <span class="macs">{format!("{:.2} MMAC", per_exit.get(e).copied().unwrap_or_default() as f64 / 1e6)}</span>
                        <span class="why">{why}</span>
                    </li>
                }
            })
            .collect::<Vec<_>>();
        let used = per_exit.get(d.exit).copied()?;
        let saved = 1.0 - used as f64 / full as f64;
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
            <p id="compute" data-macs-used=used.to_string() data-macs-full=full.to_string()
                data-compute-saved=saved.to_string()>
                <strong class="saved">{format!("Compute saved vs the full network: {}{}. ", pct(saved),
                    if saved < 0.0 { " (no exit reached θ: every exit head ran before the final head answered)" } else { "" })}</strong>
                {summary}
            </p>
        })
    };
    view! { <section id="exits" class="panel" class:hidden=move || s.result.get().is_none()>{body}</section> }
}

/// Size and compute of a model for the card: parameters, file, MACs of the full network and of
/// each exit under the policy.
fn size_facts(c: &ModelCard, bytes: Option<usize>) -> (String, String) {
    let cost = ComputeCost::of(&c.config);
    let per_exit = cost.macs_per_exit(&c.config.exit_stages);
    let weights = format!(
        "{} · {} parameters{}",
        c.quantization,
        thousands(parameter_count(&c.config)),
        bytes
            .map(|b| format!(" · {} file (sha256 verified)", megabytes(b)))
            .unwrap_or_default()
    );
    let exits = per_exit
        .iter()
        .enumerate()
        .map(|(e, m)| format!("{} {}", exit_name(e, per_exit.len()), mmac(*m as f64)))
        .collect::<Vec<_>>()
        .join(", ");
    let compute = format!(
        "{} for the full network (all stages + final head); leaving at {exits} under the early-exit policy",
        mmac(cost.full_network() as f64)
    );
    (weights, compute)
}

/// The model card: what the model is, what it was trained on, its size and compute, and its
/// validation numbers.
#[component]
pub fn ModelCardView() -> impl IntoView {
    let s = state();
    let bytes = move || {
        let name = s.model_name.get();
        s.models.with(|m| {
            m.iter()
                .find(|c| c.entry.name == name)
                .map(|c| c.entry.bytes)
        })
    };
    // Mean compute of the policy at θ over the evaluation subset, once the audit has run.
    let policy = move || {
        s.exit_chart().map(|d| {
            format!(
                "At θ = {:.3} on the evaluation subset: {} per image on average ({}).",
                d.theta,
                mmac(d.policy.mean_macs),
                saved_text(d.policy.compute_saved)
            )
        })
    };
    let body = move || {
        let c = s.card.get()?;
        let metrics = c
            .metrics
            .iter()
            .filter(|(k, _)| k.starts_with("val/"))
            .map(|(k, v)| view! { <tr><td>{k.clone()}</td><td>{format!("{v:.3}")}</td></tr> })
            .collect::<Vec<_>>();
        let (weights, compute) = size_facts(&c, bytes());
        Some(view! {
            <h2>"Model card: " {c.name.clone()}</h2>
            <dl>
                <dt>"Trained on"</dt><dd id="trained-on">{c.training.data.clone()}</dd>
                <dt>"Method"</dt><dd>{c.training.method.clone()}</dd>
                <dt>"Architecture"</dt>
                <dd>{format!("{} · {} px · widths {:?} · exits after stages {:?} + final head · {}",
                    c.config.arch, c.config.input_size, c.config.widths,
                    c.config.exit_stages.iter().map(|s| s + 1).collect::<Vec<_>>(), c.quantization)}</dd>
                <dt>"Weights"</dt><dd id="card-weights">{weights}</dd>
                <dt>"Precision"</dt><dd id="card-precision">{move || s.precision.get()}</dd>
                <dt>"Compute"</dt><dd id="card-compute">{compute} ". " {policy}</dd>
                {c.pruning.clone().map(|p| view! {
                    <dt>"Pruned"</dt>
                    <dd id="card-pruning">{format!("from {}: {} of the {} channels of {} removed ({}) — {}",
                        p.base, p.channels.len(), p.base_width, p.layer,
                        p.channels.iter().map(|c| c.to_string()).collect::<Vec<_>>().join(", "), p.method)}</dd>
                })}
                <dt>"Default θ"</dt><dd id="card-theta">{format!("{:.3}", c.default_theta)}
                    {c.theta_selection.clone().map(|t| format!(" — {t}"))}</dd>
                <dt>"Classes"</dt><dd>{c.config.class_names.join(", ")}</dd>
                <dt>"Rebuild with"</dt><dd><code>{c.training.command.clone()}</code></dd>
            </dl>
            <details class="card-metrics">
                <summary>{format!("Validation metrics at export ({}, generated images)", metrics.len())}</summary>
                <table class="metrics">{metrics}</table>
            </details>
            <p class="disclaimer">{c.disclaimer.clone()}</p>
        })
    };
    view! {
        <section id="card" class="panel"
            data-name=move || s.card.get().map(|c| c.name).unwrap_or_default()
            data-default-theta=move || s.card.get().map(|c| c.default_theta.to_string()).unwrap_or_default()>
            {body}
        </section>
    }
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
    let audit_ms = move || s.audit_ms.with(|m| m.get(&s.model_name.get()).copied());
    let audit_speed = move || {
        let (Some(ms), Some(bundle)) = (audit_ms(), s.bundle.get_value()) else {
            return String::new();
        };
        let backend = match s.backend.get() {
            Some(b) if b.kind == "webgpu" && b.software => {
                format!("WebGPU on {} (a software adapter, not a GPU)", b.adapter)
            }
            Some(b) if b.kind == "webgpu" => format!("WebGPU on {}", b.adapter),
            Some(b) => format!("the CPU ({})", b.adapter),
            None => "this backend".into(),
        };
        format!(
            "The last run took {:.1} s for {} images ({:.0} images/s, preprocessing and read-back included) on {backend}.",
            ms / 1000.0,
            bundle.len(),
            bundle.len() as f64 / (ms / 1000.0)
        )
    };
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
                <p class="hint" id="audit-speed">{audit_speed}</p>
                <ExitChart />
                <div class="tabs">{tabs}</div>
                {shown}
            }
            .into_any()
        }
    }
    };
    view! {
        <section id="dashboard" class="panel" data-state=move || s.audit.get().state()
            data-report=report_json data-model=move || s.model_name.get()
            data-theta=move || { s.audit.track(); s.theta.get_untracked().to_string() }
            data-audit-runs=move || s.audit_runs.get().to_string()
            data-audit-ms=move || audit_ms().map(|m| m.to_string()).unwrap_or_default()>
            <h2>"Fairness on the evaluation subset"</h2>
            <button id="run-audit" prop:disabled=move || !can_run() on:click=move |_| s.run_audit()>
                {move || if matches!(s.audit.get(), AuditStatus::Ready(_)) { "Run again" } else { "Compute fairness statistics" }}
            </button>
            {body}
            <p class="disclaimer">"Statistics of a model trained and evaluated on generated images: they show how it treats these synthetic groups, not how it would treat real patients."</p>
        </section>
    }
}

/// Ticks of a value axis within [0, 1]: (low, high, step), about four steps over the data.
fn nice_axis(min: f64, max: f64, from_zero: bool) -> (f64, f64, f64) {
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

fn ticks(lo: f64, hi: f64, step: f64) -> Vec<f64> {
    let n = ((hi - lo) / step + 1e-9).floor() as usize;
    (0..=n).map(|i| lo + i as f64 * step).collect()
}

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

const ACC_COLOUR: &str = "#2f6fdb";
const EODD_COLOUR: &str = "#c2410c";
const POLICY_COLOUR: &str = "#111827";

/// One panel of the chart: a y axis with ticks and grid lines, the exits' series and the
/// policy's diamond. `xs` are screen x of the exits, `px` the policy's.
#[allow(clippy::too_many_arguments)]
fn chart_panel(
    title: &'static str,
    colour: &'static str,
    values: &[f64],
    policy: f64,
    xs: &[f64],
    px: f64,
    top: f64,
    bottom: f64,
    from_zero: bool,
    labels: Option<Vec<String>>,
) -> impl IntoView {
    let (left, right) = (64.0, 616.0);
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
                <text x=left - 7.0 y=y(t) + 4.0 text-anchor="end" font-size="11" fill="#4b5563">{tick_label(t, step)}</text>
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
                view! { <text x=*x y=y(*v) - 9.0 text-anchor="middle" font-size="11" fill="#374151">{l}</text> }
            });
            let mark = if from_zero {
                view! { <rect x=x - 4.0 y=y(*v) - 4.0 width="8" height="8" fill=colour /> }.into_any()
            } else {
                view! { <circle cx=*x cy=y(*v) r="4.5" fill=colour /> }.into_any()
            };
            view! { {mark} {label} }
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
            <text x=left + 6.0 y=top - 6.0 font-size="12" font-weight="600" fill=colour>{title}</text>
            <polyline points=points fill="none" stroke=colour stroke-width="2" />
            {marks}
            <path d=diamond fill=POLICY_COLOUR stroke="#fff" stroke-width="1" />
        </g>
    }
}

/// The per-exit chart as inline SVG: accuracy and EOdd of each exit alone against its compute,
/// and the early-exit policy's point at θ.
fn exit_chart_svg(d: &ExitChartData) -> impl IntoView {
    let (left, right) = (64.0, 616.0);
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
    let names: Vec<String> = (0..n).map(|e| exit_name(e, n)).collect();
    let acc: Vec<f64> = d.exits.iter().map(|p| p.accuracy).collect();
    let eodds: Vec<f64> = d.exits.iter().map(|p| p.eodds_abs).collect();
    let (acc_top, acc_bottom, eo_top, eo_bottom) = (70.0, 200.0, 236.0, 340.0);
    let x_ticks = ticks(0.0, x_max, 0.25)
        .into_iter()
        .map(|t| {
            view! {
                <line x1=x(t) x2=x(t) y1=eo_bottom y2=eo_bottom + 4.0 stroke="#6b7280" />
                <line x1=x(t) x2=x(t) y1=acc_bottom y2=acc_bottom + 4.0 stroke="#6b7280" />
                <text x=x(t) y=eo_bottom + 17.0 text-anchor="middle" font-size="11" fill="#4b5563">{format!("{:.0} %", t * 100.0)}</text>
            }
        })
        .collect::<Vec<_>>();
    let legend_policy = format!(
        "early-exit policy at θ = {:.3}: {}",
        d.theta,
        saved_text(d.policy.compute_saved)
    );
    view! {
        <svg viewBox="0 0 640 390" role="img" class="chart"
            aria-label="Accuracy and EOdd of each exit and of the early-exit policy against compute">
            <g class="legend" font-size="12" fill="#1f2937">
                <line x1="70" x2="94" y1="16" y2="16" stroke=ACC_COLOUR stroke-width="2" />
                <circle cx="82" cy="16" r="4.5" fill=ACC_COLOUR />
                <text x="100" y="20">"accuracy, each exit alone"</text>
                <line x1="290" x2="314" y1="16" y2="16" stroke=EODD_COLOUR stroke-width="2" />
                <rect x="298" y="12" width="8" height="8" fill=EODD_COLOUR />
                <text x="320" y="20">"EOdd (abs), each exit alone"</text>
                <path d="M 82 33 L 89 40 L 82 47 L 75 40 Z" fill=POLICY_COLOUR />
                <text x="100" y="44">{legend_policy}</text>
            </g>
            {chart_panel("accuracy", ACC_COLOUR, &acc, d.policy.accuracy, &xs, px, acc_top, acc_bottom, false, Some(names))}
            {chart_panel("EOdd (abs): Fitzpatrick I–III vs IV–VI", EODD_COLOUR, &eodds, d.policy.eodds_abs, &xs, px, eo_top, eo_bottom, true, None)}
            <line x1=left x2=right y1=eo_bottom y2=eo_bottom stroke="#6b7280" />
            <line x1=left x2=right y1=acc_bottom y2=acc_bottom stroke="#6b7280" />
            {x_ticks}
            <text x=(left + right) / 2.0 y="384" text-anchor="middle" font-size="12" fill="#374151">
                "compute per image (share of the full network's multiply–accumulates)"
            </text>
        </svg>
    }
}

/// The per-exit chart (`#exit-chart`): each exit alone and the early-exit policy at θ on the
/// evaluation subset; follows θ live from the cached logits (no inference). Its numbers are
/// also data attributes (comma-separated, shallow to deep).
#[component]
pub fn ExitChart() -> impl IntoView {
    let s = state();
    let data = Memo::new(move |_| s.exit_chart());
    let attr =
        move |f: fn(&ExitChartData) -> String| data.with(|d| d.as_ref().map(f).unwrap_or_default());
    // The page's own logits over the subset, for checking the numbers (changes only with an audit).
    let logits_json = move || {
        s.audit_version.track();
        s.model_name.track();
        s.audit_logits
            .get_value()
            .map(|l| serde_json::to_string(&*l).unwrap_or_default())
            .unwrap_or_default()
    };
    let caption = move || {
        data.with(|d| {
            d.as_ref().map(|d| {
                let shares = d
                    .policy
                    .exit_share
                    .iter()
                    .enumerate()
                    .map(|(e, v)| format!("{} {}", exit_name(e, d.policy.exit_share.len()), pct(*v)))
                    .collect::<Vec<_>>()
                    .join(", ");
                format!(
                    "{} on the {} evaluation images (generated, not patients). Each exit alone: its accuracy and EOdd between \
                     Fitzpatrick I–III and IV–VI, placed at the compute it needs. The diamond is the early-exit policy at θ = {:.3}: \
                     accuracy {:.3}, EOdd {:.3}, {} (answered by {shares}). Move θ to move it.",
                    d.model, d.samples, d.theta, d.policy.accuracy, d.policy.eodds_abs,
                    saved_text(d.policy.compute_saved)
                )
            })
        })
    };
    view! {
        <figure id="exit-chart" class="chart" class:hidden=move || data.with(|d| d.is_none())
            data-model=move || attr(|d| d.model.clone())
            data-theta=move || attr(|d| d.theta.to_string())
            data-exit-accuracy=move || attr(|d| csv(d.exits.iter().map(|p| p.accuracy)))
            data-exit-eodds=move || attr(|d| csv(d.exits.iter().map(|p| p.eodds_abs)))
            data-exit-compute=move || attr(|d| csv(d.exit_compute.iter().copied()))
            data-policy-accuracy=move || attr(|d| d.policy.accuracy.to_string())
            data-policy-eodds=move || attr(|d| d.policy.eodds_abs.to_string())
            data-policy-compute-saved=move || attr(|d| d.policy.compute_saved.to_string())
            data-policy-exit-share=move || attr(|d| csv(d.policy.exit_share.iter().copied()))
            data-logits=logits_json>
            {move || data.get().map(|d| exit_chart_svg(&d))}
            <figcaption>{caption}</figcaption>
        </figure>
    }
}

fn comparison_row(r: &ComparisonRow) -> impl IntoView {
    let eodds = r.report.fme.as_ref().map(|f| f.eodds_abs);
    let shares = r
        .policy
        .exit_share
        .iter()
        .map(|v| format!("{:.0}", 100.0 * v))
        .collect::<Vec<_>>()
        .join(" / ")
        + " %";
    let method = r.card.training.method.clone();
    let title = method.clone();
    let short_method = method.split(" (").next().unwrap_or_default().to_string();
    view! {
        <tr class:active=r.active data-model=r.model.clone() data-method=method
            data-theta=r.theta.to_string()
            data-bytes=r.bytes.to_string()
            data-accuracy=r.report.overall.accuracy.to_string()
            data-f1=r.report.overall.f1.to_string()
            data-eodds=eodds.map(|v| v.to_string()).unwrap_or_default()
            data-worst-group-accuracy=r.report.worst_group_accuracy.to_string()
            data-exit-share=csv(r.policy.exit_share.iter().copied())
            data-compute-saved=r.policy.compute_saved.to_string()
            data-parameters=parameter_count(&r.card.config).to_string()
            data-precision=r.card.quantization.clone()
            data-group-accuracy=csv(r.report.groups.iter().map(|g| g.accuracy))
            data-audit-ms=r.audit_ms.map(|m| m.to_string()).unwrap_or_default()>
            <th>{r.model.clone()}{r.active.then_some(" (loaded)")}
                <span class="weights">{format!("{} · {}", r.card.quantization, megabytes(r.bytes))}</span>
                <span class="weights">{format!("{} parameters", thousands(parameter_count(&r.card.config)))}</span></th>
            <td title=title>{short_method}</td>
            <td class="num">{format!("{:.3}", r.theta)}</td>
            <td class="num">{format!("{:.3}", r.report.overall.accuracy)}</td>
            <td class="num">{format!("{:.3}", r.report.overall.f1)}</td>
            <td class="num">{eodds.map(|v| format!("{v:.3}")).unwrap_or("—".into())}</td>
            <td class="num">{format!("{:.3}", r.report.worst_group_accuracy)}</td>
            <td class="num">{r.report.groups.iter().map(|g| format!("{:.3}", g.accuracy)).collect::<Vec<_>>().join(" / ")}</td>
            <td class="shares">{shares}</td>
            <td class="num">{pct(r.policy.compute_saved)}</td>
            <td class="num">{mmac(r.policy.mean_macs)}</td>
            <td class="num">{r.audit_ms.map(|ms| format!("{:.0}", r.report.overall.n as f64 / (ms / 1000.0))).unwrap_or("—".into())}</td>
        </tr>
    }
}

/// Side-by-side comparison (`#model-comparison`) of every model audited in this browser, each at
/// its own θ, from the cached exit logits (switching models does not re-run an audit).
#[component]
pub fn Comparison() -> impl IntoView {
    let s = state();
    let rows = Memo::new(move |_| s.comparison());
    // One line per training set, naming the models trained on it.
    let trained_on = move || {
        let mut by_data: Vec<(String, Vec<String>)> = Vec::new();
        for r in rows.get() {
            match by_data.iter_mut().find(|(d, _)| *d == r.card.training.data) {
                Some((_, names)) => names.push(r.model.clone()),
                None => by_data.push((r.card.training.data.clone(), vec![r.model.clone()])),
            }
        }
        by_data
            .into_iter()
            .map(|(data, names)| view! { <li>{format!("{}: {data}", names.join(", "))}</li> })
            .collect::<Vec<_>>()
    };
    view! {
        <section id="comparison" class="panel" class:hidden=move || rows.with(|r| r.is_empty())
            data-models=move || rows.with(|r| r.iter().map(|r| r.model.clone()).collect::<Vec<_>>().join(","))>
            <h2>"Models side by side"</h2>
            <p class="hint">"Every model audited in this browser on the evaluation subset, each under the early-exit policy at its own θ (the loaded model's follows the slider). Skin groups: Fitzpatrick I–III vs IV–VI. Choose another model above and compute its fairness statistics to add it: audit a model and its int8 twin (…-int8, the default precision) or f16 twin (…-f16) to see what reduced precision does to each group."</p>
            <div class="scroll">
                <table id="model-comparison">
                    <tr><th>"model (weights)"</th><th>"training"</th><th>"θ"</th><th>"accuracy"</th>
                        <th>"macro F1"</th><th>"EOdd (abs)"</th><th>"worst skin group acc."</th>
                        <th>"acc. I–III / IV–VI"</th>
                        <th>"exits used, % (shallow → final)"</th><th>"compute saved"</th>
                        <th>"mean compute per image"</th><th>"images/s in this browser"</th></tr>
                    {move || rows.get().iter().map(comparison_row).collect::<Vec<_>>()}
                </table>
            </div>
            <p class="hint">"Trained on:"</p>
            <ul class="trained-on">{trained_on}</ul>
            <p class="disclaimer">"Not a diagnosis: research models trained and evaluated on generated images; these numbers describe how they treat synthetic groups, not real patients."</p>
        </section>
    }
}

/// The pruning trade-off (`#pruning`): a slider over the shipped pruning levels of the loaded
/// model's family (moving it loads that level) and the curve of validation F1 and EOdd against
/// channels removed, from the model cards, with the loaded level marked.
#[component]
pub fn PruningLevels() -> impl IntoView {
    let s = state();
    let family = Memo::new(move |_| s.pruning_family());
    let locked = move || {
        s.switching.get().is_some()
            || !matches!(s.status.get(), Status::Ready | Status::Done)
            || matches!(s.audit.get(), AuditStatus::Running(..))
    };
    let attr = move |f: fn(&PruningFamily) -> String| {
        family.with(|d| d.as_ref().map(f).unwrap_or_default())
    };
    let on_change = move |ev: leptos::ev::Event| {
        let Ok(i) = event_target_value(&ev).parse::<usize>() else {
            return;
        };
        if let Some(name) = family.with_untracked(|f| {
            f.as_ref()
                .and_then(|f| f.levels.get(i))
                .map(|l| l.name.clone())
        }) {
            s.switch_model(name);
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
        let rows = f
            .levels
            .iter()
            .enumerate()
            .map(|(i, l)| {
                let opt = |v: Option<f64>| v.map(|v| format!("{v:.3}")).unwrap_or("—".into());
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
        Some(view! {
            <h2>"Pruning: " {f.base.clone()} " and its pruned versions"</h2>
            <p class="hint">{format!(
                "Channels of {} removed by sensitive channel pruning (SNNL w.r.t. skin group, papers.md §3). Move the slider to load a level; the picker above offers the same models.",
                f.layer)}</p>
            <label class="slider">"Channels removed: "
                <input id="pruning-level" type="range" min="0" max=(f.levels.len() - 1).to_string() step="1"
                    list="pruning-ticks" prop:value=f.current.to_string() prop:disabled=locked on:change=on_change />
                <output>{format!("{} ({})", current.removed, current.name)}</output>
            </label>
            <datalist id="pruning-ticks">{ticks}</datalist>
            {pruning_chart_svg(&f)}
            <div class="scroll">
                <table id="pruning-table">
                    <tr><th>"model"</th><th>"channels removed"</th><th>"parameters"</th><th>"compute (full network)"</th>
                        <th>"file"</th><th>"val. accuracy"</th><th>"val. macro F1"</th><th>"val. EOdd (abs)"</th></tr>
                    {rows}
                </table>
            </div>
            <p class="hint">{current.method.clone()}</p>
            <p class="hint">"Validation numbers are from the model cards (SynthDerm validation images, measured by the trainer at export; the unpruned model's from its pruned versions' cards). Every pruned level was fine-tuned after pruning and the unpruned model was not, so part of any difference is the fine-tuning itself: the reproduction's unpruned, fine-tuned control (docs/results/scp) separates the two. Audit a level in the dashboard to measure it on the evaluation subset in this browser."</p>
        })
    };
    view! {
        <section id="pruning" class="panel" class:hidden=move || family.with(|f| f.is_none())
            data-base=move || attr(|f| f.base.clone())
            data-current=move || attr(|f| f.levels[f.current].name.clone())
            data-levels=move || attr(|f| f.levels.iter().map(|l| l.name.clone()).collect::<Vec<_>>().join(","))
            data-removed=move || attr(|f| csv(f.levels.iter().map(|l| l.removed as f64)))
            data-parameters=move || attr(|f| csv(f.levels.iter().map(|l| l.parameters as f64)))
            data-val-f1=move || attr(|f| csv(f.levels.iter().map(|l| l.val_f1.unwrap_or(f64::NAN))))
            data-val-eodds=move || attr(|f| csv(f.levels.iter().map(|l| l.val_eodds.unwrap_or(f64::NAN))))>
            {body}
        </section>
    }
}

/// Validation F1 and EOdd of every level against channels removed, the loaded level as a diamond.
fn pruning_chart_svg(f: &PruningFamily) -> impl IntoView {
    let (left, right) = (64.0, 616.0);
    let known: Vec<&PruningLevel> = f
        .levels
        .iter()
        .filter(|l| l.val_f1.is_some() && l.val_eodds.is_some())
        .collect();
    let current = &f.levels[f.current];
    if known.len() < 2 || current.val_f1.is_none() || current.val_eodds.is_none() {
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
                <text x=xv y=eo_bottom + 17.0 text-anchor="middle" font-size="11" fill="#4b5563">{l.removed.to_string()}</text>
            }
        })
        .collect::<Vec<_>>();
    Some(view! {
        <svg viewBox="0 0 640 340" role="img" class="chart" id="pruning-chart"
            aria-label="Validation F1 and EOdd against channels removed">
            {chart_panel("validation macro F1", ACC_COLOUR, &f1, current.val_f1.unwrap_or_default(), &xs, px, f1_top, f1_bottom, false, Some(labels))}
            {chart_panel("validation EOdd (abs): Fitzpatrick I–III vs IV–VI", EODD_COLOUR, &eodds, current.val_eodds.unwrap_or_default(), &xs, px, eo_top, eo_bottom, true, None)}
            <line x1=left x2=right y1=eo_bottom y2=eo_bottom stroke="#6b7280" />
            <line x1=left x2=right y1=f1_bottom y2=f1_bottom stroke="#6b7280" />
            {x_ticks}
            <text x=(left + right) / 2.0 y="334" text-anchor="middle" font-size="12" fill="#374151">
                {format!("channels removed from {} (diamond: the loaded model)", f.layer)}
            </text>
        </svg>
    })
}
