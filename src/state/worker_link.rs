//! The page's end of the inference worker: starts `worker.js` with the app's own wasm module,
//! queues requests until the worker says it is ready, and hands every event to one handler.

use std::cell::RefCell;

use js_sys::Reflect;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::protocol::{pack, pack_files, unpack, Event, Request};

/// Applying one event taking longer than this is logged (the page must stay responsive).
const SLOW_EVENT_MS: f64 = 50.0;

/// The running worker and what waits for it.
struct Link {
    worker: web_sys::Worker,
    ready: bool,
    /// Packed messages waiting for the worker to be ready.
    queue: Vec<JsValue>,
}

thread_local! {
    static LINK: RefCell<Option<Link>> = const { RefCell::new(None) };
}

/// The URL of the app's JavaScript glue (Trunk preloads it: `<link rel="modulepreload">`).
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

/// Starts the worker; `on_event` gets every event it sends (and a panic report if it dies).
pub fn start(on_event: impl Fn(Event) + 'static) -> Result<(), String> {
    let document = web_sys::window()
        .and_then(|w| w.document())
        .ok_or("no document")?;
    let glue = glue_url(&document)?;
    let options = web_sys::WorkerOptions::new();
    options.set_type(web_sys::WorkerType::Module);
    let worker = web_sys::Worker::new_with_options("worker.js", &options)
        .map_err(|e| format!("the inference worker could not start: {e:?}"))?;
    let on_message =
        Closure::<dyn Fn(web_sys::MessageEvent)>::new(move |ev: web_sys::MessageEvent| {
            let started = js_sys::Date::now();
            match unpack::<Event>(&ev.data()) {
                Ok((Event::Ready, _)) => flush(),
                Ok((event, _)) => {
                    let kind = event.kind();
                    on_event(event);
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
    // The worker instantiates the same compiled module the page runs (no second download).
    let boot = js_sys::Object::new();
    let _ = Reflect::set(&boot, &"glue".into(), &glue.into());
    let _ = Reflect::set(&boot, &"module".into(), &wasm_bindgen::module());
    worker
        .post_message(&boot)
        .map_err(|e| format!("the inference worker could not start: {e:?}"))?;
    LINK.with(|l| {
        *l.borrow_mut() = Some(Link {
            worker,
            ready: false,
            queue: Vec::new(),
        })
    });
    Ok(())
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

/// Sends everything queued before the worker was ready.
fn flush() {
    LINK.with(|l| {
        if let Some(link) = l.borrow_mut().as_mut() {
            link.ready = true;
            for message in link.queue.drain(..) {
                post(&link.worker, &message);
            }
        }
    });
}

/// Posts a packed message, or queues it until the worker is ready.
fn send_packed(what: &Request, message: JsValue) {
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
