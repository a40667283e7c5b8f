//! Hostile input in the page: every image of the awkward-file corpus (`tests/corpus/images`,
//! with the outcome `tests/corpus/expected.csv` gives it) uploaded one after another.

use super::*;

/// The corpus images with their expected outcome (`read` or `refused`) and text.
fn corpus_images() -> Vec<(PathBuf, String, String)> {
    let corpus = repo().join("tests/corpus");
    let mut r = csv::Reader::from_path(corpus.join("expected.csv")).unwrap();
    r.records()
        .map(|rec| rec.unwrap())
        .filter(|rec| rec[0].starts_with("images/"))
        .map(|rec| (corpus.join(&rec[0]), rec[1].to_string(), rec[2].to_string()))
        .collect()
}

/// Each refused image shows the core parser's message naming the file and the page stays usable;
/// each readable one screens; after all of them a fixture photo gives the native logits.
#[test]
fn every_corpus_image_is_screened_or_refused_in_the_page() {
    let _guard = BROWSER.lock().unwrap_or_else(|e| e.into_inner());
    let (s, _server) = open_app(false);
    let images = corpus_images();
    assert!(images.len() >= 40, "{} images", images.len());
    let (mut read, mut refused) = (0, 0);
    for (path, outcome, detail) in &images {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let before = runs(&s);
        upload(&s, path);
        if outcome == "read" {
            wait_run(&s, before + 1);
            assert_eq!(
                s.attr("#result", "data-file").as_deref(),
                Some(name.as_str())
            );
            read += 1;
        } else {
            let err = s.wait_for(
                &format!("the message for {name}"),
                Duration::from_secs(60),
                |s| {
                    s.attr("#error", "data-error")
                        .filter(|e| e.contains(name.as_str()))
                },
            );
            assert!(err.contains(detail.as_str()), "{name}: {err}");
            assert_eq!(runs(&s), before, "{name} gave no result");
            refused += 1;
        }
    }
    println!("corpus in the page: {read} images screened, {refused} refused with their message");
    let photo = &fixtures()[0];
    let (page, _, _, _) = classify_in_page(&s, photo);
    assert!(max_abs_diff(&page, &native_logits(&shipped_model(), photo)) <= 1e-4);
}

/// A model whose download is cut halfway is refused with a message naming it, the loaded model
/// stays; choosing it again once the network is whole loads it, and it screens as natively.
#[test]
fn a_model_download_cut_halfway_is_reported_and_retried_on_request() {
    let _guard = BROWSER.lock().unwrap_or_else(|e| e.into_inner());
    let index = model_index();
    let other = index
        .assets
        .iter()
        .find(|e| e.name != index.default)
        .expect("www/models/index.json needs a second model for this test")
        .clone();
    let (s, server) = open_app(false);
    server.cut_downloads(Some(&format!("/models/{}", other.file)));
    choose_model(&s, &other.name);
    let err = s.attr("#error", "data-error").unwrap_or_default();
    println!("a cut model download: {err}");
    assert!(err.contains(&other.name), "error was: {err}");
    assert_eq!(picker_value(&s), index.default, "the loaded model stays");
    server.cut_downloads(None);
    choose_model(&s, &other.name);
    assert_eq!(
        s.attr("#model-picker", "data-model").as_deref(),
        Some(other.name.as_str()),
        "{}",
        s.text("#error")
    );
    let photo = &fixtures()[1];
    let (page, _, _, _) = classify_in_page(&s, photo);
    assert!(max_abs_diff(&page, &native_logits(&load_model(&other), photo)) <= 1e-4);
}

/// A panic in the inference worker (its debug hook) is reported on the page, a new worker loads
/// the default model and the page screens again with the native logits — no reload.
#[test]
fn a_worker_panic_is_reported_and_the_page_goes_on() {
    let _guard = BROWSER.lock().unwrap_or_else(|e| e.into_inner());
    let (s, _server) = open_app(false);
    let model = shipped_model();
    let photos = fixtures();
    let (page, _, _, _) = classify_in_page(&s, &photos[0]);
    assert!(max_abs_diff(&page, &native_logits(&model, &photos[0])) <= 1e-4);
    s.script("window.fairscreenPanicWorker();");
    let err = s.wait_for("the panic report", Duration::from_secs(60), |s| {
        s.attr("#error", "data-error")
            .filter(|e| e.contains("internal error"))
    });
    assert!(
        err.contains("the inference worker stopped") && err.contains("debug hook"),
        "{err}"
    );
    assert_eq!(wait_loaded(&s), "ready", "{}", s.text("#error"));
    let (page, _, _, _) = classify_in_page(&s, &photos[1]);
    assert!(max_abs_diff(&page, &native_logits(&model, &photos[1])) <= 1e-4);
}
