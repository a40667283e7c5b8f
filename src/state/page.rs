//! The page's life cycle, the backend in use, the offline service worker and the error banner.

use js_sys::Reflect;
use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use super::{AppState, WebGpu, WorkerModule};
use crate::protocol::BackendInfo;

/// Where the page is in its life cycle (mirrored in `#status[data-state]`).
#[derive(Clone, Debug, PartialEq)]
pub enum Status {
    /// Backend and model are being set up; the text says which step.
    Loading(String),
    /// Ready for a photo.
    Ready,
    /// A photo is being classified.
    Running,
    /// A result is shown; ready for the next photo.
    Done,
    /// The model could not be loaded; uploads are disabled.
    Failed,
}

impl Status {
    /// The `data-state` attribute value.
    pub fn state(&self) -> &'static str {
        match self {
            Status::Loading(_) => "loading",
            Status::Ready => "ready",
            Status::Running => "running",
            Status::Done => "done",
            Status::Failed => "error",
        }
    }

    /// True when the page takes a photo or a model switch.
    pub fn is_idle(&self) -> bool {
        matches!(self, Status::Ready | Status::Done)
    }
}

/// Whether the offline service worker has stored the site on this device.
#[derive(Clone, Debug, PartialEq)]
pub enum OfflineStatus {
    /// Registering and caching.
    Pending,
    /// The app, the default model and the evaluation subset work without a network.
    Ready,
    /// Not available, and why.
    Unavailable(String),
}

/// Life cycle, backend, offline status and the current error.
#[derive(Clone, Copy)]
pub struct PageState {
    /// Life-cycle status.
    pub status: RwSignal<Status>,
    /// Current error message, if any.
    pub error: RwSignal<Option<String>>,
    /// Backend in use (in the inference worker).
    pub backend: RwSignal<Option<BackendInfo>>,
    /// Whether the site is stored for offline use.
    pub offline: RwSignal<OfflineStatus>,
    /// Why a worker started from now on must use the CPU (its WebGPU device was lost), if so.
    pub gpu_lost: RwSignal<Option<String>>,
    /// The module the page's worker runs.
    pub module: RwSignal<WorkerModule>,
    /// The module the user chose on the page, if they did.
    pub chosen: RwSignal<Option<WorkerModule>>,
    /// What the page knows of WebGPU besides the backend in use.
    pub webgpu: RwSignal<WebGpu>,
}

impl PageState {
    /// Loading, no backend yet.
    pub fn new() -> Self {
        Self {
            status: RwSignal::new(Status::Loading("starting".into())),
            error: RwSignal::new(None),
            backend: RwSignal::new(None),
            offline: RwSignal::new(OfflineStatus::Pending),
            gpu_lost: RwSignal::new(None),
            module: RwSignal::new(WorkerModule::Page),
            chosen: RwSignal::new(None),
            webgpu: RwSignal::new(WebGpu::NotChecked),
        }
    }
}

impl PageState {
    /// Why the inference worker must use the CPU backend, if it must: the WebGPU device was lost
    /// before, or the page URL asks for it.
    pub fn cpu_reason(&self) -> Option<String> {
        self.gpu_lost.get_untracked().or_else(|| {
            cpu_requested().then(|| "CPU requested in the page URL (?backend=cpu)".to_string())
        })
    }
}

/// Resolves in a later task of the page's event loop (after the browser has rendered).
pub async fn next_task() {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, 0);
        }
    });
    let _ = JsFuture::from(promise).await;
}

/// True when the page URL asks for the CPU backend (`?backend=cpu`).
fn cpu_requested() -> bool {
    web_sys::window()
        .and_then(|w| w.location().search().ok())
        .and_then(|s| web_sys::UrlSearchParams::new_with_str(&s).ok())
        .and_then(|p| p.get("backend"))
        .is_some_and(|b| b == "cpu")
}

fn js_err(v: JsValue) -> String {
    v.as_string()
        .or_else(|| {
            v.dyn_ref::<js_sys::Error>()
                .map(|e| String::from(e.message()))
        })
        .unwrap_or_else(|| format!("{v:?}"))
}

/// Registers the offline service worker (`sw.js`) and resolves once it is active, i.e. once it
/// has cached the app, the default model and the evaluation subset (its install fails otherwise).
async fn register_offline_worker() -> Result<(), String> {
    let navigator: JsValue = web_sys::window().ok_or("no window")?.navigator().into();
    let container = Reflect::get(&navigator, &"serviceWorker".into()).map_err(js_err)?;
    if container.is_undefined() || container.is_null() {
        return Err(
            "this browser offers no service workers here (they need https or localhost)".into(),
        );
    }
    let register = Reflect::get(&container, &"register".into()).map_err(js_err)?;
    let promise = register
        .dyn_ref::<js_sys::Function>()
        .ok_or("serviceWorker.register is not a function")?
        .call1(&container, &"sw.js".into())
        .map_err(js_err)?;
    JsFuture::from(js_sys::Promise::from(promise))
        .await
        .map_err(|e| {
            format!(
                "the offline service worker could not be registered: {}",
                js_err(e)
            )
        })?;
    let ready = Reflect::get(&container, &"ready".into()).map_err(js_err)?;
    JsFuture::from(js_sys::Promise::from(ready))
        .await
        .map_err(|e| format!("the offline service worker did not start: {}", js_err(e)))?;
    Ok(())
}

/// Marks a moment of the page's life on its performance timeline (`performance.mark`), where the
/// peer benchmark reads the cold start: `fairscreen-model-ready`, `fairscreen-photo-chosen`,
/// `fairscreen-first-result`. Only the latest mark of a name is kept (one per photo would pile up
/// on the timeline over a long session).
pub(super) fn mark(name: &str) {
    if let Some(p) = web_sys::window().and_then(|w| w.performance()) {
        p.clear_marks_with_mark_name(name);
        let _ = p.mark(name);
    }
}

impl AppState {
    /// Registers the offline service worker; its status goes to `page.offline`.
    pub(super) fn start_offline(self) {
        spawn_local(async move {
            let status = match register_offline_worker().await {
                Ok(()) => OfflineStatus::Ready,
                Err(e) => {
                    log::warn!("offline use unavailable: {e}");
                    OfflineStatus::Unavailable(e)
                }
            };
            self.page.offline.set(status);
        });
    }

    /// After a photo or a switch: `Done` when a result is shown, else `Ready`.
    pub(super) fn settle(self) {
        let shown = self.photo.result.with_untracked(|r| r.is_some());
        self.page
            .status
            .set(if shown { Status::Done } else { Status::Ready });
    }
}
