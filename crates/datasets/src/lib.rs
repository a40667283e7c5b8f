//! Readers that turn real dermatology dataset layouts into one list of labelled images:
//! ISIC 2019 and Fitzpatrick-17k as split by the FME/SCP reference code (papers.md §7), and a
//! generic labelled folder (`labels.csv`: file, label, skin_type, sex, age). Every bad row is
//! reported with its file and line (header = line 1), then skipped or fatal as the caller asks.

#![warn(missing_docs)]

mod fitzpatrick;
mod folder;
mod images;
mod index;
mod isic;
mod table;

pub use fitzpatrick::{read_fitzpatrick17k, FITZ_CLASSES};
pub use folder::read_labelled_folder;
pub use images::{load_image, load_images, ImageLoadError, LoadedImages};
pub use index::{
    DatasetError, DatasetIndex, LabelledImage, OnBadRow, ReadReport, RowProblem, UnknownFitzpatrick,
};
pub use isic::{read_isic2019, ISIC_CLASSES};
