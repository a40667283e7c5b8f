//! End-to-end: the Trunk-built site in headless Chromium, driven over WebDriver. The page must run
//! the shipped model on WebGPU (SwiftShader here) or, without WebGPU, on the CPU fallback, and agree
//! with the native CPU backend on every fixture image.

mod support;

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use burn::prelude::Device;
use fairscreen_core::format::AssetIndex;
use fairscreen_core::infer::LoadedModel;
use fairscreen_core::preprocess::prepare_image_bytes;
use fairscreen_core::{exit_policy, ExitDecision};
use support::{Session, StaticServer};

/// Each test launches its own Chromium; run them one at a time.
static BROWSER: Mutex<()> = Mutex::new(());

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn dist() -> PathBuf {
    let dir = std::env::var("FAIRSCREEN_DIST")
        .map(PathBuf::from)
        .unwrap_or_else(|_| repo().join("dist"));
    assert!(
        dir.join("index.html").exists(),
        "{} has no index.html: run `trunk build` first (scripts/test.sh does)",
        dir.display()
    );
    dir
}

fn shipped_model() -> LoadedModel {
    let models = repo().join("www/models");
    let index: AssetIndex =
        serde_json::from_slice(&std::fs::read(models.join("index.json")).unwrap()).unwrap();
    let entry = index.default_entry().unwrap();
    let bytes = std::fs::read(models.join(&entry.file)).unwrap();
    LoadedModel::from_bytes(&bytes, &Device::flex()).unwrap()
}

fn fixtures() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(repo().join("tests/fixtures"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let n = p.file_name().unwrap().to_string_lossy();
            n.starts_with("lesion-") && n.ends_with(".png")
        })
        .collect();
    v.sort();
    assert!(!v.is_empty(), "no tests/fixtures/lesion-*.png");
    v
}

/// Native CPU logits of every exit for one image file.
fn native_logits(model: &LoadedModel, path: &Path) -> Vec<Vec<f32>> {
    let input = prepare_image_bytes(&std::fs::read(path).unwrap(), &model.card.config).unwrap();
    model.logits(&[input]).unwrap().sample(0)
}

fn open_app(webgpu: bool) -> (Session, StaticServer) {
    let server = StaticServer::start(dist());
    let s = Session::new(webgpu);
    s.goto(&server.url);
    let state = s.wait_for(
        "the page to load the model",
        Duration::from_secs(240),
        |s| {
            let st = s.attr("#status", "data-state")?;
            (st == "ready" || st == "error").then_some(st)
        },
    );
    assert_eq!(
        state,
        "ready",
        "page failed: {}\nbrowser log:\n{}",
        s.text("#error"),
        s.browser_log()
    );
    (s, server)
}

fn runs(s: &Session) -> u32 {
    s.attr("#result", "data-run")
        .and_then(|r| r.parse().ok())
        .unwrap_or(0)
}

fn wait_run(s: &Session, n: u32) {
    s.wait_for(&format!("inference #{n}"), Duration::from_secs(180), |s| {
        let done = matches!(
            s.attr("#status", "data-state").as_deref(),
            Some("done") | Some("ready")
        );
        (done && runs(s) >= n).then_some(())
    });
}

fn upload(s: &Session, path: &Path) {
    s.send_keys(
        "#file-input",
        &path.canonicalize().unwrap().to_string_lossy(),
    );
}

/// Uploads `path`, waits for the result, and returns (page logits, exit fired, prediction, θ).
fn classify_in_page(s: &Session, path: &Path) -> (Vec<Vec<f32>>, usize, String, f32) {
    let before = runs(s);
    upload(s, path);
    wait_run(s, before + 1);
    let file = s.attr("#result", "data-file").unwrap();
    assert_eq!(
        file,
        path.file_name().unwrap().to_string_lossy(),
        "result is for the uploaded file"
    );
    let logits: Vec<Vec<f32>> =
        serde_json::from_str(&s.attr("#result", "data-logits").unwrap()).unwrap();
    let exit = s
        .attr("#result", "data-exit-fired")
        .unwrap()
        .parse()
        .unwrap();
    let prediction = s.attr("#result", "data-prediction").unwrap();
    let theta = s.attr("#result", "data-theta").unwrap().parse().unwrap();
    (logits, exit, prediction, theta)
}

fn max_abs_diff(a: &[Vec<f32>], b: &[Vec<f32>]) -> f32 {
    assert_eq!(a.len(), b.len(), "number of exits");
    a.iter()
        .zip(b)
        .flat_map(|(x, y)| {
            assert_eq!(x.len(), y.len(), "number of classes");
            x.iter().zip(y).map(|(p, q)| (p - q).abs())
        })
        .fold(0.0, f32::max)
}

/// Checks every fixture against the native CPU backend; returns the largest logit difference.
fn check_fixtures(s: &Session, model: &LoadedModel, tolerance: f32, label: &str) -> f32 {
    let mut worst = 0.0f32;
    for path in fixtures() {
        let (page, exit, prediction, theta) = classify_in_page(s, &path);
        let native = native_logits(model, &path);
        let diff = max_abs_diff(&page, &native);
        println!(
            "{label}: {} max |Δlogit| vs native CPU = {diff:e}",
            path.display()
        );
        assert!(
            diff <= tolerance,
            "{label}: {} logits differ from native CPU by {diff} > {tolerance}",
            path.display()
        );
        let ExitDecision {
            exit: n_exit,
            class,
            ..
        } = exit_policy(&native, theta);
        assert_eq!(exit, n_exit, "{label}: exit fired for {}", path.display());
        assert_eq!(
            prediction,
            model.card.config.class_names[class],
            "{label}: prediction for {}",
            path.display()
        );
        worst = worst.max(diff);
    }
    worst
}

#[test]
fn webgpu_upload_matches_native_cpu() {
    let _guard = BROWSER.lock().unwrap_or_else(|e| e.into_inner());
    let model = shipped_model();
    let (s, _server) = open_app(true);
    assert_eq!(
        s.attr("#backend", "data-backend").as_deref(),
        Some("webgpu"),
        "{}",
        s.text("#backend")
    );
    assert!(s.text("#backend").contains("WebGPU"));
    // SwiftShader is a software adapter and the page must say so.
    assert_eq!(
        s.attr("#backend", "data-software-adapter").as_deref(),
        Some("true")
    );
    assert!(s
        .attr("#backend", "data-adapter")
        .unwrap()
        .contains("swiftshader"));
    assert!(
        s.text("#card").contains("generated"),
        "the model card says what the model was trained on"
    );

    // Backend agreement (WebGPU in the browser vs native CPU): 1e-4 max abs on every logit of every exit.
    let worst = check_fixtures(&s, &model, 1e-4, "webgpu");
    println!("webgpu: worst max |Δlogit| over fixtures = {worst:e}");
    assert!(!s.text("#result").is_empty());
    s.screenshot(&repo().join("target/e2e/webgpu.png"));

    // A non-image file: clear error, no new result; the next valid upload still works.
    let n = runs(&s);
    upload(&s, &repo().join("tests/fixtures/not-an-image.txt"));
    let err = s.wait_for("the error message", Duration::from_secs(60), |s| {
        s.attr("#error", "data-error").filter(|e| !e.is_empty())
    });
    assert!(err.contains("not a supported image"), "error was: {err}");
    assert!(
        err.contains("not-an-image.txt"),
        "error names the file: {err}"
    );
    assert_eq!(runs(&s), n, "a bad file must not produce a result");
    let first = &fixtures()[0];
    let (page, _, _, _) = classify_in_page(&s, first);
    assert!(max_abs_diff(&page, &native_logits(&model, first)) <= 1e-4);
    assert_eq!(
        s.attr("#error", "data-error").as_deref(),
        Some(""),
        "error cleared after a good upload"
    );
    assert_eq!(runs(&s), n + 1);
}

#[test]
fn cpu_fallback_matches_native_cpu() {
    let _guard = BROWSER.lock().unwrap_or_else(|e| e.into_inner());
    let model = shipped_model();
    let (s, _server) = open_app(false);
    assert_eq!(
        s.attr("#backend", "data-backend").as_deref(),
        Some("cpu"),
        "{}",
        s.text("#backend")
    );
    assert!(
        s.text("#backend").contains("no WebGPU adapter"),
        "{}",
        s.text("#backend")
    );
    let worst = check_fixtures(&s, &model, 1e-4, "cpu-fallback");
    println!("cpu-fallback: worst max |Δlogit| over fixtures = {worst:e}");
}

#[test]
fn theta_slider_moves_the_exit_that_fires() {
    let _guard = BROWSER.lock().unwrap_or_else(|e| e.into_inner());
    let model = shipped_model();
    let (s, _server) = open_app(false);
    let path = &fixtures()[0];
    classify_in_page(&s, path);
    let native = native_logits(&model, path);
    for theta in ["0.3", "0.999"] {
        s.script(&format!(
            "const t = document.getElementById('theta'); t.value = '{theta}'; \
             t.dispatchEvent(new Event('input', {{ bubbles: true }}));"
        ));
        let want = exit_policy(&native, theta.parse().unwrap());
        let fired = s.wait_for("the exit to follow θ", Duration::from_secs(10), |s| {
            (s.attr("#result", "data-theta")? == theta)
                .then(|| s.attr("#result", "data-exit-fired"))?
        });
        assert_eq!(fired, want.exit.to_string(), "θ = {theta}");
        let used: u64 = s
            .attr("#compute", "data-macs-used")
            .unwrap()
            .parse()
            .unwrap();
        let cost = fairscreen_core::ComputeCost::of(&model.card.config);
        assert_eq!(
            used,
            cost.macs_at_exit(want.exit, &model.card.config.exit_stages)
        );
    }
}

/// Copies the built site to a fresh directory so a test can damage it.
fn copy_dist(name: &str) -> PathBuf {
    let to = std::env::temp_dir().join(format!("fairscreen-dist-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&to);
    let from = dist();
    for entry in walk(&from) {
        let rel = entry.strip_prefix(&from).unwrap();
        std::fs::create_dir_all(to.join(rel).parent().unwrap()).unwrap();
        std::fs::copy(&entry, to.join(rel)).unwrap();
    }
    to
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn a_damaged_model_file_is_refused_with_a_message() {
    let _guard = BROWSER.lock().unwrap_or_else(|e| e.into_inner());
    let site = copy_dist("damaged");
    let index: AssetIndex =
        serde_json::from_slice(&std::fs::read(site.join("models/index.json")).unwrap()).unwrap();
    let model_path = site
        .join("models")
        .join(&index.default_entry().unwrap().file);
    let mut bytes = std::fs::read(&model_path).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x01;
    std::fs::write(&model_path, bytes).unwrap();
    let server = StaticServer::start(site);
    let s = Session::new(false);
    s.goto(&server.url);
    let state = s.wait_for(
        "the page to give up on the model",
        Duration::from_secs(120),
        |s| s.attr("#status", "data-state").filter(|st| st != "loading"),
    );
    assert_eq!(state, "error");
    let err = s.attr("#error", "data-error").unwrap();
    assert!(
        err.contains("does not match models/index.json"),
        "error was: {err}"
    );
    assert!(s.text("#status").contains("could not be loaded"));
}

/// The shipped evaluation bundle, read natively.
fn shipped_bundle() -> fairscreen_core::EvalBundle {
    let dir = repo().join("www/eval");
    let index: AssetIndex =
        serde_json::from_slice(&std::fs::read(dir.join("index.json")).unwrap()).unwrap();
    let entry = index.default_entry().unwrap();
    fairscreen_core::read_eval_bundle(&std::fs::read(dir.join(&entry.file)).unwrap()).unwrap()
}

fn wait_eval(s: &Session) -> String {
    s.wait_for(
        "the evaluation subset to load",
        Duration::from_secs(240),
        |s| {
            s.attr("#data-card", "data-state")
                .filter(|st| st == "ready" || st == "error")
        },
    )
}

#[test]
fn the_evaluation_subset_loads_and_its_data_card_matches_the_bundle() {
    let _guard = BROWSER.lock().unwrap_or_else(|e| e.into_inner());
    let bundle = shipped_bundle();
    let (s, _server) = open_app(false);
    let state = wait_eval(&s);
    assert_eq!(
        state,
        "ready",
        "evaluation subset failed: {}",
        s.text("#data-card")
    );
    assert_eq!(
        s.attr("#data-card", "data-count").unwrap(),
        bundle.len().to_string()
    );
    assert_eq!(
        s.attr("#data-card", "data-seed").unwrap(),
        bundle.card.seed.unwrap().to_string()
    );
    assert!(s.text("#data-source").contains("SynthDerm"));
    for cell in bundle.cell_counts() {
        let sel = format!("td[data-cell=\"{}-{}\"]", cell.skin_type, cell.sex);
        assert_eq!(s.text(&sel).trim(), cell.count.to_string(), "{sel}");
    }
    for (name, n) in bundle.card.class_names.iter().zip(bundle.class_counts()) {
        let text = s.text(&format!("li[data-class=\"{name}\"]"));
        assert_eq!(text, format!("{name}: {n}"));
    }
    assert!(s
        .text("#data-card")
        .contains("not how it would treat real patients"));
    s.script("document.getElementById('data-card').scrollIntoView();");
    s.screenshot(&repo().join("target/e2e/data-card.png"));
}

#[test]
fn a_damaged_evaluation_bundle_is_refused_and_screening_still_works() {
    let _guard = BROWSER.lock().unwrap_or_else(|e| e.into_inner());
    let site = copy_dist("damaged-eval");
    let index: AssetIndex =
        serde_json::from_slice(&std::fs::read(site.join("eval/index.json")).unwrap()).unwrap();
    let path = site.join("eval").join(&index.default_entry().unwrap().file);
    let mut bytes = std::fs::read(&path).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x40;
    std::fs::write(&path, bytes).unwrap();
    let server = StaticServer::start(site);
    let s = Session::new(false);
    s.goto(&server.url);
    assert_eq!(wait_eval(&s), "error");
    assert!(
        s.text("#eval-error")
            .contains("does not match eval/index.json"),
        "{}",
        s.text("#data-card")
    );
    // Photo screening is unaffected.
    assert_eq!(s.attr("#status", "data-state").unwrap(), "ready");
    let fixture = &fixtures()[0];
    upload(&s, fixture);
    wait_run(&s, 1);
    assert!(s.attr("#result", "data-prediction").is_some());
}

/// The dashboard's report, computed in the browser (CPU backend), equals the native report for
/// the same model, subset and θ: every scalar and every bootstrap bound within 1e-6.
#[test]
fn the_dashboard_report_equals_the_native_report() {
    use fairscreen_core::metrics::{bundle_reports, FairnessReport, ReportOptions};
    let _guard = BROWSER.lock().unwrap_or_else(|e| e.into_inner());
    let model = shipped_model();
    let bundle = shipped_bundle();
    let (s, _server) = open_app(false);
    assert_eq!(wait_eval(&s), "ready");
    s.script("document.getElementById('run-audit').click();");
    let state = s.wait_for("the dashboard to compute", Duration::from_secs(600), |s| {
        s.attr("#dashboard", "data-state")
            .filter(|st| st == "ready" || st == "error")
    });
    assert_eq!(state, "ready", "{}", s.text("#dashboard"));
    let page: Vec<FairnessReport> =
        serde_json::from_str(&s.attr("#dashboard", "data-report").unwrap()).unwrap();

    let mut logits = Vec::new();
    for start in (0..bundle.len()).step_by(64) {
        let inputs: Vec<Vec<f32>> = (start..(start + 64).min(bundle.len()))
            .map(|i| {
                fairscreen_core::preprocess::to_input(&bundle.rgb_image(i), &model.card.config)
            })
            .collect();
        let l = model.logits(&inputs).unwrap();
        logits.extend((0..l.batch).map(|i| l.sample(i)));
    }
    let native = bundle_reports(
        &bundle,
        &logits,
        model.card.default_theta,
        &ReportOptions::default(),
    );
    assert_eq!(page.len(), native.len());
    let mut worst = 0.0f64;
    for (p, n) in page.iter().zip(&native) {
        assert_eq!(p.attribute, n.attribute);
        assert_eq!(p.warnings, n.warnings);
        assert_eq!(
            p.groups.iter().map(|g| g.n).collect::<Vec<_>>(),
            n.groups.iter().map(|g| g.n).collect::<Vec<_>>()
        );
        assert_eq!(p.scalars.len(), n.scalars.len(), "{}", p.attribute);
        for (k, v) in &n.scalars {
            let d = (p.scalars[k] - v).abs();
            worst = worst.max(d);
            assert!(
                d <= 1e-6,
                "{} {k}: page {} vs native {v}",
                p.attribute,
                p.scalars[k]
            );
            let (pi, ni) = (p.intervals[k], n.intervals[k]);
            assert!(
                (pi.lo - ni.lo).abs() <= 1e-6 && (pi.hi - ni.hi).abs() <= 1e-6,
                "{} {k}: interval {pi:?} vs {ni:?}",
                p.attribute
            );
        }
    }
    println!("dashboard: worst |Δ| page vs native over all scalars = {worst:e}");
    // Six-way skin grouping: the tab switches the table.
    s.script("document.querySelector('button[data-grouping=\"1\"]').click();");
    s.wait_for("the six-way table", Duration::from_secs(10), |s| {
        s.text("#dashboard table.groups")
            .contains("Fitzpatrick VI")
            .then_some(())
    });
    s.script("document.getElementById('dashboard').scrollIntoView();");
    s.screenshot(&repo().join("target/e2e/dashboard.png"));
}
