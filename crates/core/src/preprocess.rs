//! Image → model input: decode (JPEG, PNG, WebP), centre-crop to a square, resize, normalise.
//! The trainer and the browser call the same functions, so a photo is seen identically by both.

use std::fmt;

use image::imageops::FilterType;
use image::{DynamicImage, ImageDecoder, ImageFormat, RgbImage};

use crate::config::ModelConfig;

/// Why image bytes cannot be used as a photo.
#[derive(Clone, Debug, PartialEq)]
pub enum DecodeError {
    /// No bytes at all.
    Empty,
    /// Not recognisably an image.
    NotAnImage,
    /// An image format other than JPEG, PNG or WebP.
    Unsupported(ImageFormat),
    /// Not an image at all, but recognisably something else (`found` says what, in words).
    Other {
        /// What the bytes are, e.g. "an SVG drawing".
        found: &'static str,
    },
    /// The file ends before its image data does (cut off, or not fully downloaded).
    Truncated(ImageFormat),
    /// A supported format that fails to decode.
    Decode {
        /// The format.
        format: ImageFormat,
        /// The decoder's message.
        message: String,
    },
    /// An image without pixels.
    NoPixels,
    /// More pixels than [`MAX_PIXELS`], by its header.
    TooLarge {
        /// Width the header claims.
        width: u32,
        /// Height the header claims.
        height: u32,
    },
}

/// The most pixels a photo may have (50 megapixels: a 8660 × 5773 photo; larger ones are
/// refused by their header, before decoding).
pub const MAX_PIXELS: u64 = 50_000_000;

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => write!(f, "the file is empty"),
            Self::NotAnImage => write!(
                f,
                "not a supported image: expected a JPEG, PNG or WebP file"
            ),
            Self::Unsupported(format) => write!(
                f,
                "this is {} {} image, which FairScreen cannot read: expected a JPEG, PNG or WebP \
                 photo",
                if format_name(*format).starts_with(['A', 'E', 'I', 'O', 'U']) {
                    "an"
                } else {
                    "a"
                },
                format_name(*format)
            ),
            Self::Other { found } => write!(
                f,
                "this is {found}, which FairScreen cannot read: expected a JPEG, PNG or WebP photo"
            ),
            Self::Truncated(format) => write!(
                f,
                "the {} file ends before its image data does: it is cut off (copy or download it \
                 again)",
                format_name(*format)
            ),
            Self::Decode { format, message } => write!(
                f,
                "could not decode the {} image: {message}",
                format_name(*format)
            ),
            Self::NoPixels => write!(f, "the image has no pixels"),
            Self::TooLarge { width, height } => write!(
                f,
                "the image is {width} × {height} pixels, more than the {} megapixels supported",
                MAX_PIXELS / 1_000_000
            ),
        }
    }
}

impl std::error::Error for DecodeError {}

/// An image format's usual name (`JPEG`, `PNG`, `WebP`, `BMP`, `GIF`, `TIFF`…).
fn format_name(format: ImageFormat) -> String {
    match format {
        ImageFormat::WebP => "WebP".to_string(),
        other => format!("{other:?}").to_uppercase(),
    }
}

/// Decodes JPEG, PNG or WebP bytes into RGB8, turned upright by its EXIF orientation; any other
/// content gets a clear error.
pub fn decode_image(bytes: &[u8]) -> Result<RgbImage, DecodeError> {
    if bytes.is_empty() {
        return Err(DecodeError::Empty);
    }
    let format = match image::guess_format(bytes) {
        Ok(format) => format,
        Err(_) => {
            return Err(match sniff_non_image(bytes) {
                Some(found) => DecodeError::Other { found },
                None => DecodeError::NotAnImage,
            })
        }
    };
    if !matches!(
        format,
        ImageFormat::Jpeg | ImageFormat::Png | ImageFormat::WebP
    ) {
        return Err(DecodeError::Unsupported(format));
    }
    // A JPEG decoder fills a cut-off scan with grey instead of failing: refuse it first.
    if format == ImageFormat::Jpeg && !jpeg_has_end_after_scan(bytes) {
        return Err(DecodeError::Truncated(format));
    }
    // The header's size, read by hand first: a decoder may refuse a huge image with its own
    // less helpful error (on wasm32 a 50,000 × 50,000 PNG overflows its buffer size first).
    if let Some((width, height)) = header_dimensions(format, bytes) {
        if u64::from(width) * u64::from(height) > MAX_PIXELS {
            return Err(DecodeError::TooLarge { width, height });
        }
    }
    let decode_error = |e: image::ImageError| DecodeError::Decode {
        format,
        message: e.to_string(),
    };
    let mut reader = image::ImageReader::with_format(std::io::Cursor::new(bytes), format);
    // Our own size check below names the size; the decoder's allocation limit comes after it.
    reader.no_limits();
    let mut decoder = reader.into_decoder().map_err(decode_error)?;
    // The decoder's view of the size, checked before a single pixel is allocated.
    let (width, height) = decoder.dimensions();
    if u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(DecodeError::TooLarge { width, height });
    }
    decoder
        .set_limits(image::Limits::default())
        .map_err(decode_error)?;
    // The EXIF orientation (a phone's portrait photo is stored sideways): the model and the
    // heatmap see the photo as its owner does. An unreadable orientation tag counts as none.
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut img = DynamicImage::from_decoder(decoder).map_err(decode_error)?;
    if img.width() == 0 || img.height() == 0 {
        return Err(DecodeError::NoPixels);
    }
    img.apply_orientation(orientation);
    Ok(img.to_rgb8())
}

/// The width and height a PNG, JPEG or WebP header claims, read without a decoder (`None` when
/// the header is too short or malformed: the decoder then reports it).
pub fn header_dimensions(format: ImageFormat, bytes: &[u8]) -> Option<(u32, u32)> {
    let be16 = |i: usize| Some(u16::from_be_bytes(bytes.get(i..i + 2)?.try_into().ok()?));
    let le16 = |i: usize| Some(u16::from_le_bytes(bytes.get(i..i + 2)?.try_into().ok()?));
    let le24 = |i: usize| {
        let b = bytes.get(i..i + 3)?;
        Some(u32::from(b[0]) | u32::from(b[1]) << 8 | u32::from(b[2]) << 16)
    };
    match format {
        ImageFormat::Png => {
            if bytes.get(12..16)? != b"IHDR" {
                return None;
            }
            let w = u32::from_be_bytes(bytes.get(16..20)?.try_into().ok()?);
            let h = u32::from_be_bytes(bytes.get(20..24)?.try_into().ok()?);
            Some((w, h))
        }
        ImageFormat::Jpeg => {
            // Segment by segment to the first start-of-frame (SOF0–SOF15 but DHT, JPG, DAC).
            let mut i = 2;
            loop {
                while *bytes.get(i)? == 0xFF && *bytes.get(i + 1)? == 0xFF {
                    i += 1;
                }
                if *bytes.get(i)? != 0xFF {
                    return None;
                }
                let marker = *bytes.get(i + 1)?;
                match marker {
                    0xC0..=0xCF if !matches!(marker, 0xC4 | 0xC8 | 0xCC) => {
                        return Some((u32::from(be16(i + 7)?), u32::from(be16(i + 5)?)));
                    }
                    0x01 | 0xD0..=0xD8 => i += 2,
                    0xDA | 0xD9 => return None,
                    _ => i += 2 + usize::from(be16(i + 2)?),
                }
            }
        }
        ImageFormat::WebP => match bytes.get(12..16)? {
            b"VP8X" => Some((le24(24)? + 1, le24(27)? + 1)),
            b"VP8 " => Some((u32::from(le16(26)? & 0x3FFF), u32::from(le16(28)? & 0x3FFF))),
            b"VP8L" => {
                let bits = u32::from_le_bytes(bytes.get(21..25)?.try_into().ok()?);
                Some(((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1))
            }
            _ => None,
        },
        _ => None,
    }
}

/// Whether JPEG bytes hold an end-of-image marker after their first start-of-scan (entropy-coded
/// data escapes every 0xFF, so the marker cannot occur inside it; bytes after the end are allowed).
fn jpeg_has_end_after_scan(bytes: &[u8]) -> bool {
    let Some(scan) = bytes.windows(2).position(|w| w == [0xFF, 0xDA]) else {
        return false;
    };
    bytes[scan..].windows(2).any(|w| w == [0xFF, 0xD9])
}

/// What bytes that are no image format the decoder knows are, when recognisable: a drawing, a
/// web page, an iPhone photo, a PDF or text (so the message can say so).
pub fn sniff_non_image(bytes: &[u8]) -> Option<&'static str> {
    let head = &bytes[..bytes.len().min(1024)];
    if head.len() >= 12 && &head[4..8] == b"ftyp" {
        return Some(match &head[8..12] {
            b"heic" | b"heix" | b"hevc" | b"hevx" | b"heim" | b"heis" | b"mif1" | b"msf1" => {
                "a HEIC/HEIF photo (the iPhone's format: export or share it as JPEG)"
            }
            b"avif" | b"avis" => "an AVIF image",
            _ => "a video or other ISO media file",
        });
    }
    if head.starts_with(b"%PDF") {
        return Some("a PDF document");
    }
    if head.starts_with(&[0xFF, 0xFE]) || head.starts_with(&[0xFE, 0xFF]) {
        return Some("text (UTF-16)");
    }
    let text = std::str::from_utf8(head)
        .or_else(|e| std::str::from_utf8(&head[..e.valid_up_to()]))
        .ok()?;
    // A cut at 1024 bytes may split a character: only the valid prefix is read as text.
    if text.len() + 4 < head.len() {
        return None;
    }
    let lower = text
        .trim_start_matches('\u{feff}')
        .trim_start()
        .to_ascii_lowercase();
    if lower.starts_with("<svg") || (lower.starts_with("<?xml") && lower.contains("<svg")) {
        return Some("an SVG drawing");
    }
    if lower.starts_with("<!doctype html") || lower.starts_with("<html") {
        return Some("an HTML page");
    }
    let printable = text
        .chars()
        .all(|c| !c.is_control() || matches!(c, '\n' | '\r' | '\t' | '\u{feff}'));
    (printable && !text.is_empty()).then_some("text")
}

/// Centre-crops to the largest square and resizes to `side`×`side` (triangle filter).
pub fn square_resize(img: &RgbImage, side: u32) -> RgbImage {
    let (w, h) = img.dimensions();
    let s = w.min(h);
    let cropped = image::imageops::crop_imm(img, (w - s) / 2, (h - s) / 2, s, s).to_image();
    if s == side {
        return cropped;
    }
    image::imageops::resize(&cropped, side, side, FilterType::Triangle)
}

/// Normalised CHW f32 input (`(x/255 − mean)/std`) from a `side`×`side` RGB image.
pub fn to_input(img: &RgbImage, config: &ModelConfig) -> Vec<f32> {
    let (w, h) = img.dimensions();
    let plane = (w * h) as usize;
    let mut out = vec![0.0f32; 3 * plane];
    for (i, px) in img.pixels().enumerate() {
        for c in 0..3 {
            out[c * plane + i] = (px[c] as f32 / 255.0 - config.mean[c]) / config.std[c];
        }
    }
    out
}

/// Decode + square resize + normalise: the model's input `[3, S, S]` for an image file's bytes.
pub fn prepare_image_bytes(bytes: &[u8], config: &ModelConfig) -> Result<Vec<f32>, DecodeError> {
    let img = decode_image(bytes)?;
    Ok(to_input(
        &square_resize(&img, config.input_size as u32),
        config,
    ))
}

/// Encodes an RGB image as PNG bytes (for fixtures and reports).
pub fn encode_png(img: &RgbImage) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    DynamicImage::ImageRgb8(img.clone())
        .write_to(&mut out, ImageFormat::Png)
        .expect("PNG encoding to memory cannot fail");
    out.into_inner()
}
