//! CSV files that list images: a header with a path column and a label column, one image
//! per row. Relative paths are relative to the CSV file's folder.

use std::path::Path;

use anyhow::{Context, Result, bail};

use super::{ImageExample, ImageSource};

/// Reads the image list in `path`. A missing file is an error naming the CSV line; its
/// pixels are not read until a batch needs them.
pub fn read_image_list(
    path: &Path,
    path_column: &str,
    label_column: &str,
) -> Result<Vec<ImageExample>> {
    let mut reader = csv::Reader::from_path(path)
        .with_context(|| format!("cannot read image list {}", path.display()))?;
    let headers = reader
        .headers()
        .with_context(|| format!("{}: cannot read the header row", path.display()))?
        .clone();
    let column = |name: &str| {
        headers
            .iter()
            .position(|header| header == name)
            .with_context(|| {
                format!(
                    "{}: no column {name:?}; the header has [{}]",
                    path.display(),
                    headers.iter().collect::<Vec<_>>().join(", ")
                )
            })
    };
    let path_index = column(path_column)?;
    let label_index = headers.iter().position(|header| header == label_column);
    let base = path.parent().unwrap_or(Path::new("."));

    let mut examples = Vec::new();
    for (row, record) in reader.records().enumerate() {
        let line = row + 2;
        let record =
            record.with_context(|| format!("{}:{line}: invalid CSV row", path.display()))?;
        let image = base.join(record.get(path_index).unwrap_or_default().trim());
        if !image.is_file() {
            bail!(
                "{}:{line}: image {} does not exist; paths are relative to the CSV file's folder",
                path.display(),
                image.display()
            );
        }
        let label = label_index
            .and_then(|index| record.get(index))
            .map(|label| label.trim().to_string());
        if label.as_deref() == Some("") {
            bail!("{}:{line}: the label is empty", path.display());
        }
        examples.push(ImageExample {
            origin: image.display().to_string(),
            source: ImageSource::File(image),
            label,
        });
    }
    if examples.is_empty() {
        bail!("{}: lists no images", path.display());
    }
    Ok(examples)
}
