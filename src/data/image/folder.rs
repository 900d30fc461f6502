//! The class-per-folder layout of torchvision's `ImageFolder`: `root/<class>/<image>`.

use std::path::Path;

use anyhow::{Context, Result, bail};

use super::{ImageExample, ImageSource, is_image_file};

/// Lists the images under `root`, one subfolder per class, classes and files in name
/// order. Files that are not images (by extension) are skipped with a log line. A class
/// folder without images is an error, because its class could never be learned.
pub fn read_image_folder(root: &Path) -> Result<Vec<ImageExample>> {
    let mut classes: Vec<_> = std::fs::read_dir(root)
        .with_context(|| format!("cannot read image folder {}", root.display()))?
        .filter_map(|entry| entry.ok())
        .filter(|entry| entry.path().is_dir())
        // Hidden folders (`.ipynb_checkpoints`, `.git`) are tool state, not classes.
        .filter(|entry| !entry.file_name().to_string_lossy().starts_with('.'))
        .collect();
    classes.sort_by_key(|entry| entry.file_name());
    if classes.is_empty() {
        bail!(
            "{}: no class folders; the layout is {}/<class>/<image>.png",
            root.display(),
            root.display()
        );
    }

    let mut examples = Vec::new();
    for class in classes {
        let name = class.file_name().to_string_lossy().into_owned();
        let mut files: Vec<_> = std::fs::read_dir(class.path())
            .with_context(|| format!("cannot read {}", class.path().display()))?
            .filter_map(|entry| entry.ok())
            .map(|entry| entry.path())
            .filter(|path| path.is_file())
            .collect();
        files.sort();
        let (images, others): (Vec<_>, Vec<_>) =
            files.into_iter().partition(|path| is_image_file(path));
        if !others.is_empty() {
            tracing::info!(
                folder = %class.path().display(),
                skipped = others.len(),
                "skipped files that are not PNG, JPEG or BMP images"
            );
        }
        if images.is_empty() {
            bail!(
                "{}: class folder {name:?} contains no images; add images or remove the folder",
                class.path().display()
            );
        }
        examples.extend(images.into_iter().map(|path| ImageExample {
            origin: path.display().to_string(),
            source: ImageSource::File(path),
            label: Some(name.clone()),
        }));
    }
    Ok(examples)
}
