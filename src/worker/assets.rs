//! Fetching the site's files from inside the worker: the build's manifest, the asset indexes,
//! models (verified before use) and the evaluation subset (with byte progress).

use std::cell::RefCell;
use std::rc::Rc;

use burn::prelude::*;
use burn::tensor::FloatDType;
use fairscreen_core::format::{card_from_prefix, sha256_hex, AssetEntry, AssetIndex, Manifest};
use fairscreen_core::infer::LoadedModel;
use fairscreen_core::quant::computes_in_f16;
use fairscreen_core::ModelCard;
use js_sys::{Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// A JavaScript error as text.
pub fn js_err(v: JsValue) -> String {
    v.as_string()
        .or_else(|| {
            v.dyn_ref::<js_sys::Error>()
                .map(|e| String::from(e.message()))
        })
        .unwrap_or_else(|| format!("{v:?}"))
}

fn scope() -> web_sys::WorkerGlobalScope {
    js_sys::global().unchecked_into()
}

/// Starts a same-origin fetch with request options; a clear error for network and HTTP failures.
async fn fetch_response_with(
    url: &str,
    init: &web_sys::RequestInit,
) -> Result<web_sys::Response, String> {
    let resp = JsFuture::from(scope().fetch_with_str_and_init(url, init))
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

/// Fetches a same-origin file as bytes.
pub async fn fetch_bytes(url: &str) -> Result<Vec<u8>, String> {
    let resp = fetch_response_with(url, &web_sys::RequestInit::new()).await?;
    let buf = JsFuture::from(resp.array_buffer().map_err(js_err)?)
        .await
        .map_err(|e| format!("reading {url} failed: {}", js_err(e)))?;
    Ok(Uint8Array::new(&buf).to_vec())
}

/// The next chunk of a body stream, or `None` at its end.
async fn next_chunk(
    reader: &web_sys::ReadableStreamDefaultReader,
    url: &str,
) -> Result<Option<Vec<u8>>, String> {
    let chunk = JsFuture::from(reader.read())
        .await
        .map_err(|e| format!("reading {url} failed: {}", js_err(e)))?;
    let done = Reflect::get(&chunk, &"done".into())
        .ok()
        .and_then(|v| v.as_bool())
        .unwrap_or(true);
    if done {
        return Ok(None);
    }
    let value = Reflect::get(&chunk, &"value".into()).map_err(js_err)?;
    Ok(Some(Uint8Array::new(&value).to_vec()))
}

/// The body of `resp` as a stream reader.
fn body_reader(
    resp: &web_sys::Response,
    url: &str,
) -> Result<Option<web_sys::ReadableStreamDefaultReader>, String> {
    let Some(body) = resp.body() else {
        return Ok(None);
    };
    body.get_reader()
        .dyn_into()
        .map(Some)
        .map_err(|_| format!("{url}: the response body cannot be read as a stream"))
}

/// Fetches a same-origin file, calling `progress(received, total)` as bytes arrive (`total`
/// from the asset index, so it is known even without a Content-Length).
pub async fn fetch_bytes_with_progress(
    url: &str,
    total: usize,
    mut progress: impl FnMut(usize, usize),
) -> Result<Vec<u8>, String> {
    let resp = fetch_response_with(url, &web_sys::RequestInit::new()).await?;
    let Some(reader) = body_reader(&resp, url)? else {
        return fetch_bytes(url).await;
    };
    let mut out = Vec::with_capacity(total);
    progress(0, total);
    while let Some(chunk) = next_chunk(&reader, url).await? {
        out.extend_from_slice(&chunk);
        progress(out.len(), total.max(out.len()));
    }
    Ok(out)
}

thread_local! {
    static MANIFEST: RefCell<Option<Rc<Manifest>>> = const { RefCell::new(None) };
}

/// The site's `manifest.json` (every built file with its size and sha256), fetched once.
pub async fn manifest() -> Result<Rc<Manifest>, String> {
    if let Some(m) = MANIFEST.with(|m| m.borrow().clone()) {
        return Ok(m);
    }
    let bytes = fetch_bytes("manifest.json").await?;
    let m = Manifest::from_json(&bytes).map_err(|e| e.to_string())?;
    let m = Rc::new(m);
    MANIFEST.with(|cell| *cell.borrow_mut() = Some(m.clone()));
    Ok(m)
}

/// Checks fetched bytes against `manifest.json` and against the asset's index entry; refuses a
/// mismatch with a message naming the file and the list it differs from.
pub async fn verify_asset(dir: &str, entry: &AssetEntry, bytes: &[u8]) -> Result<(), String> {
    manifest()
        .await?
        .verify(&format!("{dir}/{}", entry.file), bytes)
        .map_err(|e| e.to_string())?;
    if bytes.len() != entry.bytes || sha256_hex(bytes) != entry.sha256 {
        return Err(format!(
            "{dir}/{} does not match {dir}/index.json (size or sha256 differs): refusing to use it",
            entry.file
        ));
    }
    Ok(())
}

/// An asset index (`models/index.json`, `eval/index.json`) with a valid default entry.
pub async fn asset_index(dir: &str) -> Result<AssetIndex, String> {
    let bytes = fetch_bytes(&format!("{dir}/index.json")).await?;
    AssetIndex::from_json(&format!("{dir}/index.json"), &bytes).map_err(|e| e.to_string())
}

/// Fetches the model of `entry`, checks it against the manifest and the index, loads it onto
/// `device` (an f16 model computes in f16 when `shader_f16`, in f32 otherwise) and runs one
/// warm-up pass (compiles the GPU pipelines so the first photo is not slow).
pub async fn load_model(
    device: &Device,
    shader_f16: bool,
    entry: &AssetEntry,
) -> Result<LoadedModel, String> {
    let bytes = fetch_bytes(&format!("models/{}", entry.file)).await?;
    verify_asset("models", entry, &bytes).await?;
    model_from_bytes(device, shader_f16, &bytes, &entry.file).await
}

/// A model from the bytes of its file (`file` names it in messages), validated like every model
/// (format, shapes, card, the card's tensor sha256), on `device`, warmed up.
pub async fn model_from_bytes(
    device: &Device,
    shader_f16: bool,
    bytes: &[u8],
    file: &str,
) -> Result<LoadedModel, String> {
    let f16 = card_from_prefix(bytes)
        .ok()
        .flatten()
        .is_some_and(|c| computes_in_f16(&c.quantization, shader_f16));
    let compute = if f16 {
        FloatDType::F16
    } else {
        FloatDType::F32
    };
    let model = LoadedModel::from_bytes_in(bytes, device, compute)
        .map_err(|e| format!("model {file} could not be loaded: {e}"))?;
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
    let reader =
        body_reader(&resp, &url)?.ok_or_else(|| format!("{url}: the response has no body"))?;
    let mut prefix = Vec::new();
    let outcome = loop {
        match card_from_prefix(&prefix) {
            Ok(Some(card)) => break Ok(card),
            Err(e) => break Err(format!("{url}: {e}")),
            Ok(None) => {}
        }
        match next_chunk(&reader, &url).await {
            Ok(Some(chunk)) => prefix.extend_from_slice(&chunk),
            Ok(None) => break Err(format!("{url} ended inside its header")),
            Err(e) => break Err(e),
        }
    };
    // Stop the download: the tensors are fetched (and verified) only when the model is chosen.
    let _ = reader.cancel();
    outcome
}
