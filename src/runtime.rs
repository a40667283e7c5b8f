//! The runtime owns the backend and the model: WebGPU (burn-wgpu) when the browser gives an
//! adapter, else burn's CPU backend; fetching and validating the model; running inference.

use std::cell::RefCell;
use std::rc::Rc;

use burn::prelude::*;
use burn::tensor::FloatDType;
use fairscreen_core::bundle::read_eval_bundle;
use fairscreen_core::cam::ClassMap;
use fairscreen_core::format::card_from_prefix;
use fairscreen_core::format::{sha256_hex, AssetEntry, AssetIndex, Manifest};
use fairscreen_core::infer::{BatchLogits, ExitMaps, LoadedModel};
use fairscreen_core::preprocess::{decode_image, square_resize, to_input};
use fairscreen_core::quant::computes_in_f16;
use fairscreen_core::{EvalBundle, ModelCard};
use image::RgbImage;
use js_sys::{Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// Which backend runs the model, and on what.
#[derive(Clone, Debug, PartialEq)]
pub struct BackendInfo {
    /// `webgpu` or `cpu`.
    pub kind: &'static str,
    /// Adapter vendor / architecture (WebGPU) or a description of the CPU path.
    pub adapter: String,
    /// True when the WebGPU adapter is a software rasteriser (SwiftShader, llvmpipe, WARP…).
    pub software: bool,
    /// Why the CPU fallback is in use, if it is.
    pub note: Option<String>,
    /// True when the WebGPU device computes in f16 (adapter feature `shader-f16`).
    pub shader_f16: bool,
}

fn js_err(v: JsValue) -> String {
    v.as_string()
        .or_else(|| {
            v.dyn_ref::<js_sys::Error>()
                .map(|e| String::from(e.message()))
        })
        .unwrap_or_else(|| format!("{v:?}"))
}

fn get_str(obj: &JsValue, key: &str) -> String {
    Reflect::get(obj, &JsValue::from_str(key))
        .ok()
        .and_then(|v| v.as_string())
        .unwrap_or_default()
}

/// Asks `navigator.gpu` for the adapter's vendor/architecture (for display only; burn makes its own).
async fn adapter_description() -> Option<(String, bool)> {
    let navigator: JsValue = web_sys::window()?.navigator().into();
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
    let vendor = get_str(&info, "vendor");
    let arch = get_str(&info, "architecture");
    let description = get_str(&info, "description");
    let fallback = Reflect::get(&info, &"isFallbackAdapter".into())
        .ok()
        .and_then(|v| v.as_bool())
        .or_else(|| {
            Reflect::get(&adapter, &"isFallbackAdapter".into())
                .ok()
                .and_then(|v| v.as_bool())
        })
        .unwrap_or(false);
    let text = [vendor.as_str(), arch.as_str(), description.as_str()]
        .iter()
        .filter(|s| !s.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join(" / ");
    let lower = text.to_lowercase();
    let software = fallback
        || [
            "swiftshader",
            "llvmpipe",
            "lavapipe",
            "software",
            "warp",
            "basic render",
        ]
        .iter()
        .any(|s| lower.contains(s));
    Some((
        if text.is_empty() {
            "unknown adapter".into()
        } else {
            text
        },
        software,
    ))
}

/// True when the page URL asks for the CPU backend (`?backend=cpu`).
fn cpu_requested() -> bool {
    web_sys::window()
        .and_then(|w| w.location().search().ok())
        .and_then(|s| web_sys::UrlSearchParams::new_with_str(&s).ok())
        .and_then(|p| p.get("backend"))
        .is_some_and(|b| b == "cpu")
}

/// The CPU backend, with the reason it is used.
pub fn cpu_fallback(note: Option<String>) -> (Device, BackendInfo) {
    (
        Device::flex(),
        BackendInfo {
            kind: "cpu",
            adapter: "burn flex (pure-Rust CPU backend in WebAssembly)".into(),
            software: false,
            note,
            shader_f16: false,
        },
    )
}

/// WebGPU when available (and not disabled by `?backend=cpu`), otherwise the CPU backend.
pub async fn pick_backend() -> (Device, BackendInfo) {
    if cpu_requested() {
        return cpu_fallback(Some("CPU requested in the page URL (?backend=cpu)".into()));
    }
    let Some((adapter, software)) = adapter_description().await else {
        return cpu_fallback(Some("this browser offers no WebGPU adapter".into()));
    };
    match Device::wgpu_options().init_async().await {
        Ok(device) => {
            let shader_f16 = device.supports_dtype(FloatDType::F16);
            (
                device,
                BackendInfo {
                    kind: "webgpu",
                    adapter,
                    software,
                    note: None,
                    shader_f16,
                },
            )
        }
        Err(e) => cpu_fallback(Some(format!("WebGPU initialisation failed: {e}"))),
    }
}

/// Registers the offline service worker (`sw.js`) and resolves once it is active, i.e. once it
/// has cached the app, the default model and the evaluation subset (its install fails otherwise).
pub async fn register_offline_worker() -> Result<(), String> {
    let navigator: JsValue = web_sys::window().ok_or("no window")?.navigator().into();
    let container = Reflect::get(&navigator, &"serviceWorker".into()).map_err(js_err)?;
    if container.is_undefined() || container.is_null() {
        return Err(
            "this browser offers no service workers here (they need https or localhost)".into(),
        );
    }
    let register = Reflect::get(&container, &"register".into()).map_err(js_err)?;
    let promise = register
        .dyn_ref::<js_sys::Function>()
        .ok_or("serviceWorker.register is not a function")?
        .call1(&container, &"sw.js".into())
        .map_err(js_err)?;
    JsFuture::from(js_sys::Promise::from(promise))
        .await
        .map_err(|e| {
            format!(
                "the offline service worker could not be registered: {}",
                js_err(e)
            )
        })?;
    let ready = Reflect::get(&container, &"ready".into()).map_err(js_err)?;
    JsFuture::from(js_sys::Promise::from(ready))
        .await
        .map_err(|e| format!("the offline service worker did not start: {}", js_err(e)))?;
    Ok(())
}

/// Starts a same-origin fetch; a clear error for network and HTTP failures.
async fn fetch_response(url: &str) -> Result<web_sys::Response, String> {
    fetch_response_with(url, &web_sys::RequestInit::new()).await
}

/// As [`fetch_response`], with request options.
async fn fetch_response_with(
    url: &str,
    init: &web_sys::RequestInit,
) -> Result<web_sys::Response, String> {
    let window = web_sys::window().ok_or("no window")?;
    let resp = JsFuture::from(window.fetch_with_str_and_init(url, init))
        .await
        .map_err(|e| format!("could not fetch {url}: {}", js_err(e)))?;
    let resp: web_sys::Response = resp
        .dyn_into()
        .map_err(|_| format!("{url}: not a response"))?;
    if !resp.ok() {
        return Err(format!("could not fetch {url}: HTTP {}", resp.status()));
    }
    Ok(resp)
}

/// Fetches a same-origin asset as bytes, with a clear error for HTTP failures.
pub async fn fetch_bytes(url: &str) -> Result<Vec<u8>, String> {
    let resp = fetch_response(url).await?;
    let buf = JsFuture::from(resp.array_buffer().map_err(js_err)?)
        .await
        .map_err(|e| format!("reading {url} failed: {}", js_err(e)))?;
    Ok(Uint8Array::new(&buf).to_vec())
}

/// Fetches a same-origin asset, calling `progress(received, total)` as bytes arrive
/// (`total` from the asset index, so it is known even without a Content-Length).
pub async fn fetch_bytes_with_progress(
    url: &str,
    total: usize,
    mut progress: impl FnMut(usize, usize),
) -> Result<Vec<u8>, String> {
    let resp = fetch_response(url).await?;
    let Some(body) = resp.body() else {
        return fetch_bytes(url).await;
    };
    let reader: web_sys::ReadableStreamDefaultReader = body
        .get_reader()
        .dyn_into()
        .map_err(|_| format!("{url}: the response body cannot be read as a stream"))?;
    let mut out = Vec::with_capacity(total);
    progress(0, total);
    loop {
        let chunk = JsFuture::from(reader.read())
            .await
            .map_err(|e| format!("reading {url} failed: {}", js_err(e)))?;
        let done = Reflect::get(&chunk, &"done".into())
            .ok()
            .and_then(|v| v.as_bool())
            .unwrap_or(true);
        if done {
            break;
        }
        let value = Reflect::get(&chunk, &"value".into()).map_err(js_err)?;
        out.extend_from_slice(&Uint8Array::new(&value).to_vec());
        progress(out.len(), total.max(out.len()));
    }
    Ok(out)
}

/// The site's `manifest.json` (written by the build: every file with its size and sha256),
/// fetched once per page.
pub async fn manifest() -> Result<Rc<Manifest>, String> {
    if let Some(m) = MANIFEST.with(|m| m.borrow().clone()) {
        return Ok(m);
    }
    let bytes = fetch_bytes("manifest.json").await?;
    let m: Manifest =
        serde_json::from_slice(&bytes).map_err(|e| format!("manifest.json is not valid: {e}"))?;
    let m = Rc::new(m);
    MANIFEST.with(|cell| *cell.borrow_mut() = Some(m.clone()));
    Ok(m)
}

thread_local! {
    static MANIFEST: RefCell<Option<Rc<Manifest>>> = const { RefCell::new(None) };
}

/// Checks fetched bytes against `manifest.json` and against the asset's index entry; refuses a
/// mismatch with a message naming the file and the list it differs from.
pub async fn verify_asset(dir: &str, entry: &AssetEntry, bytes: &[u8]) -> Result<(), String> {
    manifest()
        .await?
        .verify(&format!("{dir}/{}", entry.file), bytes)?;
    if bytes.len() != entry.bytes || sha256_hex(bytes) != entry.sha256 {
        return Err(format!(
            "{dir}/{} does not match {dir}/index.json (size or sha256 differs): refusing to use it",
            entry.file
        ));
    }
    Ok(())
}

/// The default evaluation bundle's index entry (`eval/index.json`).
pub async fn eval_bundle_entry() -> Result<AssetEntry, String> {
    let index_bytes = fetch_bytes("eval/index.json").await?;
    let index: AssetIndex = serde_json::from_slice(&index_bytes)
        .map_err(|e| format!("eval/index.json is not valid: {e}"))?;
    Ok(index.default_entry()?.clone())
}

/// Fetches (with byte progress), verifies and decodes the default evaluation bundle.
pub async fn load_eval_bundle(
    entry: &AssetEntry,
    progress: impl FnMut(usize, usize),
) -> Result<EvalBundle, String> {
    let bytes =
        fetch_bytes_with_progress(&format!("eval/{}", entry.file), entry.bytes, progress).await?;
    verify_asset("eval", entry, &bytes).await?;
    // Let the page paint the "decoding" state before the synchronous decode.
    yield_to_browser().await;
    read_eval_bundle(&bytes).map_err(|e| format!("eval/{}: {e}", entry.file))
}

/// Resolves on the next macrotask, so the browser can render in between.
pub async fn yield_to_browser() {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, 0);
        }
    });
    let _ = JsFuture::from(promise).await;
}

/// Reads an uploaded file's bytes.
pub async fn file_bytes(file: &web_sys::File) -> Result<Vec<u8>, String> {
    let buf = JsFuture::from(file.array_buffer())
        .await
        .map_err(|e| format!("reading {} failed: {}", file.name(), js_err(e)))?;
    Ok(Uint8Array::new(&buf).to_vec())
}

/// The site's model index (`models/index.json`): every model the picker offers and the default.
pub async fn model_index() -> Result<AssetIndex, String> {
    let index_bytes = fetch_bytes("models/index.json").await?;
    let index: AssetIndex = serde_json::from_slice(&index_bytes)
        .map_err(|e| format!("models/index.json is not valid: {e}"))?;
    index.default_entry()?;
    Ok(index)
}

/// Fetches the model of `entry`, checks it against the index (size and sha256), loads it onto
/// `device` (an f16 model computes in f16 when `shader_f16`, in f32 otherwise) and runs one
/// warm-up pass (compiles the GPU pipelines so the first photo is not slow).
pub async fn load_model(
    device: &Device,
    shader_f16: bool,
    entry: &AssetEntry,
) -> Result<LoadedModel, String> {
    let bytes = fetch_bytes(&format!("models/{}", entry.file)).await?;
    verify_asset("models", entry, &bytes).await?;
    let f16 = card_from_prefix(&bytes)
        .ok()
        .flatten()
        .is_some_and(|c| computes_in_f16(&c.quantization, shader_f16));
    let compute = if f16 {
        FloatDType::F16
    } else {
        FloatDType::F32
    };
    let model = LoadedModel::from_bytes_in(&bytes, device, compute)
        .map_err(|e| format!("model {} could not be loaded: {e}", entry.file))?;
    let side = model.card.config.input_size;
    model
        .logits_async(&[vec![0.0; 3 * side * side]])
        .await
        .map_err(|e| format!("warm-up inference failed: {e}"))?;
    Ok(model)
}

/// The card of a listed model read from the start of its file (the header only: a few kB, the
/// download is cancelled there). For describing models in the picker; not verified until loaded.
pub async fn peek_model_card(entry: &AssetEntry) -> Result<ModelCard, String> {
    let url = format!("models/{}", entry.file);
    // Marked as a peek, so the offline service worker does not cache the cut-off download.
    let init = web_sys::RequestInit::new();
    let headers = js_sys::Object::new();
    Reflect::set(&headers, &"X-FairScreen-Peek".into(), &"1".into()).map_err(js_err)?;
    init.set_headers(&headers);
    let resp = fetch_response_with(&url, &init).await?;
    let body = resp
        .body()
        .ok_or_else(|| format!("{url}: the response has no body"))?;
    let reader: web_sys::ReadableStreamDefaultReader = body
        .get_reader()
        .dyn_into()
        .map_err(|_| format!("{url}: the response body cannot be read as a stream"))?;
    let mut prefix = Vec::new();
    let outcome = loop {
        match card_from_prefix(&prefix) {
            Ok(Some(card)) => break Ok(card),
            Err(e) => break Err(format!("{url}: {e}")),
            Ok(None) => {}
        }
        let chunk = match JsFuture::from(reader.read()).await {
            Ok(c) => c,
            Err(e) => break Err(format!("reading {url} failed: {}", js_err(e))),
        };
        let done = Reflect::get(&chunk, &"done".into())
            .ok()
            .and_then(|v| v.as_bool())
            .unwrap_or(true);
        if done {
            break Err(format!("{url} ended inside its header"));
        }
        match Reflect::get(&chunk, &"value".into()) {
            Ok(value) => prefix.extend_from_slice(&Uint8Array::new(&value).to_vec()),
            Err(e) => break Err(js_err(e)),
        }
    };
    // Stop the download: the tensors are fetched (and verified) only when the model is chosen.
    let _ = reader.cancel();
    outcome
}

/// One screened photo: every exit's logits and pooled maps, and the photo as the model saw it.
pub struct Screened {
    /// Logits of every exit.
    pub logits: BatchLogits,
    /// Pooled maps of every exit (for the class activation maps).
    pub maps: ExitMaps,
    /// The centre-cropped, resized photo the model's input was made from.
    pub image: RgbImage,
}

/// Decodes, prepares and classifies one photo; logits and maps of every exit.
pub async fn classify(model: &LoadedModel, bytes: &[u8]) -> Result<Screened, String> {
    let config = &model.card.config;
    let image = square_resize(&decode_image(bytes)?, config.input_size as u32);
    let input = to_input(&image, config);
    let (logits, maps) = model.logits_and_maps_async(&input).await?;
    if logits.exits.iter().flatten().any(|v| !v.is_finite()) {
        return Err("the model produced non-finite logits on this backend".into());
    }
    Ok(Screened {
        logits,
        maps,
        image,
    })
}

/// Per-sample exit logits of `model` on every image of `bundle` and the final head's class
/// activation map of each (for the class it predicts), in batches on the active backend;
/// `progress(done, total)` after each batch, with the browser free to paint in between.
pub async fn bundle_logits(
    model: &LoadedModel,
    bundle: &EvalBundle,
    mut progress: impl FnMut(usize, usize),
) -> Result<(Vec<Vec<Vec<f32>>>, Vec<ClassMap>), String> {
    let config = &model.card.config;
    if bundle.card.side as usize != config.input_size {
        return Err(format!(
            "the evaluation images are {} px but the model needs {} px",
            bundle.card.side, config.input_size
        ));
    }
    if bundle.card.class_names != config.class_names {
        return Err("the evaluation subset's classes differ from the model's".into());
    }
    const BATCH: usize = 48;
    let mut out = Vec::with_capacity(bundle.len());
    let mut cams = Vec::with_capacity(bundle.len());
    for start in (0..bundle.len()).step_by(BATCH) {
        let end = (start + BATCH).min(bundle.len());
        let inputs: Vec<Vec<f32>> = (start..end)
            .map(|i| fairscreen_core::preprocess::to_input(&bundle.rgb_image(i), config))
            .collect();
        let (logits, batch_cams) = model.logits_and_final_cams_async(&inputs).await?;
        if logits.exits.iter().flatten().any(|v| !v.is_finite()) {
            return Err("the model produced non-finite logits on this backend".into());
        }
        out.extend((0..logits.batch).map(|i| logits.sample(i)));
        cams.extend(batch_cams);
        progress(end, bundle.len());
        yield_to_browser().await;
    }
    Ok((out, cams))
}
