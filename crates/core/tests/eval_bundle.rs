//! The evaluation bundle: round trip, and every way a malformed bundle is rejected.

mod common;

use common::{join, split};
use fairscreen_core::bundle::{
    read_eval_bundle_with, CellCount, BUNDLE_FORMAT_VERSION, DATA_CARD_KEY, UNKNOWN_AGE,
    UNKNOWN_SEX,
};
use fairscreen_core::{
    read_eval_bundle, write_eval_bundle, write_eval_bundle_with, BundleError, DataCard, EvalBundle,
};
use serde_json::{Map, Value};

const SIDE: u32 = 16;

fn card() -> DataCard {
    DataCard {
        format_version: 1,
        name: "test-bundle".into(),
        description: "hand-made".into(),
        source: "tests".into(),
        seed: Some(3),
        split: "test".into(),
        settings: serde_json::json!({"k": 1}),
        class_names: vec!["a".into(), "b".into(), "c".into()],
        sex_names: vec!["female".into(), "male".into()],
        side: SIDE,
        count: 0,
        counts_by_cell: vec![],
        counts_by_class: vec![],
        command: "by hand".into(),
        disclaimer: "not real".into(),
        data_sha256: String::new(),
    }
}

/// 13 images with distinct pixel patterns; skin types 1–6 and 0, sexes 0/1/2.
fn bundle() -> EvalBundle {
    let n = 13usize;
    let px = (SIDE * SIDE * 3) as usize;
    let images = (0..n * px)
        .map(|k| ((k * 7 + k / px * 31) % 251) as u8)
        .collect();
    EvalBundle {
        card: card(),
        images,
        labels: (0..n).map(|i| (i % 3) as u8).collect(),
        skin_types: (0..n).map(|i| (i % 7) as u8).collect(),
        sexes: (0..n).map(|i| (i % 3) as u8).collect(),
        ages: (0..n)
            .map(|i| if i == 4 { UNKNOWN_AGE } else { 20 + i as u8 })
            .collect(),
        ids: (0..n).map(|i| 1000 + i as u32).collect(),
        lesion_masks: None,
    }
}

fn card_of(header: &Map<String, Value>) -> Value {
    serde_json::from_str(header["__metadata__"][DATA_CARD_KEY].as_str().unwrap()).unwrap()
}

fn with_card(header: &mut Map<String, Value>, card: &Value) {
    header["__metadata__"][DATA_CARD_KEY] = Value::String(card.to_string());
}

/// Applies `edit` to the parsed file and reads the result back.
fn read_edited(edit: impl FnOnce(&mut Map<String, Value>, &mut Vec<u8>)) -> BundleError {
    let (mut header, mut data) = split(&write_eval_bundle(&bundle()).unwrap());
    edit(&mut header, &mut data);
    read_eval_bundle(&join(&header, &data)).unwrap_err()
}

/// Recomputes the card's data hash after `data` was edited.
fn rehash(header: &mut Map<String, Value>, data: &[u8]) {
    let mut c = card_of(header);
    c["data_sha256"] = Value::String(fairscreen_core::format::sha256_hex(data));
    with_card(header, &c);
}

#[test]
fn a_bundle_round_trips_with_its_counts_filled_in() {
    let b = bundle();
    let bytes = write_eval_bundle(&b).unwrap();
    let mut calls = Vec::new();
    let back = read_eval_bundle_with(&bytes, |done, total| calls.push((done, total))).unwrap();
    assert_eq!(back.images, b.images);
    assert_eq!(back.labels, b.labels);
    assert_eq!(back.skin_types, b.skin_types);
    assert_eq!(back.sexes, b.sexes);
    assert_eq!(back.ages, b.ages);
    assert_eq!(back.ids, b.ids);
    assert_eq!(back.card.count, 13);
    assert_eq!(back.card.counts_by_class, vec![5, 4, 4]);
    // i % 7 and i % 3 over 0..13: (0,0) at i = 0; (1,1) at 1; (2,2) at 2; (3,0) at 3; ...
    assert_eq!(back.card.counts_by_cell.len(), 13);
    assert_eq!(
        back.card.counts_by_cell[0],
        CellCount {
            skin_type: 0,
            sex: 0,
            count: 1
        }
    );
    assert_eq!(back.card.format_version, BUNDLE_FORMAT_VERSION);
    assert_eq!(back.card.data_sha256.len(), 64);
    assert_eq!(back.rgb_image(2).as_raw().as_slice(), b.image(2));
    assert_eq!(calls.len(), 13);
    assert_eq!(calls.last(), Some(&(13, 13)));
    // Writing what was read gives the same bytes.
    let mut again = back.clone();
    again.card = card();
    assert_eq!(write_eval_bundle(&again).unwrap(), bytes);
}

#[test]
fn a_truncated_bundle_is_rejected() {
    let bytes = write_eval_bundle(&bundle()).unwrap();
    for cut in [0, 5, 40, bytes.len() - 1] {
        let e = read_eval_bundle(&bytes[..cut]).unwrap_err();
        assert!(matches!(e, BundleError::Truncated(_)), "cut at {cut}: {e}");
        assert!(e.to_string().starts_with("evaluation bundle is truncated"));
    }
}

#[test]
fn garbage_is_rejected_as_a_bad_header() {
    let mut bytes = 16u64.to_le_bytes().to_vec();
    bytes.extend_from_slice(b"this is not json");
    let e = read_eval_bundle(&bytes).unwrap_err();
    assert!(matches!(e, BundleError::BadHeader(_)), "{e}");
}

#[test]
fn a_missing_or_bad_card_is_rejected() {
    let e = read_edited(|h, _| {
        h["__metadata__"] = Value::Object(Map::new());
    });
    assert_eq!(e, BundleError::MissingCard);
    let e = read_edited(|h, _| {
        h["__metadata__"][DATA_CARD_KEY] = Value::String("{not json".into());
    });
    assert!(matches!(e, BundleError::BadCard(_)), "{e}");
    let e = read_edited(|h, _| {
        let mut c = card_of(h);
        c["format_version"] = Value::from(9);
        with_card(h, &c);
    });
    assert_eq!(e, BundleError::UnsupportedVersion(9));
    assert!(e.to_string().contains("version 9 is not supported"));
}

#[test]
fn a_missing_tensor_is_rejected() {
    let e = read_edited(|h, d| {
        // Drop `skin_type` (the last tensor) and its bytes.
        let entry = h.remove("skin_type").unwrap();
        let start = entry["data_offsets"][0].as_u64().unwrap() as usize;
        d.truncate(start);
        rehash(h, d);
    });
    assert_eq!(e, BundleError::MissingTensor("skin_type".into()));
}

#[test]
fn a_tensor_of_the_wrong_shape_is_rejected() {
    let e = read_edited(|h, _| {
        h["label"]["shape"] = serde_json::json!([13, 1]);
    });
    match e {
        BundleError::WrongShape { name, .. } => assert_eq!(name, "label"),
        e => panic!("expected WrongShape, got {e}"),
    }
    let e = read_edited(|h, _| {
        h["sex"]["dtype"] = Value::String("I8".into());
    });
    assert!(e.to_string().contains("'sex' is I8 of shape [13]"), "{e}");
}

#[test]
fn a_count_mismatch_is_rejected() {
    let e = read_edited(|h, _| {
        let mut c = card_of(h);
        c["count"] = Value::from(12);
        with_card(h, &c);
    });
    assert_eq!(
        e,
        BundleError::CountMismatch {
            name: "webp_offsets".into(),
            expected: 13,
            found: 14
        }
    );
    // The writer refuses per-image vectors of different lengths.
    let mut b = bundle();
    b.ages.pop();
    assert_eq!(
        write_eval_bundle(&b).unwrap_err(),
        BundleError::CountMismatch {
            name: "age".into(),
            expected: 13,
            found: 12
        }
    );
}

#[test]
fn an_image_of_the_wrong_size_is_rejected() {
    let e = read_edited(|h, _| {
        let mut c = card_of(h);
        c["side"] = Value::from(8);
        with_card(h, &c);
    });
    assert_eq!(
        e,
        BundleError::BadImage {
            index: 0,
            message: "16×16 pixels, the data card says 8×8".into()
        }
    );
}

#[test]
fn an_undecodable_image_is_rejected() {
    let e = read_edited(|h, d| {
        let start = h["webp"]["data_offsets"][0].as_u64().unwrap() as usize;
        // Second image's RIFF signature.
        let (hh, dd) = (h.clone(), d.clone());
        let off = {
            let o = hh["webp_offsets"]["data_offsets"][0].as_u64().unwrap() as usize;
            u32::from_le_bytes(dd[o + 4..o + 8].try_into().unwrap()) as usize
        };
        d[start + off] ^= 0xff;
        rehash(h, d);
    });
    match e {
        BundleError::BadImage { index, .. } => assert_eq!(index, 1),
        e => panic!("expected BadImage, got {e}"),
    }
}

#[test]
fn corrupt_data_fails_the_hash() {
    let e = read_edited(|h, d| {
        let start = h["label"]["data_offsets"][0].as_u64().unwrap() as usize;
        d[start] ^= 1;
    });
    assert!(matches!(e, BundleError::HashMismatch { .. }), "{e}");
}

#[test]
fn out_of_range_codes_are_rejected() {
    let mut b = bundle();
    b.labels[3] = 3;
    assert_eq!(
        write_eval_bundle(&b).unwrap_err(),
        BundleError::BadValue {
            name: "label".into(),
            index: 3,
            value: 3
        }
    );
    let e = read_edited(|h, d| {
        let start = h["sex"]["data_offsets"][0].as_u64().unwrap() as usize;
        d[start + 5] = UNKNOWN_SEX + 1;
        rehash(h, d);
    });
    assert_eq!(
        e,
        BundleError::BadValue {
            name: "sex".into(),
            index: 5,
            value: 3
        }
    );
}

#[test]
fn card_counts_that_contradict_the_data_are_rejected() {
    let e = read_edited(|h, _| {
        let mut c = card_of(h);
        c["counts_by_class"] = serde_json::json!([13, 0, 0]);
        with_card(h, &c);
    });
    assert!(matches!(e, BundleError::BadCard(_)), "{e}");
}

/// Lesion masks are optional: a bundle with them stores them as grey lossless WebPs and reads them
/// back exactly; a bundle without them reads back without; a wrong mask count is refused.
#[test]
fn lesion_masks_round_trip_when_present() {
    let mut b = bundle();
    let per = (SIDE * SIDE) as usize;
    let masks: Vec<u8> = (0..b.len() * per).map(|k| ((k * 13) % 256) as u8).collect();
    b.lesion_masks = Some(masks.clone());
    let bytes = write_eval_bundle(&b).unwrap();
    let back = read_eval_bundle(&bytes).unwrap();
    assert_eq!(back.lesion_masks.as_deref(), Some(&masks[..]));
    assert_eq!(back.lesion_mask(2).unwrap(), &masks[2 * per..3 * per]);
    let (header, _) = split(&bytes);
    assert_eq!(header["mask_webp"]["dtype"], "U8");
    let plain = read_eval_bundle(&write_eval_bundle(&bundle()).unwrap()).unwrap();
    assert!(plain.lesion_masks.is_none() && plain.lesion_mask(0).is_none());
    b.lesion_masks = Some(masks[..masks.len() - per].to_vec());
    let e = write_eval_bundle(&b).unwrap_err();
    assert!(e.to_string().contains("lesion_masks"), "{e}");
}

/// `b` in format version 1 (what earlier builds wrote): images and masks as PNG in tensors
/// `png`, `png_offsets`, `mask_png`, `mask_png_offsets`, the per-image tensors as written now.
fn version_1_bytes(b: &EvalBundle) -> Vec<u8> {
    use image::ImageEncoder;
    let png = |raw: &[u8], colour| {
        let mut out = Vec::new();
        image::codecs::png::PngEncoder::new(&mut out)
            .write_image(raw, SIDE, SIDE, colour)
            .unwrap();
        out
    };
    let packed = |files: Vec<Vec<u8>>| {
        let mut offsets = vec![0u32];
        let mut bytes = Vec::new();
        for f in files {
            bytes.extend(f);
            offsets.push(bytes.len() as u32);
        }
        let offsets: Vec<u8> = offsets.iter().flat_map(|o| o.to_le_bytes()).collect();
        (bytes, offsets)
    };
    let (written, written_data) = split(&write_eval_bundle(b).unwrap());
    let mut tensors: Vec<(String, &str, Vec<u8>)> = Vec::new();
    for name in ["label", "skin_type", "sex", "age", "id"] {
        let [s, e] = [0, 1].map(|k| written[name]["data_offsets"][k].as_u64().unwrap() as usize);
        let dtype = written[name]["dtype"].as_str().unwrap();
        tensors.push((name.into(), dtype, written_data[s..e].to_vec()));
    }
    let (images, offsets) = packed(
        (0..b.len())
            .map(|i| png(b.image(i), image::ExtendedColorType::Rgb8))
            .collect(),
    );
    tensors.push(("png".into(), "U8", images));
    tensors.push(("png_offsets".into(), "U32", offsets));
    if let Some(masks) = &b.lesion_masks {
        let per = (SIDE * SIDE) as usize;
        let (masks, offsets) = packed(
            masks
                .chunks(per)
                .map(|m| png(m, image::ExtendedColorType::L8))
                .collect(),
        );
        tensors.push(("mask_png".into(), "U8", masks));
        tensors.push(("mask_png_offsets".into(), "U32", offsets));
    }
    let mut header = Map::new();
    header.insert("__metadata__".into(), written["__metadata__"].clone());
    let mut data = Vec::new();
    for (name, dtype, bytes) in tensors {
        let size = if dtype == "U32" { 4 } else { 1 };
        let start = data.len();
        data.extend_from_slice(&bytes);
        header.insert(
            name,
            serde_json::json!({"dtype": dtype, "shape": [bytes.len() / size],
                "data_offsets": [start, data.len()]}),
        );
    }
    let mut c = card_of(&header);
    c["format_version"] = Value::from(1);
    with_card(&mut header, &c);
    rehash(&mut header, &data);
    join(&header, &data)
}

/// Bundles written by earlier builds (format version 1, PNG) still read, to the same data.
#[test]
fn a_version_1_bundle_with_png_images_still_reads() {
    let mut b = bundle();
    let per = (SIDE * SIDE) as usize;
    b.lesion_masks = Some((0..b.len() * per).map(|k| ((k * 5) % 256) as u8).collect());
    let bytes = version_1_bytes(&b);
    let (header, _) = split(&bytes);
    assert!(header.contains_key("png") && !header.contains_key("webp"));
    let back = read_eval_bundle(&bytes).unwrap();
    assert_eq!(back.card.format_version, 1);
    assert_eq!(back.images, b.images);
    assert_eq!(back.lesion_masks, b.lesion_masks);
}

/// The writer checks every encoded image decodes back to its pixels: a lossy or broken encoder is
/// refused, naming the image.
#[test]
fn an_encoder_that_is_not_lossless_is_refused() {
    let b = bundle();
    let lossy = |img: &image::RgbImage| {
        let mut changed = img.clone();
        changed.get_pixel_mut(3, 3)[0] ^= 1;
        fairscreen_core::encode_webp_lossless(&changed)
    };
    let e = write_eval_bundle_with(&b, &lossy).unwrap_err();
    assert_eq!(
        e,
        BundleError::BadImage {
            index: 0,
            message:
                "the encoder's WebP does not decode back to the same pixels (it must be lossless)"
                    .into()
        }
    );
    let e = write_eval_bundle_with(&b, &|_| Vec::new()).unwrap_err();
    assert!(e.to_string().contains("image 0 is not valid"), "{e}");
}
