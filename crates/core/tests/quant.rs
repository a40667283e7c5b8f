//! int8 per-channel quantization: error bounds, edge cases, the int8 model file and its errors.

mod common;

use common::*;
use fairscreen_core::format::CARD_KEY;
use fairscreen_core::quant::{
    computes_in_f16, dequantize, dequantize_model, f16_bits, f16_value, quantize, quantize_model,
    F16, INT8_PER_CHANNEL,
};
use fairscreen_core::{read_model, write_model, FormatError, HostTensor};
use serde_json::json;

/// Deterministic values in [-amp, amp] with a different range per channel.
fn tensor(shape: &[usize], seed: u32) -> HostTensor {
    let n: usize = shape.iter().product();
    let mut x = seed.wrapping_mul(2_654_435_761).max(1);
    let values = (0..n)
        .map(|i| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            let u = (x % 20_001) as f32 / 10_000.0 - 1.0;
            u * (1.0 + (i % 7) as f32)
        })
        .collect();
    HostTensor {
        shape: shape.to_vec(),
        values,
    }
}

fn check_error_bound(t: &HostTensor, axis: usize) {
    let q = quantize(t, axis);
    let d = dequantize(&q);
    assert_eq!(q.scales.len(), t.shape[axis]);
    let inner: usize = t.shape[axis + 1..].iter().product();
    for (i, (a, b)) in t.values.iter().zip(&d.values).enumerate() {
        let c = (i / inner) % t.shape[axis];
        assert!(
            (a - b).abs() <= q.scales[c] / 2.0 * (1.0 + 1e-5),
            "element {i} channel {c}: {a} → {b}, scale {}",
            q.scales[c]
        );
    }
    // Each channel's largest magnitude maps to ±127 exactly.
    for c in 0..t.shape[axis] {
        let (mut best, mut at) = (0.0f32, 0);
        for (i, v) in t.values.iter().enumerate() {
            if (i / inner) % t.shape[axis] == c && v.abs() > best {
                (best, at) = (v.abs(), i);
            }
        }
        assert_eq!(q.values[at].unsigned_abs(), 127, "channel {c}");
        assert!((q.scales[c] - best / 127.0).abs() <= f32::EPSILON * best);
    }
}

#[test]
fn dequantization_error_is_at_most_half_a_scale_per_channel() {
    check_error_bound(&tensor(&[16, 8, 3, 3], 1), 0); // conv [out, in, kh, kw]
    check_error_bound(&tensor(&[32, 3], 2), 1); // linear [in, out]
    check_error_bound(&tensor(&[5, 4], 3), 0);
}

#[test]
fn hand_values_and_a_zero_channel() {
    // Channel 0: max 2.54 → scale 0.02; 1.0 → 50, −0.03 → −1.5 → −2 (round half away from 0).
    let t = HostTensor {
        shape: vec![2, 3],
        values: vec![2.54, 1.0, -0.03, 0.0, 0.0, 0.0],
    };
    let q = quantize(&t, 0);
    assert_eq!(q.scales, vec![0.02, 0.0]);
    assert_eq!(q.values, vec![127, 50, -2, 0, 0, 0]);
    let d = dequantize(&q);
    assert!((d.values[1] - 1.0).abs() < 1e-6);
    assert_eq!(&d.values[3..], &[0.0, 0.0, 0.0]);
}

#[test]
fn quantize_model_leaves_biases_alone() {
    let tensors = folded_model(21).named_tensors().unwrap();
    let q = quantize_model(&tensors);
    assert!(q.weights.keys().all(|n| n.ends_with(".weight")));
    assert!(q.floats.keys().all(|n| n.ends_with(".bias")));
    assert_eq!(q.weights.len() + q.floats.len(), tensors.len());
    let back = dequantize_model(&q);
    for (name, t) in &tensors {
        if name.ends_with(".bias") {
            assert_eq!(&back[name], t);
        }
    }
}

/// The read error of a file whose header says tensor `name` is F32.
fn error_with_f32_tensor(
    header: &serde_json::Map<String, serde_json::Value>,
    data: &[u8],
    name: &str,
) -> String {
    let mut h = header.clone();
    h[name]["dtype"] = json!("F32");
    read_model(&join(&h, data)).unwrap_err().to_string()
}

fn int8_card() -> fairscreen_core::ModelCard {
    let mut c = card(config());
    c.quantization = INT8_PER_CHANNEL.into();
    c
}

/// The int8 file stores I8 weights + F32 scales, reads back as the dequantized f32 tensors, and
/// is about a quarter of the f32 file.
#[test]
fn int8_files_round_trip_and_are_a_quarter_of_the_size() {
    let tensors = folded_model(22).named_tensors().unwrap();
    let f32_bytes = write_model(card(config()), &tensors).unwrap();
    let int8_bytes = write_model(int8_card(), &tensors).unwrap();
    let file = read_model(&int8_bytes).unwrap();
    assert_eq!(file.card.quantization, INT8_PER_CHANNEL);
    assert_eq!(file.tensors, dequantize_model(&quantize_model(&tensors)));
    let ratio = int8_bytes.len() as f64 / f32_bytes.len() as f64;
    println!(
        "int8 file {} bytes = {:.1} % of f32 {}",
        int8_bytes.len(),
        100.0 * ratio,
        f32_bytes.len()
    );
    assert!(ratio <= 0.27, "{ratio}");
    let (header, _) = split(&int8_bytes);
    assert_eq!(header["stages.0.0.weight"]["dtype"], "I8");
    assert_eq!(header["stages.0.0.weight_scale"]["dtype"], "F32");
    assert_eq!(header["stages.0.0.weight_scale"]["shape"], json!([16]));
    assert_eq!(header["head.fc.weight_scale"]["shape"], json!([3]));
    assert_eq!(header["stages.0.0.bias"]["dtype"], "F32");
    // Quantized logits stay close to the f32 model's on the same inputs.
    let s = config().input_size;
    let x = batch(&inputs(4, s), s);
    let run = |t| {
        let m = fairscreen_core::MultiExitCnn::from_named_tensors(
            &config(),
            t,
            &burn::prelude::Device::flex(),
        )
        .unwrap();
        m.forward(x.clone())
            .into_iter()
            .flat_map(values)
            .collect::<Vec<f32>>()
    };
    let (a, b) = (run(&tensors), run(&file.tensors));
    let worst = a
        .iter()
        .zip(&b)
        .map(|(p, q)| (p - q).abs())
        .fold(0.0f32, f32::max);
    let scale = a.iter().map(|v| v.abs()).fold(0.0f32, f32::max);
    println!("random model: max |Δ logit| int8 vs f32 = {worst:e} (logits up to {scale:e})");
    assert!(worst <= 0.05 * scale.max(1e-3), "{worst} vs {scale}");
}

#[test]
fn malformed_int8_files_are_refused_with_their_own_message() {
    let tensors = folded_model(23).named_tensors().unwrap();
    let bytes = write_model(int8_card(), &tensors).unwrap();
    let (header, data) = split(&bytes);

    // A renamed scale tensor is unexpected.
    let mut h = header.clone();
    let scale = h.remove("exits.0.fc.weight_scale").unwrap();
    h.insert("exits.0.fc.weight_scales".into(), scale);
    let e = read_model(&join(&h, &data)).unwrap_err();
    assert!(
        matches!(&e, FormatError::UnexpectedTensor(n) if n == "exits.0.fc.weight_scales"),
        "{e}"
    );
    // An f32 file whose card says int8 lacks the scales.
    let f32_bytes = write_model(card(config()), &tensors).unwrap();
    let (mut h, d) = split(&f32_bytes);
    let mut c: serde_json::Value =
        serde_json::from_str(h["__metadata__"][CARD_KEY].as_str().unwrap()).unwrap();
    c["quantization"] = json!(INT8_PER_CHANNEL);
    h["__metadata__"][CARD_KEY] = json!(c.to_string());
    let e = read_model(&join(&h, &d)).unwrap_err();
    assert!(
        matches!(&e, FormatError::MissingTensor(n) if n == "stages.0.0.weight_scale"),
        "{e}"
    );

    assert!(error_with_f32_tensor(&header, &data, "stages.1.0.weight")
        .contains("'stages.1.0.weight' has dtype F32 but this file's precision needs I8"));

    // An unknown precision.
    let (mut h, d) = split(&f32_bytes);
    let mut meta_card: serde_json::Value =
        serde_json::from_str(h["__metadata__"][CARD_KEY].as_str().unwrap()).unwrap();
    meta_card["quantization"] = json!("int4");
    h["__metadata__"][CARD_KEY] = json!(meta_card.to_string());
    let e = read_model(&join(&h, &d)).unwrap_err();
    assert!(e.to_string().contains("unknown quantization 'int4'"), "{e}");

    // A negative scale (hash fixed up so only the scale is wrong).
    let mut h = header.clone();
    let [start, _] = [
        h["head.fc.weight_scale"]["data_offsets"][0]
            .as_u64()
            .unwrap() as usize,
        0,
    ];
    let mut d = data.clone();
    d[start..start + 4].copy_from_slice(&(-1.0f32).to_le_bytes());
    let mut meta_card: serde_json::Value =
        serde_json::from_str(h["__metadata__"][CARD_KEY].as_str().unwrap()).unwrap();
    meta_card["tensors_sha256"] = json!(fairscreen_core::format::sha256_hex(&d));
    h["__metadata__"][CARD_KEY] = json!(meta_card.to_string());
    let e = read_model(&join(&h, &d)).unwrap_err();
    assert!(e.to_string().contains("invalid scale -1"), "{e}");
}

fn f16_card() -> fairscreen_core::ModelCard {
    let mut c = card(config());
    c.quantization = F16.into();
    c
}

#[test]
fn f16_conversion_hand_values() {
    // 1/3 → 0x3555 = 0.333251953125 (nearest half); 1.0 → 0x3C00; −2.5 → 0xC100.
    assert_eq!(f16_bits(1.0 / 3.0), Some(0x3555));
    assert_eq!(f16_value(0x3555), 0.333_251_95);
    assert_eq!(f16_bits(1.0), Some(0x3C00));
    assert_eq!(f16_bits(-2.5), Some(0xC100));
    // Largest half, and the first value that rounds past it.
    assert_eq!(f16_bits(65504.0), Some(0x7BFF));
    assert_eq!(f16_bits(65520.0), None);
    assert_eq!(f16_bits(f32::NAN), None);
    // Smallest subnormal half (2^-24) survives; half of it rounds to +0 (ties to even).
    assert_eq!(f16_bits(2f32.powi(-24)), Some(0x0001));
    assert_eq!(f16_bits(2f32.powi(-25)), Some(0x0000));
}

#[test]
fn f16_computes_only_for_f16_files_on_webgpu_with_shader_f16() {
    assert!(computes_in_f16(F16, true));
    assert!(!computes_in_f16(F16, false));
    assert!(!computes_in_f16(INT8_PER_CHANNEL, true));
    assert!(!computes_in_f16(fairscreen_core::quant::F32, true));
}

/// The f16 file stores every tensor as F16, reads back as the nearest halves widened to f32, is
/// half the f32 file's tensor data, and refuses values f16 cannot hold.
#[test]
fn f16_files_round_trip_at_half_the_size() {
    let tensors = folded_model(24).named_tensors().unwrap();
    let f32_bytes = write_model(card(config()), &tensors).unwrap();
    let f16_bytes = write_model(f16_card(), &tensors).unwrap();
    let file = read_model(&f16_bytes).unwrap();
    assert_eq!(file.card.quantization, F16);
    for (name, t) in &tensors {
        let back = &file.tensors[name];
        assert_eq!(back.shape, t.shape);
        for (a, b) in t.values.iter().zip(&back.values) {
            assert_eq!(*b, f16_value(f16_bits(*a).unwrap()), "{name}");
            // Relative rounding error of a normal half: at most 2^-11.
            assert!(
                (a - b).abs() <= a.abs() * 2f32.powi(-11) + 2f32.powi(-25),
                "{name}"
            );
        }
    }
    let (header, data) = split(&f16_bytes);
    let (_, f32_data) = split(&f32_bytes);
    assert_eq!(2 * data.len(), f32_data.len());
    assert_eq!(header["stages.0.0.weight"]["dtype"], "F16");
    assert_eq!(header["head.fc.bias"]["dtype"], "F16");
    assert!(!header.contains_key("stages.0.0.weight_scale"));

    // A weight past the f16 range is refused when writing.
    let mut big = tensors.clone();
    big.get_mut("exits.1.fc.weight").unwrap().values[3] = 1.0e5;
    let e = write_model(f16_card(), &big).unwrap_err();
    assert!(
        e.to_string()
            .contains("tensor 'exits.1.fc.weight' holds 100000, which f16 cannot represent"),
        "{e}"
    );
    // An F32 tensor in an f16 file is refused.
    assert!(error_with_f32_tensor(&header, &data, "stages.1.0.bias")
        .contains("'stages.1.0.bias' has dtype F32 but this file's precision needs F16"));
}

/// f16 compute (burn's CPU backend supports it, as a `shader-f16` WebGPU adapter does): logits
/// stay within a stated bound of the f32 compute of the same f16 weights.
#[test]
fn f16_compute_stays_close_to_f32_compute() {
    use burn::tensor::FloatDType;
    use fairscreen_core::infer::LoadedModel;
    let tensors = folded_model(25).named_tensors().unwrap();
    let bytes = write_model(f16_card(), &tensors).unwrap();
    let device = burn::prelude::Device::flex();
    let wide = LoadedModel::from_bytes(&bytes, &device).unwrap();
    let half = LoadedModel::from_bytes_in(&bytes, &device, FloatDType::F16).unwrap();
    assert_eq!(wide.compute_dtype(), FloatDType::F32);
    assert_eq!(half.compute_dtype(), FloatDType::F16);
    let x = inputs(4, config().input_size);
    let (a, b) = (wide.logits(&x).unwrap(), half.logits(&x).unwrap());
    let a: Vec<f32> = a.exits.concat();
    let b: Vec<f32> = b.exits.concat();
    let worst = a
        .iter()
        .zip(&b)
        .map(|(p, q)| (p - q).abs())
        .fold(0.0f32, f32::max);
    let scale = a.iter().map(|v| v.abs()).fold(0.0f32, f32::max);
    println!("random model: max |Δ logit| f16 vs f32 compute = {worst:e} (logits up to {scale:e})");
    assert!(
        worst > 0.0,
        "f16 compute gave bit-identical logits: it did not run in f16"
    );
    assert!(worst <= 0.01 * scale.max(1e-3), "{worst} vs {scale}");
}
