//! The error banner, and the panic report that bypasses the reactive system.

use leptos::prelude::*;

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
