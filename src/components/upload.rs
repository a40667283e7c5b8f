//! Choosing or dropping a photo, and the early-exit threshold θ.

use leptos::prelude::*;

use crate::state::AppState;

const CAMERA_HINT: &str = "On a phone, \"Take a photo\" opens the back camera. Photos are read \
     upright as you see them (their EXIF orientation applied) and stay on this device.";
const THETA_HINT: &str = "A photo leaves at the first exit whose top probability reaches θ; \
     otherwise the final head answers.";

/// File picker and drop zone; also the θ slider (moving it re-decides the shown photo at once;
/// releasing it recomputes the dashboard's reports in the worker).
#[component]
pub fn UploadZone(state: AppState) -> impl IntoView {
    let (page, photo) = (state.page, state.photo);
    let dragging = RwSignal::new(false);
    let busy = move || !page.status.get().is_idle();
    let on_change = move |ev: leptos::ev::Event| {
        let input: web_sys::HtmlInputElement = event_target(&ev);
        if let Some(file) = input.files().and_then(|f| f.get(0)) {
            state.classify_file(file);
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
            Some(file) if !busy() => state.classify_file(file),
            Some(_) => page
                .error
                .set(Some("please wait for the current photo to finish".into())),
            None => page
                .error
                .set(Some("drop an image file (JPEG, PNG or WebP)".into())),
        }
    };
    let on_theta = move |ev: leptos::ev::Event| {
        if let Ok(v) = event_target_value(&ev).parse::<f32>() {
            photo.theta.set(v);
        }
    };
    let on_dragover = move |ev: leptos::ev::DragEvent| {
        ev.prevent_default();
        dragging.set(true);
    };
    view! {
        <div
            class="dropzone"
            class:dragging=move || dragging.get()
            on:dragover=on_dragover
            on:dragleave=move |_| dragging.set(false)
            on:drop=on_drop
        >
            <label for="file-input">"Choose a photo (JPEG, PNG, WebP) or drop it here"</label>
            <input
                id="file-input"
                type="file"
                accept="image/jpeg,image/png,image/webp"
                prop:disabled=busy
                on:change=on_change
            />
            <input
                id="camera-input"
                class="visually-hidden"
                type="file"
                accept="image/*"
                capture="environment"
                prop:disabled=busy
                on:change=on_change
            />
            <label class="camera" for="camera-input">
                "Take a photo"
            </label>
            <p class="hint">{CAMERA_HINT}</p>
        </div>
        <label class="theta">
            "Early-exit threshold θ: "
            <input
                id="theta"
                type="range"
                min="0.3"
                max="0.999"
                step="0.001"
                prop:value=move || photo.theta.get().to_string()
                on:input=on_theta
                on:change=move |_| state.request_reports()
            />
            <output>{move || format!("{:.3}", photo.theta.get())}</output>
        </label>
        <p class="hint">{THETA_HINT}</p>
    }
}
