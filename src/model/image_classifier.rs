//! The fine-tuned image model: the EfficientNet-Lite0 backbone, whose pooled 1280-d
//! feature is the instance representation, and a new linear head whose rows are the label
//! embeddings e_c.

use std::path::Path;

use anyhow::Result;
use burn::nn::{Dropout, DropoutConfig, Linear};
use burn::prelude::*;

use super::classifier::{Classifier, ClassifierOutput, new_head};
use super::efficientnet::{EfficientNetLite0, FEATURE_WIDTH, HEAD_DROPOUT};
use super::weights::{WeightSink, WeightSource};
use crate::data::image::ImageBatch;

#[derive(Module, Debug)]
pub struct ImageClassifier {
    pub backbone: EfficientNetLite0,
    /// Dropout on the pooled feature before the head, as the original model has it.
    pub dropout: Dropout,
    /// Weight [1280, C] in burn's layout. Row c of its transpose is e_c.
    pub classifier: Linear,
}

impl ImageClassifier {
    /// Wraps the pre-trained backbone with a freshly initialised head for `num_classes`.
    pub fn new(backbone: EfficientNetLite0, num_classes: usize, device: &Device) -> Self {
        Self {
            backbone,
            dropout: DropoutConfig::new(HEAD_DROPOUT).init(),
            classifier: new_head(FEATURE_WIDTH, num_classes, device),
        }
    }

    /// Loads a fine-tuned checkpoint written by [`Classifier::export`]: the backbone under
    /// the PyTorch port's names and the head under `classifier.`.
    pub fn load(path: &Path, num_classes: usize, device: &Device) -> Result<Self> {
        let mut weights = WeightSource::open(path, "", device)?;
        let backbone = EfficientNetLite0::load(&mut weights, device)?;
        let classifier = weights.linear("classifier", FEATURE_WIDTH, num_classes)?;
        weights.finish()?;
        Ok(Self {
            backbone,
            dropout: DropoutConfig::new(HEAD_DROPOUT).init(),
            classifier,
        })
    }
}

impl Classifier for ImageClassifier {
    type Batch = ImageBatch;

    fn forward(&self, batch: &ImageBatch) -> ClassifierOutput {
        let pooled = self.backbone.features(batch.pixels.clone());
        let logits = self
            .classifier
            .forward(self.dropout.forward(pooled.clone()));
        ClassifierOutput { pooled, logits }
    }

    fn label_embeddings(&self) -> Tensor<2> {
        self.classifier.weight.val().transpose()
    }

    fn num_classes(&self) -> usize {
        self.classifier.weight.dims()[1]
    }

    fn export(&self) -> WeightSink {
        let mut sink = WeightSink::default();
        self.backbone.export(&mut sink);
        sink.linear("classifier", &self.classifier);
        sink
    }
}
