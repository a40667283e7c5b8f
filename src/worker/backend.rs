//! The worker's backend: WebGPU (burn-wgpu; only in the module built with the `webgpu` feature)
//! when the browser gives this worker an adapter, else burn's CPU backend, with the reason; and the
//! watch on the WebGPU device (the browser can take it away: a driver reset, a GPU process crash).

#[cfg(feature = "webgpu")]
use std::cell::RefCell;

use burn::prelude::*;
#[cfg(feature = "webgpu")]
use burn::tensor::wgpu::wgpu;
#[cfg(feature = "webgpu")]
use burn::tensor::FloatDType;
#[cfg(feature = "webgpu")]
use wasm_bindgen::JsCast;

#[cfg(feature = "webgpu")]
use crate::adapter::Adapter;
use crate::protocol::BackendInfo;

/// Where the model runs, as [`BackendInfo::thread`] says it.
const THREAD: &str = "worker";

#[cfg(feature = "webgpu")]
thread_local! {
    /// The WebGPU device burn runs on, once there is one (for the debug hook that loses it).
    static GPU: RefCell<Option<wgpu::Device>> = const { RefCell::new(None) };
}

/// Destroys the WebGPU device, as the browser does when it loses one (the debug hook
/// `window.fairscreenLoseGpu()`); false when this worker has none.
pub fn destroy_gpu() -> bool {
    #[cfg(feature = "webgpu")]
    return GPU.with(|g| g.borrow().as_ref().map(|d| d.destroy()).is_some());
    #[cfg(not(feature = "webgpu"))]
    false
}

#[cfg(feature = "webgpu")]
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
/// otherwise the CPU backend. `on_lost` is called if the WebGPU device is lost later. The page's
/// module (built without the `webgpu` feature) always answers with the CPU.
pub async fn pick_backend(cpu: Option<String>, on_lost: fn(String)) -> (Device, BackendInfo) {
    if cpu.is_some() {
        return cpu_fallback(cpu);
    }
    #[cfg(not(feature = "webgpu"))]
    {
        let _ = on_lost;
        cpu_fallback(Some(
            "this is the CPU module (the WebGPU module is gpu/fairscreen-gpu_bg.wasm)".into(),
        ))
    }
    #[cfg(feature = "webgpu")]
    webgpu_or_cpu(on_lost).await
}

/// WebGPU on this worker's adapter, or the CPU with the reason there is none.
#[cfg(feature = "webgpu")]
async fn webgpu_or_cpu(on_lost: fn(String)) -> (Device, BackendInfo) {
    let scope: web_sys::WorkerGlobalScope = js_sys::global().unchecked_into();
    let Some(Adapter {
        text: adapter,
        software,
    }) = crate::adapter::describe(&scope.navigator().into()).await
    else {
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
