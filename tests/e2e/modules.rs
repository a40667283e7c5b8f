//! The app's two modules: the page's own (burn's CPU backend only) is all a first visit fetches;
//! the WebGPU module (`gpu/`) is fetched when the model moves to WebGPU — at the user's request,
//! or by itself on a hardware adapter (`?upgrade=software` makes SwiftShader count as one here).

use super::*;

/// The backend's WebGPU state (`#backend[data-webgpu]`) once the page has looked for an adapter.
fn webgpu_state(s: &Session) -> String {
    s.wait_for("the WebGPU check", Duration::from_secs(60), |s| {
        s.attr("#backend", "data-webgpu")
            .filter(|st| st != "checking")
    })
}

/// Waits until the model runs on `kind` and the page is ready for a photo.
fn wait_backend(s: &Session, kind: &str) {
    s.wait_for(
        &format!("the model on {kind}"),
        Duration::from_secs(240),
        |s| {
            let backend = s.attr("#backend", "data-backend")?;
            let state = s.attr("#status", "data-state")?;
            assert_ne!(state, "error", "{}", s.text("#error"));
            (backend == kind && (state == "ready" || state == "done")).then_some(())
        },
    );
}

/// Paths the server answered under `/gpu/` since the last look.
fn gpu_fetches(server: &StaticServer) -> Vec<String> {
    server
        .take_requests()
        .into_iter()
        .map(|(_, path, _)| path)
        .filter(|p| p.starts_with("/gpu/"))
        .collect()
}

/// On a software adapter (SwiftShader) the page starts and stays on the CPU, says why, and fetches
/// no WebGPU code; "Run on WebGPU" fetches the WebGPU module and screens there as the native model
/// does; "Run on the CPU" goes back.
#[test]
fn a_first_visit_runs_on_the_page_module_and_webgpu_is_fetched_on_request() {
    let _guard = BROWSER.lock().unwrap_or_else(|e| e.into_inner());
    let model = shipped_model();
    let server = StaticServer::start(dist());
    let s = Session::new(true);
    s.goto(&server.url);
    assert_eq!(wait_loaded(&s), "ready", "{}", s.text("#error"));
    assert_backend(&s, "cpu");
    assert_eq!(webgpu_state(&s), "software", "{}", s.text("#backend"));
    let note = s.text("#webgpu-note");
    assert!(
        note.contains("software renderer") && note.contains("CPU is faster"),
        "{note}"
    );
    check_fixtures(&s, &model, 1e-4, "cpu (page module)");
    std::thread::sleep(Duration::from_secs(2));
    let fetched = gpu_fetches(&server);
    assert!(fetched.is_empty(), "fetched WebGPU code: {fetched:?}");

    assert_eq!(s.text("#switch-backend"), "Run on WebGPU");
    s.script("document.getElementById('switch-backend').click();");
    wait_backend(&s, "webgpu");
    assert!(
        s.text("#backend").contains("WebGPU"),
        "{}",
        s.text("#backend")
    );
    let fetched = gpu_fetches(&server);
    assert!(
        fetched.iter().any(|p| p == "/gpu/fairscreen-gpu_bg.wasm"),
        "the WebGPU module was not fetched: {fetched:?}"
    );
    let worst = check_fixtures(&s, &model, 1e-4, "webgpu (gpu module)");
    println!("WebGPU module: worst max |Δlogit| over fixtures = {worst:e}");

    assert_eq!(s.text("#switch-backend"), "Run on the CPU");
    s.script("document.getElementById('switch-backend').click();");
    wait_backend(&s, "cpu");
    check_fixtures(&s, &model, 1e-4, "cpu again");
}

/// With a hardware adapter the page answers on the CPU first, loads the WebGPU module on the side
/// once the model is ready, and moves the model there by itself while the user has not started:
/// the next photo is screened on WebGPU as the native model does.
#[test]
fn a_hardware_adapter_gets_the_webgpu_module_loaded_on_the_side() {
    let _guard = BROWSER.lock().unwrap_or_else(|e| e.into_inner());
    let model = shipped_model();
    let server = StaticServer::start(dist());
    let s = Session::new(true);
    s.goto(&format!("{}?upgrade=software", server.url));
    assert_eq!(wait_loaded(&s), "ready", "{}", s.text("#error"));
    wait_backend(&s, "webgpu");
    assert_eq!(
        s.attr("#backend", "data-webgpu").as_deref(),
        Some("not-checked")
    );
    let moved = s.script(
        "return performance.getEntriesByName('fairscreen-webgpu-ready').length > 0 \
         && performance.getEntriesByName('fairscreen-first-result').length === 0;",
    );
    assert_eq!(moved, serde_json::json!(true), "moved before any photo");
    let worst = check_fixtures(&s, &model, 1e-4, "webgpu (moved)");
    println!("moved to the WebGPU module: worst max |Δlogit| = {worst:e}");
    assert_eq!(s.text("#switch-backend"), "Run on the CPU");
}

/// Serves `site` (a copy of the build with its WebGPU module damaged), asks for WebGPU, and checks
/// that the page ends on the CPU with an error holding every one of `words`, screening the fixtures
/// as the native model does; removes `site` after.
fn check_webgpu_module_refused(site: PathBuf, words: &[&str]) {
    let model = shipped_model();
    let server = StaticServer::start(site.clone());
    let s = Session::new(true);
    s.goto(&format!("{}?backend=webgpu", server.url));
    wait_backend(&s, "cpu");
    let error = s.attr("#error", "data-error").unwrap_or_default();
    for word in words
        .iter()
        .chain(&["WebGPU module could not be loaded", "runs on the CPU"])
    {
        assert!(error.contains(word), "no {word:?} in: {error}");
    }
    check_fixtures(&s, &model, 1e-4, "cpu after the WebGPU module was refused");
    let _ = std::fs::remove_dir_all(site);
}

/// A site whose WebGPU module cannot be fetched: asked for WebGPU, the page says the module could
/// not be loaded, runs its own module on the CPU and screens as the native model does.
#[test]
fn an_unreachable_webgpu_module_leaves_the_page_on_the_cpu_with_the_reason() {
    let _guard = BROWSER.lock().unwrap_or_else(|e| e.into_inner());
    let site = copy_dist("no-gpu-module");
    std::fs::remove_dir_all(site.join("gpu")).unwrap();
    check_webgpu_module_refused(site, &["HTTP 404"]);
}

/// A WebGPU module whose bytes differ from the build's manifest.json (one byte changed) is refused
/// before it runs: the page names the sha256 mismatch and stays on the CPU with native logits.
#[test]
fn a_webgpu_module_that_differs_from_the_manifest_is_refused() {
    let _guard = BROWSER.lock().unwrap_or_else(|e| e.into_inner());
    let site = copy_dist("altered-gpu-module");
    let wasm = site.join("gpu/fairscreen-gpu_bg.wasm");
    let mut bytes = std::fs::read(&wasm).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x01;
    std::fs::write(&wasm, bytes).unwrap();
    check_webgpu_module_refused(site, &["fairscreen-gpu_bg.wasm", "sha256"]);
}
