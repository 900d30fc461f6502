//! IDX files as MNIST and Fashion-MNIST ship them: an image file (magic 0x00000803,
//! u8 pixels [n, rows, columns]) and a label file (magic 0x00000801, u8 labels [n]),
//! each optionally gzipped. See http://yann.lecun.com/exdb/mnist/ for the format.

use std::io::Read;
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result, bail};

use super::{ImageExample, ImageSource};

const IMAGES_MAGIC: u32 = 0x0000_0803;
const LABELS_MAGIC: u32 = 0x0000_0801;

/// Reads an IDX image file and its label file. Labels become their decimal digits
/// (`"0"` to `"9"` for Fashion-MNIST), so the label set sorts in class order.
pub fn read_idx(images_path: &Path, labels_path: &Path) -> Result<Vec<ImageExample>> {
    let images = read_maybe_gzipped(images_path)?;
    let labels = read_maybe_gzipped(labels_path)?;

    let header = |bytes: &[u8], count: usize, path: &Path| -> Result<Vec<u32>> {
        if bytes.len() < 4 * count {
            bail!(
                "{}: {} bytes is too short for an IDX header",
                path.display(),
                bytes.len()
            );
        }
        Ok(bytes[..4 * count]
            .chunks_exact(4)
            .map(|chunk| u32::from_be_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]))
            .collect())
    };
    let image_header = header(&images, 4, images_path)?;
    let label_header = header(&labels, 2, labels_path)?;
    if image_header[0] != IMAGES_MAGIC {
        bail!(
            "{}: magic number {:#010x} is not an IDX image file ({IMAGES_MAGIC:#010x}); is it the label file?",
            images_path.display(),
            image_header[0]
        );
    }
    if label_header[0] != LABELS_MAGIC {
        bail!(
            "{}: magic number {:#010x} is not an IDX label file ({LABELS_MAGIC:#010x}); is it the image file?",
            labels_path.display(),
            label_header[0]
        );
    }

    let (count, rows, columns) = (
        image_header[1] as usize,
        image_header[2] as usize,
        image_header[3] as usize,
    );
    if rows == 0 || columns == 0 {
        bail!(
            "{}: the header gives images of {rows} x {columns} pixels; the file is damaged",
            images_path.display()
        );
    }
    let label_count = label_header[1] as usize;
    if count != label_count {
        bail!(
            "{} has {count} images but {} has {label_count} labels; the two files must come from the same split",
            images_path.display(),
            labels_path.display()
        );
    }
    let expected = 16 + count * rows * columns;
    if images.len() != expected {
        bail!(
            "{}: {} bytes, but {count} images of {rows} x {columns} need {expected}; the file is truncated or damaged",
            images_path.display(),
            images.len()
        );
    }
    if labels.len() != 8 + count {
        bail!(
            "{}: {} bytes, but {count} labels need {}; the file is truncated or damaged",
            labels_path.display(),
            labels.len(),
            8 + count
        );
    }

    let pixels = Arc::new(images);
    Ok((0..count)
        .map(|index| ImageExample {
            source: ImageSource::Grey {
                pixels: pixels.clone(),
                offset: 16 + index * rows * columns,
                rows,
                columns,
            },
            label: Some(labels[8 + index].to_string()),
            origin: format!("{}[{index}]", images_path.display()),
        })
        .collect())
}

/// Reads a file, gunzipping it when it starts with the gzip magic bytes.
fn read_maybe_gzipped(path: &Path) -> Result<Vec<u8>> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut decoded = Vec::new();
        flate2::read::GzDecoder::new(bytes.as_slice())
            .read_to_end(&mut decoded)
            .with_context(|| {
                format!(
                    "{}: invalid gzip data; the file is truncated or damaged",
                    path.display()
                )
            })?;
        return Ok(decoded);
    }
    Ok(bytes)
}
