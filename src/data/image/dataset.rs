//! A split of images ready for batching: decoded and preprocessed on worker threads for
//! each batch, so only file names and IDX bytes stay in memory.

use std::collections::HashSet;

use anyhow::{Result, bail};
use burn::prelude::*;
use burn::tensor::TensorData;

use super::{Crop, ImageExample, Preprocess, decode_batch};
use crate::data::{Batch, Dataset};

/// Resize factor before a random crop: torchvision's ImageNet recipe resizes to 256 for a
/// 224 crop.
const AUGMENT_RESIZE: f32 = 8.0 / 7.0;

/// A batch of normalised images on the device.
#[derive(Debug, Clone)]
pub struct ImageBatch {
    /// [batch, 3, size, size]
    pub pixels: Tensor<4>,
    /// [batch], present for labelled data.
    pub labels: Option<Tensor<1, Int>>,
}

impl Batch for ImageBatch {
    fn labels(&self) -> Option<Tensor<1, Int>> {
        self.labels.clone()
    }
}

/// The transform from images to the backbone's input: side, normalisation and training
/// augmentation.
#[derive(Debug, Clone)]
pub struct ImageTransform {
    pub size: u32,
    pub mean: [f32; 3],
    pub std: [f32; 3],
    /// Random crop and horizontal flip for training batches.
    pub augment: bool,
}

impl ImageTransform {
    fn evaluation(&self) -> Preprocess {
        Preprocess {
            resize: self.size,
            size: self.size,
            crop: Crop::Center,
            flip: false,
            mean: self.mean,
            std: self.std,
        }
    }

    fn training(&self) -> Preprocess {
        if !self.augment {
            return self.evaluation();
        }
        Preprocess {
            resize: (self.size as f32 * AUGMENT_RESIZE).round() as u32,
            crop: Crop::Random,
            flip: true,
            ..self.evaluation()
        }
    }
}

pub struct ImageDataset {
    pub examples: Vec<ImageExample>,
    /// Class index per example, empty for unlabelled inputs.
    pub labels: Vec<usize>,
    pub transform: ImageTransform,
    threads: usize,
}

impl ImageDataset {
    /// Checks that every encoded image decodes, once, on worker threads, so batches never
    /// change size mid-run. A bad image is an error naming it, or with `skip_bad` it is
    /// dropped with its label and counted in the returned number.
    pub fn new(
        mut examples: Vec<ImageExample>,
        mut labels: Vec<usize>,
        transform: ImageTransform,
        skip_bad: bool,
    ) -> Result<(ImageDataset, usize)> {
        let threads = std::thread::available_parallelism().map_or(2, usize::from);
        let files: Vec<usize> = (0..examples.len())
            .filter(|&index| matches!(examples[index].source, super::ImageSource::File(_)))
            .collect();
        // Each file is decoded in full, because only the decoder can tell a damaged file,
        // and then shrunk to 8 x 8 so the check keeps little in memory.
        let probe = Preprocess {
            resize: 8,
            size: 8,
            crop: Crop::Center,
            flip: false,
            mean: [0.0; 3],
            std: [1.0; 3],
        };
        let (_, skipped) = decode_batch(&examples, &files, &probe, 0, threads, skip_bad)?;
        let skipped_count = skipped.len();
        if !skipped.is_empty() {
            let skipped: HashSet<usize> = skipped.into_iter().collect();
            examples = without(examples, &skipped);
            if !labels.is_empty() {
                labels = without(labels, &skipped);
            }
            if examples.is_empty() {
                bail!("every image failed to decode; see the skipped files above");
            }
            tracing::warn!(
                skipped = skipped.len(),
                remaining = examples.len(),
                "images that failed to decode were skipped (data.skip_bad_images = true)"
            );
        }
        let dataset = ImageDataset {
            examples,
            labels,
            transform,
            threads,
        };
        Ok((dataset, skipped_count))
    }
}

fn without<T>(items: Vec<T>, removed: &HashSet<usize>) -> Vec<T> {
    items
        .into_iter()
        .enumerate()
        .filter(|(index, _)| !removed.contains(index))
        .map(|(_, item)| item)
        .collect()
}

impl Dataset for ImageDataset {
    type Batch = ImageBatch;

    fn len(&self) -> usize {
        self.examples.len()
    }

    fn labels(&self) -> &[usize] {
        &self.labels
    }

    fn batch(
        &self,
        indices: &[usize],
        augment_seed: Option<u64>,
        device: &Device,
    ) -> Result<ImageBatch> {
        let preprocess = match augment_seed {
            Some(_) => self.transform.training(),
            None => self.transform.evaluation(),
        };
        let (values, _) = decode_batch(
            &self.examples,
            indices,
            &preprocess,
            augment_seed.unwrap_or(0),
            self.threads,
            false,
        )?;
        let size = self.transform.size as usize;
        let labels = (!self.labels.is_empty()).then(|| {
            let labels: Vec<i64> = indices.iter().map(|&i| self.labels[i] as i64).collect();
            Tensor::from_data(TensorData::new(labels, [indices.len()]), device)
        });
        Ok(ImageBatch {
            pixels: Tensor::from_data(
                TensorData::new(values, [indices.len(), 3, size, size]),
                device,
            ),
            labels,
        })
    }

    fn describe(&self, index: usize) -> (usize, String) {
        (index + 1, self.examples[index].origin.clone())
    }

    fn thumbnail(&self, index: usize, size: u32) -> Option<image::RgbImage> {
        let image = super::load_rgb(&self.examples[index]).ok()?;
        Some(image::imageops::resize(
            &image,
            size,
            size,
            image::imageops::FilterType::Triangle,
        ))
    }
}
