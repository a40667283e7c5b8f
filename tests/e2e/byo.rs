//! Bring your own, in one browser session: a predictions CSV audited and exported, a model file
//! trained by the trainer loaded (and a damaged one refused), a phone photo with its EXIF
//! orientation, the phone-width layout, the install manifest, accessibility (axe-core) — and the
//! proof that nothing but the build's own files was requested.

use std::collections::BTreeSet;

use super::*;

/// The trainer binary the workspace build made (`FAIRSCREEN_TRAIN` to point elsewhere).
fn trainer() -> PathBuf {
    let path = std::env::var("FAIRSCREEN_TRAIN")
        .map(PathBuf::from)
        .unwrap_or_else(|_| repo().join("target/release/fairscreen-train"));
    assert!(
        path.exists(),
        "{} is missing: build the workspace first (scripts/test.sh does)",
        path.display()
    );
    path
}

/// Runs the trainer; its stdout.
pub(super) fn run_trainer(args: &[&str]) -> String {
    let out = std::process::Command::new(trainer())
        .args(args)
        .current_dir(repo())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "fairscreen-train {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub(super) fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("fairscreen-e2e-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Makes the page's saved files readable by the test: every blob handed to
/// `URL.createObjectURL` is read into `window.__saved` (the download itself goes on).
pub(super) fn capture_saves(s: &Session) {
    s.script(
        "window.__saved = []; const make = URL.createObjectURL.bind(URL); \
         URL.createObjectURL = (b) => { const i = window.__saved.length; window.__saved.push(null); \
         b.text().then(t => { window.__saved[i] = t; }); return make(b); };",
    );
}

/// Clicks `button` and returns the text of the file the page saved.
pub(super) fn save_from(s: &Session, button: &str) -> String {
    let n = s.script("return window.__saved.length;").as_u64().unwrap();
    s.script(&format!("document.querySelector('{button}').click();"));
    s.wait_for(
        &format!("the file saved by {button}"),
        Duration::from_secs(20),
        |s| {
            s.script(&format!("return window.__saved[{n}];"))
                .as_str()
                .map(String::from)
        },
    )
}

/// Every scalar and bootstrap bound of `page` within 1e-6 of `native` (same groupings, group
/// sizes and warnings); the largest scalar difference.
pub(super) fn assert_reports_close(
    what: &str,
    page: &[fairscreen_core::metrics::FairnessReport],
    native: &[fairscreen_core::metrics::FairnessReport],
) -> f64 {
    assert_eq!(page.len(), native.len(), "{what}: reports");
    let mut worst = 0.0f64;
    for (p, n) in page.iter().zip(native) {
        assert_eq!(p.attribute, n.attribute, "{what}");
        assert_eq!(p.warnings, n.warnings, "{what}");
        assert_eq!(
            p.groups.iter().map(|g| g.n).collect::<Vec<_>>(),
            n.groups.iter().map(|g| g.n).collect::<Vec<_>>(),
            "{what}: group sizes"
        );
        assert_eq!(p.scalars.len(), n.scalars.len(), "{what}: {}", p.attribute);
        for (k, v) in &n.scalars {
            let d = (p.scalars[k] - v).abs();
            worst = worst.max(d);
            assert!(
                d <= 1e-6,
                "{what}: {} {k}: {} vs {v}",
                p.attribute,
                p.scalars[k]
            );
            let (pi, ni) = (p.intervals[k], n.intervals[k]);
            assert!(
                (pi.lo - ni.lo).abs() <= 1e-6 && (pi.hi - ni.hi).abs() <= 1e-6,
                "{what}: {} {k}: interval {pi:?} vs {ni:?}",
                p.attribute
            );
        }
    }
    worst
}

/// Splits one CSV line (fields may be quoted).
pub(super) fn csv_fields(line: &str) -> Vec<String> {
    let (mut out, mut cur, mut quoted) = (Vec::new(), String::new(), false);
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => out.push(std::mem::take(&mut cur)),
            (c, _) => cur.push(c),
        }
    }
    out.push(cur);
    out
}

/// The saved CSV carries every scalar of `reports` with its interval, one row each.
pub(super) fn check_report_csv(csv: &str, reports: &[fairscreen_core::metrics::FairnessReport]) {
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some(fairscreen_core::metrics::REPORT_CSV_HEADER)
    );
    let rows: Vec<Vec<String>> = lines.map(csv_fields).collect();
    let total: usize = reports.iter().map(|r| r.scalars.len()).sum();
    assert_eq!(rows.len(), total, "one row per grouping × metric");
    for row in &rows {
        let r = reports.iter().find(|r| r.attribute == row[0]).unwrap();
        let key = match row[1].as_str() {
            "all" => format!("overall/{}", row[3]),
            "between groups" => row[3].clone(),
            g => format!("group/{g}/{}", row[3]),
        };
        let v: f64 = row[4].parse().unwrap();
        assert!((v - r.scalars[&key]).abs() <= 1e-12, "{key}");
        if let Some(i) = r.intervals.get(&key) {
            assert_eq!(row[5].parse::<f64>().unwrap(), i.lo, "{key}");
            assert_eq!(row[6].parse::<f64>().unwrap(), i.hi, "{key}");
        }
    }
}

/// The saved HTML refers to nothing outside itself: no `src` but `data:` URLs, no links out,
/// no CSS `url(…)`, no script.
pub(super) fn check_self_contained_html(html: &str) {
    assert!(html.starts_with("<!DOCTYPE html>"));
    for (i, _) in html.match_indices("src=\"") {
        assert!(
            html[i + 5..].starts_with("data:image/png;base64,"),
            "a src that is not a PNG data URL: {}",
            &html[i..(i + 60).min(html.len())]
        );
    }
    for bad in ["href=", "url(", "<script", "<link", "@import"] {
        assert!(!html.contains(bad), "the HTML report contains {bad}");
    }
}

/// A JPEG of `stored` with an EXIF APP1 segment whose Orientation is `orientation`.
fn jpeg_with_orientation(stored: &image::RgbImage, orientation: u16) -> Vec<u8> {
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 95)
        .encode_image(stored)
        .unwrap();
    let mut tiff = b"II\x2a\x00\x08\x00\x00\x00\x01\x00\x12\x01\x03\x00\x01\x00\x00\x00".to_vec();
    tiff.extend_from_slice(&orientation.to_le_bytes());
    tiff.extend_from_slice(&[0; 6]);
    let mut app1 = b"Exif\x00\x00".to_vec();
    app1.extend_from_slice(&tiff);
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&((app1.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(&app1);
    out.extend_from_slice(&jpeg[2..]);
    out
}

/// Waits until the picker has loaded `name` or the page refused it; returns the error text.
fn wait_model(s: &Session, name: &str) -> Option<String> {
    s.wait_for(
        &format!("the model file {name}"),
        Duration::from_secs(120),
        |s| {
            let idle = s.attr("#model-picker", "data-state")? == "idle";
            let st = s.attr("#status", "data-state")?;
            if !idle || st == "loading" || st == "running" {
                return None;
            }
            if s.attr("#model-picker", "data-model")? == name {
                return Some(None);
            }
            s.attr("#error", "data-error")
                .filter(|e| e.contains(name))
                .map(Some)
        },
    )
}

#[test]
fn bring_your_own_predictions_model_file_and_phone_photo_nothing_leaves() {
    use fairscreen_core::metrics::FairnessReport;
    let _guard = BROWSER.lock().unwrap_or_else(|e| e.into_inner());
    let dir = scratch("byo");
    let server = StaticServer::start(dist());
    let s = Session::with_network_log(false);
    s.goto(&server.url);
    assert_eq!(wait_loaded(&s), "ready", "{}", s.text("#error"));

    // The policy: connections to this origin only, the loader script's hash filled in.
    let csp = s
        .attr("meta[http-equiv=\"Content-Security-Policy\"]", "content")
        .expect("a Content-Security-Policy meta tag");
    assert!(csp.contains("connect-src 'self'"), "{csp}");
    assert!(csp.contains("default-src 'self'"), "{csp}");
    assert!(
        !csp.contains("TRUNK_LOADER"),
        "the loader hash is filled in: {csp}"
    );
    assert!(s.text("#privacy").contains("never sent anywhere"));
    // Installable: the web app manifest.
    let manifest: serde_json::Value = serde_json::from_slice(
        &std::fs::read(dist().join("app.webmanifest")).expect("app.webmanifest in the build"),
    )
    .unwrap();
    assert_eq!(manifest["display"], "standalone");
    assert!(manifest["theme_color"].is_string() && manifest["name"].is_string());
    for side in [192u32, 512] {
        let icon = manifest["icons"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["sizes"] == format!("{side}x{side}"))
            .unwrap_or_else(|| panic!("a {side}px icon"));
        let png = image::open(dist().join(icon["src"].as_str().unwrap())).unwrap();
        assert_eq!((png.width(), png.height()), (side, side));
    }
    assert_eq!(
        s.attr("link[rel=\"manifest\"]", "href").as_deref(),
        Some("app.webmanifest")
    );

    // From here on every request is recorded.
    let _ = server.take_requests();
    let _ = s.network_requests();
    s.script(
        "window.__violations = []; document.addEventListener('securitypolicyviolation', \
         e => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));",
    );
    capture_saves(&s);

    // 1. A phone photo stored sideways with EXIF orientation 6 is seen upright.
    let model = shipped_model();
    let fixture = image::open(&fixtures()[0]).unwrap().to_rgb8();
    let stored = image::imageops::rotate270(&fixture);
    let photo = dir.join("phone.jpg");
    std::fs::write(&photo, jpeg_with_orientation(&stored, 6)).unwrap();
    let as_stored =
        fairscreen_core::preprocess::decode_image(&jpeg_with_orientation(&stored, 1)).unwrap();
    let upright = dir.join("upright.png");
    image::imageops::rotate90(&as_stored)
        .save(&upright)
        .unwrap();
    let sideways = dir.join("sideways.png");
    as_stored.save(&sideways).unwrap();
    let (page, _, _, _) = classify_in_page(&s, &photo);
    let want = native_logits(&model, &upright);
    let d = max_abs_diff(&page, &want);
    assert!(d <= 1e-4, "EXIF photo vs the upright photo: max |Δ| {d}");
    let unrotated = max_abs_diff(&page, &native_logits(&model, &sideways));
    assert!(
        unrotated > 1e-3,
        "the orientation matters for this photo ({unrotated})"
    );

    // 2. A labelled folder written by the trainer, with an undecodable photo and a bad row
    // added: read in the page, every usable photo audited; its report equals the trainer's
    // `audit --data <folder>` and the two faults are listed with their lines and reasons.
    let folder = dir.join("folder");
    run_trainer(&[
        "synth",
        "--split",
        "test",
        "--count",
        "120",
        "--seed",
        "7",
        "--out",
        folder.to_str().unwrap(),
    ]);
    std::fs::write(folder.join("broken.png"), "this is not a picture").unwrap();
    let mut labels = std::fs::read_to_string(folder.join("labels.csv")).unwrap();
    let first_extra = labels.lines().count() + 1;
    labels.push_str(
        "broken.png,benign,2,female,40
extra.png,not-a-class,3,male,30
",
    );
    std::fs::write(folder.join("labels.csv"), labels).unwrap();
    let mut chosen: Vec<String> = std::fs::read_dir(&folder)
        .unwrap()
        .map(|e| e.unwrap().path().to_string_lossy().into_owned())
        .filter(|p| !p.ends_with(".json"))
        .collect();
    chosen.sort();
    s.send_keys("#folder-files", &chosen.join("\n"));
    s.wait_for("the folder to be read", Duration::from_secs(120), |s| {
        (s.attr("#data-picker", "data-active")? == "your chosen files"
            && s.attr("#own-folder", "data-state")? == "idle")
            .then_some(())
    });
    assert!(
        s.text("#folder-summary").contains("120 photos read"),
        "{}",
        s.text("#own-folder")
    );
    let skipped = s.script(
        "return Array.from(document.querySelectorAll('#folder-skipped tr[data-line]')).map(r => [r.dataset.line, r.dataset.file, r.cells[2].textContent]);",
    );
    let skipped = skipped.as_array().unwrap();
    assert_eq!(skipped.len(), 2, "{skipped:?}");
    assert_eq!(skipped[0][0], first_extra.to_string());
    assert_eq!(skipped[0][1], "broken.png");
    assert!(skipped[0][2]
        .as_str()
        .unwrap()
        .contains("this is text, which FairScreen cannot read"));
    assert_eq!(skipped[1][0], (first_extra + 1).to_string());
    assert!(skipped[1][2]
        .as_str()
        .unwrap()
        .contains("unknown class 'not-a-class'"));
    run_audit(&s);
    let page: Vec<FairnessReport> =
        serde_json::from_str(&s.attr("#dashboard", "data-report").unwrap()).unwrap();
    let cli_out = dir.join("cli-folder.json");
    let model_file = repo()
        .join("www/models")
        .join(&model_index().default_entry().unwrap().file);
    let printed = run_trainer(&[
        "audit",
        "--model",
        model_file.to_str().unwrap(),
        "--data",
        folder.to_str().unwrap(),
        "--theta",
        &s.attr("#dashboard", "data-theta").unwrap(),
        "--out",
        cli_out.to_str().unwrap(),
    ]);
    assert!(printed.contains("broken.png"), "{printed}");
    let cli: Vec<FairnessReport> =
        serde_json::from_slice(&std::fs::read(&cli_out).unwrap()).unwrap();
    assert_reports_close("folder audit vs fairscreen-train audit --data", &page, &cli);
    assert_eq!(page[0].overall.n, 120);
    // Group heatmaps of the folder, without lesion shares (it has no lesion masks).
    let groups: serde_json::Value =
        serde_json::from_str(&s.attr("#group-heatmaps", "data-groups").unwrap()).unwrap();
    let groups = groups.as_array().unwrap();
    assert!(!groups.is_empty());
    let images: u64 = groups
        .iter()
        .filter(|g| g["group"] == "I–III" || g["group"] == "IV–VI")
        .map(|g| g["images"].as_u64().unwrap())
        .sum();
    assert_eq!(images, 120);
    assert!(groups.iter().all(|g| g["lesion_share"].is_null()));
    screenshot_view(&s, "own-folder", "folder.png", "screenshot-folder.png");

    // 3. A predictions CSV: the page's report equals `audit --predictions`, and what it saves.
    let csv = dir.join("predictions.csv");
    let mut text = String::from("label,prediction,prob_benign,prob_malignant,skin_type,sex\n");
    for i in 0..90usize {
        let label = ["benign", "malignant"][i % 2];
        let p = ((i * 37) % 100) as f64 / 100.0;
        let predicted = if p > 0.5 { "malignant" } else { "benign" };
        let skin = ["I-III", "IV-VI"][(i / 3) % 2];
        let sex = ["female", "male"][(i / 5) % 2];
        text.push_str(&format!(
            "{label},{predicted},{:.2},{p:.2},{skin},{sex}\n",
            1.0 - p
        ));
    }
    text.push_str("benign,benign,0.9,0.1,I-III,\n");
    std::fs::write(&csv, &text).unwrap();
    let cli_out = dir.join("cli-predictions.json");
    run_trainer(&[
        "audit",
        "--predictions",
        csv.to_str().unwrap(),
        "--out",
        cli_out.to_str().unwrap(),
    ]);
    let cli: Vec<FairnessReport> =
        serde_json::from_slice(&std::fs::read(&cli_out).unwrap()).unwrap();
    s.send_keys("#predictions-file", csv.to_str().unwrap());
    s.wait_for("the predictions audit", Duration::from_secs(60), |s| {
        (s.attr("#own-predictions", "data-state")? == "ready").then_some(())
    });
    let page: Vec<FairnessReport> =
        serde_json::from_str(&s.attr("#own-predictions", "data-report").unwrap()).unwrap();
    assert_reports_close("predictions CSV", &page, &cli);
    assert!(s
        .text("#predictions-summary")
        .contains("91 predictions (2 classes: benign, malignant)"));
    let saved: Vec<FairnessReport> =
        serde_json::from_str(&save_from(&s, "#predictions-export-json")).unwrap();
    assert_reports_close("saved JSON", &saved, &cli);
    check_report_csv(&save_from(&s, "#predictions-export-csv"), &page);
    let html = save_from(&s, "#predictions-export-html");
    check_self_contained_html(&html);
    assert!(html.contains("predictions.csv") && html.contains("skin_type × sex"));
    // A broken CSV is refused with its line; the last report stays.
    let bad = dir.join("bad.csv");
    std::fs::write(
        &bad,
        "label,prediction,prob_benign,prob_malignant,sex\nbenign,benign,x,0.1,f\n",
    )
    .unwrap();
    s.send_keys("#predictions-file", bad.to_str().unwrap());
    let error = s.wait_for("the CSV fault", Duration::from_secs(30), |s| {
        Some(s.text("#predictions-error")).filter(|t| !t.is_empty())
    });
    assert_eq!(
        error,
        "bad.csv:2: prob_benign 'x' is not a probability (a number in [0, 1])"
    );
    assert!(s.text("#predictions-summary").contains("91 predictions"));

    // 4. A model file trained here with the trainer loads, is checked, and screens like native.
    let ck = dir.join("ck/mine");
    run_trainer(&[
        "train",
        "--out",
        ck.to_str().unwrap(),
        "--train-images",
        "96",
        "--val-images",
        "32",
        "--epochs",
        "1",
        "--batch-size",
        "32",
        "--seed",
        "9",
    ]);
    let models = dir.join("models");
    run_trainer(&[
        "export",
        "--checkpoint",
        ck.to_str().unwrap(),
        "--name",
        "mine",
        "--out-dir",
        models.to_str().unwrap(),
    ]);
    let file = models.join("mine.safetensors");
    let before = s.attr("#model-picker", "data-model").unwrap();
    // A damaged copy first: refused with a message, the loaded model stays.
    let damaged = dir.join("damaged.safetensors");
    let mut bytes = std::fs::read(&file).unwrap();
    let n = bytes.len();
    bytes[n - 100] ^= 0xFF;
    std::fs::write(&damaged, &bytes).unwrap();
    s.send_keys("#own-model-file", damaged.to_str().unwrap());
    let refused = wait_model(&s, "your file damaged.safetensors").expect("a refusal");
    assert!(refused.contains("sha256"), "{refused}");
    assert_eq!(s.attr("#model-picker", "data-model").unwrap(), before);
    s.send_keys("#own-model-file", file.to_str().unwrap());
    assert_eq!(wait_model(&s, "your file mine.safetensors"), None);
    assert_eq!(s.attr("#card", "data-name").as_deref(), Some("mine"));
    let mine = LoadedModel::from_bytes(&std::fs::read(&file).unwrap(), &Device::flex()).unwrap();
    let (page, _, _, _) = classify_in_page(&s, &fixtures()[1]);
    let d = max_abs_diff(&page, &native_logits(&mine, &fixtures()[1]));
    assert!(d <= 1e-4, "your model in the page vs native: {d}");

    // 5. Phone width: nothing wider than the screen.
    s.set_window_size(390, 844);
    let (scroll, inner): (u64, u64) =
        s.wait_for("the phone layout", Duration::from_secs(10), |s| {
            let v = s.script("return [document.documentElement.scrollWidth, window.innerWidth];");
            let (a, b) = (v[0].as_u64()?, v[1].as_u64()?);
            (b <= 400).then_some((a, b))
        });
    assert!(
        scroll <= inner,
        "the page is {scroll} px wide at a {inner} px viewport"
    );
    save_screenshot(&s, "phone.png", "screenshot-phone.png");
    s.set_window_size(1280, 1800);

    // 6. Accessibility, after an audit with your model (so every control is live): every control
    // is a native, focusable element the keyboard reaches
    // (upload, camera, θ, picker, audit, data picker, exports, the own-data inputs)…
    run_audit(&s);
    let unreachable = s.script(
        "return ['file-input', 'camera-input', 'theta', 'model-picker', 'own-model-file',          'run-audit', 'data-picker', 'audit-export-json', 'audit-export-csv', 'audit-export-html',          'folder-input', 'folder-files', 'predictions-file', 'predictions-export-json']          .filter(id => { const e = document.getElementById(id); if (!e) return true; e.focus();          return document.activeElement !== e || e.tabIndex < 0; });",
    );
    assert_eq!(
        unreachable,
        serde_json::json!([]),
        "controls the keyboard cannot reach"
    );
    // … and axe-core finds nothing serious or critical after a photo and the audits.
    let axe = std::fs::read_to_string(repo().join("tools/npm/node_modules/axe-core/axe.min.js"))
        .expect("axe-core (scripts/setup.sh --test installs it in tools/npm)");
    s.script(&format!("{axe}\nreturn true;"));
    let violations = s.script_async(
        "const done = arguments[arguments.length - 1]; \
         axe.run(document).then(r => done(r.violations.map(v => ({id: v.id, impact: v.impact, \
         nodes: v.nodes.map(n => n.target.join(' ')), help: v.help})))).catch(e => done([{id: 'axe failed', \
         impact: 'critical', help: String(e)}]));",
    );
    let serious: Vec<&serde_json::Value> = violations
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| v["impact"] == "serious" || v["impact"] == "critical")
        .collect();
    println!("axe-core: {violations}");
    assert!(serious.is_empty(), "axe-core: {serious:#?}");

    // 7. Nothing left the device: every request since the page was ready was a GET of a file
    // the build ships (or the page itself), from this origin; no policy violation.
    let shipped: BTreeSet<String> = {
        let m: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dist().join("manifest.json")).unwrap()).unwrap();
        m["assets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| format!("/{}", a["path"].as_str().unwrap()))
            .chain(["/".to_string(), "/manifest.json".to_string()])
            .collect()
    };
    for (method, path, status) in server.take_requests() {
        assert!(
            (method == "GET" || method == "HEAD") && shipped.contains(&path) && status == 200,
            "the server saw {method} {path} ({status})"
        );
    }
    let origin = server.url.trim_end_matches('/');
    for (method, url) in s.network_requests() {
        let local = url.starts_with(origin) || url.starts_with("blob:") || url.starts_with("data:");
        assert!(local && method == "GET", "the browser sent {method} {url}");
    }
    assert_eq!(
        s.script("return window.__violations;"),
        serde_json::json!([]),
        "Content-Security-Policy violations"
    );
}
