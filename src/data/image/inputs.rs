//! Images to predict or embed, labelled or not: one image file, a folder searched
//! recursively, an IDX image file, or a CSV image list.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use super::splits::read_images;
use super::{ImageExample, ImageSource, is_image_file};
use crate::config::DataConfig;

/// Lists the images at `path`. Labels are read where the layout carries them (class
/// folders are not taken as labels here, since a folder of inputs has none).
pub fn read_image_inputs(path: &Path, data: &DataConfig) -> Result<Vec<ImageExample>> {
    if path.is_file() && is_image_file(path) {
        return Ok(vec![file_example(path.to_path_buf())]);
    }
    if !path.is_dir() {
        return read_images(path, data);
    }
    let mut files = Vec::new();
    collect_images(path, &mut files)?;
    if files.is_empty() {
        bail!(
            "{}: no PNG, JPEG or BMP files in the folder or below it",
            path.display()
        );
    }
    files.sort();
    Ok(files.into_iter().map(file_example).collect())
}

fn file_example(path: PathBuf) -> ImageExample {
    ImageExample {
        origin: path.display().to_string(),
        source: ImageSource::File(path),
        label: None,
    }
}

fn collect_images(dir: &Path, files: &mut Vec<PathBuf>) -> Result<()> {
    let entries =
        std::fs::read_dir(dir).with_context(|| format!("cannot read folder {}", dir.display()))?;
    for entry in entries.filter_map(|entry| entry.ok()) {
        let path = entry.path();
        // Linked folders are not followed, as `find` does by default: a link to `.` or `..`
        // would list the same images again, or forever.
        let linked = entry.file_type().is_ok_and(|kind| kind.is_symlink());
        if path.is_dir() && !linked {
            collect_images(&path, files)?;
        } else if is_image_file(&path) {
            files.push(path);
        }
    }
    Ok(())
}
