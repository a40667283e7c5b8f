//! The peer benchmark: FairScreen against ONNX Runtime Web (the pinned npm package, served from
//! this machine) running the same network (`export-onnx` of the model the app loads) on the same
//! input tensors, in the same headless Chromium run. `scripts/bench.sh` runs the ignored
//! [`peer_benchmark`], which writes `docs/results/peer-bench.{json,md}`; the regular test
//! [`onnx_runtime_web_and_fairscreen_give_native_logits_on_the_fixtures`] checks that both
//! runtimes compute the network the benchmark compares.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Value};

use super::*;

/// ONNX Runtime Web's files the bench page loads: the wasm-only bundle and the WebGPU one.
const ORT_FILES: [&str; 6] = [
    "ort.wasm.min.mjs",
    "ort-wasm-simd-threaded.mjs",
    "ort-wasm-simd-threaded.wasm",
    "ort.webgpu.min.mjs",
    "ort-wasm-simd-threaded.asyncify.mjs",
    "ort-wasm-simd-threaded.asyncify.wasm",
];

/// The runtime files of ORT's wasm-only bundle (what a CPU-only page ships).
const ORT_WASM_RUNTIME: [&str; 3] = [
    "ort.wasm.min.mjs",
    "ort-wasm-simd-threaded.mjs",
    "ort-wasm-simd-threaded.wasm",
];
/// The runtime files of ORT's WebGPU bundle (WebGPU and wasm EPs).
const ORT_WEBGPU_RUNTIME: [&str; 3] = [
    "ort.webgpu.min.mjs",
    "ort-wasm-simd-threaded.asyncify.mjs",
    "ort-wasm-simd-threaded.asyncify.wasm",
];

fn ort_dist() -> PathBuf {
    let dir = repo().join("tools/npm/node_modules/onnxruntime-web/dist");
    assert!(
        dir.join(ORT_FILES[0]).exists(),
        "{} is missing: scripts/setup.sh --test installs tools/npm",
        dir.display()
    );
    dir
}

/// f32 little-endian bytes of prepared inputs.
fn f32_bytes(inputs: &[Vec<f32>]) -> Vec<u8> {
    inputs
        .iter()
        .flatten()
        .flat_map(|v| v.to_le_bytes())
        .collect()
}

/// A copy of the built site with `bench/`: the page, ORT's files, `model.onnx` (the default
/// model exported), `inputs.bin` and `first.bin` (`first`: the photo of the cold starts).
fn bench_site(name: &str, inputs: &[Vec<f32>], first: &[f32]) -> PathBuf {
    let site = copy_dist(name);
    let bench = site.join("bench");
    std::fs::create_dir_all(bench.join("ort")).unwrap();
    for f in ["peer.html", "peer.js"] {
        std::fs::copy(repo().join("tests/bench").join(f), bench.join(f)).unwrap();
    }
    for f in ORT_FILES {
        std::fs::copy(ort_dist().join(f), bench.join("ort").join(f)).unwrap();
    }
    let entry = model_index().default_entry().unwrap().clone();
    let model = repo().join("www/models").join(&entry.file);
    byo::run_trainer(&[
        "export-onnx",
        "--model",
        &model.to_string_lossy(),
        "--out",
        &bench.join("model.onnx").to_string_lossy(),
    ]);
    std::fs::write(bench.join("inputs.bin"), f32_bytes(inputs)).unwrap();
    std::fs::write(bench.join("first.bin"), f32_bytes(&[first.to_vec()])).unwrap();
    site
}

/// Runs `call` (a JS expression returning a promise) on the bench page and waits for its value.
fn bench_call(s: &Session, server: &StaticServer, call: &str, timeout: Duration) -> Value {
    s.goto(&format!("{}bench/peer.html", server.url));
    s.wait_for("the bench page", Duration::from_secs(60), |s| {
        (s.text("#state") == "ready").then_some(())
    });
    s.script(&format!(
        "window.__out = undefined; ({call}).then(r => window.__out = {{ok: r}}, \
         e => window.__out = {{err: String(e && e.stack || e)}});"
    ));
    let out = s.wait_for(call, timeout, |s| {
        let v = s.script("return window.__out === undefined ? null : window.__out;");
        (!v.is_null()).then_some(v)
    });
    match out.get("ok") {
        Some(v) => v.clone(),
        None => panic!(
            "{call} failed: {}\nbrowser log:\n{}",
            out["err"],
            s.browser_log()
        ),
    }
}

/// Every exit's logits as the page returned them.
fn logits_of(v: &Value) -> Vec<Vec<Vec<f32>>> {
    serde_json::from_value(v["check_logits"].clone()).unwrap()
}

fn fairscreen_request(cpu: bool, check: usize, runs: usize, early: usize, batch: usize) -> String {
    json!({
        "cpu": cpu,
        "model": model_index().default,
        "check": check,
        "warmup": if runs > 0 { 10 } else { 0 },
        "runs": runs,
        "early_exit_images": early,
        "theta": null,
        "batch": batch,
    })
    .to_string()
}

fn ort_request(
    bundle: &str,
    ep: &str,
    side: usize,
    check: usize,
    runs: usize,
    batch: usize,
) -> String {
    json!({
        "bundle": bundle, "ep": ep, "threads": 1, "side": side, "check": check,
        "warmup": if runs > 0 { 10 } else { 0 }, "runs": runs, "batch": batch,
    })
    .to_string()
}

/// The worst |Δ| between a runtime's logits and the native CPU logits of the same inputs.
fn worst_vs_native(label: &str, page: &[Vec<Vec<f32>>], native: &[Vec<Vec<f32>>]) -> f32 {
    assert_eq!(page.len(), native.len(), "{label}: inputs checked");
    let worst = page
        .iter()
        .zip(native)
        .map(|(p, n)| {
            assert_eq!(p.len(), n.len(), "{label}: every exit");
            max_abs_diff(p, n)
        })
        .fold(0.0, f32::max);
    println!("{label}: max |Δlogit| vs native CPU = {worst:e}");
    worst
}

/// The comparison runs the same network on the same input: ONNX Runtime Web (wasm EP) on the
/// exported model and FairScreen's worker (CPU backend) give the native CPU logits of every exit
/// on every fixture photo within 1e-4.
#[test]
fn onnx_runtime_web_and_fairscreen_give_native_logits_on_the_fixtures() {
    let _guard = BROWSER.lock().unwrap_or_else(|e| e.into_inner());
    let model = shipped_model();
    let config = model.card.config.clone();
    let inputs: Vec<Vec<f32>> = fixtures()
        .iter()
        .map(|p| prepare_image_bytes(&std::fs::read(p).unwrap(), &config).unwrap())
        .collect();
    let native: Vec<Vec<Vec<f32>>> = inputs
        .iter()
        .map(|x| model.logits(std::slice::from_ref(x)).unwrap().sample(0))
        .collect();
    let site = bench_site("ort-check", &inputs, &inputs[0]);
    let server = StaticServer::start(site);
    let s = Session::new(false);
    let n = inputs.len();
    let side = config.input_size;
    let ort = bench_call(
        &s,
        &server,
        &format!(
            "ortBench({})",
            ort_request("ort.wasm.min.mjs", "wasm", side, n, 0, n)
        ),
        Duration::from_secs(120),
    );
    assert!(worst_vs_native("ORT wasm", &logits_of(&ort), &native) <= 1e-4);
    let ours = bench_call(
        &s,
        &server,
        &format!("fairscreenBench({})", fairscreen_request(true, n, 0, 0, n)),
        Duration::from_secs(120),
    );
    assert!(worst_vs_native("FairScreen CPU", &logits_of(&ours), &native) <= 1e-4);
}

/// Median and 90th percentile (nearest rank) of `v`.
fn median_p90(v: &[f64]) -> (f64, f64) {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let median = if s.len() % 2 == 1 {
        s[s.len() / 2]
    } else {
        (s[s.len() / 2 - 1] + s[s.len() / 2]) / 2.0
    };
    let p90 = s[((0.9 * s.len() as f64).ceil() as usize).clamp(1, s.len()) - 1];
    (median, p90)
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len().max(1) as f64
}

/// Bytes of `path` compressed by `gzip -9` (what a server sends with gzip on).
fn gzip_len(path: &Path) -> u64 {
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("gzip -9 -c '{}' | wc -c", path.display()))
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
}

/// Cold start of the app in a fresh profile: navigation → model ready, and photo chosen → first
/// result (the page's own performance marks; the driver's delay between the two is left out).
/// With `webgpu_move`, the driver first waits for the page to move the model to the WebGPU module
/// loaded on the side (what a hardware adapter gets: `?upgrade=software` here) and records when.
fn fairscreen_cold(server: &StaticServer, query: &str, photo: &Path, webgpu_move: bool) -> Value {
    let s = Session::new(true);
    server.take_requests();
    s.goto(&format!("{}{query}", server.url));
    s.wait_for("the model", Duration::from_secs(300), |s| {
        (s.attr("#status", "data-state")? == "ready").then_some(())
    });
    if webgpu_move {
        s.wait_for("the move to WebGPU", Duration::from_secs(300), |s| {
            let backend = s.attr("#backend", "data-backend")?;
            let webgpu = s.attr("#backend", "data-webgpu")?;
            assert_ne!(webgpu, "failed", "{}", s.text("#backend"));
            (backend == "webgpu").then_some(())
        });
    }
    let backend_at_photo = s.attr("#backend", "data-backend");
    upload(&s, photo);
    wait_run(&s, 1);
    let marks = s.script(
        "const m = n => (performance.getEntriesByName(n)[0] || {}).startTime ?? null; \
         return { ready: m('fairscreen-model-ready'), chosen: m('fairscreen-photo-chosen'), \
         result: m('fairscreen-first-result'), webgpu: m('fairscreen-webgpu-ready') };",
    );
    let ready = marks["ready"].as_f64().unwrap();
    let screen = marks["result"].as_f64().unwrap() - marks["chosen"].as_f64().unwrap();
    // Let the offline service worker finish installing: its downloads count as the first visit.
    s.wait_for("the offline cache", Duration::from_secs(120), |s| {
        (s.attr("#offline", "data-state").as_deref() != Some("pending")).then_some(())
    });
    std::thread::sleep(Duration::from_secs(3));
    json!({
        "query": query,
        "backend": backend_at_photo,
        "webgpu_state": s.attr("#backend", "data-webgpu"),
        "ready_ms": ready,
        "screen_ms": screen,
        "cold_start_ms": ready + screen,
        "webgpu_ready_ms": marks["webgpu"],
    })
}

/// Bytes (raw, gzip -9) of the files of `site` that `requests` fetched (GET, 200), by part: the
/// runtime (wasm + JS), the default model, the other models, the evaluation subset, the rest.
fn fetched_bytes(
    site: &Path,
    requests: Vec<(String, String, u16)>,
    default_model: &str,
) -> (BTreeMap<&'static str, u64>, Vec<Value>) {
    let mut fetched = BTreeSet::new();
    for (method, path, code) in requests {
        if method == "GET" && code == 200 {
            fetched.insert(path);
        }
    }
    let mut parts: BTreeMap<&str, u64> = BTreeMap::new();
    let mut files = Vec::new();
    for path in &fetched {
        let file = if path == "/" {
            site.join("index.html")
        } else {
            site.join(path.trim_start_matches('/'))
        };
        let gz = gzip_len(&file);
        let part = if path.starts_with("/gpu/") {
            "WebGPU module"
        } else if path.ends_with(".wasm") || path.ends_with(".js") {
            "runtime"
        } else if path == default_model {
            "model"
        } else if path.starts_with("/eval/") && !path.ends_with(".json") {
            "evaluation subset"
        } else if path.starts_with("/models/") && !path.ends_with(".json") {
            "other models"
        } else {
            "page, styles, indexes, icons"
        };
        *parts.entry(part).or_default() += gz;
        let raw = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
        files.push(json!({ "path": path, "bytes": raw, "gzip_bytes": gz }));
    }
    (parts, files)
}

/// Cold start of the ORT page in a fresh profile: navigation → session ready → first result.
fn ort_cold(server: &StaticServer, bundle: &str, ep: &str, side: usize) -> Value {
    let s = Session::new(true);
    s.goto(&format!(
        "{}bench/peer.html?cold&bundle={bundle}&ep={ep}&side={side}",
        server.url
    ));
    let r = s.wait_for("ORT's cold start", Duration::from_secs(300), |s| {
        let v = s.script("return window.coldResult || null;");
        (!v.is_null()).then_some(v)
    });
    assert!(r.get("error").is_none(), "ORT {ep}: {r}");
    json!({
        "bundle": bundle, "ep": ep,
        "ready_ms": r["ready_ms"], "cold_start_ms": r["first_result_ms"],
    })
}

/// Summary of one FairScreen run: single-photo and throughput figures, early exit.
fn fairscreen_summary(v: &Value, native: &[Vec<Vec<f32>>], model: &LoadedModel) -> Value {
    let kind = v["backend"]["kind"].as_str().unwrap().to_string();
    let worst = worst_vs_native(&format!("FairScreen {kind}"), &logits_of(v), native);
    let staged: Vec<f64> = serde_json::from_value(v["staged_ms"].clone()).unwrap();
    let every: Vec<f64> = serde_json::from_value(v["every_exit_ms"].clone()).unwrap();
    let computed: Vec<usize> = serde_json::from_value(v["exits_computed"].clone()).unwrap();
    let policy: Vec<usize> = serde_json::from_value(v["policy_exits"].clone()).unwrap();
    for (c, p) in computed.iter().zip(&policy) {
        assert_eq!(
            *c,
            p + 1,
            "{kind}: the staged pass stops at the exit the policy picks"
        );
    }
    let config = &model.card.config;
    let cost = fairscreen_core::ComputeCost::of(config);
    let macs: Vec<f64> = policy
        .iter()
        .map(|&e| cost.macs_at_exit(e, &config.exit_stages) as f64)
        .collect();
    let mut row = json!({
        "runtime": "FairScreen",
        "backend": kind,
        "adapter": v["backend"]["adapter"],
        "software_adapter": v["backend"]["software"],
        "max_abs_diff_vs_native": worst,
        "load_ms": v["load_ms"],
        "early_exit": {
            "theta": v["theta"],
            "photos": staged.len(),
            "mean_staged_ms": mean(&staged),
            "mean_every_exit_ms": mean(&every),
            "time_saved": 1.0 - mean(&staged) / mean(&every),
            "mean_exits_computed": computed.iter().sum::<usize>() as f64 / computed.len().max(1) as f64,
            "mac_saved": 1.0 - mean(&macs) / cost.full_network() as f64,
        },
    });
    with_speed(&mut row, v);
    row
}

/// Adds a run's single-photo and throughput figures (both runtimes report the same fields).
fn with_speed(row: &mut Value, v: &Value) {
    let single: Vec<f64> = serde_json::from_value(v["single_ms"].clone()).unwrap();
    let (median, p90) = median_p90(&single);
    let images = v["images"].as_f64().unwrap();
    let throughput_ms = v["throughput_ms"].as_f64().unwrap();
    let speed = json!({
        "single_runs": single.len(),
        "single_median_ms": median,
        "single_p90_ms": p90,
        "images": images,
        "batch": v["batch"],
        "throughput_ms": throughput_ms,
        "images_per_s": images / throughput_ms * 1000.0,
    });
    let (Some(row), Value::Object(speed)) = (row.as_object_mut(), speed) else {
        unreachable!("both are JSON objects")
    };
    row.extend(speed);
}

/// Summary of one ORT run.
fn ort_summary(v: &Value, native: &[Vec<Vec<f32>>]) -> Value {
    let ep = v["ep"].as_str().unwrap().to_string();
    let worst = worst_vs_native(&format!("ORT {ep}"), &logits_of(v), native);
    let mut row = json!({
        "runtime": "ONNX Runtime Web",
        "bundle": v["bundle"],
        "backend": ep,
        "threads": v["threads"],
        "max_abs_diff_vs_native": worst,
        "load_ms": v["create_ms"],
    });
    with_speed(&mut row, v);
    row
}

/// The trimmed standard output of a shell command (empty when it fails).
pub(crate) fn command_line(cmd: &str) -> String {
    std::process::Command::new("sh")
        .arg("-c")
        .arg(cmd)
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}

/// Outputs each runtime's logits are checked on (the first inputs).
const CHECK: usize = 4;

/// The 720 evaluation images as the model's input tensors (prepared natively by core).
fn evaluation_inputs(config: &fairscreen_core::ModelConfig) -> Vec<Vec<f32>> {
    let bundle = shipped_bundle();
    (0..bundle.len())
        .map(|i| fairscreen_core::preprocess::to_input(&bundle.rgb_image(i), config))
        .collect()
}

/// The side-by-side benchmark (minutes; `scripts/bench.sh`): single-photo latency, throughput
/// over the evaluation images, cold start and first-visit bytes of FairScreen and ONNX Runtime
/// Web on the same network and inputs in one Chromium run; early exit's measured saving. Writes
/// `docs/results/peer-bench.{json,md}` (`FAIRSCREEN_BENCH_OUT` for another directory).
#[test]
#[ignore = "the peer benchmark (minutes): scripts/bench.sh"]
fn peer_benchmark() {
    let _guard = BROWSER.lock().unwrap_or_else(|e| e.into_inner());
    let runs: usize = std::env::var("FAIRSCREEN_BENCH_RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(60);
    let model = shipped_model();
    let config = model.card.config.clone();
    let inputs = evaluation_inputs(&config);
    let native: Vec<Vec<Vec<f32>>> = inputs[..CHECK]
        .iter()
        .map(|x| model.logits(std::slice::from_ref(x)).unwrap().sample(0))
        .collect();
    let photo = fixtures()[0].clone();
    let first = prepare_image_bytes(&std::fs::read(&photo).unwrap(), &config).unwrap();
    let site = bench_site("peer", &inputs, &first);
    let server = StaticServer::start(site.clone());
    let side = config.input_size;
    let batch = fairscreen_core::infer::BUNDLE_BATCH;
    let s = Session::new(true);
    let long = Duration::from_secs(1800);
    let mut rows = Vec::new();
    for cpu in [true, false] {
        let early = if cpu { 720 } else { 120 };
        let v = bench_call(
            &s,
            &server,
            &format!(
                "fairscreenBench({})",
                fairscreen_request(cpu, CHECK, runs, early, batch)
            ),
            long,
        );
        rows.push(fairscreen_summary(&v, &native, &model));
        println!("{}", rows.last().unwrap());
    }
    for (bundle_file, ep) in [
        ("ort.wasm.min.mjs", "wasm"),
        ("ort.webgpu.min.mjs", "webgpu"),
    ] {
        let v = bench_call(
            &s,
            &server,
            &format!(
                "ortBench({})",
                ort_request(bundle_file, ep, side, CHECK, runs, batch)
            ),
            long,
        );
        rows.push(ort_summary(&v, &native));
        println!("{}", rows.last().unwrap());
    }
    let browser = s.script("return navigator.userAgent;");
    drop(s);
    for row in &rows {
        assert!(
            row["max_abs_diff_vs_native"].as_f64().unwrap() <= 1e-3,
            "{row}: another network's outputs"
        );
    }
    // Cold starts, each in a fresh profile; the default one's requests are the first visit.
    let default_model = format!("/models/{}", model_index().default_entry().unwrap().file);
    let ours_default = fairscreen_cold(&server, "", &photo, false);
    let (parts, files) = fetched_bytes(&site, server.take_requests(), &default_model);
    let ours_cpu = fairscreen_cold(&server, "?backend=cpu", &photo, false);
    let ours_webgpu = fairscreen_cold(&server, "?backend=webgpu", &photo, false);
    let ours_move = fairscreen_cold(&server, "?upgrade=software", &photo, true);
    let (move_parts, _) = fetched_bytes(&site, server.take_requests(), &default_model);
    let ort_wasm = ort_cold(&server, "ort.wasm.min.mjs", "wasm", side);
    let ort_webgpu = ort_cold(&server, "ort.webgpu.min.mjs", "webgpu", side);
    let ort_bytes =
        |names: &[&str]| -> u64 { names.iter().map(|f| gzip_len(&ort_dist().join(f))).sum() };
    let onnx_gz = gzip_len(&site.join("bench/model.onnx"));
    let ours_first =
        parts.get("runtime").copied().unwrap_or(0) + parts.get("model").copied().unwrap_or(0);
    let (cpu_row, gpu_row, ort_wasm_row, ort_gpu_row) = (&rows[0], &rows[1], &rows[2], &rows[3]);
    let ratio = |a: &Value, b: &Value, k: &str| a[k].as_f64().unwrap() / b[k].as_f64().unwrap();
    let results = json!({
        "what": "FairScreen vs ONNX Runtime Web on the same network (the default model; ORT runs \
                 its export-onnx file) and the same prepared inputs, in one headless Chromium run",
        "command": "scripts/bench.sh",
        "machine": {
            "cpu": command_line("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"),
            "cores": command_line("nproc"),
        },
        "browser": browser,
        "webgpu_adapter": gpu_row["adapter"],
        "webgpu_adapter_is_software": gpu_row["software_adapter"],
        "onnxruntime_web": "1.30.0 (tools/npm), single-threaded (no cross-origin isolation)",
        "model": model_index().default,
        "runs": rows,
        "ratios_ours_over_ort": {
            "cpu_single_median": ratio(cpu_row, ort_wasm_row, "single_median_ms"),
            "cpu_throughput_time": ratio(cpu_row, ort_wasm_row, "throughput_ms"),
            "webgpu_single_median": ratio(gpu_row, ort_gpu_row, "single_median_ms"),
            "webgpu_throughput_time": ratio(gpu_row, ort_gpu_row, "throughput_ms"),
            "cold_start_cpu_vs_wasm": ours_cpu["cold_start_ms"].as_f64().unwrap()
                / ort_wasm["cold_start_ms"].as_f64().unwrap(),
            "cold_start_default_vs_webgpu": ours_default["cold_start_ms"].as_f64().unwrap()
                / ort_webgpu["cold_start_ms"].as_f64().unwrap(),
            "cold_start_webgpu_module_vs_webgpu": ours_webgpu["cold_start_ms"].as_f64().unwrap()
                / ort_webgpu["cold_start_ms"].as_f64().unwrap(),
            "first_visit_runtime_and_model_vs_ort_wasm_runtime": ours_first as f64
                / ort_bytes(&ORT_WASM_RUNTIME) as f64,
        },
        "cold_start": {
            "fairscreen_default": ours_default,
            "fairscreen_cpu": ours_cpu,
            "fairscreen_webgpu": ours_webgpu,
            "fairscreen_moving_to_webgpu": ours_move,
            "ort_wasm": ort_wasm,
            "ort_webgpu": ort_webgpu,
        },
        "first_visit_gzip_bytes": {
            "fairscreen_by_part": parts,
            "fairscreen_runtime_and_model": ours_first,
            "fairscreen_files": files,
            "fairscreen_moving_to_webgpu_by_part": move_parts,
            "ort_wasm_runtime": ort_bytes(&ORT_WASM_RUNTIME),
            "ort_webgpu_runtime": ort_bytes(&ORT_WEBGPU_RUNTIME),
            "ort_model_onnx": onnx_gz,
        },
    });
    let out = std::env::var("FAIRSCREEN_BENCH_OUT")
        .map(PathBuf::from)
        .unwrap_or_else(|_| repo().join("docs/results"));
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(
        out.join("peer-bench.json"),
        serde_json::to_string_pretty(&results).unwrap() + "\n",
    )
    .unwrap();
    std::fs::write(out.join("peer-bench.md"), bench_markdown(&results)).unwrap();
    println!("{}", serde_json::to_string_pretty(&results).unwrap());
}

fn ms(v: &Value) -> String {
    v.as_f64().map_or("—".into(), |x| format!("{x:.1} ms"))
}

/// The results as a Markdown report.
fn bench_markdown(r: &Value) -> String {
    let runs = r["runs"].as_array().unwrap();
    let mut md = String::new();
    md.push_str("# Peer benchmark: FairScreen vs ONNX Runtime Web\n\n");
    md.push_str(&format!(
        "Written by `{}` (tests/e2e/bench.rs). {}.\n\n- Machine: {} ({} cores)\n- Browser: {}\n\
         - WebGPU adapter: {} (software: {})\n- ONNX Runtime Web {}\n- Model: {}\n\n",
        r["command"].as_str().unwrap(),
        r["what"].as_str().unwrap(),
        r["machine"]["cpu"].as_str().unwrap(),
        r["machine"]["cores"].as_str().unwrap(),
        r["browser"].as_str().unwrap_or_default(),
        r["webgpu_adapter"].as_str().unwrap_or_default(),
        r["webgpu_adapter_is_software"],
        r["onnxruntime_web"].as_str().unwrap(),
        r["model"].as_str().unwrap(),
    ));
    md.push_str("| runtime | backend | single photo median | p90 | runs | throughput (images/s) | max \\|Δ\\| vs native |\n|---|---|---|---|---|---|---|\n");
    for row in runs {
        md.push_str(&format!(
            "| {} | {} | {} | {} | {} | {:.1} ({:.0} images, batch {}) | {:.1e} |\n",
            row["runtime"].as_str().unwrap(),
            row["backend"].as_str().unwrap(),
            ms(&row["single_median_ms"]),
            ms(&row["single_p90_ms"]),
            row["single_runs"],
            row["images_per_s"].as_f64().unwrap(),
            row["images"].as_f64().unwrap(),
            row["batch"],
            row["max_abs_diff_vs_native"].as_f64().unwrap(),
        ));
    }
    md.push_str(
        "\nRatios, FairScreen ÷ ONNX Runtime Web (below 1 is FairScreen faster or smaller):\n\n",
    );
    for (k, v) in r["ratios_ours_over_ort"].as_object().unwrap() {
        md.push_str(&format!("- {k}: {:.2}\n", v.as_f64().unwrap()));
    }
    md.push_str("\nCold start (fresh profile, localhost; FairScreen: navigation → model ready + photo chosen → result; ORT: navigation → first result):\n\n");
    for (k, v) in r["cold_start"].as_object().unwrap() {
        let backend = v["backend"]
            .as_str()
            .map(|b| format!(", photo screened on {b}"));
        let webgpu = v["webgpu_ready_ms"]
            .as_f64()
            .map(|t| format!(", model moved to the WebGPU module at {t:.0} ms"));
        md.push_str(&format!(
            "- {k}{}: {}{}{}\n",
            v["query"]
                .as_str()
                .map(|q| format!(" (`{q}`)"))
                .unwrap_or_default(),
            ms(&v["cold_start_ms"]),
            backend.unwrap_or_default(),
            webgpu.unwrap_or_default(),
        ));
    }
    md.push_str("\nEarly exit (single photo, stage by stage at the default θ vs every exit in one pass, both with the maps the page draws):\n\n");
    for row in runs.iter().filter(|r| r.get("early_exit").is_some()) {
        let e = &row["early_exit"];
        md.push_str(&format!(
            "- {}: {} photos at θ = {:.3}: {} vs {} per photo, time saved {:.1} %, MACs saved {:.1} %, {:.2} exits computed on average\n",
            row["backend"].as_str().unwrap(),
            e["photos"],
            e["theta"].as_f64().unwrap(),
            ms(&e["mean_staged_ms"]),
            ms(&e["mean_every_exit_ms"]),
            100.0 * e["time_saved"].as_f64().unwrap(),
            100.0 * e["mac_saved"].as_f64().unwrap(),
            e["mean_exits_computed"].as_f64().unwrap(),
        ));
    }
    let fv = &r["first_visit_gzip_bytes"];
    md.push_str(&format!(
        "\nFirst visit, gzip -9 bytes: FairScreen runtime + default model {} ({}; a page that moves to a hardware adapter's WebGPU module then fetches: {}); ORT wasm runtime {}, ORT WebGPU runtime {}, ONNX model {}.\n",
        fv["fairscreen_runtime_and_model"],
        fv["fairscreen_by_part"],
        fv["fairscreen_moving_to_webgpu_by_part"],
        fv["ort_wasm_runtime"],
        fv["ort_webgpu_runtime"],
        fv["ort_model_onnx"],
    ));
    md
}

/// The CPU backend in the page's module (burn's CPU backend only) and in the WebGPU module (which
/// has it too), in one browser session, rounds alternating: single-photo median and throughput of
/// each round. Writes `docs/results/levers/module-cpu.md` (or `$FAIRSCREEN_BENCH_OUT`). Run:
/// `cargo test --release --test e2e -- --ignored --exact bench::cpu_path_in_both_modules`.
#[test]
#[ignore = "a benchmark (a few minutes): run by hand"]
fn cpu_path_in_both_modules() {
    const ROUNDS: usize = 4;
    let _guard = BROWSER.lock().unwrap_or_else(|e| e.into_inner());
    let model = shipped_model();
    let config = model.card.config.clone();
    let inputs = evaluation_inputs(&config);
    let native: Vec<Vec<Vec<f32>>> = inputs[..CHECK]
        .iter()
        .map(|x| model.logits(std::slice::from_ref(x)).unwrap().sample(0))
        .collect();
    let site = bench_site("modules", &inputs, &inputs[0]);
    let server = StaticServer::start(site);
    let s = Session::new(false);
    let batch = fairscreen_core::infer::BUNDLE_BATCH;
    let mut rows: BTreeMap<&str, Vec<(f64, f64)>> = BTreeMap::new();
    for round in 0..ROUNDS {
        for module in ["page", "gpu"] {
            let mut request: Value =
                serde_json::from_str(&fairscreen_request(true, CHECK, 60, 0, batch)).unwrap();
            request["module"] = json!(module);
            let v = bench_call(
                &s,
                &server,
                &format!("fairscreenBench({request})"),
                Duration::from_secs(600),
            );
            worst_vs_native(module, &logits_of(&v), &native);
            let mut row = json!({});
            with_speed(&mut row, &v);
            let (single, rate) = (
                row["single_median_ms"].as_f64().unwrap(),
                row["images_per_s"].as_f64().unwrap(),
            );
            println!("round {round}: {module} module: {single:.2} ms, {rate:.1} images/s");
            rows.entry(module).or_default().push((single, rate));
        }
    }
    let mut md = format!(
        "# burn's CPU backend in the page's module and in the WebGPU module\n\nWritten by \
         `cargo test --release --test e2e -- --ignored --exact bench::cpu_path_in_both_modules`: one \
         headless Chromium session ({}), {ROUNDS} rounds alternating the two modules; each round: \
         single-photo median of 60 runs after 10 warm-up, and 720 images in batches of {batch}.\n\n\
         | module | single photo, each round (ms) | median | images/s, each round | median |\n|---|---|---:|---|---:|\n",
        command_line("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"),
    );
    for (module, v) in &rows {
        let single: Vec<f64> = v.iter().map(|r| r.0).collect();
        let rate: Vec<f64> = v.iter().map(|r| r.1).collect();
        let list = |x: &[f64], d: usize| {
            x.iter()
                .map(|t| format!("{t:.d$}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        md.push_str(&format!(
            "| {module} | {} | {:.2} | {} | {:.0} |\n",
            list(&single, 2),
            median_p90(&single).0,
            list(&rate, 0),
            median_p90(&rate).0,
        ));
    }
    let out = std::env::var("FAIRSCREEN_BENCH_OUT")
        .map(PathBuf::from)
        .unwrap_or_else(|_| repo().join("docs/results/levers"));
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("module-cpu.md"), &md).unwrap();
    println!("{md}");
}
