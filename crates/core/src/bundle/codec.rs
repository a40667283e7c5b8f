//! The evaluation bundle's image codecs: where each format version keeps its images and lesion
//! masks, the lossless WebP encoding (checked to decode back exactly) and the decoding.

use image::RgbImage;

use super::BundleError;

/// Where a bundle version keeps its images and lesion masks, and their codec.
pub(super) struct ImageTensors {
    /// Tensor of the concatenated encoded images (`<images>_offsets` holds their offsets).
    pub(super) images: &'static str,
    /// Tensor of the concatenated encoded lesion masks.
    pub(super) masks: &'static str,
    /// Their codec.
    pub(super) format: image::ImageFormat,
}

/// The image tensors of format `version` (1: PNG, 2: lossless WebP).
pub(super) fn image_tensors(version: u32) -> ImageTensors {
    if version == 1 {
        ImageTensors {
            images: "png",
            masks: "mask_png",
            format: image::ImageFormat::Png,
        }
    } else {
        ImageTensors {
            images: "webp",
            masks: "mask_webp",
            format: image::ImageFormat::WebP,
        }
    }
}

/// An RGB image as lossless WebP by the pure-Rust encoder (empty if it fails, which the writer
/// reports): what [`super::write_eval_bundle`] uses; the trainer passes libwebp, whose files are smaller.
pub fn encode_webp_lossless(img: &RgbImage) -> Vec<u8> {
    use image::ImageEncoder;
    let mut out = Vec::new();
    match image::codecs::webp::WebPEncoder::new_lossless(&mut out).write_image(
        img.as_raw(),
        img.width(),
        img.height(),
        image::ExtendedColorType::Rgb8,
    ) {
        Ok(()) => out,
        Err(_) => Vec::new(),
    }
}

/// `encode(img)`, checked to decode back to exactly `img` (the bundle must be lossless); an
/// error names image `index` and `what` it is.
pub(super) fn encode_checked(
    img: &RgbImage,
    encode: &dyn Fn(&RgbImage) -> Vec<u8>,
    index: usize,
    what: &str,
) -> Result<Vec<u8>, BundleError> {
    let bytes = encode(img);
    let same = image::load_from_memory_with_format(&bytes, image::ImageFormat::WebP)
        .is_ok_and(|back| back.into_rgb8() == *img);
    if same {
        return Ok(bytes);
    }
    Err(BundleError::BadImage {
        index,
        message: format!(
            "{what}the encoder's WebP does not decode back to the same pixels (it must be \
             lossless)"
        ),
    })
}

/// Decodes the `offsets.len() − 1` images of `format` packed in tensor `name`, each
/// `side × side`, into their concatenated raw pixels (`convert` gives each image's); errors about
/// an image start with `what`.
#[allow(clippy::too_many_arguments)]
pub(super) fn decode_images(
    packed: &[u8],
    offsets: &[u32],
    side: u32,
    name: &str,
    what: &str,
    format: image::ImageFormat,
    convert: impl Fn(image::DynamicImage) -> Vec<u8>,
    mut decoded: impl FnMut(usize),
) -> Result<Vec<u8>, BundleError> {
    let n = offsets.len() - 1;
    if offsets[0] != 0
        || offsets.windows(2).any(|w| w[1] < w[0])
        || offsets[n] as usize != packed.len()
    {
        return Err(BundleError::BadHeader(format!(
            "{name}_offsets are not increasing from 0 to the length of '{name}'"
        )));
    }
    let mut out = Vec::new();
    for i in 0..n {
        let bytes = &packed[offsets[i] as usize..offsets[i + 1] as usize];
        let img = image::load_from_memory_with_format(bytes, format).map_err(|e| {
            BundleError::BadImage {
                index: i,
                message: format!("{what}{e}"),
            }
        })?;
        if img.width() != side || img.height() != side {
            return Err(BundleError::BadImage {
                index: i,
                message: format!(
                    "{what}{}×{} pixels, the data card says {side}×{side}",
                    img.width(),
                    img.height()
                ),
            });
        }
        out.extend(convert(img));
        decoded(i);
    }
    Ok(out)
}
