//! The page's end of the inference worker: starts `worker.js` on one of the app's two modules (the
//! page's own, CPU backend only, or the WebGPU module in `gpu/`), queues requests until the worker
//! says it is ready, and hands every event to one handler. A second worker can be started on the
//! side ("standby": the WebGPU module loading while the page works on the CPU) and promoted to be
//! the page's worker once it is ready.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use js_sys::Reflect;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::protocol::{pack, pack_files, unpack, Event, Request};

/// Applying one event taking longer than this is logged (the page must stay responsive).
const SLOW_EVENT_MS: f64 = 50.0;

/// The WebGPU module's JavaScript glue and WebAssembly (scripts/gpu-module.sh builds them).
const GPU_GLUE: &str = "gpu/fairscreen-gpu.js";
const GPU_WASM: &str = "gpu/fairscreen-gpu_bg.wasm";

/// Which build of the app a worker runs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum WorkerModule {
    /// The page's own module (burn's CPU backend only): no second download.
    Page,
    /// The WebGPU module (burn-wgpu and the CPU backend), fetched when first used.
    Gpu,
}

/// A running worker and what waits for it.
struct Link {
    /// Tells this worker's events apart from another's.
    id: u32,
    worker: web_sys::Worker,
    ready: bool,
    /// Packed messages waiting for the worker to be ready.
    queue: Vec<JsValue>,
}

/// Who gets a worker's events: `(event, from the page's worker)`; a standby worker's go with false.
pub type EventHandler = Rc<dyn Fn(Event, bool)>;

thread_local! {
    /// The page's worker.
    static LINK: RefCell<Option<Link>> = const { RefCell::new(None) };
    /// A worker starting on the side, not yet the page's.
    static STANDBY: RefCell<Option<Link>> = const { RefCell::new(None) };
    static NEXT_ID: Cell<u32> = const { Cell::new(0) };
    /// Requests sent to the page's worker since it started, other than the start itself.
    static SENT: Cell<u32> = const { Cell::new(0) };
}

/// The URL of the page module's JavaScript glue (Trunk preloads it: `<link rel="modulepreload">`).
fn glue_url(document: &web_sys::Document) -> Result<String, String> {
    let link = document
        .query_selector("link[rel=modulepreload][href$='.js']")
        .ok()
        .flatten()
        .ok_or("the page does not name its JavaScript module (link rel=modulepreload)")?;
    Reflect::get(&link, &"href".into())
        .ok()
        .and_then(|h| h.as_string())
        .ok_or_else(|| "the module link has no href".into())
}

/// An absolute URL of a file of the site.
fn site_url(path: &str) -> Result<String, String> {
    let base = web_sys::window()
        .and_then(|w| w.location().href().ok())
        .ok_or("no page location")?;
    web_sys::Url::new_with_base(path, &base)
        .map(|u| u.href())
        .map_err(|e| format!("{path}: {e:?}"))
}

/// True when `id` is the page's worker.
fn is_page_worker(id: u32) -> bool {
    LINK.with(|l| l.borrow().as_ref().is_some_and(|l| l.id == id))
}

/// Starts a worker on `module`; its events go to `on_event` (with whether it is then the page's).
fn spawn(module: WorkerModule, on_event: EventHandler) -> Result<Link, String> {
    let document = web_sys::window()
        .and_then(|w| w.document())
        .ok_or("no document")?;
    // What the worker instantiates: the compiled module the page runs (no second download), or
    // the WebGPU module's URL.
    let (glue, module): (String, JsValue) = match module {
        WorkerModule::Page => (glue_url(&document)?, wasm_bindgen::module()),
        WorkerModule::Gpu => (site_url(GPU_GLUE)?, site_url(GPU_WASM)?.into()),
    };
    let id = NEXT_ID.with(|n| {
        n.set(n.get() + 1);
        n.get()
    });
    let options = web_sys::WorkerOptions::new();
    options.set_type(web_sys::WorkerType::Module);
    let worker = web_sys::Worker::new_with_options("worker.js", &options)
        .map_err(|e| format!("the inference worker could not start: {e:?}"))?;
    let on_message =
        Closure::<dyn Fn(web_sys::MessageEvent)>::new(move |ev: web_sys::MessageEvent| {
            let started = js_sys::Date::now();
            match unpack::<Event>(&ev.data()) {
                Ok((Event::Ready, _)) => flush(id),
                Ok((event, _)) => {
                    let kind = event.kind();
                    on_event(event, is_page_worker(id));
                    let ms = js_sys::Date::now() - started;
                    if ms > SLOW_EVENT_MS {
                        log::warn!("the page took {ms} ms to apply the worker's {kind} event");
                    }
                }
                Err(e) => log::error!("the page got {e}"),
            }
        });
    worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    on_message.forget();
    let on_error = Closure::<dyn Fn(web_sys::ErrorEvent)>::new(|ev: web_sys::ErrorEvent| {
        log::error!("inference worker error: {}", ev.message());
    });
    worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    on_error.forget();
    let boot = js_sys::Object::new();
    let _ = Reflect::set(&boot, &"glue".into(), &glue.into());
    let _ = Reflect::set(&boot, &"module".into(), &module);
    worker
        .post_message(&boot)
        .map_err(|e| format!("the inference worker could not start: {e:?}"))?;
    Ok(Link {
        id,
        worker,
        ready: false,
        queue: Vec::new(),
    })
}

/// Starts the page's worker on `module`; `on_event` gets every event it sends (and a panic report
/// if it dies).
pub fn start(module: WorkerModule, on_event: EventHandler) -> Result<(), String> {
    let link = spawn(module, on_event)?;
    SENT.with(|s| s.set(0));
    LINK.with(|l| *l.borrow_mut() = Some(link));
    Ok(())
}

/// Starts a worker on the side (not the page's) on `module` and sends it `request`.
pub fn start_standby(
    module: WorkerModule,
    on_event: EventHandler,
    request: Request,
) -> Result<(), String> {
    stop_standby();
    let mut link = spawn(module, on_event)?;
    link.queue.push(pack(&request, None));
    STANDBY.with(|l| *l.borrow_mut() = Some(link));
    Ok(())
}

/// Terminates the worker on the side, if there is one.
pub fn stop_standby() {
    if let Some(link) = STANDBY.with(|l| l.borrow_mut().take()) {
        link.worker.terminate();
    }
}

/// Makes the worker on the side the page's worker (the page's old one is terminated); false
/// when there is none.
pub fn promote_standby() -> bool {
    let Some(link) = STANDBY.with(|l| l.borrow_mut().take()) else {
        return false;
    };
    stop();
    SENT.with(|s| s.set(0));
    LINK.with(|l| *l.borrow_mut() = Some(link));
    true
}

/// How many requests the page's worker was sent since it started (besides the start): none means
/// it holds nothing the user gave it.
pub fn requests_sent() -> u32 {
    SENT.with(|s| s.get())
}

/// Terminates the worker (after a panic it answers no more); messages queued for it are dropped.
pub fn stop() {
    if let Some(link) = LINK.with(|l| l.borrow_mut().take()) {
        link.worker.terminate();
    }
}

/// Debug hooks on `window` for the end-to-end tests: `fairscreenPanicWorker()` makes the worker
/// panic (the page must recover); `fairscreenLoseGpu()` destroys the worker's WebGPU device (the
/// page must go on on the CPU); `fairscreenPanicPage()` panics on the page's thread (the page
/// must restart itself and say why); `fairscreenPageMemory()` is the page's wasm memory in bytes.
pub fn expose_debug_hooks() {
    let Some(window) = web_sys::window() else {
        return;
    };
    let expose = |name: &str, hook: &JsValue| {
        let _ = Reflect::set(&window, &name.into(), hook);
    };
    let panic_worker = Closure::<dyn Fn()>::new(|| send(Request::DebugPanic, None));
    expose("fairscreenPanicWorker", panic_worker.as_ref());
    panic_worker.forget();
    let lose_gpu = Closure::<dyn Fn()>::new(|| send(Request::DebugLoseGpu, None));
    expose("fairscreenLoseGpu", lose_gpu.as_ref());
    lose_gpu.forget();
    let panic_page =
        Closure::<dyn Fn()>::new(|| panic!("the page was asked to panic (debug hook)"));
    expose("fairscreenPanicPage", panic_page.as_ref());
    panic_page.forget();
    let page_memory = Closure::<dyn Fn() -> f64>::new(|| {
        wasm_bindgen::memory()
            .unchecked_into::<js_sys::WebAssembly::Memory>()
            .buffer()
            .unchecked_into::<js_sys::ArrayBuffer>()
            .byte_length() as f64
    });
    expose("fairscreenPageMemory", page_memory.as_ref());
    page_memory.forget();
}

fn post(worker: &web_sys::Worker, message: &JsValue) {
    if let Err(e) = worker.post_message(message) {
        log::error!("could not post to the worker: {e:?}");
    }
}

/// Sends everything queued before worker `id` was ready.
fn flush(id: u32) {
    for slot in [&LINK, &STANDBY] {
        slot.with(|l| {
            if let Some(link) = l.borrow_mut().as_mut().filter(|l| l.id == id) {
                link.ready = true;
                for message in link.queue.drain(..) {
                    post(&link.worker, &message);
                }
            }
        });
    }
}

/// Posts a packed message, or queues it until the worker is ready.
fn send_packed(what: &Request, message: JsValue) {
    if !matches!(what, Request::Start { .. }) {
        SENT.with(|s| s.set(s.get() + 1));
    }
    LINK.with(|l| match l.borrow_mut().as_mut() {
        Some(link) if link.ready => post(&link.worker, &message),
        Some(link) => link.queue.push(message),
        None => log::error!("no inference worker to send {what:?} to"),
    });
}

/// Sends a request (with optional bytes) to the worker, or queues it until the worker is ready.
pub fn send(request: Request, bytes: Option<Vec<u8>>) {
    send_packed(&request, pack(&request, bytes.as_deref()));
}

/// Sends a request with files (the worker reads them) to the worker.
pub fn send_files(request: Request, files: &[web_sys::File]) {
    send_packed(&request, pack_files(&request, files));
}

/// The bytes of a file the user chose (read on the page, then sent to the worker).
pub async fn file_bytes(file: &web_sys::File) -> Result<Vec<u8>, String> {
    let name = file.name();
    wasm_bindgen_futures::JsFuture::from(file.array_buffer())
        .await
        .map(|buf| js_sys::Uint8Array::new(&buf).to_vec())
        .map_err(|e| format!("{name}: reading {name} failed: {e:?}"))
}
