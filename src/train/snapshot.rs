//! Taking embedding snapshots during training: a fixed sample of one split, embedded by the
//! current model, projected with the label embeddings into one shared map.

use std::sync::Arc;

use anyhow::Result;
use burn::prelude::*;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

use super::metrics::argmax_rows;
use crate::data::Dataset;
use crate::loss::l2_normalize;
use crate::model::Classifier;
use crate::model::weights::tensor_values;
use crate::snapshot::{
    EmbeddingSnapshot, SampleInstance, SharedSample, SharedSnapshot, SnapshotSample, Sprite,
    THUMBNAIL_SIZE, alignment_readouts, project_shared,
};

/// Draws up to `size` examples of `dataset` with `seed`, in ascending order, so a resumed
/// run embeds the same sample.
pub fn choose_sample<D: Dataset>(
    dataset: &D,
    split: &str,
    label_names: &[String],
    size: usize,
    seed: u64,
) -> SnapshotSample {
    let mut indices: Vec<usize> = (0..dataset.len()).collect();
    indices.shuffle(&mut StdRng::seed_from_u64(seed ^ 0x05a4_9e00));
    indices.truncate(size);
    indices.sort_unstable();
    let instances: Vec<SampleInstance> = indices
        .into_iter()
        .map(|index| {
            let (line, text) = dataset.describe(index);
            SampleInstance {
                index,
                line,
                text,
                label: dataset.labels().get(index).copied().unwrap_or(0),
            }
        })
        .collect();
    // Image data gets thumbnails for hover; all of them or none, so cells match rows.
    let thumbnails: Option<Vec<_>> = instances
        .iter()
        .map(|instance: &SampleInstance| dataset.thumbnail(instance.index, THUMBNAIL_SIZE))
        .collect();
    let sprite = thumbnails.map(|thumbnails| Arc::new(Sprite::new(&thumbnails, THUMBNAIL_SIZE)));
    SnapshotSample {
        split: split.to_string(),
        label_names: label_names.to_vec(),
        instances,
        thumbnail_size: sprite.as_ref().map(|sprite| sprite.cell),
        sprite,
    }
}

/// Takes the snapshots of one run and keeps the map's orientation between them.
pub struct Snapshotter {
    pub sample: SharedSample,
    batch_size: usize,
    previous_basis: Option<Vec<f32>>,
}

impl Snapshotter {
    pub fn new(sample: SnapshotSample, batch_size: usize) -> Snapshotter {
        Snapshotter {
            sample: Arc::new(sample),
            batch_size: batch_size.max(1),
            previous_basis: None,
        }
    }

    /// Embeds the sample of `dataset` with `model` (evaluation mode) and projects it with
    /// the label embeddings, aligned to the previous snapshot's map.
    pub fn take<M, D>(
        &mut self,
        model: &M,
        dataset: &D,
        device: &Device,
        step: usize,
    ) -> Result<SharedSnapshot>
    where
        M: Classifier,
        D: Dataset<Batch = M::Batch>,
    {
        let indices: Vec<usize> = self
            .sample
            .instances
            .iter()
            .map(|instance| instance.index)
            .collect();
        let mut pooled = Vec::new();
        let mut logits = Vec::new();
        for chunk in indices.chunks(self.batch_size) {
            let output = model.forward(&dataset.batch(chunk, None, device)?);
            pooled.push(output.pooled);
            logits.push(output.logits);
        }
        let pooled = Tensor::cat(pooled, 0); // [n, d]
        let label_embeddings = model.label_embeddings(); // [C, d]
        let [_, dim] = pooled.dims();
        let classes = model.num_classes();

        // The contrastive objective compares directions (cosines), so the map shows the
        // unit sphere: instances and label embeddings are L2-normalised before the PCA.
        let projection = project_shared(
            l2_normalize(Tensor::cat(
                vec![pooled.clone(), label_embeddings.clone()],
                0,
            )), // [n + C, d]
            self.previous_basis.as_deref(),
        );
        let instances = tensor_values(pooled);
        let label_embeddings = tensor_values(label_embeddings);
        let labels: Vec<u32> = self
            .sample
            .instances
            .iter()
            .map(|instance| instance.label as u32)
            .collect();
        let predictions = argmax_rows(&tensor_values(Tensor::cat(logits, 0)), classes)
            .into_iter()
            .map(|class| class as u32)
            .collect();
        let readouts = alignment_readouts(&instances, &labels, &label_embeddings, dim);
        self.previous_basis = Some(projection.basis.clone());

        Ok(Arc::new(EmbeddingSnapshot {
            step,
            dim,
            instances,
            label_embeddings,
            labels,
            predictions,
            projection: projection.coordinates,
            basis: projection.basis,
            explained_variance: projection.explained_variance,
            readouts,
        }))
    }
}
