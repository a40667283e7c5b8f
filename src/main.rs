//! FairScreen web app entry point (Leptos CSR, built for wasm32 by Trunk).

#[cfg(target_arch = "wasm32")]
mod app;
#[cfg(target_arch = "wasm32")]
mod components;
#[cfg(target_arch = "wasm32")]
mod runtime;

#[cfg(target_arch = "wasm32")]
fn main() {
    // Panics are reported on the page and in the console instead of silently killing the app.
    std::panic::set_hook(Box::new(|info| {
        console_error_panic_hook::hook(info);
        components::report_panic(&info.to_string());
    }));
    // burn/cubecl report WGSL compile errors only through `log`: make them visible.
    let _ = console_log::init_with_level(log::Level::Warn);
    leptos::mount::mount_to_body(app::App);
}

/// Natively this package only hosts the browser end-to-end tests; the app is built by Trunk.
#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("fairscreen is a wasm32 app: build and serve it with `scripts/serve.sh` (Trunk).");
}
