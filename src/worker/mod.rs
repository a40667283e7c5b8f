//! The inference worker: runs in a dedicated Web Worker (the app's own wasm module, started by
//! `www/worker.js`), owns the backend, the model, the evaluation subset and the audits, and
//! answers the page's [`Request`]s with [`Event`]s. Nothing here touches the page.

mod assets;
mod backend;
mod bench;
mod own_data;
mod screen;

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use burn::prelude::*;
use burn::tensor::FloatDType;
use fairscreen_core::bundle::read_eval_bundle;
use fairscreen_core::format::{AssetEntry, AssetIndex};
use fairscreen_core::infer::{bundle_logits, LoadedModel};
use fairscreen_core::metrics::{bundle_reports, ReportOptions};
use fairscreen_core::quant::precision_description;
use fairscreen_core::EvalBundle;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::spawn_local;

use crate::protocol::{
    pack, unpack, AuditResult, BackendInfo, BundleMeta, Event, ExitLogits, FolderData, PhotoResult,
    Request,
};

/// Exit logits of every audited model on one evaluation data set, by model name.
type Audits = BTreeMap<String, Rc<ExitLogits>>;

/// What the worker holds between requests.
#[derive(Default)]
struct Session {
    /// The backend's device and its description.
    backend: Option<(Device, BackendInfo)>,
    /// `models/index.json`.
    index: AssetIndex,
    /// The loaded model and its index name.
    model: Option<(String, Rc<LoadedModel>)>,
    /// The last screened photo (re-screened when the model changes).
    photo: Option<(String, Rc<Vec<u8>>)>,
    /// The latest time of the loaded model computing every exit in one pass (ms), if it has.
    full_network_ms: Option<f64>,
    /// The bundled evaluation subset is loaded or loading.
    eval_requested: bool,
    /// The evaluation data audits run on (the bundled subset, or a folder the user read).
    bundle: Option<Rc<EvalBundle>>,
    /// Exit logits on the active evaluation data of every audited model, by name.
    audits: Audits,
    /// Every evaluation data read, by name, with the audits of the ones not active.
    datasets: BTreeMap<String, (Rc<EvalBundle>, Audits)>,
    /// Model files the user loaded (validated), by name: their entry and bytes. They stay here,
    /// on the device.
    own_models: BTreeMap<String, (AssetEntry, Rc<Vec<u8>>)>,
}

thread_local! {
    static SESSION: RefCell<Session> = RefCell::new(Session::default());
}

fn with<R>(f: impl FnOnce(&mut Session) -> R) -> R {
    SESSION.with(|s| f(&mut s.borrow_mut()))
}

/// True when this code runs inside a dedicated worker (not on the page).
pub fn in_worker() -> bool {
    js_sys::global()
        .dyn_into::<web_sys::DedicatedWorkerGlobalScope>()
        .is_ok()
}

/// Posts an event to the page.
pub fn send(event: &Event) {
    let scope: web_sys::DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    if let Err(e) = scope.post_message(&pack(event, None)) {
        log::error!("could not post to the page: {}", assets::js_err(e));
    }
}

/// Installs the request handler and tells the page the worker is ready.
pub fn start() {
    let scope: web_sys::DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    let on_message = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(
        |ev: web_sys::MessageEvent| match unpack::<Request>(&ev.data()) {
            Ok((request, bytes)) => {
                let files = crate::protocol::unpack_files(&ev.data());
                spawn_local(handle(request, bytes, files))
            }
            Err(e) => log::error!("the worker got {e}"),
        },
    );
    scope.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    on_message.forget();
    send(&Event::Ready);
}

async fn handle(request: Request, bytes: Option<Vec<u8>>, files: Vec<web_sys::File>) {
    match request {
        Request::Start { cpu } => start_session(cpu).await,
        Request::LoadEval => load_eval().await,
        Request::LoadModel { name } => switch_model(name).await,
        Request::Classify { file, theta } => classify(file, bytes.unwrap_or_default(), theta).await,
        Request::Rescreen { theta, every_exit } => rescreen(theta, every_exit).await,
        Request::Audit { theta } => audit(theta).await,
        Request::Reports { model, theta } => reports(model, theta),
        Request::LoadOwnModel { file } => load_own_model(file, bytes.unwrap_or_default()).await,
        Request::ReadFolder { folder, paths } => read_folder(folder, paths, files).await,
        Request::SelectData { name } => select_data(&name),
        Request::AuditPredictions { file } => send(&Event::PredictionsAudited(
            own_data::audit_predictions(file, &bytes.unwrap_or_default()).await,
        )),
        Request::CancelPredictionsAudit => own_data::cancel_predictions_audit(),
        Request::Bench(request) => send(&Event::Benched(
            bench::run(request, &bytes.unwrap_or_default()).await,
        )),
        Request::DebugPanic => panic!("the page asked the worker to panic (debug hook)"),
        Request::DebugLoseGpu => {
            if !backend::destroy_gpu() {
                log::warn!("the page asked to lose the GPU, but this worker runs on the CPU");
            }
        }
    }
}

/// Backend (the CPU when the page gives a reason: `cpu`), model index, default model (falling
/// back to the CPU if WebGPU fails), then the cards of the other models.
async fn start_session(cpu: Option<String>) {
    send(&Event::Step("choosing a backend".into()));
    let (mut device, mut info) = backend::pick_backend(cpu, gpu_lost).await;
    send(&Event::Backend(info.clone()));
    send(&Event::Step("loading the model".into()));
    let fail = |error: String| Event::ModelFailed {
        name: String::new(),
        error,
        fatal: true,
    };
    let index = match assets::asset_index("models").await {
        Ok(index) => index,
        Err(e) => return send(&fail(e)),
    };
    send(&Event::ModelIndex {
        assets: index.assets.clone(),
        default: index.default.clone(),
    });
    let Ok(entry) = index.default_entry().cloned() else {
        return;
    };
    let loaded = match assets::load_model(&device, info.shader_f16, &entry).await {
        Err(e) if info.kind == "webgpu" => {
            // A WebGPU failure (e.g. a driver problem) falls back to the CPU backend.
            (device, info) =
                backend::cpu_fallback(Some(format!("WebGPU failed, using the CPU: {e}")));
            send(&Event::Backend(info.clone()));
            assets::load_model(&device, false, &entry).await
        }
        other => other,
    };
    with(|s| {
        s.backend = Some((device, info));
        s.index = index.clone();
    });
    match loaded {
        Ok(model) => {
            commit_model(entry, model, None);
            spawn_local(peek_cards(index));
        }
        Err(e) => send(&fail(e)),
    }
}

/// Makes `model` the loaded one and tells the page (with the last photo screened again by it, if
/// it was; a photo it could not screen is forgotten).
fn commit_model(
    entry: AssetEntry,
    model: LoadedModel,
    reclassified: Option<Result<PhotoResult, String>>,
) {
    let precision = precision_description(
        &model.card.quantization,
        model.compute_dtype() == FloatDType::F16,
    );
    let card = model.card.clone();
    with(|s| {
        s.model = Some((entry.name.clone(), Rc::new(model)));
        s.full_network_ms = None;
        if let Some(Err(_)) = &reclassified {
            // Never show one model's answer under another model's card.
            s.photo = None;
        }
    });
    let reclassified = reclassified.map(|r| r.map(with_full_network_time));
    send(&Event::ModelLoaded {
        entry,
        card,
        precision,
        reclassified,
    });
}

/// Records the time of a one-pass screening as the loaded model's full-network time, and gives
/// `result` the latest one.
fn with_full_network_time(mut result: PhotoResult) -> PhotoResult {
    with(|s| {
        if result.stopped_at.is_none() {
            s.full_network_ms = Some(result.model_ms);
        }
        result.full_network_ms = s.full_network_ms;
    });
    result
}

/// Sends the card of every model but the loaded one, for the picker: from the index, or read
/// from the file's header when the index has none.
async fn peek_cards(index: AssetIndex) {
    let loaded = with(|s| s.model.as_ref().map(|(n, _)| n.clone()));
    for entry in index.assets {
        if Some(&entry.name) == loaded.as_ref() {
            continue;
        }
        // The index carries the cards; a file is read only for an index without one.
        if let Some(card) = entry.card {
            send(&Event::PeekedCard {
                name: entry.name,
                card: *card,
            });
            continue;
        }
        match assets::peek_model_card(&entry).await {
            Ok(card) => send(&Event::PeekedCard {
                name: entry.name,
                card,
            }),
            Err(e) => log::warn!("could not read the card of {}: {e}", entry.file),
        }
    }
}

/// The browser lost the WebGPU device (a driver reset, a GPU process crash, the debug hook): the
/// CPU backend takes over in a task of this worker.
fn gpu_lost(what: String) {
    spawn_local(continue_on_cpu(what));
}

/// Moves the worker to the CPU backend after a WebGPU device loss and loads the model that was
/// loaded again there, re-screening the last photo (the same answers, slower). Audits keep their
/// logits; one running when the device went fails with a message and can be run again.
async fn continue_on_cpu(what: String) {
    let on_gpu = with(|s| s.backend.as_ref().is_some_and(|(_, i)| i.kind == "webgpu"));
    if !on_gpu {
        return;
    }
    let reason = format!("the WebGPU device was {what}; the model now runs on the CPU");
    let (device, info) = backend::cpu_fallback(Some(reason.clone()));
    let model = with(|s| {
        s.backend = Some((device, info.clone()));
        s.full_network_ms = None;
        s.model.take().map(|(name, _)| name)
    });
    send(&Event::Backend(info));
    send(&Event::GpuLost {
        reason,
        model: model.clone(),
    });
    let Some(name) = model else {
        return;
    };
    match load_named(&name).await {
        Ok((entry, model, reclassified)) => commit_model(entry, model, reclassified),
        Err(e) => send(&Event::ModelFailed {
            name: name.clone(),
            error: format!(
                "{name} could not be loaded again on the CPU after the GPU was lost: {e}"
            ),
            fatal: true,
        }),
    }
}

/// Loads the named model (the index's or a file of the user's) on the current backend and screens
/// the last photo with it (every exit), if there is one.
async fn load_named(
    name: &str,
) -> Result<(AssetEntry, LoadedModel, Option<Result<PhotoResult, String>>), String> {
    let (device, f16) = with(|s| s.backend.as_ref().map(|(d, i)| (d.clone(), i.shader_f16)))
        .ok_or("no backend is ready")?;
    let (entry, model) = match with(|s| s.own_models.get(name).cloned()) {
        Some((entry, bytes)) => {
            let model = assets::model_from_bytes(&device, f16, &bytes, &entry.file).await?;
            (entry, model)
        }
        None => {
            let entry = with(|s| s.index.assets.iter().find(|e| e.name == name).cloned())
                .ok_or("it is not in models/index.json")?;
            let model = assets::load_model(&device, f16, &entry).await?;
            (entry, model)
        }
    };
    let reclassified = match with(|s| s.photo.clone()) {
        // Every exit: the page picks the new model's θ once it has its card.
        Some((file, bytes)) => Some(screen::screen(&model, &file, &bytes, None).await),
        None => None,
    };
    Ok((entry, model, reclassified))
}

/// Loads another model of the index on the same backend and re-screens the last photo; on any
/// failure the previous model stays loaded.
async fn switch_model(name: String) {
    let outcome = load_named(&name).await;
    match outcome {
        Ok((entry, model, reclassified)) => commit_model(entry, model, reclassified),
        Err(error) => send(&Event::ModelFailed {
            name,
            error,
            fatal: false,
        }),
    }
}

/// The name a model file the user loaded goes by.
fn own_model_name(file: &str) -> String {
    format!("your file {file}")
}

/// Validates and loads a model file the user chose (like a shipped model, without the index's
/// checksum: it has none) and makes it the loaded model; a damaged file is refused and the
/// previous model stays.
async fn load_own_model(file: String, bytes: Vec<u8>) {
    // A second file of the same name gets its own entry (the first may be loaded or audited).
    let base = own_model_name(&file);
    let taken = |n: &String| with(|s| s.own_models.contains_key(n));
    let name = (1..)
        .map(|k| {
            if k == 1 {
                base.clone()
            } else {
                format!("{base} ({k})")
            }
        })
        .find(|n| !taken(n))
        .unwrap_or(base);
    let entry = AssetEntry {
        name: name.clone(),
        file,
        bytes: bytes.len(),
        sha256: fairscreen_core::assets::sha256_hex(&bytes),
        card: None,
    };
    with(|s| s.own_models.insert(name.clone(), (entry, Rc::new(bytes))));
    switch_model(name.clone()).await;
    let loaded = with(|s| s.model.as_ref().is_some_and(|(n, _)| *n == name));
    if !loaded {
        // Refused: forget the bad bytes; the previous model stays loaded.
        with(|s| s.own_models.remove(&name));
    }
}

/// Screens one photo with the loaded model, stage by stage at `theta`; keeps it for
/// re-screening (θ moved deeper, every exit asked for, another model).
async fn classify(file: String, bytes: Vec<u8>, theta: f32) {
    let Some((_, model)) = with(|s| s.model.clone()) else {
        return send(&Event::Screened(Err("the model is not loaded yet".into())));
    };
    let outcome = screen::screen(&model, &file, &bytes, Some(theta)).await;
    if outcome.is_ok() {
        with(|s| s.photo = Some((file.clone(), Rc::new(bytes))));
    }
    send(&Event::Screened(
        outcome
            .map(with_full_network_time)
            .map_err(|e| format!("{file}: {e}")),
    ));
}

/// Screens the last photo again with the loaded model: stage by stage at `theta`, or every exit.
async fn rescreen(theta: f32, every_exit: bool) {
    let (Some((_, model)), Some((file, bytes))) = with(|s| (s.model.clone(), s.photo.clone()))
    else {
        return send(&Event::Screened(Err(
            "there is no photo to screen again".into()
        )));
    };
    let stop_at = (!every_exit).then_some(theta);
    let outcome = screen::screen(&model, &file, &bytes, stop_at).await;
    send(&Event::Screened(
        outcome
            .map(with_full_network_time)
            .map_err(|e| format!("{file}: {e}")),
    ));
}

/// Fetches, verifies and decodes the bundled evaluation subset, unless it is loaded or loading.
async fn load_eval() {
    let busy = with(|s| std::mem::replace(&mut s.eval_requested, true));
    if busy {
        return;
    }
    let outcome = async {
        let index = assets::asset_index("eval").await?;
        let entry = index.default_entry().map_err(|e| e.to_string())?.clone();
        let url = format!("eval/{}", entry.file);
        let bytes = assets::fetch_bytes_with_progress(&url, entry.bytes, |done, total| {
            send(&if done < total {
                Event::EvalProgress { done, total }
            } else {
                Event::EvalDecoding
            })
        })
        .await?;
        assets::verify_asset("eval", &entry, &bytes).await?;
        let bundle = read_eval_bundle(&bytes).map_err(|e| format!("{url}: {e}"))?;
        Ok::<_, String>((bundle, entry.bytes))
    }
    .await;
    match outcome {
        Ok((bundle, bytes)) => {
            let meta = BundleMeta::of(&bundle, bytes);
            let bundle = Rc::new(bundle);
            with(|s| {
                s.datasets
                    .insert(bundle.card.name.clone(), (bundle.clone(), BTreeMap::new()));
                if s.bundle.is_none() {
                    s.bundle = Some(bundle);
                }
            });
            send(&Event::EvalReady(Box::new(meta)));
        }
        Err(e) => {
            // The next request tries again.
            with(|s| s.eval_requested = false);
            send(&Event::EvalFailed(e))
        }
    }
}

/// Makes the named evaluation data the active one; the audits of the data left are kept with it.
fn select_data(name: &str) {
    with(|s| {
        if s.bundle.as_ref().is_some_and(|b| b.card.name == name) {
            return;
        }
        if !s.datasets.contains_key(name) {
            return log::error!("no evaluation data named {name}");
        }
        if let Some(old) = s.bundle.take() {
            let kept = std::mem::take(&mut s.audits);
            s.datasets.insert(old.card.name.clone(), (old, kept));
        }
        if let Some((bundle, audits)) = s.datasets.get(name).cloned() {
            s.bundle = Some(bundle);
            s.audits = audits;
        }
    });
}

/// Reads a labelled folder the user chose into evaluation data for the loaded model (progress
/// as it goes), makes it the active data and tells the page what was read and skipped.
async fn read_folder(folder: String, paths: Vec<String>, files: Vec<web_sys::File>) {
    let Some((_, model)) = with(|s| s.model.clone()) else {
        return send(&Event::FolderRead(
            Err("the model is not loaded yet".into()),
        ));
    };
    let name = if folder.is_empty() {
        "your chosen files".to_string()
    } else {
        format!("your folder {folder}")
    };
    let outcome = own_data::read_folder(&name, &paths, &files, &model.card.config).await;
    match outcome {
        Ok((bundle, skipped)) => {
            let meta = BundleMeta::of(&bundle, 0);
            with(|s| {
                s.datasets
                    .insert(name.clone(), (Rc::new(bundle), BTreeMap::new()));
                // The same folder read again replaces the active data and its audits.
                if s.bundle.as_ref().is_some_and(|b| b.card.name == name) {
                    s.bundle = None;
                    s.audits.clear();
                }
            });
            select_data(&name);
            send(&Event::FolderRead(Ok(Box::new(FolderData {
                meta,
                skipped,
            }))));
        }
        Err(e) => send(&Event::FolderRead(Err(e))),
    }
}

/// Runs the loaded model over the whole evaluation subset (batched, with progress), keeps its
/// logits, and reports at `theta` with the mean heatmaps per group.
async fn audit(theta: f32) {
    let (model, bundle) = with(|s| (s.model.clone(), s.bundle.clone()));
    let (Some((name, model)), Some(bundle)) = (model, bundle) else {
        return send(&Event::AuditFailed {
            model: String::new(),
            error: "the model and the evaluation subset must be loaded first".into(),
        });
    };
    let started = js_sys::Date::now();
    let outcome = bundle_logits(&model, &bundle, |done, total| {
        send(&Event::AuditProgress {
            model: name.clone(),
            done,
            total,
        })
    })
    .await
    .map_err(|e| e.to_string());
    let ms = js_sys::Date::now() - started;
    let result = outcome.and_then(|(logits, cams)| {
        let group_heat = screen::group_heat(&bundle, &cams)?;
        let reports = bundle_reports(&bundle, &logits, theta, &ReportOptions::default());
        Ok(AuditResult {
            model: name.clone(),
            logits,
            ms,
            group_heat,
            reports,
            theta,
        })
    });
    match result {
        Ok(result) => {
            with(|s| {
                s.audits
                    .insert(name.clone(), Rc::new(result.logits.clone()))
            });
            send(&Event::AuditDone(Box::new(result)));
        }
        Err(error) => send(&Event::AuditFailed { model: name, error }),
    }
}

/// The reports of an audited model at `theta`, from its cached logits (no inference).
fn reports(model: String, theta: f32) {
    let (logits, bundle) = with(|s| (s.audits.get(&model).cloned(), s.bundle.clone()));
    let (Some(logits), Some(bundle)) = (logits, bundle) else {
        return;
    };
    let reports = bundle_reports(&bundle, &logits, theta, &ReportOptions::default());
    send(&Event::Reports {
        model,
        theta,
        reports,
    });
}
