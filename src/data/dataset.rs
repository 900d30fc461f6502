//! The interface the trainer, evaluation and snapshots use for a split of any modality:
//! its size, class indices, batches on the device, and a description of each example.

use anyhow::Result;
use burn::prelude::*;

use super::LabelSet;

/// A batch of inputs on the device, with class indices for labelled data.
pub trait Batch {
    /// [batch], present for labelled data.
    fn labels(&self) -> Option<Tensor<1, Int>>;
}

/// The splits of a run, ready to be batched, with the label set they are encoded in.
pub struct DatasetSplits<D> {
    pub labels: LabelSet,
    pub train: D,
    pub validation: Option<D>,
    pub test: Option<D>,
    /// Images left out because they failed to decode (`data.skip_bad_images`).
    pub skipped_images: usize,
}

/// One split, ready to be batched.
pub trait Dataset {
    type Batch: Batch;

    fn len(&self) -> usize;

    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Class index per example, empty for unlabelled inputs.
    fn labels(&self) -> &[usize];

    /// Builds the batch of the examples at `indices`. `augment_seed` is set for training
    /// batches and draws their random augmentation. Evaluation passes `None`.
    fn batch(
        &self,
        indices: &[usize],
        augment_seed: Option<u64>,
        device: &Device,
    ) -> Result<Self::Batch>;

    /// Returns the example's line in its file (or its position in the split) and a
    /// one-line description: the text, or the image's file.
    fn describe(&self, index: usize) -> (usize, String);

    /// Returns a `size x size` picture of the example, for data that has one.
    fn thumbnail(&self, _index: usize, _size: u32) -> Option<image::RgbImage> {
        None
    }
}
