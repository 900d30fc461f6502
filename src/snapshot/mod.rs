//! Embedding snapshots for the explorer: the pooled embeddings of a fixed validation sample
//! and the label embeddings, one shared 2-D PCA projection of both, and alignment readouts.
//! The trainer takes them; the run directory and the GUI consume them.

mod projection;
mod projector;
mod readouts;
mod sprite;
mod store;

use std::sync::Arc;

use serde::{Deserialize, Serialize};

pub use projection::{SharedProjection, align_basis, project_shared};
pub use projector::{ProjectorExport, export_projector, snapshot_steps};
pub use readouts::{AlignmentReadouts, alignment_readouts};
pub use sprite::{SPRITE_FILE, Sprite, THUMBNAIL_SIZE};
pub use store::{
    SAMPLE_FILE, SNAPSHOT_DIR, read_sample, read_snapshot, snapshot_file_name, write_sample,
    write_snapshot,
};

/// One instance of the snapshot sample: where it comes from and what a hover shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SampleInstance {
    /// Index in the split the sample is drawn from.
    pub index: usize,
    /// Line (or record) of the source file, 1-based.
    pub line: usize,
    pub text: String,
    /// True class index.
    pub label: usize,
}

/// The fixed sample every snapshot of a run embeds, in the order of the snapshot rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SnapshotSample {
    /// `validation`, or `train` when the run has no validation split.
    pub split: String,
    pub label_names: Vec<String>,
    pub instances: Vec<SampleInstance>,
    /// Side of each thumbnail in `sprite.png`, for image samples.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thumbnail_size: Option<u32>,
    /// The thumbnails, kept in `sprite.png` beside `sample.json`.
    #[serde(skip)]
    pub sprite: Option<Arc<Sprite>>,
}

/// The state of the shared space at one step.
#[derive(Debug, Clone, PartialEq)]
pub struct EmbeddingSnapshot {
    pub step: usize,
    /// Width d of the embeddings.
    pub dim: usize,
    /// Pooled instance representations h_i, row-major [n, d].
    pub instances: Vec<f32>,
    /// Label embeddings e_c, row-major [C, d].
    pub label_embeddings: Vec<f32>,
    /// True class per instance, [n].
    pub labels: Vec<u32>,
    /// Argmax of the logits per instance, [n].
    pub predictions: Vec<u32>,
    /// 2-D coordinates of the n instances followed by the C label embeddings, [n + C],
    /// projected after L2 normalisation.
    pub projection: Vec<[f32; 2]>,
    /// The PCA basis [d, 2] (row-major) behind `projection`; the next snapshot aligns to it.
    pub basis: Vec<f32>,
    /// Share of the total variance along each projected axis.
    pub explained_variance: [f32; 2],
    pub readouts: AlignmentReadouts,
}

impl EmbeddingSnapshot {
    pub fn instance_count(&self) -> usize {
        self.labels.len()
    }

    pub fn class_count(&self) -> usize {
        self.label_embeddings.len() / self.dim.max(1)
    }

    pub fn instance(&self, index: usize) -> &[f32] {
        &self.instances[index * self.dim..(index + 1) * self.dim]
    }

    pub fn label_embedding(&self, class: usize) -> &[f32] {
        &self.label_embeddings[class * self.dim..(class + 1) * self.dim]
    }

    /// Cosine similarity of instance `index` to every label embedding, [C].
    pub fn label_cosines(&self, index: usize) -> Vec<f32> {
        let instance = self.instance(index);
        (0..self.class_count())
            .map(|class| cosine(instance, self.label_embedding(class)))
            .collect()
    }
}

/// A snapshot as it travels from the trainer to its sinks.
pub type SharedSnapshot = Arc<EmbeddingSnapshot>;
/// The sample as it travels from the trainer to its sinks.
pub type SharedSample = Arc<SnapshotSample>;

/// Cosine similarity; 0 when either vector is zero.
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let (mut dot, mut norm_a, mut norm_b) = (0.0f32, 0.0f32, 0.0f32);
    for (x, y) in a.iter().zip(b) {
        dot += x * y;
        norm_a += x * x;
        norm_b += y * y;
    }
    let norms = (norm_a * norm_b).sqrt();
    if norms > 0.0 { dot / norms } else { 0.0 }
}
