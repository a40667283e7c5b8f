//! The page's status line, the backend badge and the offline badge.

use leptos::prelude::*;

use crate::state::{AppState, OfflineStatus, PageState, Status, WebGpu, WorkerModule};

/// What the status line says in each state.
fn status_text(status: &Status) -> String {
    match status {
        Status::Loading(step) => format!("Loading: {step}…"),
        Status::Ready => "Ready: choose or drop a photo.".into(),
        Status::Running => "Classifying…".into(),
        Status::Done => "Done. Choose another photo to classify it.".into(),
        Status::Failed => "The model could not be loaded; see the error above.".into(),
    }
}

/// The status line (`#status[data-state]`).
#[component]
pub fn StatusLine(page: PageState) -> impl IntoView {
    view! {
        <p id="status" data-state=move || page.status.get().state()>
            {move || status_text(&page.status.get())}
        </p>
    }
}

const SOFTWARE_NOTE: &str =
    "This WebGPU adapter is a software renderer (no GPU): expect CPU-like speed.";

/// What the page says of WebGPU while the model runs on the CPU (nothing when it says nothing).
fn webgpu_text(webgpu: &WebGpu) -> String {
    match webgpu {
        WebGpu::NotChecked => String::new(),
        WebGpu::Checking => "Looking for a WebGPU adapter…".into(),
        WebGpu::Unavailable(why) => format!("No WebGPU: {why}."),
        WebGpu::Software(adapter) => format!(
            "WebGPU here is {adapter}, a software renderer: the CPU is faster, so the model \
             stays on it."
        ),
        WebGpu::Found(adapter) => {
            format!("WebGPU adapter {adapter}: its module loads once the model is ready.")
        }
        WebGpu::Loading(adapter) => format!(
            "Loading the WebGPU module for {adapter} in the background; the model moves there \
             when it is ready."
        ),
        WebGpu::Offered(adapter) => format!(
            "WebGPU ({adapter}) is ready, but the page kept the CPU, which holds your work."
        ),
        WebGpu::Failed(why) => format!("WebGPU failed ({why}); the model stays on the CPU."),
    }
}

/// Which backend runs the model and where (`#backend`), what the page knows of WebGPU
/// (`data-webgpu`), and the control that moves the model to the other module (`#switch-backend`).
#[component]
pub fn BackendBadge(state: AppState) -> impl IntoView {
    let page = state.page;
    let b = page.backend;
    let kind = move || b.get().map(|b| b.kind).unwrap_or_default();
    let text = move || match b.get() {
        None => "Backend: choosing…".to_string(),
        Some(b) if b.kind == "webgpu" => format!(
            "Backend: WebGPU on {} (shader-f16: {}), in the inference {}",
            b.adapter,
            if b.shader_f16 { "yes" } else { "no" },
            b.thread
        ),
        Some(b) => format!(
            "Backend: CPU ({}), in the inference {}",
            b.adapter, b.thread
        ),
    };
    let note = move || {
        let b = b.get()?;
        if b.software {
            Some(SOFTWARE_NOTE.to_string())
        } else {
            b.note
        }
    };
    // The other module, when moving there makes sense: WebGPU when an adapter was seen (or the
    // user chose the CPU), the CPU from WebGPU.
    let other = move || {
        b.get()?;
        match (page.module.get(), page.webgpu.get()) {
            (WorkerModule::Gpu, _) => Some(WorkerModule::Page),
            (WorkerModule::Page, WebGpu::Software(_) | WebGpu::Offered(_) | WebGpu::Failed(_)) => {
                Some(WorkerModule::Gpu)
            }
            (WorkerModule::Page, WebGpu::NotChecked) if page.chosen.get().is_some() => {
                Some(WorkerModule::Gpu)
            }
            _ => None,
        }
    };
    let switch = move || {
        other().map(|module| {
            let label = match module {
                WorkerModule::Gpu => "Run on WebGPU",
                WorkerModule::Page => "Run on the CPU",
            };
            view! {
                <button
                    id="switch-backend"
                    type="button"
                    title="Loads the model again there; a shown result and audits are computed again when asked for"
                    on:click=move |_| state.run_on(module)
                >
                    {label}
                </button>
            }
        })
    };
    view! {
        <p
            id="backend"
            data-backend=kind
            data-adapter=move || b.get().map(|b| b.adapter).unwrap_or_default()
            data-thread=move || b.get().map(|b| b.thread).unwrap_or_default()
            data-shader-f16=move || b.get().is_some_and(|b| b.shader_f16).to_string()
            data-software-adapter=move || b.get().is_some_and(|b| b.software).to_string()
            data-webgpu=move || page.webgpu.get().state()
        >
            <span class="badge" class:gpu=move || kind() == "webgpu">
                {text}
            </span>
            <span class="note">{move || note().unwrap_or_default()}</span>
            <span class="note" id="webgpu-note">
                {move || webgpu_text(&page.webgpu.get())}
            </span>
            {switch}
        </p>
    }
}

const OFFLINE_READY: &str = "Offline use: ready. The app and the default model are stored on \
     this device; the evaluation subset and other models are stored once loaded.";

/// Whether the site works offline (`#offline`): stored by the service worker, or why not.
#[component]
pub fn OfflineBadge(page: PageState) -> impl IntoView {
    let data_state = move || match page.offline.get() {
        OfflineStatus::Pending => "pending",
        OfflineStatus::Ready => "ready",
        OfflineStatus::Unavailable(_) => "unavailable",
    };
    let text = move || match page.offline.get() {
        OfflineStatus::Pending => "Offline use: storing the app on this device…".to_string(),
        OfflineStatus::Ready => OFFLINE_READY.to_string(),
        OfflineStatus::Unavailable(why) => format!("Offline use: unavailable ({why})."),
    };
    view! {
        <p id="offline" data-state=data_state class="note">
            {text}
        </p>
    }
}
