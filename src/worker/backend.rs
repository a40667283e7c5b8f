//! The worker's backend: WebGPU (burn-wgpu) when the browser gives this worker an adapter, else
//! burn's CPU backend, with the reason; and the watch on the WebGPU device (the browser can take it
//! away: a driver reset, a GPU process crash).

use std::cell::RefCell;

use burn::prelude::*;
use burn::tensor::wgpu::wgpu;
use burn::tensor::FloatDType;
use js_sys::Reflect;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use crate::protocol::BackendInfo;

/// Where the model runs, as [`BackendInfo::thread`] says it.
const THREAD: &str = "worker";

thread_local! {
    /// The WebGPU device burn runs on, once there is one (for the debug hook that loses it).
    static GPU: RefCell<Option<wgpu::Device>> = const { RefCell::new(None) };
}

/// Destroys the WebGPU device, as the browser does when it loses one (the debug hook
/// `window.fairscreenLoseGpu()`); false when this worker has none.
pub fn destroy_gpu() -> bool {
    GPU.with(|g| g.borrow().as_ref().map(|d| d.destroy()).is_some())
}

/// Calls `on_lost` with a description once the browser loses `device` (its `lost` promise
/// settles: destroyed, or lost for a reason the browser names).
fn watch_loss(device: &wgpu::Device, on_lost: fn(String)) {
    device.set_device_lost_callback(move |reason, message| {
        let reason = match reason {
            wgpu::DeviceLostReason::Destroyed => "destroyed",
            wgpu::DeviceLostReason::Unknown => "lost",
        };
        on_lost(if message.is_empty() {
            reason.to_string()
        } else {
            format!("{reason}: {message}")
        })
    });
}

fn get_str(obj: &JsValue, key: &str) -> String {
    Reflect::get(obj, &JsValue::from_str(key))
        .ok()
        .and_then(|v| v.as_string())
        .unwrap_or_default()
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

/// Asks this worker's `navigator.gpu` for the adapter's vendor/architecture and whether it is a
/// software one (for display only; burn makes its own adapter).
async fn adapter_description() -> Option<(String, bool)> {
    let scope: web_sys::WorkerGlobalScope = js_sys::global().unchecked_into();
    let navigator: JsValue = scope.navigator().into();
    let gpu = Reflect::get(&navigator, &"gpu".into()).ok()?;
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
    Some((text, software))
}

/// The CPU backend, with the reason it is used.
pub fn cpu_fallback(note: Option<String>) -> (Device, BackendInfo) {
    (
        Device::flex(),
        BackendInfo {
            kind: "cpu".into(),
            adapter: "burn flex (pure-Rust CPU backend in WebAssembly)".into(),
            software: false,
            note,
            shader_f16: false,
            thread: THREAD.into(),
        },
    )
}

/// WebGPU when this worker has an adapter (and the page gave no reason to use the CPU: `cpu`),
/// otherwise the CPU backend. `on_lost` is called if the WebGPU device is lost later.
pub async fn pick_backend(cpu: Option<String>, on_lost: fn(String)) -> (Device, BackendInfo) {
    if cpu.is_some() {
        return cpu_fallback(cpu);
    }
    let Some((adapter, software)) = adapter_description().await else {
        return cpu_fallback(Some(
            "this browser offers no WebGPU adapter to the inference worker".into(),
        ));
    };
    match Device::wgpu_options().init_with_setup_async().await {
        Ok((device, setup)) => {
            watch_loss(&setup.device, on_lost);
            GPU.with(|g| *g.borrow_mut() = Some(setup.device));
            let shader_f16 = device.supports_dtype(FloatDType::F16);
            let info = BackendInfo {
                kind: "webgpu".into(),
                adapter,
                software,
                note: None,
                shader_f16,
                thread: THREAD.into(),
            };
            (device, info)
        }
        Err(e) => cpu_fallback(Some(format!("WebGPU initialisation failed: {e}"))),
    }
}
