//! What every fine-tuned model of a run shares: an encoder whose pooled output is the
//! instance representation h_i, and a linear head whose rows are the label embeddings e_c
//! of the ACF objective.

use burn::module::{Initializer, Param};
use burn::nn::{Linear, LinearConfig};
use burn::prelude::*;

use super::weights::WeightSink;
use crate::data::Batch;

/// Standard deviation of a new head's initial weights, as `transformers` initialises
/// heads (`initializer_range` = 0.02).
const HEAD_INIT_STD: f64 = 0.02;

/// Output of one forward pass.
pub struct ClassifierOutput {
    /// [batch, d], the pooled instance representations h_i (before dropout).
    pub pooled: Tensor<2>,
    /// [batch, C]
    pub logits: Tensor<2>,
}

/// A pre-trained encoder with a classification head, as the trainer, evaluation and
/// snapshots use it. `Batch` is the input the encoder takes (tokens or pixels).
pub trait Classifier: Module {
    type Batch: Batch;

    fn forward(&self, batch: &Self::Batch) -> ClassifierOutput;

    /// Label embeddings e_c, [C, d].
    fn label_embeddings(&self) -> Tensor<2>;

    fn num_classes(&self) -> usize;

    /// Collects every parameter and buffer under the checkpoint's tensor names.
    fn export(&self) -> WeightSink;
}

/// Creates a classification head [d -> C] with normal weights and a zero bias.
pub fn new_head(d_input: usize, num_classes: usize, device: &Device) -> Linear {
    let mut head = LinearConfig::new(d_input, num_classes)
        .with_initializer(Initializer::Normal {
            mean: 0.0,
            std: HEAD_INIT_STD,
        })
        .init(device);
    head.bias = Some(Param::from_tensor(Tensor::zeros([num_classes], device)));
    // burn initialises parameters lazily, on first use. Drawing the weight now, right
    // after the caller seeded the device, keeps a run's random stream the same whether
    // its first use is a training step or an embedding snapshot.
    let _ = head.weight.val();
    head
}
