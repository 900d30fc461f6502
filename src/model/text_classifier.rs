//! The fine-tuned text model: a BERT-family encoder, pooling, and a linear classifier
//! whose rows are the label embeddings e_c of the ACF objective.

use std::path::Path;

use anyhow::{Result, bail};
use burn::nn::{Dropout, DropoutConfig, Linear};
use burn::prelude::*;

use super::bert::{BertConfig, BertModel};
use super::classifier::{Classifier, ClassifierOutput, new_head};
use super::pooling::pool;
use super::weights::{WeightSink, WeightSource};
use crate::config::Pooling;
use crate::data::TokenBatch;

#[derive(Module, Debug)]
pub struct TextClassifier {
    pub encoder: BertModel,
    /// Dropout on the pooled vector before the classifier, as in BertForSequenceClassification.
    pub dropout: Dropout,
    /// Weight [d, C] in burn's layout; row c of its transpose is the label embedding e_c.
    pub classifier: Linear,
    #[module(skip)]
    pub pooling: Pooling,
}

impl TextClassifier {
    /// Wraps a pre-trained encoder with a freshly initialised classifier for `num_classes`.
    pub fn new(
        encoder: BertModel,
        config: &BertConfig,
        num_classes: usize,
        pooling: Pooling,
        device: &Device,
    ) -> Result<Self> {
        check_pooling(&encoder, pooling)?;
        Ok(Self {
            encoder,
            dropout: DropoutConfig::new(config.hidden_dropout_prob).init(),
            classifier: new_head(config.hidden_size, num_classes, device),
            pooling,
        })
    }

    /// Loads a fine-tuned checkpoint written by [`TextClassifier::export`]: encoder tensors
    /// under `bert.` and the head under `classifier.`, as `BertForSequenceClassification`.
    pub fn load(
        path: &Path,
        config: &BertConfig,
        num_classes: usize,
        pooling: Pooling,
        device: &Device,
    ) -> Result<Self> {
        let mut weights = WeightSource::open(path, "bert.", device)?;
        let encoder = BertModel::load(&mut weights, config)?;
        let classifier = weights.linear("classifier", config.hidden_size, num_classes)?;
        weights.finish()?;
        check_pooling(&encoder, pooling)?;
        Ok(Self {
            encoder,
            dropout: DropoutConfig::new(config.hidden_dropout_prob).init(),
            classifier,
            pooling,
        })
    }
}

impl Classifier for TextClassifier {
    type Batch = TokenBatch;

    /// Collects every parameter under `BertForSequenceClassification`'s names.
    fn export(&self) -> WeightSink {
        let mut sink = WeightSink::default();
        let mut encoder = WeightSink::default();
        self.encoder.export(&mut encoder);
        sink.extend_prefixed("bert.", encoder);
        sink.linear("classifier", &self.classifier);
        sink
    }

    fn num_classes(&self) -> usize {
        self.classifier.weight.dims()[1]
    }

    /// Label embeddings e_c, [C, d].
    fn label_embeddings(&self) -> Tensor<2> {
        self.classifier.weight.val().transpose()
    }

    fn forward(&self, batch: &TokenBatch) -> ClassifierOutput {
        let outputs = self.encoder.forward(
            batch.input_ids.clone(),
            batch.token_type_ids.clone(),
            batch.attention_mask.clone(),
        );
        let pooled = pool(outputs, batch.attention_mask.clone(), self.pooling);
        let logits = self
            .classifier
            .forward(self.dropout.forward(pooled.clone()));
        ClassifierOutput { pooled, logits }
    }
}

fn check_pooling(encoder: &BertModel, pooling: Pooling) -> Result<()> {
    if pooling == Pooling::Pooler && encoder.pooler.is_none() {
        bail!(
            "model.pooling = \"pooler\" needs pooler.dense weights, which this checkpoint does not have; use \"cls\" or \"mean\""
        );
    }
    Ok(())
}
