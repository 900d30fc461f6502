//! Image data sets in the layouts people keep them in: class-per-folder trees (the
//! torchvision ImageFolder layout), IDX files (MNIST, Fashion-MNIST; gzipped or not) and
//! CSV files of `path,label`. Readers list examples without decoding them; [`decode`]
//! turns a batch of them into normalised tensors on worker threads.

mod dataset;
mod decode;
mod folder;
mod idx;
mod inputs;
mod list;
mod splits;

use std::path::PathBuf;
use std::sync::Arc;

pub use dataset::{ImageBatch, ImageDataset, ImageTransform};
pub use decode::{Crop, Preprocess, decode_batch, load_rgb};
pub use folder::read_image_folder;
pub use idx::read_idx;
pub use inputs::read_image_inputs;
pub use list::read_image_list;
pub use splits::{encode_labels, load_image_splits, read_images};

/// Source of an image's pixels.
#[derive(Debug, Clone)]
pub enum ImageSource {
    /// An encoded file (PNG or JPEG), decoded when a batch needs it.
    File(PathBuf),
    /// One grey image of an IDX file: `rows * columns` bytes at `offset` of `pixels`.
    Grey {
        pixels: Arc<Vec<u8>>,
        offset: usize,
        rows: usize,
        columns: usize,
    },
}

/// One labelled (or unlabelled) image.
#[derive(Debug, Clone)]
pub struct ImageExample {
    pub source: ImageSource,
    pub label: Option<String>,
    /// Origin of the example for messages: a file path, or `file[index]` for IDX.
    pub origin: String,
}

/// File extensions read as images.
pub const IMAGE_EXTENSIONS: [&str; 4] = ["png", "jpg", "jpeg", "bmp"];

fn is_image_file(path: &std::path::Path) -> bool {
    path.extension()
        .and_then(|extension| extension.to_str())
        .is_some_and(|extension| {
            IMAGE_EXTENSIONS.contains(&extension.to_ascii_lowercase().as_str())
        })
}
