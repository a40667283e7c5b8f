//! What `navigator.gpu` offers, asked the same way on the page (to choose the module to run) and in
//! the inference worker (to describe the adapter it runs on).

use js_sys::Reflect;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// A WebGPU adapter as the browser describes it.
#[derive(Clone, Debug, PartialEq)]
pub struct Adapter {
    /// Vendor / architecture / description, as far as the browser tells.
    pub text: String,
    /// A software rasteriser (SwiftShader, llvmpipe, WARP…) or the browser's fallback adapter.
    pub software: bool,
}

/// Words in an adapter description that mark a software rasteriser.
const SOFTWARE_ADAPTERS: [&str; 6] = [
    "swiftshader",
    "llvmpipe",
    "lavapipe",
    "software",
    "warp",
    "basic render",
];

fn get_str(obj: &JsValue, key: &str) -> String {
    Reflect::get(obj, &JsValue::from_str(key))
        .ok()
        .and_then(|v| v.as_string())
        .unwrap_or_default()
}

/// Asks `navigator.gpu` (the page's or a worker's `navigator`) for an adapter; `None` when the
/// browser has no WebGPU or gives no adapter. For display and choice only: burn makes its own.
pub async fn describe(navigator: &JsValue) -> Option<Adapter> {
    let gpu = Reflect::get(navigator, &"gpu".into()).ok()?;
    if gpu.is_undefined() || gpu.is_null() {
        return None;
    }
    let request = Reflect::get(&gpu, &"requestAdapter".into()).ok()?;
    let promise = request.dyn_ref::<js_sys::Function>()?.call0(&gpu).ok()?;
    let adapter = JsFuture::from(js_sys::Promise::from(promise)).await.ok()?;
    if adapter.is_null() || adapter.is_undefined() {
        return None;
    }
    let info = Reflect::get(&adapter, &"info".into()).unwrap_or(JsValue::UNDEFINED);
    let fallback = [&info, &adapter]
        .iter()
        .find_map(|o| {
            Reflect::get(o, &"isFallbackAdapter".into())
                .ok()
                .and_then(|v| v.as_bool())
        })
        .unwrap_or(false);
    let text = ["vendor", "architecture", "description"]
        .iter()
        .map(|k| get_str(&info, k))
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" / ");
    let lower = text.to_lowercase();
    let software = fallback || SOFTWARE_ADAPTERS.iter().any(|s| lower.contains(s));
    let text = if text.is_empty() {
        "unknown adapter".to_string()
    } else {
        text
    };
    Some(Adapter { text, software })
}
