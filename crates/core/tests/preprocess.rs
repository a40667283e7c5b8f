//! Image decoding, square resize and normalisation.

mod common;

use common::config;
use fairscreen_core::preprocess::{decode_image, encode_png, prepare_image_bytes, square_resize};
use image::{Rgb, RgbImage};

#[test]
fn non_images_get_distinct_clear_errors() {
    assert_eq!(
        decode_image(b"").unwrap_err().to_string(),
        "the file is empty"
    );
    let text = decode_image(b"hello, this is text\n")
        .unwrap_err()
        .to_string();
    assert!(
        text.contains("this is text, which FairScreen cannot read"),
        "{text}"
    );
    let random = decode_image(&[0x13, 0x00, 0xFE, 0x80, 0x01])
        .unwrap_err()
        .to_string();
    assert!(random.contains("not a supported image"), "{random}");
    let gif = decode_image(b"GIF89a\x01\x00\x01\x00\x00\x00\x00;")
        .unwrap_err()
        .to_string();
    assert!(
        gif.contains("this is a GIF image, which FairScreen cannot read"),
        "{gif}"
    );
    let mut broken = encode_png(&RgbImage::new(4, 4));
    broken.truncate(30);
    let e = decode_image(&broken).unwrap_err().to_string();
    assert!(e.contains("could not decode the PNG image"), "{e}");
}

#[test]
fn png_round_trips() {
    let mut img = RgbImage::new(5, 3);
    img.put_pixel(1, 2, Rgb([10, 200, 30]));
    assert_eq!(decode_image(&encode_png(&img)).unwrap(), img);
}

#[test]
fn jpeg_decodes() {
    let img = RgbImage::from_pixel(16, 16, Rgb([120, 60, 30]));
    let mut out = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(img)
        .write_to(&mut out, image::ImageFormat::Jpeg)
        .unwrap();
    let back = decode_image(out.get_ref()).unwrap();
    assert_eq!(back.dimensions(), (16, 16));
    let px = back.get_pixel(8, 8);
    assert!(
        (px[0] as i32 - 120).abs() <= 3 && (px[2] as i32 - 30).abs() <= 3,
        "{px:?}"
    );
}

#[test]
fn square_resize_centre_crops() {
    // Left and right thirds red, middle blue: the centre crop of a 90×30 image is all blue.
    let img = RgbImage::from_fn(90, 30, |x, _| {
        if (30..60).contains(&x) {
            Rgb([0, 0, 255])
        } else {
            Rgb([255, 0, 0])
        }
    });
    let sq = square_resize(&img, 10);
    assert_eq!(sq.dimensions(), (10, 10));
    assert!(sq.pixels().all(|p| p == &Rgb([0, 0, 255])));
}

#[test]
fn prepared_input_is_normalised_chw() {
    let img = RgbImage::from_pixel(100, 80, Rgb([255, 128, 0]));
    let x = prepare_image_bytes(&encode_png(&img), &config()).unwrap();
    assert_eq!(x.len(), 3 * 64 * 64);
    let plane = 64 * 64;
    let expect = |v: f32| (v / 255.0 - 0.5) / 0.25;
    assert!(x[..plane].iter().all(|&v| (v - expect(255.0)).abs() < 1e-6));
    assert!(x[plane..2 * plane]
        .iter()
        .all(|&v| (v - expect(128.0)).abs() < 1e-6));
    assert!(x[2 * plane..]
        .iter()
        .all(|&v| (v - expect(0.0)).abs() < 1e-6));
}

/// `jpeg` with an EXIF APP1 segment (little-endian TIFF, one IFD entry: Orientation) after SOI.
fn with_exif_orientation(jpeg: &[u8], orientation: u16) -> Vec<u8> {
    let mut tiff = b"II\x2a\x00\x08\x00\x00\x00\x01\x00\x12\x01\x03\x00\x01\x00\x00\x00".to_vec();
    tiff.extend_from_slice(&orientation.to_le_bytes());
    tiff.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
    let mut app1 = b"Exif\x00\x00".to_vec();
    app1.extend_from_slice(&tiff);
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&((app1.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(&app1);
    out.extend_from_slice(&jpeg[2..]);
    out
}

fn jpeg_of(img: &RgbImage) -> Vec<u8> {
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 95)
        .encode_image(img)
        .unwrap();
    out
}

#[test]
fn a_jpeg_is_turned_upright_by_its_exif_orientation() {
    // Stored 16 × 8 with a bright left edge; orientation 6 says "rotate 90° clockwise to view".
    let stored = RgbImage::from_fn(16, 8, |x, y| {
        Rgb([if x < 4 { 250 } else { 20 }, 8 * y as u8, 90])
    });
    let plain = jpeg_of(&stored);
    let as_stored = decode_image(&plain).unwrap();
    assert_eq!(as_stored.dimensions(), (16, 8));
    let rotated = decode_image(&with_exif_orientation(&plain, 6)).unwrap();
    assert_eq!(rotated.dimensions(), (8, 16));
    assert_eq!(rotated, image::imageops::rotate90(&as_stored));
    // The bright edge is now on top, as the photographer saw it.
    assert!(rotated.get_pixel(4, 0)[0] > 200 && rotated.get_pixel(4, 15)[0] < 60);
    // Orientation 1 (upright) and 3 (upside down).
    assert_eq!(
        decode_image(&with_exif_orientation(&plain, 1)).unwrap(),
        as_stored
    );
    assert_eq!(
        decode_image(&with_exif_orientation(&plain, 3)).unwrap(),
        image::imageops::rotate180(&as_stored)
    );
}

#[test]
fn a_header_claiming_a_huge_image_is_refused_before_decoding() {
    // A PNG header (IHDR) claiming 50,000 × 50,000 pixels and nothing behind it.
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = b"IHDR".to_vec();
    ihdr.extend_from_slice(&50_000u32.to_be_bytes());
    ihdr.extend_from_slice(&50_000u32.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    png.extend_from_slice(&13u32.to_be_bytes());
    png.extend_from_slice(&ihdr);
    let mut crc = 0xFFFF_FFFFu32;
    for &b in &ihdr {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    png.extend_from_slice(&(!crc).to_be_bytes());
    // An empty IDAT chunk: the header is complete, the pixels never come.
    png.extend_from_slice(&0u32.to_be_bytes());
    png.extend_from_slice(b"IDAT");
    png.extend_from_slice(&0x35AF_061Eu32.to_be_bytes());
    let e = decode_image(&png).unwrap_err().to_string();
    assert_eq!(
        e,
        "the image is 50000 × 50000 pixels, more than the 50 megapixels supported"
    );
}

/// The header's size read by hand equals the decoder's, for every readable corpus photo.
#[test]
fn header_dimensions_equal_the_decoders() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/corpus/images");
    let mut checked = 0;
    for e in std::fs::read_dir(dir).unwrap() {
        let bytes = std::fs::read(e.unwrap().path()).unwrap();
        let Ok(format) = image::guess_format(&bytes) else {
            continue;
        };
        let Ok(decoded) = image::load_from_memory_with_format(&bytes, format) else {
            continue;
        };
        let dims = fairscreen_core::preprocess::header_dimensions(format, &bytes);
        if matches!(
            format,
            image::ImageFormat::Png | image::ImageFormat::Jpeg | image::ImageFormat::WebP
        ) {
            assert_eq!(
                dims,
                Some((decoded.width(), decoded.height())),
                "{format:?}"
            );
            checked += 1;
        }
    }
    assert!(checked >= 20, "{checked}");
}
