//! The error banner, and the panic report that bypasses the reactive system.

use leptos::prelude::*;

use crate::state::restart::{restart_after_panic, Restart};
use crate::state::PageState;

/// The error banner (`#error`); empty when there is no error.
#[component]
pub fn ErrorBanner(page: PageState) -> impl IntoView {
    let message = move || page.error.get().unwrap_or_default();
    view! {
        <div
            id="error"
            role="alert"
            class="error"
            class:hidden=move || page.error.get().is_none()
            data-error=message
        >
            <span>{message}</span>
            <button on:click=move |_| page.error.set(None)>"Dismiss"</button>
        </div>
    }
}

/// Handles a panic of the page's own thread, without the reactive system (it may be broken): the
/// page restarts itself (a reload from this device's cache) and says why; a second panic soon
/// after a restart is written into the error banner with a Reload link instead. (A panic in the
/// inference worker, where the model and the audits run, is recovered from without a reload: see
/// `AppState::worker_panicked`.)
pub fn report_panic(message: &str) {
    let Some(doc) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let why = match restart_after_panic(message) {
        Restart::Started => {
            if let Some(el) = doc.get_element_by_id("error") {
                el.set_text_content(Some(&format!(
                    "internal error on the page: {message}. Restarting the page…"
                )));
            }
            return;
        }
        Restart::TooSoon => ", again soon after the page restarted itself",
        Restart::Unavailable => "",
    };
    if let Some(el) = doc.get_element_by_id("error") {
        let text = format!(
            "internal error on the page: {message}{why}. Reload the page to continue (it loads \
             from this device's cache; the photo never left it)."
        );
        let _ = el.set_attribute("data-error", &text);
        let _ = el.set_attribute("class", "error");
        el.set_text_content(Some(&text));
        // A plain link to this page, no script: the page's own code may be what stopped (and
        // the Content-Security-Policy allows no inline handler).
        let here = web_sys::window()
            .and_then(|w| w.location().href().ok())
            .unwrap_or_default();
        if let Ok(link) = doc.create_element("a") {
            let _ = link.set_attribute("id", "reload");
            let _ = link.set_attribute("class", "button");
            let _ = link.set_attribute("href", &here);
            link.set_text_content(Some("Reload"));
            let _ = el.append_child(&link);
        }
    } else if let Some(body) = doc.body() {
        body.set_inner_text(&format!("FairScreen stopped: {message}. Reload the page."));
    }
}
