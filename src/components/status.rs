//! The page's status line, the backend badge and the offline badge.

use leptos::prelude::*;

use crate::state::{OfflineStatus, PageState, Status};

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

/// Which backend runs the model and where (`#backend`), with a software-adapter warning.
#[component]
pub fn BackendBadge(page: PageState) -> impl IntoView {
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
    view! {
        <p
            id="backend"
            data-backend=kind
            data-adapter=move || b.get().map(|b| b.adapter).unwrap_or_default()
            data-thread=move || b.get().map(|b| b.thread).unwrap_or_default()
            data-shader-f16=move || b.get().is_some_and(|b| b.shader_f16).to_string()
            data-software-adapter=move || b.get().is_some_and(|b| b.software).to_string()
        >
            <span class="badge" class:gpu=move || kind() == "webgpu">
                {text}
            </span>
            <span class="note">{move || note().unwrap_or_default()}</span>
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
