//! The trainer CLI end to end on a tiny run: train → export → the file validates and loads.

use std::path::Path;
use std::process::Command;

use fairscreen_core::format::sha256_hex;
use fairscreen_core::read_model;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_fairscreen-train"))
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("fairscreen-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn train_then_export_writes_a_valid_model_and_index() {
    let dir = temp_dir("train");
    let ck = dir.join("ck/m");
    let out = bin()
        .args(["train", "--out"])
        .arg(&ck)
        .args([
            "--train-images",
            "128",
            "--val-images",
            "64",
            "--epochs",
            "1",
            "--batch-size",
            "32",
            "--seed",
            "5",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "train failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(ck.with_extension("bpk").exists() && ck.with_extension("json").exists());
    let models = dir.join("models");
    let out = bin()
        .args(["export", "--checkpoint"])
        .arg(&ck)
        .args(["--name", "smoke", "--out-dir"])
        .arg(&models)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "export failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bytes = std::fs::read(models.join("smoke.safetensors")).unwrap();
    let file = read_model(&bytes).expect("exported model validates");
    assert_eq!(file.card.name, "smoke");
    assert_eq!(file.card.training.seed, 5);
    assert_eq!(file.card.training.train_images, 128);
    assert_eq!(
        file.card.config.class_names,
        ["benign", "malignant", "non-neoplastic"]
    );
    for e in 0..4 {
        let acc = file.card.metrics[&format!("val/exit{e}/accuracy")];
        assert!((0.0..=1.0).contains(&acc), "accuracy {acc}");
    }
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(models.join("index.json")).unwrap()).unwrap();
    assert_eq!(index["default"], "smoke");
    assert_eq!(index["models"][0]["sha256"], sha256_hex(&bytes));
    assert_eq!(index["models"][0]["bytes"], bytes.len());
}

#[test]
fn export_of_a_missing_checkpoint_fails_clearly() {
    let dir = temp_dir("missing");
    let out = bin()
        .args(["export", "--checkpoint"])
        .arg(dir.join("nope"))
        .args(["--out-dir"])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("reading") && err.contains("nope.json"),
        "{err}"
    );
}

#[test]
fn fixtures_are_deterministic_pngs() {
    let a = temp_dir("fx-a");
    let b = temp_dir("fx-b");
    for d in [&a, &b] {
        let out = bin()
            .args(["fixtures", "--out"])
            .arg(d)
            .args(["--side", "48"])
            .output()
            .unwrap();
        assert!(out.status.success());
    }
    for name in [
        "lesion-benign-0.png",
        "lesion-malignant-0.png",
        "lesion-non-neoplastic-0.png",
    ] {
        let x = std::fs::read(a.join(name)).unwrap();
        assert_eq!(
            x,
            std::fs::read(b.join(name)).unwrap(),
            "{name} differs between runs"
        );
        assert_eq!(&x[1..4], b"PNG");
    }
}

/// Every model the site ships is listed in the index with its true size and hash, and validates.
#[test]
fn shipped_models_match_their_index_and_validate() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../www/models");
    let index: serde_json::Value = serde_json::from_slice(
        &std::fs::read(root.join("index.json")).expect("www/models/index.json"),
    )
    .unwrap();
    let models = index["models"].as_array().unwrap();
    assert!(
        models.iter().any(|m| m["name"] == index["default"]),
        "default model is listed"
    );
    for m in models {
        let bytes = std::fs::read(root.join(m["file"].as_str().unwrap())).unwrap();
        assert_eq!(m["bytes"], bytes.len());
        assert_eq!(m["sha256"], sha256_hex(&bytes));
        let file = read_model(&bytes).unwrap_or_else(|e| panic!("{}: {e}", m["file"]));
        assert_eq!(file.card.name, m["name"].as_str().unwrap());
        assert!(
            file.card.disclaimer.contains("not a diagnosis")
                || file.card.disclaimer.contains("Not a")
        );
    }
}
