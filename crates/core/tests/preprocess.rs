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
    assert!(text.contains("not a supported image"), "{text}");
    let gif = decode_image(b"GIF89a\x01\x00\x01\x00\x00\x00\x00;")
        .unwrap_err()
        .to_string();
    assert!(gif.contains("unsupported image format Gif"), "{gif}");
    let mut broken = encode_png(&RgbImage::new(4, 4));
    broken.truncate(30);
    let e = decode_image(&broken).unwrap_err().to_string();
    assert!(e.contains("could not decode the Png image"), "{e}");
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
