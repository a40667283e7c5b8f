//! The trainer CLI end to end on a tiny run: train → export → the file validates and loads.

use std::path::Path;
use std::process::Command;

use fairscreen_core::card_keys;
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
        let acc = file.card.metrics[&card_keys::exit_accuracy(e)];
        assert!((0.0..=1.0).contains(&acc), "accuracy {acc}");
    }
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(models.join("index.json")).unwrap()).unwrap();
    assert_eq!(index["default"], "smoke");
    assert_eq!(index["assets"][0]["sha256"], sha256_hex(&bytes));
    assert_eq!(index["assets"][0]["bytes"], bytes.len());
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
    let models = index["assets"].as_array().unwrap();
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
        // The index is the page's catalogue: it carries each file's card exactly.
        let card: fairscreen_core::ModelCard = serde_json::from_value(m["card"].clone())
            .unwrap_or_else(|e| {
                panic!(
                    "{}: the index has no card ({e}): run `catalogue`",
                    m["file"]
                )
            });
        assert_eq!(
            card, file.card,
            "{}: the index's card differs from the file's (run `catalogue`)",
            m["file"]
        );
    }
}

/// `catalogue` rewrites an index with each file's card (the shipped index is what it writes) and
/// refuses a file whose hash differs from the index.
#[test]
fn catalogue_puts_each_files_card_in_the_index_and_refuses_a_changed_file() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../www/models");
    let dir = temp_dir("catalogue");
    let shipped = std::fs::read(root.join("index.json")).unwrap();
    let mut index: serde_json::Value = serde_json::from_slice(&shipped).unwrap();
    let default = index["default"].as_str().unwrap().to_string();
    let assets = index["assets"].as_array_mut().unwrap();
    assets.retain(|m| m["name"] == default.as_str());
    let file = assets[0]["file"].as_str().unwrap().to_string();
    let want_card = assets[0]["card"].clone();
    assets[0].as_object_mut().unwrap().remove("card");
    std::fs::write(dir.as_path().join("index.json"), index.to_string()).unwrap();
    std::fs::copy(root.join(&file), dir.as_path().join(&file)).unwrap();
    run_ok(&["catalogue", "--dir", "{}"], &[dir.as_path()]);
    let written: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.as_path().join("index.json")).unwrap()).unwrap();
    assert_eq!(written["assets"][0]["card"], want_card);
    assert_eq!(written["default"], default.as_str());
    // One byte changed: refused, naming the file and both hashes.
    let mut bytes = std::fs::read(dir.as_path().join(&file)).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(dir.as_path().join(&file), bytes).unwrap();
    let out = bin()
        .args(["catalogue", "--dir"])
        .arg(dir.as_path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&file) && err.contains("the index says"),
        "{err}"
    );
}

fn run_ok(args: &[&str], paths: &[&Path]) -> String {
    let mut cmd = bin();
    let mut p = paths.iter();
    for a in args {
        if *a == "{}" {
            cmd.arg(p.next().unwrap());
        } else {
            cmd.arg(a);
        }
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn every_subcommand_has_help() {
    for sub in [
        "catalogue",
        "train",
        "export",
        "fixtures",
        "synth",
        "eval-bundle",
        "audit",
        "reproduce",
        "quantize",
        "export-onnx",
        "heatmaps",
    ] {
        let text = run_ok(&[sub, "--help"], &[]);
        assert!(text.contains("--"), "{sub} --help: {text}");
    }
    let text = run_ok(&["synth", "--help"], &[]);
    for knob in [
        "--contrast-drop",
        "--light-share",
        "--label-noise",
        "--seed",
        "--no-bias",
    ] {
        assert!(text.contains(knob), "synth --help lacks {knob}");
    }
}

/// SynthDerm's stratified bundle: exactly balanced cells, and the same bytes on every run.
#[test]
fn eval_bundle_from_synthderm_is_balanced_and_deterministic() {
    let dir = temp_dir("bundle");
    let (a, b) = (dir.join("a"), dir.join("b"));
    for d in [&a, &b] {
        let text = run_ok(&["eval-bundle", "--per-cell", "3", "--out-dir", "{}"], &[d]);
        assert!(
            text.contains("36 images") && text.contains("gzipped"),
            "{text}"
        );
    }
    let bytes = std::fs::read(a.join("synthderm-test.safetensors")).unwrap();
    let bundle = fairscreen_core::read_eval_bundle(&bytes).unwrap();
    let other = fairscreen_core::read_eval_bundle(
        &std::fs::read(b.join("synthderm-test.safetensors")).unwrap(),
    )
    .unwrap();
    // Identical data (the cards differ only in the recorded command's output path).
    assert_eq!(bundle.card.data_sha256, other.card.data_sha256);
    assert!(bundle.images == other.images && bundle.labels == other.labels);
    assert_eq!(bundle.len(), 36);
    let cells = bundle.cell_counts();
    assert_eq!(cells.len(), 12);
    assert!(cells.iter().all(|c| c.count == 3), "{cells:?}");
    assert_eq!(bundle.class_counts(), vec![12, 12, 12]);
    assert_eq!(bundle.card.seed, Some(123));
    assert!(bundle.card.source.contains("synthderm-1"));
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(a.join("index.json")).unwrap()).unwrap();
    assert_eq!(index["assets"][0]["sha256"], sha256_hex(&bytes));
}

/// `synth` writes the labelled-folder layout; `eval-bundle --from-folder` and
/// `train --dataset folder` read it back.
#[test]
fn a_synth_folder_feeds_eval_bundle_and_training() {
    let dir = temp_dir("folder");
    let data = dir.join("data");
    let sheet = dir.join("sheet.png");
    let text = run_ok(
        &[
            "synth",
            "--split",
            "test",
            "--count",
            "30",
            "--seed",
            "77",
            "--out",
            "{}",
            "--contact-sheet",
            "{}",
            "--sheet-side",
            "32",
        ],
        &[&data, &sheet],
    );
    assert!(text.contains("wrote 30 images"), "{text}");
    let png = image::open(&sheet).unwrap();
    assert_eq!(
        (png.width(), png.height()),
        (6 * (2 * 32 + 4) + 4, 3 * (32 + 4) + 4)
    );
    let csv = std::fs::read_to_string(data.join("labels.csv")).unwrap();
    let rows: Vec<&str> = csv.lines().skip(1).collect();
    assert_eq!(rows.len(), 30);

    let out = dir.join("eval");
    run_ok(
        &[
            "eval-bundle",
            "--from-folder",
            "{}",
            "--name",
            "mine",
            "--out-dir",
            "{}",
        ],
        &[&data, &out],
    );
    let bundle =
        fairscreen_core::read_eval_bundle(&std::fs::read(out.join("mine.safetensors")).unwrap())
            .unwrap();
    assert_eq!(bundle.len(), 30);
    for (i, row) in rows.iter().enumerate() {
        let f: Vec<&str> = row.split(',').collect();
        let label = bundle
            .card
            .class_names
            .iter()
            .position(|c| c == f[1])
            .unwrap();
        assert_eq!(bundle.labels[i] as usize, label, "row {i}");
        assert_eq!(bundle.skin_types[i].to_string(), f[2], "row {i}");
        assert_eq!(
            ["female", "male"][bundle.sexes[i] as usize],
            f[3],
            "row {i}"
        );
        // The PNG written by `synth` is the image in the bundle (64 px, no resampling).
        let img = image::open(data.join(f[0])).unwrap().to_rgb8();
        assert_eq!(img.as_raw().as_slice(), bundle.image(i), "row {i}");
    }

    let ck = dir.join("ck/m");
    let text = run_ok(
        &[
            "train",
            "--dataset",
            "folder",
            "--train-dir",
            "{}",
            "--val-dir",
            "{}",
            "--out",
            "{}",
            "--epochs",
            "1",
            "--batch-size",
            "10",
        ],
        &[&data, &data, &ck],
    );
    assert!(text.contains("validation (30 images)"), "{text}");
    let meta: serde_json::Value =
        serde_json::from_slice(&std::fs::read(ck.with_extension("json")).unwrap()).unwrap();
    assert!(
        meta["training"]["data"]
            .as_str()
            .unwrap()
            .contains("labelled folder"),
        "{meta}"
    );
    assert_eq!(meta["training"]["train_images"], 30);
}

#[test]
fn a_dataset_without_its_paths_fails_clearly() {
    let out = bin()
        .args(["train", "--dataset", "isic2019", "--epochs", "1"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("needs --train-csv"), "{err}");
}

/// `audit --predictions`: papers.md §1.2 vector A as a CSV reproduces the reference numbers.
#[test]
fn audit_of_a_predictions_csv_reproduces_vector_a() {
    let dir = temp_dir("audit-csv");
    let y = [0, 0, 0, 1, 1, 1, 2, 2, 2, 0, 0, 0, 1, 1, 1, 2, 2, 2, 2, 1];
    let yhat = [0, 0, 1, 1, 1, 2, 2, 2, 0, 0, 0, 1, 1, 0, 1, 2, 1, 1, 2, 1];
    let names = ["nevus", "melanoma", "other"];
    let mut csv = String::from("label,prediction,site\n");
    for i in 0..20 {
        csv.push_str(&format!(
            "{},{},{}\n",
            names[y[i]],
            names[yhat[i]],
            if i < 10 { "a" } else { "b" }
        ));
    }
    let path = dir.join("preds.csv");
    std::fs::write(&path, csv).unwrap();
    let out = dir.join("report.json");
    let text = run_ok(
        &[
            "audit",
            "--predictions",
            "{}",
            "--bootstrap",
            "50",
            "--out",
            "{}",
        ],
        &[&path, &out],
    );
    assert!(
        text.contains("== site ==") && text.contains("fme/eodds_abs"),
        "{text}"
    );
    let reports: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    let r = &reports[0];
    assert_eq!(r["attribute"], "site");
    // Classes are sorted names: melanoma, nevus, other — a relabelling, which the metrics ignore.
    let near = |key: &str, want: f64| {
        let got = r["scalars"][key].as_f64().unwrap();
        assert!((got - want).abs() < 1e-6, "{key} = {got}, want {want}");
    };
    near("overall/accuracy", 0.65);
    near("overall/f1", 0.652778);
    near("group/a/accuracy", 0.7);
    near("group/b/f1", 0.588889);
    near("fme/eopp0_abs", 0.180556);
    near("fme/eopp1_abs", 0.166667);
    near("fme/eodds_abs", 0.173611);
    near("fme/dp_abs", 0.6);
    assert!(r["intervals"]["fme/eodds_abs"]["lo"].as_f64().unwrap() <= 0.173611);
}

/// `audit --model --data`: the shipped model on a small SynthDerm bundle gives the four
/// standard groupings.
/// The README's per-group audit figures come from `docs/results/audit/`: re-running the command
/// named there writes the same JSON and prints the same tables.
#[test]
fn the_committed_audit_results_are_what_the_audit_command_writes() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let dir = temp_dir("audit-results");
    for model in ["tiny-fair-me", "tiny-baseline"] {
        let out = dir.join(format!("{model}.json"));
        // From the repository root, with the paths the README names.
        let run = bin()
            .current_dir(&root)
            .args(["audit", "--model"])
            .arg(format!("www/models/{model}.safetensors"))
            .args(["--data", "www/eval/synthderm-test.safetensors", "--out"])
            .arg(&out)
            .output()
            .unwrap();
        assert!(
            run.status.success(),
            "{}",
            String::from_utf8_lossy(&run.stderr)
        );
        let text = String::from_utf8_lossy(&run.stdout).into_owned();
        let committed = root.join(format!("docs/results/audit/{model}"));
        let json = |p: &Path| -> serde_json::Value {
            serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
        };
        assert_eq!(
            json(&out),
            json(&committed.with_extension("json")),
            "{model}"
        );
        let printed = std::fs::read_to_string(committed.with_extension("txt")).unwrap();
        let tables: String = text
            .lines()
            .filter(|l| !l.starts_with("wrote "))
            .map(|l| format!("{l}\n"))
            .collect();
        assert_eq!(tables, printed, "{model}");
    }
}

#[test]
fn audit_of_the_shipped_model_on_a_bundle() {
    let dir = temp_dir("audit-model");
    run_ok(
        &["eval-bundle", "--per-cell", "2", "--out-dir", "{}"],
        &[&dir],
    );
    let models = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../www/models");
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(models.join("index.json")).unwrap()).unwrap();
    let default = index["assets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == index["default"])
        .unwrap();
    let model = models.join(default["file"].as_str().unwrap());
    let out = dir.join("r.json");
    let text = run_ok(
        &[
            "audit",
            "--model",
            "{}",
            "--data",
            "{}",
            "--bootstrap",
            "0",
            "--theta",
            "0.9",
            "--out",
            "{}",
        ],
        &[&model, &dir.join("synthderm-test.safetensors"), &out],
    );
    assert!(
        text.contains("(24 images), early exit at θ = 0.9"),
        "{text}"
    );
    let reports: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    let attrs: Vec<&str> = reports
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["attribute"].as_str().unwrap())
        .collect();
    assert_eq!(
        attrs,
        [
            "skin type (I–III / IV–VI)",
            "skin type (Fitzpatrick I–VI)",
            "sex",
            "skin type (I–III / IV–VI) × sex"
        ]
    );
    assert_eq!(reports[1]["groups"].as_array().unwrap().len(), 6);
    assert_eq!(reports[1]["groups"][5]["n"], 4);
    // 4 images per Fitzpatrick type is below the default minimum of 30: every group is warned about.
    assert_eq!(reports[1]["warnings"].as_array().unwrap().len(), 6);
    let err = bin().args(["audit", "--model", "x"]).output().unwrap();
    assert!(String::from_utf8_lossy(&err.stderr).contains("give either --model FILE --data PATH"));
}

/// Per-epoch losses of every exit, parsed from the trainer's log lines.
fn epoch_losses(stderr: &str) -> Vec<Vec<f64>> {
    stderr
        .lines()
        .filter_map(|l| l.split("loss per exit [").nth(1))
        .map(|rest| {
            rest.trim_end_matches(']')
                .split(", ")
                .map(|v| v.parse().unwrap())
                .collect()
        })
        .collect()
}

fn exit_accuracies(stdout: &str) -> Vec<f64> {
    stdout
        .lines()
        .filter_map(|l| l.trim().strip_prefix("exit "))
        .filter_map(|l| l.split("accuracy ").nth(1))
        .map(|v| v.split(',').next().unwrap().parse().unwrap())
        .collect()
}

/// ME-HSIC on a small SynthDerm set: every exit's loss falls, and every exit beats the best
/// constant guess (the majority class, 45 % of SynthDerm's training distribution) by a margin.
#[test]
fn me_hsic_training_reduces_every_exit_loss_and_beats_chance() {
    let dir = temp_dir("me-hsic");
    let out = bin()
        .args([
            "train",
            "--method",
            "me-hsic",
            "--sampling",
            "shuffle",
            "--augment",
            "flips",
        ])
        .args([
            "--train-images",
            "720",
            "--val-images",
            "300",
            "--epochs",
            "8",
            "--batch-size",
            "32",
        ])
        .args(["--lr", "0.05", "--seed", "3", "--out"])
        .arg(dir.join("m"))
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "{stderr}");
    let losses = epoch_losses(&stderr);
    assert_eq!(losses.len(), 8, "{stderr}");
    for e in 0..4 {
        assert!(
            losses[7][e] < losses[0][e],
            "exit {e}: {:?}",
            losses.iter().map(|l| l[e]).collect::<Vec<_>>()
        );
    }
    let acc = exit_accuracies(&stdout);
    assert_eq!(acc.len(), 4, "{stdout}");
    assert!(
        acc.iter().all(|a| *a > 0.5) && acc[3] > 0.55,
        "validation accuracy per exit {acc:?}"
    );
    let meta: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("m.json")).unwrap()).unwrap();
    assert!(meta["training"]["method"]
        .as_str()
        .unwrap()
        .starts_with("me-hsic"));
}

/// The baseline trains the final head only (its internal exits as probes unless told not to);
/// MFD needs a teacher and then trains against it.
#[test]
fn baseline_and_mfd_with_a_teacher() {
    let dir = temp_dir("mfd");
    let common = [
        "--train-images",
        "96",
        "--val-images",
        "48",
        "--epochs",
        "1",
        "--batch-size",
        "32",
    ];
    let out = bin()
        .args(["train", "--method", "baseline", "--no-exit-probes", "--out"])
        .arg(dir.join("t"))
        .args(common)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let losses = epoch_losses(&String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        losses[0][..3],
        [0.0, 0.0, 0.0],
        "internal exits are not trained"
    );
    assert!(losses[0][3] > 0.0);
    // By default they are trained as probes (on detached features), so they have losses.
    let out = bin()
        .args(["train", "--method", "baseline", "--out"])
        .arg(dir.join("probed"))
        .args(common)
        .output()
        .unwrap();
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    let losses = epoch_losses(&stderr);
    assert!(losses[0].iter().all(|l| *l > 0.0), "{stderr}");

    let out = bin()
        .args(["train", "--method", "me-mfd", "--out"])
        .arg(dir.join("s"))
        .args(common)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("needs a teacher model (--teacher)"));

    let out = bin()
        .args([
            "train",
            "--method",
            "me-mfd",
            "--exit-weights",
            "fme",
            "--teacher",
        ])
        .arg(dir.join("t"))
        .arg("--out")
        .arg(dir.join("s"))
        .args(common)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("s.json")).unwrap()).unwrap();
    let method = meta["training"]["method"].as_str().unwrap();
    assert!(
        method.contains("me-mfd") && method.contains("[0.30, 0.50, 0.70, 0.90]"),
        "{method}"
    );
    let bad = bin()
        .args(["train", "--exit-weights", "1,2", "--epochs", "1"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&bad.stderr).contains("needs 4 non-negative numbers"));
}

/// `reproduce fme --quick` (the CI mode) trains every method and writes every result file, with
/// the θ chosen on validation from the grid and stored in each checkpoint's card.
#[test]
fn reproduce_fme_quick_writes_every_result_file() {
    let dir = temp_dir("reproduce");
    let (out, ck, ship) = (dir.join("results"), dir.join("ck"), dir.join("models"));
    let text = run_ok(
        &[
            "reproduce",
            "fme",
            "--quick",
            "--out",
            "{}",
            "--checkpoints",
            "{}",
            "--ship-dir",
            "{}",
        ],
        &[&out, &ck, &ship],
    );
    assert!(text.contains("reproduce fme finished"), "{text}");
    for f in [
        "results.json",
        "results.md",
        "per_exit_accuracy.svg",
        "per_exit_eodd.svg",
        "per_exit_worst_group.svg",
        "per_exit_snnl.svg",
        "theta_sweep.svg",
    ] {
        let bytes = std::fs::read(out.join(f)).unwrap_or_else(|e| panic!("{f}: {e}"));
        assert!(bytes.len() > 200, "{f} is nearly empty");
        if f.ends_with(".svg") {
            assert!(
                bytes.starts_with(b"<svg") && bytes.ends_with(b"</svg>\n"),
                "{f}"
            );
        }
    }
    let r: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("results.json")).unwrap()).unwrap();
    assert_eq!(r["quick"], true);
    let methods: Vec<&str> = r["methods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["method"].as_str().unwrap())
        .collect();
    assert_eq!(
        methods,
        ["baseline", "me", "hsic", "me-hsic", "mfd", "me-mfd"]
    );
    let grid = [0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.99, 0.999];
    for m in r["methods"].as_array().unwrap() {
        let theta = m["theta"].as_f64().unwrap();
        assert!(grid.iter().any(|g| (g - theta).abs() < 1e-6), "θ {theta}");
        assert_eq!(m["val_sweep"].as_array().unwrap().len(), grid.len());
        assert_eq!(m["test_exits"].as_array().unwrap().len(), 4);
        assert_eq!(m["test_snnl"].as_array().unwrap().len(), 4);
        let name = m["method"].as_str().unwrap();
        assert!(ck.join(format!("{name}.bpk")).exists());
        let meta: serde_json::Value =
            serde_json::from_slice(&std::fs::read(ck.join(format!("{name}.json"))).unwrap())
                .unwrap();
        assert!((meta["default_theta"].as_f64().unwrap() - theta).abs() < 1e-6);
        assert!(meta["theta_selection"]
            .as_str()
            .unwrap()
            .contains("validation"));
    }
    let md = std::fs::read_to_string(out.join("results.md")).unwrap();
    assert!(md.contains("quick mode: NOT a result"));
    for name in methods {
        assert!(md.contains(&format!("| {name} |")), "{name} row");
    }
    // The shipped pair: the baseline and the selected multi-exit model, which is the default.
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(ship.join("index.json")).unwrap()).unwrap();
    assert_eq!(index["default"], "tiny-fair-me");
    let fair = read_model(&std::fs::read(ship.join("tiny-fair-me.safetensors")).unwrap()).unwrap();
    let selected = r["selected"].as_str().unwrap();
    assert!(fair
        .card
        .training
        .command
        .contains(&format!("(method {selected})")));
    assert!(read_model(&std::fs::read(ship.join("tiny-baseline.safetensors")).unwrap()).is_ok());
}

/// `reproduce scp --quick` (the CI mode) on the shipped unpruned models: every result file, the
/// sweep and loop rows, and shipped pruned models that are smaller by exactly their channels and
/// describe their pruning in the card; a mask-mode run on an inner layer is refused.
#[test]
fn reproduce_fairtune_quick_writes_every_result_file_and_ships_a_masked_model() {
    let dir = temp_dir("fairtune");
    let (out, models) = (dir.join("results"), dir.join("models"));
    let text = run_ok(
        &[
            "reproduce",
            "fairtune",
            "--quick",
            "--ship-dir",
            "{}",
            "--out",
            "{}",
        ],
        &[&models, &out],
    );
    assert!(text.contains("reproduce fairtune finished"), "{text}");
    for f in ["results.json", "results.md", "search.svg", "masks.svg"] {
        let bytes = std::fs::read(out.join(f)).unwrap_or_else(|e| panic!("{f}: {e}"));
        assert!(bytes.len() > 200, "{f} is nearly empty");
    }
    let r: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("results.json")).unwrap()).unwrap();
    assert_eq!(r["quick"], true);
    let searches = r["searches"].as_array().unwrap();
    let samplers: Vec<&str> = searches
        .iter()
        .map(|s| s["sampler"].as_str().unwrap())
        .collect();
    assert_eq!(samplers, ["tpe", "random"]);
    for s in searches {
        let trials = s["trials"].as_array().unwrap();
        assert_eq!(trials.len(), 3);
        for t in trials {
            // 8 conv units × (norm, conv) + 3 exit heads.
            assert_eq!(t["mask"].as_str().unwrap().len(), 19);
            let lr = t["lr"].as_f64().unwrap();
            assert!((1e-3..=0.1).contains(&lr), "{lr}");
        }
    }
    let configs: Vec<&str> = r["stage2"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["config"].as_str().unwrap())
        .collect();
    for c in [
        "fairtune-tpe",
        "random-search",
        "full-fine-tuning",
        "linear-readout",
        "from-scratch",
    ] {
        assert!(configs.contains(&c), "{c} missing from {configs:?}");
    }
    // The shipped model validates like any other and its card records the mask and how it was
    // chosen (on validation).
    let file = models.join("tiny-fairtune.safetensors");
    let model =
        fairscreen_core::read_model(&std::fs::read(&file).unwrap()).expect("a valid model file");
    let ft = model.card.fine_tuning.expect("a fine-tuning record");
    let best = &searches[0]["trials"][searches[0]["best"].as_u64().unwrap() as usize];
    let bits: String = ft
        .mask
        .bits
        .iter()
        .map(|b| if *b { '1' } else { '0' })
        .collect();
    assert_eq!(bits, best["mask"].as_str().unwrap());
    assert_eq!(ft.lr, best["lr"].as_f64().unwrap());
    assert_eq!(ft.objective, "min_auc");
    assert!(
        ft.selection.contains("validation images"),
        "{}",
        ft.selection
    );
    assert!(model
        .card
        .theta_selection
        .unwrap()
        .contains("validation images"),);
    // The baselines ship beside it (seed 0 of stage 2), each saying whose baseline it is, with
    // the mask it trained with.
    let shipped: Vec<&str> = r["shipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    assert_eq!(
        shipped,
        [
            "tiny-fairtune",
            "tiny-fairtune-vs-full-ft",
            "tiny-fairtune-vs-readout",
            "tiny-fairtune-vs-scratch"
        ]
    );
    for (name, trained_groups, pretrained) in [
        ("tiny-fairtune-vs-full-ft", 19, "source-clinic"),
        ("tiny-fairtune-vs-readout", 0, "source-clinic"),
        ("tiny-fairtune-vs-scratch", 19, "random initialisation"),
    ] {
        let file = models.join(format!("{name}.safetensors"));
        let m = fairscreen_core::read_model(&std::fs::read(&file).unwrap())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let ft = m.card.fine_tuning.expect("a fine-tuning record");
        assert_eq!(ft.baseline_of.as_deref(), Some("tiny-fairtune"), "{name}");
        assert_eq!(
            ft.mask.bits.iter().filter(|b| **b).count(),
            trained_groups,
            "{name}"
        );
        assert!(
            ft.pretrained.contains(pretrained),
            "{name}: {}",
            ft.pretrained
        );
        assert!(m
            .card
            .theta_selection
            .unwrap()
            .contains("validation images"));
    }
}

#[test]
fn reproduce_scp_quick_prunes_the_shipped_models() {
    let dir = temp_dir("scp");
    // Only the unpruned models.
    let models = shipped_models_subset(&dir, &["tiny-baseline", "tiny-fair-me"], "tiny-fair-me");
    let out = dir.join("results");
    let text = run_ok(
        &[
            "reproduce",
            "scp",
            "--quick",
            "--models-dir",
            "{}",
            "--ship-dir",
            "{}",
            "--out",
            "{}",
        ],
        &[&models, &models, &out],
    );
    assert!(text.contains("reproduce scp finished"), "{text}");
    for f in [
        "results.json",
        "results.md",
        "sweep_f1.svg",
        "sweep_eodd.svg",
        "sweep_fate.svg",
        "sweep_parameters.svg",
    ] {
        let bytes = std::fs::read(out.join(f)).unwrap_or_else(|e| panic!("{f}: {e}"));
        assert!(bytes.len() > 200, "{f} is nearly empty");
    }
    let r: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("results.json")).unwrap()).unwrap();
    assert_eq!(r["quick"], true);
    assert_eq!(r["settings"]["layer"], "stages.3.1");
    let bases = r["bases"].as_array().unwrap();
    assert_eq!(bases.len(), 2);
    for b in bases {
        assert_eq!(b["scores"].as_array().unwrap().len(), 128);
        let sweep = b["sweep"].as_array().unwrap();
        let rows: Vec<(u64, &str)> = sweep
            .iter()
            .map(|s| (s["n"].as_u64().unwrap(), s["selection"].as_str().unwrap()))
            .collect();
        assert_eq!(rows, [(0, "snnl"), (4, "snnl"), (4, "random")]);
        for s in sweep {
            let n = s["n"].as_u64().unwrap() as usize;
            assert_eq!(s["channels"].as_array().unwrap().len(), n);
            // 128·9 + 1 filter weights and bias, 3 head weights per removed channel.
            let params = s["size"]["parameters"].as_u64().unwrap() as usize;
            assert_eq!(params, 326_556 - n * (128 * 9 + 1 + 3));
        }
        let its = b["iterations"].as_array().unwrap();
        assert!(!its.is_empty() && its.len() <= 2);
        // The loop stops at the first iteration that does not improve FATE, or after two.
        let improved_flags: Vec<bool> = its.iter().map(|i| i["improved"] == true).collect();
        let (last, before) = improved_flags.split_last().unwrap();
        assert!(before.iter().all(|f| *f), "{improved_flags:?}");
        assert!(!last || its.len() == 2, "{improved_flags:?}");
        let kept = b["chosen_channels"].as_array().unwrap().len();
        let improved = its.iter().filter(|i| i["improved"] == true).count();
        assert_eq!(kept, 4 * improved);
    }
    // Shipped: one `-scp` model per base whose loop kept a pruning, added to the index.
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(models.join("index.json")).unwrap()).unwrap();
    assert_eq!(index["default"], "tiny-fair-me");
    for name in r["shipped"].as_array().unwrap() {
        let name = name.as_str().unwrap();
        let entry = index["assets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["name"] == name)
            .unwrap_or_else(|| panic!("{name} not in the index"));
        let file =
            read_model(&std::fs::read(models.join(entry["file"].as_str().unwrap())).unwrap())
                .unwrap();
        let p = file.card.pruning.as_ref().unwrap();
        assert_eq!(format!("{}-scp", p.base), name);
        assert_eq!(p.layer, "stages.3.1");
        assert_eq!(file.card.config.stage_output(3), 128 - p.channels.len());
        assert!(file.card.metrics.contains_key(&card_keys::POINT.f1()));
        assert!(file.card.metrics.contains_key(&card_keys::BASE.eodds_abs()));
    }
    // Remove mode on an inner layer (stage 3's output, read by exit 3 and stage 4) of the
    // multi-exit model.
    let inner = dir.join("inner");
    let text = run_ok(
        &[
            "reproduce",
            "scp",
            "--quick",
            "--mode",
            "remove",
            "--layer",
            "stages.2.1",
            "--base-models",
            "tiny-fair-me",
            "--models-dir",
            "{}",
            "--out",
            "{}",
        ],
        &[&models, &inner],
    );
    assert!(text.contains("reproduce scp finished"), "{text}");
    let r: serde_json::Value =
        serde_json::from_slice(&std::fs::read(inner.join("results.json")).unwrap()).unwrap();
    let b = &r["bases"][0];
    assert_eq!(b["layer_width"], 64);
    let four = b["sweep"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["n"] == 4)
        .unwrap();
    // 4 filters (64·9 + 1 each), and 4 input channels of stage 4's first conv (128 filters) and
    // of exit 3's conv (32 filters), 9 weights each.
    let params = four["size"]["parameters"].as_u64().unwrap() as usize;
    assert_eq!(
        326_556 - params,
        4 * (64 * 9 + 1) + 4 * 128 * 9 + 4 * 32 * 9
    );
    let refused = bin()
        .args([
            "reproduce",
            "scp",
            "--quick",
            "--layer",
            "stages.2.1",
            "--models-dir",
        ])
        .arg(&models)
        .arg("--out")
        .arg(dir.join("refused"))
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--mode remove"));
}

/// Every shipped int8 and f16 model stays close to the f32 model it was made from on the whole
/// bundled evaluation subset. int8: logits within 0.15 (measured at most 0.086 by `quantize`) and
/// at most 1 % of the predictions of any exit change. f16 widened to f32 (CPU, WebGPU without
/// `shader-f16`): within 0.01 (measured ≤ 0.0047); computed in f16: within 0.05 (measured
/// ≤ 0.025); at most 0.5 % of the predictions of any exit change.
#[test]
fn shipped_reduced_precision_models_stay_close_to_their_f32_twins() {
    use burn::prelude::Device;
    use fairscreen_core::infer::LoadedModel;
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let models = root.join("www/models");
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(models.join("index.json")).unwrap()).unwrap();
    let bundle = fairscreen_core::read_eval_bundle(
        &std::fs::read(root.join("www/eval/synthderm-test.safetensors")).unwrap(),
    )
    .unwrap();
    let load_in = |file: &str, dtype: burn::tensor::FloatDType| {
        LoadedModel::from_bytes_in(
            &std::fs::read(models.join(file)).unwrap(),
            &Device::flex(),
            dtype,
        )
        .unwrap()
    };
    let load = |file: &str| load_in(file, burn::tensor::FloatDType::F32);
    let file_of = |name: &str| -> String {
        index["assets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["name"] == name)
            .unwrap_or_else(|| panic!("{name} not in the index"))["file"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let mut pairs = std::collections::BTreeMap::new();
    let mut twins = Vec::new();
    for m in index["assets"].as_array().unwrap() {
        let file = m["file"].as_str().unwrap();
        let q = load(file);
        match q.card.quantization.as_str() {
            "int8-per-channel" => twins.push((q, 0.15, 100)),
            "f16" => {
                twins.push((load_in(file, burn::tensor::FloatDType::F16), 0.05, 200));
                twins.push((q, 0.01, 200));
            }
            other => assert_eq!(other, "f32"),
        }
    }
    // The f32 logits of each source model, computed once for all of its twins.
    let mut f32_logits: std::collections::BTreeMap<String, Vec<Vec<Vec<f32>>>> =
        std::collections::BTreeMap::new();
    for (q, bound, per_changed) in twins {
        let source = q.card.quantized_from.clone().unwrap();
        let f = load(&file_of(&source));
        assert_eq!(f.card.quantization, "f32");
        let batches: Vec<Vec<Vec<f32>>> = (0..bundle.len())
            .step_by(120)
            .map(|start| {
                (start..(start + 120).min(bundle.len()))
                    .map(|i| {
                        fairscreen_core::preprocess::to_input(&bundle.rgb_image(i), &f.card.config)
                    })
                    .collect()
            })
            .collect();
        let reference = f32_logits.entry(source.clone()).or_insert_with(|| {
            batches
                .iter()
                .flat_map(|inputs| {
                    let a = f.logits(inputs).unwrap();
                    (0..a.batch).map(move |i| a.sample(i))
                })
                .collect()
        });
        let (mut worst, mut changed, mut total) = (0.0f32, 0usize, 0usize);
        let mut next = 0;
        for inputs in &batches {
            let b = q.logits(inputs).unwrap();
            for i in 0..b.batch {
                for (ea, eb) in reference[next].iter().zip(b.sample(i)) {
                    for (x, y) in ea.iter().zip(&eb) {
                        worst = worst.max((x - y).abs());
                    }
                    let arg =
                        |v: &[f32]| (0..v.len()).max_by(|&p, &r| v[p].total_cmp(&v[r])).unwrap();
                    changed += usize::from(arg(ea) != arg(&eb));
                    total += 1;
                }
                next += 1;
            }
        }
        assert_eq!(next, bundle.len());
        println!(
            "{} ({:?} compute) vs {source}: max |Δ logit| {worst:e}, {changed} of {total} exit predictions changed",
            q.card.name,
            q.compute_dtype()
        );
        assert!(worst <= bound, "{}: {worst}", q.card.name);
        assert!(
            changed * per_changed <= total,
            "{}: {changed} of {total}",
            q.card.name
        );
        *pairs.entry(q.card.quantization.clone()).or_insert(0) += 1;
    }
    // Every f32 model has both twins (f16 twins are checked in both compute precisions), but
    // the baselines shipped to be compared with a fine-tuned model, which stay f32 like it.
    let f32_models = index["assets"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| {
            let name = m["name"].as_str().unwrap();
            let baseline = load(m["file"].as_str().unwrap())
                .card
                .fine_tuning
                .is_some_and(|f| f.baseline_of.is_some());
            !name.ends_with("-int8") && !name.ends_with("-f16") && !baseline
        })
        .count();
    assert!(f32_models >= 2);
    assert_eq!(pairs.get("int8-per-channel"), Some(&f32_models));
    assert_eq!(pairs.get("f16"), Some(&(2 * f32_models)));
    assert_eq!(
        index["default"], "tiny-fair-me-int8",
        "the app runs int8 by default"
    );
}

/// `quantize` on a copy of two shipped models (and a FairTune baseline, which stays f32 like the
/// model it is compared with) and a small bundle: int8 twins about a quarter of the size, in the
/// index with the new default, cards re-measured, and the report written.
#[test]
fn quantize_writes_int8_twins_and_the_report() {
    let dir = temp_dir("quantize");
    let models = shipped_models_subset(
        &dir,
        &[
            "tiny-baseline",
            "tiny-fair-me-p16",
            "tiny-fairtune-vs-readout",
        ],
        "tiny-baseline",
    );
    run_ok(
        &["eval-bundle", "--per-cell", "2", "--out-dir", "{}"],
        &[&dir],
    );
    let out = dir.join("report");
    let text = run_ok(
        &[
            "quantize",
            "--models-dir",
            "{}",
            "--data",
            "{}",
            "--out",
            "{}",
            "--default",
            "tiny-baseline-int8",
            "--val-images",
            "64",
            "--test-images",
            "64",
        ],
        &[&models, &dir.join("synthderm-test.safetensors"), &out],
    );
    assert!(text.contains("wrote 2 int8 and 2 f16 models"), "{text}");
    assert!(!models
        .join("tiny-fairtune-vs-readout-int8.safetensors")
        .exists());
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(models.join("index.json")).unwrap()).unwrap();
    assert_eq!(index["default"], "tiny-baseline-int8");
    for (name, base) in [
        ("tiny-baseline-int8", None),
        ("tiny-fair-me-p16-int8", Some("tiny-fair-me-int8")),
    ] {
        let bytes = std::fs::read(models.join(format!("{name}.safetensors"))).unwrap();
        let q = read_model(&bytes).unwrap();
        let source = q.card.quantized_from.clone().unwrap();
        let f32_len = std::fs::metadata(models.join(format!("{source}.safetensors")))
            .unwrap()
            .len();
        assert!(bytes.len() as f64 <= 0.27 * f32_len as f64, "{name}");
        assert_eq!(q.card.quantization, "int8-per-channel");
        assert!(
            q.card.metrics.contains_key(&card_keys::POINT.f1()),
            "{name}"
        );
        assert_eq!(q.card.pruning.as_ref().map(|p| p.base.as_str()), base);
    }
    for (name, base) in [
        ("tiny-baseline-f16", None),
        ("tiny-fair-me-p16-f16", Some("tiny-fair-me-f16")),
    ] {
        let bytes = std::fs::read(models.join(format!("{name}.safetensors"))).unwrap();
        let h = read_model(&bytes).unwrap();
        let source = h.card.quantized_from.clone().unwrap();
        let f32_len = std::fs::metadata(models.join(format!("{source}.safetensors")))
            .unwrap()
            .len();
        let ratio = bytes.len() as f64 / f32_len as f64;
        assert!((0.5..=0.51).contains(&ratio), "{name}: {ratio}");
        assert_eq!(h.card.quantization, "f16");
        assert!(
            h.card.metrics.contains_key(&card_keys::POINT.f1()),
            "{name}"
        );
        assert_eq!(h.card.pruning.as_ref().map(|p| p.base.as_str()), base);
    }
    let r: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("results.json")).unwrap()).unwrap();
    assert_eq!(r["models"].as_array().unwrap().len(), 4);
    assert_eq!(r["models"][2]["precision"], "f16");
    assert_eq!(r["models"][2]["compute"], "F16");
    assert!(r["models"][2]["splits"][0]["widened_max_logit_diff"].is_number());
    assert_eq!(r["models"][0]["splits"].as_array().unwrap().len(), 2);
    assert!(std::fs::read_to_string(out.join("results.md"))
        .unwrap()
        .contains("| tiny-baseline |"));
}

/// `<dir>/models`: a copy of the shipped models `names` with an index whose default is `default`.
fn shipped_models_subset(dir: &Path, names: &[&str], default: &str) -> std::path::PathBuf {
    let models = dir.join("models");
    std::fs::create_dir_all(&models).unwrap();
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../www/models");
    let mut index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(shipped.join("index.json")).unwrap()).unwrap();
    index["assets"]
        .as_array_mut()
        .unwrap()
        .retain(|m| names.contains(&m["name"].as_str().unwrap()));
    index["default"] = serde_json::json!(default);
    for m in index["assets"].as_array().unwrap() {
        let f = m["file"].as_str().unwrap();
        std::fs::copy(shipped.join(f), models.join(f)).unwrap();
    }
    std::fs::write(
        models.join("index.json"),
        serde_json::to_vec(&index).unwrap(),
    )
    .unwrap();
    models
}

/// `heatmaps` on a few test images: every image's lesion shares within [0, 1], each grouping's
/// groups partition the images, each group's exit mix sums to 1, and the report and the mean
/// heatmaps are written.
#[test]
fn heatmaps_writes_the_per_group_report() {
    let dir = temp_dir("heatmaps");
    let out = dir.join("report");
    let model =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../www/models/tiny-fair-me.safetensors");
    let text = run_ok(
        &["heatmaps", "--model", "{}", "--images", "48", "--out", "{}"],
        &[&model, &out],
    );
    assert!(text.contains("48 images, 18 groups"), "{text}");
    let r: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("results.json")).unwrap()).unwrap();
    let images = r["images"].as_array().unwrap();
    assert_eq!(images.len(), 48);
    for h in images {
        for key in ["share_final", "share_fired", "lesion_area"] {
            if let Some(v) = h[key].as_f64() {
                assert!((0.0..=1.0).contains(&v), "{key} = {v}");
            }
        }
    }
    let groups = r["groups"].as_array().unwrap();
    for attribute in ["skin", "skin type", "sex", "class", "artefact", "halo"] {
        let total: u64 = groups
            .iter()
            .filter(|g| g["attribute"] == attribute)
            .map(|g| g["images"].as_u64().unwrap())
            .sum();
        assert_eq!(total, 48, "{attribute}");
    }
    for g in groups {
        let mix: f64 = g["exit_mix"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_f64().unwrap())
            .sum();
        assert!((mix - 1.0).abs() < 1e-9, "{g}");
    }
    let md = std::fs::read_to_string(out.join("results.md")).unwrap();
    assert!(md.contains("| skin | I–III | "), "{md}");
    for key in ["skin-I-III", "skin-IV-VI", "artefact-none"] {
        let png = std::fs::read(out.join(format!("mean-heat-{key}.png"))).unwrap();
        assert_eq!(&png[1..4], b"PNG", "{key}");
    }
}
