//! The model file: round trip, loading, and every way a malformed file is rejected.

mod common;

use burn::prelude::*;
use common::*;
use fairscreen_core::format::{card_from_prefix, sha256_hex, CARD_KEY, FORMAT_VERSION};
use fairscreen_core::infer::LoadedModel;
use fairscreen_core::{read_model, write_model, FormatError};
use serde_json::{json, Map, Value};

fn valid_bytes() -> Vec<u8> {
    let tensors = folded_model(7).named_tensors().unwrap();
    write_model(card(config()), &tensors).unwrap()
}

fn card_json(header: &Map<String, Value>) -> Value {
    serde_json::from_str(header["__metadata__"][CARD_KEY].as_str().unwrap()).unwrap()
}

fn with_card(header: &mut Map<String, Value>, card: &Value) {
    header["__metadata__"][CARD_KEY] = Value::String(card.to_string());
}

fn err(bytes: &[u8]) -> FormatError {
    read_model(bytes).expect_err("malformed file must be rejected")
}

#[test]
fn round_trip_keeps_card_and_tensors_bit_exact() {
    let model = folded_model(7);
    let tensors = model.named_tensors().unwrap();
    let bytes = write_model(card(config()), &tensors).unwrap();
    let file = read_model(&bytes).unwrap();
    let mut expected = card(config());
    expected.tensors_sha256 = file.card.tensors_sha256.clone();
    assert_eq!(file.card, expected);
    assert_eq!(file.card.format_version, FORMAT_VERSION);
    assert_eq!(file.tensors, tensors);
    let (_, data) = split(&bytes);
    assert_eq!(file.card.tensors_sha256, sha256_hex(&data));
    let header_len = u64::from_le_bytes(bytes[..8].try_into().unwrap());
    assert_eq!(header_len % 8, 0, "header padded to a multiple of 8 bytes");
    // Writing again gives identical bytes.
    assert_eq!(write_model(card(config()), &tensors).unwrap(), bytes);
}

#[test]
fn loaded_model_gives_the_in_memory_logits() {
    let model = folded_model(7);
    let bytes = write_model(card(config()), &model.named_tensors().unwrap()).unwrap();
    let loaded = LoadedModel::from_bytes(&bytes, &Device::flex()).unwrap();
    let x = inputs(2, 64);
    let got = loaded.logits(&x).unwrap();
    let want: Vec<Vec<f32>> = model
        .forward(batch(&x, 64))
        .into_iter()
        .map(values)
        .collect();
    assert_eq!(got.exits, want);
    assert_eq!((got.batch, got.classes), (2, 3));
    assert!(loaded
        .logits(&[vec![0.0; 10]])
        .unwrap_err()
        .to_string()
        .contains("needs 3×64×64"));
    assert!(loaded
        .logits(&[])
        .unwrap_err()
        .to_string()
        .contains("no input"));
}

#[test]
fn truncated_files_are_rejected() {
    let bytes = valid_bytes();
    assert!(
        matches!(err(&bytes[..5]), FormatError::Truncated(m) if m.contains("8-byte header length"))
    );
    assert!(matches!(err(&bytes[..100]), FormatError::Truncated(m) if m.contains("header needs")));
    let cut = err(&bytes[..bytes.len() - 10]);
    assert!(
        matches!(&cut, FormatError::Truncated(m) if m.contains("tensor data needs")),
        "{cut}"
    );
    assert!(cut.to_string().starts_with("model file is truncated"));
}

#[test]
fn garbage_header_is_rejected() {
    let mut bytes = 40u64.to_le_bytes().to_vec();
    bytes.extend_from_slice(&[0xde; 40]);
    let e = err(&bytes);
    assert!(matches!(e, FormatError::BadHeader(_)), "{e}");
    assert!(e.to_string().contains("not valid safetensors"));
    let mut huge = u64::MAX.to_le_bytes().to_vec();
    huge.extend_from_slice(b"{}");
    assert!(matches!(err(&huge), FormatError::BadHeader(m) if m.contains("exceeds")));
}

#[test]
fn wrong_format_version_is_rejected() {
    let (mut header, data) = split(&valid_bytes());
    let mut c = card_json(&header);
    c["format_version"] = json!(2);
    with_card(&mut header, &c);
    let e = err(&join(&header, &data));
    assert_eq!(e, FormatError::UnsupportedVersion(2));
    assert!(e.to_string().contains("version 2 is not supported"));
}

#[test]
fn missing_card_is_rejected() {
    let (mut header, data) = split(&valid_bytes());
    header.remove("__metadata__");
    let e = err(&join(&header, &data));
    assert_eq!(e, FormatError::MissingCard);
    assert!(e.to_string().contains("no model card"));
}

#[test]
fn bad_card_json_is_rejected() {
    let (mut header, data) = split(&valid_bytes());
    header["__metadata__"][CARD_KEY] = json!("{not json");
    assert!(matches!(
        err(&join(&header, &data)),
        FormatError::BadCard(_)
    ));
    let (mut header, data) = split(&valid_bytes());
    let mut c = card_json(&header);
    c.as_object_mut().unwrap().remove("config");
    with_card(&mut header, &c);
    let e = err(&join(&header, &data));
    assert!(
        matches!(&e, FormatError::BadCard(m) if m.contains("config")),
        "{e}"
    );
    assert!(e.to_string().starts_with("model card is not valid"));
}

#[test]
fn invalid_architecture_in_card_is_rejected() {
    let (mut header, data) = split(&valid_bytes());
    let mut c = card_json(&header);
    c["config"]["exit_stages"] = json!([2, 1]);
    with_card(&mut header, &c);
    assert!(
        matches!(err(&join(&header, &data)), FormatError::BadConfig(m) if m.to_string().contains("increasing"))
    );
}

#[test]
fn missing_tensor_is_rejected() {
    // Drop the last tensor (by offset) and its bytes so the file stays otherwise consistent.
    let (mut header, data) = split(&valid_bytes());
    let (name, end, start) = header
        .iter()
        .filter(|(k, _)| *k != "__metadata__")
        .map(|(k, v)| {
            (
                k.clone(),
                v["data_offsets"][1].as_u64().unwrap(),
                v["data_offsets"][0].as_u64().unwrap(),
            )
        })
        .max_by_key(|t| t.1)
        .unwrap();
    assert_eq!(end as usize, data.len());
    header.remove(&name);
    let e = err(&join(&header, &data[..start as usize]));
    assert_eq!(e, FormatError::MissingTensor(name.clone()));
    assert!(e.to_string().contains(&format!("lacks tensor '{name}'")));
}

#[test]
fn unexpected_tensor_is_rejected() {
    let (mut header, mut data) = split(&valid_bytes());
    let n = data.len() as u64;
    header.insert(
        "extra.weight".into(),
        json!({"dtype": "F32", "shape": [1], "data_offsets": [n, n + 4]}),
    );
    data.extend_from_slice(&1f32.to_le_bytes());
    let e = err(&join(&header, &data));
    assert_eq!(e, FormatError::UnexpectedTensor("extra.weight".into()));
    assert!(e.to_string().contains("unexpected tensor 'extra.weight'"));
}

#[test]
fn wrong_shape_is_rejected() {
    let (mut header, data) = split(&valid_bytes());
    // Same byte count, different shape: [3, 128] instead of [128, 3].
    header["head.fc.weight"]["shape"] = json!([3, 128]);
    let e = err(&join(&header, &data));
    assert_eq!(
        e,
        FormatError::WrongShape {
            name: "head.fc.weight".into(),
            expected: vec![128, 3],
            found: vec![3, 128]
        }
    );
    assert!(e
        .to_string()
        .contains("has shape [3, 128] but the architecture needs [128, 3]"));
}

#[test]
fn wrong_dtype_is_rejected() {
    let (mut header, data) = split(&valid_bytes());
    header["head.fc.bias"]["dtype"] = json!("F16");
    let e = err(&join(&header, &data));
    assert!(
        matches!(&e, FormatError::UnsupportedDtype { name, dtype, expected } if name == "head.fc.bias" && dtype == "F16" && expected == "F32")
    );
    assert!(e
        .to_string()
        .contains("has dtype F16 but this file's precision needs F32"));
}

#[test]
fn corrupted_tensor_data_fails_the_hash_check() {
    let (header, mut data) = split(&valid_bytes());
    data[100] ^= 0x55;
    let e = err(&join(&header, &data));
    assert!(matches!(e, FormatError::HashMismatch { .. }), "{e}");
    assert!(e.to_string().contains("corrupt"));
}

#[test]
fn overlapping_offsets_are_rejected() {
    let (mut header, data) = split(&valid_bytes());
    header["head.fc.bias"]["data_offsets"] = json!([0, 12]);
    let e = err(&join(&header, &data));
    assert!(
        matches!(&e, FormatError::BadHeader(m) if m.contains("not contiguous")),
        "{e}"
    );
}

#[test]
fn writer_refuses_incomplete_tensor_sets() {
    let mut tensors = folded_model(1).named_tensors().unwrap();
    tensors.remove("exits.0.fc.bias");
    assert_eq!(
        write_model(card(config()), &tensors).unwrap_err(),
        FormatError::MissingTensor("exits.0.fc.bias".into())
    );
}

#[test]
fn the_card_is_read_from_the_header_alone() {
    let tensors = folded_model(5).named_tensors().unwrap();
    let bytes = write_model(card(config()), &tensors).unwrap();
    let full = read_model(&bytes).unwrap().card;
    let header_end = 8 + u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    assert_eq!(card_from_prefix(&bytes[..5]).unwrap(), None);
    assert_eq!(card_from_prefix(&bytes[..header_end - 1]).unwrap(), None);
    assert_eq!(
        card_from_prefix(&bytes[..header_end]).unwrap(),
        Some(full.clone())
    );
    assert_eq!(card_from_prefix(&bytes).unwrap(), Some(full));
    // A damaged tensor section does not matter here (read_model would refuse it)…
    let mut damaged = bytes.clone();
    let last = damaged.len() - 1;
    damaged[last] ^= 1;
    assert!(card_from_prefix(&damaged).unwrap().is_some());
    // …but a bad header does.
    let mut huge = bytes.clone();
    huge[..8].copy_from_slice(&u64::MAX.to_le_bytes());
    assert!(matches!(
        card_from_prefix(&huge),
        Err(FormatError::BadHeader(_))
    ));
    let mut garbage = (4u64).to_le_bytes().to_vec();
    garbage.extend_from_slice(b"nope");
    assert!(matches!(
        card_from_prefix(&garbage),
        Err(FormatError::BadHeader(_))
    ));
    let (mut header, data) = split(&bytes);
    header.remove("__metadata__");
    assert_eq!(
        card_from_prefix(&join(&header, &data)),
        Err(FormatError::MissingCard)
    );
}

#[test]
fn the_manifest_refuses_unlisted_resized_and_altered_files() {
    use fairscreen_core::format::{sha256_hex, Manifest, ManifestEntry};
    let bytes = b"some model bytes".to_vec();
    let m = Manifest {
        format: 1,
        assets: vec![ManifestEntry {
            path: "models/a.safetensors".into(),
            bytes: bytes.len(),
            sha256: sha256_hex(&bytes),
        }],
    };
    assert_eq!(m.verify("models/a.safetensors", &bytes), Ok(()));
    let e = m
        .verify("models/b.safetensors", &bytes)
        .unwrap_err()
        .to_string();
    assert!(e.contains("not listed in manifest.json"), "{e}");
    let e = m
        .verify("models/a.safetensors", &bytes[1..])
        .unwrap_err()
        .to_string();
    assert!(e.contains("15 bytes, the manifest says 16"), "{e}");
    let mut altered = bytes.clone();
    altered[0] ^= 1;
    let e = m
        .verify("models/a.safetensors", &altered)
        .unwrap_err()
        .to_string();
    assert!(e.contains("does not match manifest.json: sha256"), "{e}");
    // The build's manifest format parses.
    let json = format!(
        "{{\"format\": 1, \"assets\": [{{\"path\": \"models/a.safetensors\", \"bytes\": 16, \"sha256\": \"{}\"}}]}}",
        sha256_hex(&bytes)
    );
    assert_eq!(serde_json::from_str::<Manifest>(&json).unwrap(), m);
}
