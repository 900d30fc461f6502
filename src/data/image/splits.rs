//! Train, validation and test splits of images from the `[data]` config. Each path is a
//! class-per-folder tree, an IDX image file (with its label file beside it), or a CSV
//! image list.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use super::{
    ImageDataset, ImageExample, ImageTransform, read_idx, read_image_folder, read_image_list,
};
use crate::config::DataConfig;
use crate::data::splits::{check_kept_classes, hold_out, keep_first};
use crate::data::{DatasetSplits, LabelSet, name_label};

/// Reads the images at `path` in the layout its name shows, with integer labels renamed
/// by `data.label_names` when set.
pub fn read_images(path: &Path, data: &DataConfig) -> Result<Vec<ImageExample>> {
    let mut examples = read_layout(path, data)?;
    if let Some(names) = &data.label_names {
        for example in &mut examples {
            name_label(&mut example.label, names, &example.origin)?;
        }
    }
    Ok(examples)
}

fn read_layout(path: &Path, data: &DataConfig) -> Result<Vec<ImageExample>> {
    if path.is_dir() {
        return read_image_folder(path);
    }
    if !path.is_file() {
        bail!(
            "{} does not exist; give a class-per-folder tree, an IDX image file or a CSV of {},{}",
            path.display(),
            data.image_column,
            data.label_column
        );
    }
    if let Some(labels) = idx_label_file(path) {
        if !labels.is_file() {
            bail!(
                "{}: its IDX label file {} does not exist; keep the two files side by side under their usual names",
                path.display(),
                labels.display()
            );
        }
        return read_idx(path, &labels);
    }
    read_image_list(path, &data.image_column, &data.label_column)
}

/// Returns the label file of an IDX image file: `*-images-idx3-ubyte[.gz]` pairs with
/// `*-labels-idx1-ubyte[.gz]`, as MNIST and Fashion-MNIST name them (also with a dot before
/// `idx`, as some copies spell it).
fn idx_label_file(path: &Path) -> Option<PathBuf> {
    let name = path.file_name()?.to_str()?;
    name.contains("idx3-ubyte").then(|| {
        path.with_file_name(
            name.replace("images", "labels")
                .replace("idx3-ubyte", "idx1-ubyte"),
        )
    })
}

/// Reads and checks the splits. `known_labels` (from a run being resumed) fixes the label
/// set, otherwise it is taken from the training images.
pub fn load_image_splits(
    data: &DataConfig,
    transform: &ImageTransform,
    seed: u64,
    known_labels: Option<LabelSet>,
) -> Result<DatasetSplits<ImageDataset>> {
    let Some(train_path) = data.train.clone() else {
        bail!(
            "data.train is not set; point it at a class-per-folder tree, an IDX image file or a CSV of path,label"
        );
    };
    let mut train = read_images(&train_path, data)?;
    if let Some(unlabelled) = train.iter().find(|example| example.label.is_none()) {
        bail!(
            "{}: the training image has no label; a CSV image list needs a {:?} column (data.label_column)",
            unlabelled.origin,
            data.label_column
        );
    }
    let labels = LabelSet::for_training(
        known_labels,
        data.label_names.as_deref(),
        train.iter().filter_map(|example| example.label.as_deref()),
        &train_path,
    )?;

    let mut validation = match data.validation_fraction {
        Some(fraction) => Some(hold_out(&mut train, fraction, seed, &train_path)?),
        None => data
            .validation
            .as_deref()
            .map(|path| read_images(path, data))
            .transpose()?,
    };
    let mut test = data
        .test
        .as_deref()
        .map(|path| read_images(path, data))
        .transpose()?;
    keep_first(&mut train, data.max_train_samples);
    check_kept_classes(
        &labels,
        train.iter().map(|example| example.label.as_deref()),
        data.max_train_samples,
        &train_path,
    )?;
    if let Some(examples) = &mut validation {
        keep_first(examples, data.max_eval_samples);
    }
    if let Some(examples) = &mut test {
        keep_first(examples, data.max_test_samples);
    }

    let mut skipped = 0;
    let mut dataset = |examples: Vec<ImageExample>, augment: bool| -> Result<ImageDataset> {
        let encoded = encode_labels(&labels, &examples)?;
        let transform = ImageTransform {
            augment,
            ..transform.clone()
        };
        let (dataset, bad) = ImageDataset::new(examples, encoded, transform, data.skip_bad_images)?;
        skipped += bad;
        Ok(dataset)
    };
    let train = dataset(train, transform.augment)?;
    let validation = validation
        .map(|examples| dataset(examples, false))
        .transpose()?;
    let test = test.map(|examples| dataset(examples, false)).transpose()?;
    Ok(DatasetSplits {
        labels,
        train,
        validation,
        test,
        skipped_images: skipped,
    })
}

/// Maps each image's label to its class index. An unlabelled image or a label outside the
/// set is an error naming the image.
pub fn encode_labels(labels: &LabelSet, examples: &[ImageExample]) -> Result<Vec<usize>> {
    examples
        .iter()
        .map(|example| {
            let label = example.label.as_deref().with_context(|| {
                format!(
                    "{}: the image has no label; the split must be labelled",
                    example.origin
                )
            })?;
            labels.index_of(label).with_context(|| {
                format!(
                    "{}: label {label:?} is not one of the training labels [{}]",
                    example.origin,
                    labels.names.join(", ")
                )
            })
        })
        .collect()
}
