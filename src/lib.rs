//! FairScreen web app (Leptos CSR, built for wasm32 by Trunk; natively this package only hosts
//! the browser end-to-end tests in `tests/`). The same module runs
//! twice: on the page (the views and their state) and in a dedicated Web Worker started by the
//! page (the model, the backend, the evaluation subset and the audits).
//!
//! Data's way: files → core → worker → (messages, [`protocol`]) → state → views.

#[cfg(target_arch = "wasm32")]
mod adapter;
#[cfg(target_arch = "wasm32")]
mod components;
#[cfg(target_arch = "wasm32")]
mod protocol;
#[cfg(target_arch = "wasm32")]
mod state;
#[cfg(target_arch = "wasm32")]
mod worker;

#[cfg(target_arch = "wasm32")]
extern "C" {
    /// The static constructors (cubecl registers its kernels with `inventory`), synthesised by
    /// wasm-ld. Calling it explicitly once tells wasm-ld not to wrap every export in a call to it:
    /// otherwise each call from JavaScript into the module re-ran every constructor (about a
    /// millisecond each time; seconds of main-thread time while a report rendered).
    fn __wasm_call_ctors();
}

/// Starts the app: the worker loop inside the inference worker, the page everywhere else.
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen::prelude::wasm_bindgen(start)]
pub fn start() {
    // SAFETY: called once per instance, first, before any code that needs the constructors.
    unsafe { __wasm_call_ctors() };
    // burn/cubecl report WGSL compile errors only through `log`: make them visible.
    let _ = console_log::init_with_level(log::Level::Warn);
    if worker::in_worker() {
        // A panic in the worker is reported to the page, which stays usable.
        std::panic::set_hook(Box::new(|info| {
            console_error_panic_hook::hook(info);
            worker::send(&protocol::Event::Panic(info.to_string()));
        }));
        worker::start();
        return;
    }
    // Panics are reported on the page and in the console instead of silently killing the app.
    std::panic::set_hook(Box::new(|info| {
        console_error_panic_hook::hook(info);
        components::report_panic(&info.to_string());
    }));
    leptos::mount::mount_to_body(components::App);
}
