//! Decoding a dataset's images as the model sees them (centre-cropped and resized).

use std::fmt;
use std::path::Path;

use fairscreen_core::preprocess::{decode_image, square_resize, DecodeError};
use image::RgbImage;

use crate::index::{DatasetError, DatasetIndex, LabelledImage, OnBadRow, RowProblem};

/// Why one image file cannot be loaded.
#[derive(Debug)]
pub enum ImageLoadError {
    /// The file cannot be read.
    Read(std::io::Error),
    /// Its bytes are not a usable image.
    Decode(DecodeError),
}

impl fmt::Display for ImageLoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Read(e) => write!(f, "cannot read: {e}"),
            Self::Decode(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for ImageLoadError {}

/// Reads, decodes (JPEG, PNG, WebP), centre-crops and resizes one image to `side`×`side`.
pub fn load_image(path: &Path, side: u32) -> Result<RgbImage, ImageLoadError> {
    let bytes = std::fs::read(path).map_err(ImageLoadError::Read)?;
    let img = decode_image(&bytes).map_err(ImageLoadError::Decode)?;
    Ok(square_resize(&img, side))
}

/// Decoded images of a dataset and what could not be decoded.
#[derive(Clone, Debug)]
pub struct LoadedImages {
    /// Decoded, resized images.
    pub images: Vec<RgbImage>,
    /// The items whose image loaded, in the same order.
    pub items: Vec<LabelledImage>,
    /// Unreadable images (with `OnBadRow::Skip`).
    pub problems: Vec<RowProblem>,
}

/// Loads every item's image; an unreadable one becomes a problem naming its CSV line and file,
/// skipped or fatal per `on_bad`.
pub fn load_images(
    index: &DatasetIndex,
    side: u32,
    on_bad: OnBadRow,
    mut progress: impl FnMut(usize, usize),
) -> Result<LoadedImages, DatasetError> {
    let mut images = Vec::with_capacity(index.items.len());
    let mut kept = Vec::with_capacity(index.items.len());
    let mut problems = Vec::new();
    let total = index.items.len();
    for (k, item) in index.items.iter().enumerate() {
        match load_image(&item.path, side) {
            Ok(img) => {
                images.push(img);
                kept.push(item.clone());
            }
            Err(e) => {
                let p = RowProblem {
                    file: index.csv.clone(),
                    line: item.line,
                    message: format!("image {}: {e}", item.path.display()),
                };
                match on_bad {
                    OnBadRow::Fail => return Err(DatasetError::Row(p)),
                    OnBadRow::Skip => problems.push(p),
                }
            }
        }
        progress(k + 1, total);
    }
    Ok(LoadedImages {
        images,
        items: kept,
        problems,
    })
}
