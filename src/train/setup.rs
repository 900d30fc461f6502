//! The parts in which a text run and an image run differ: reading the data, building or
//! restoring the model, and its description in checkpoints. The training loop is the same
//! for both.

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use burn::prelude::*;

use super::checkpoint::CheckpointState;
use crate::config::{Config, Pooling};
use crate::data::image::{ImageDataset, ImageTransform, load_image_splits};
use crate::data::{Dataset, DatasetSplits, EncodedDataset, LabelSet, Split, load_splits};
use crate::model::efficientnet::{EfficientNetLite0, input_transform};
use crate::model::{
    Classifier, ImageClassifier, ModelKind, PretrainedFiles, TextClassifier, TextTokenizer,
    image_backbone_weights,
};

/// The model side of a run.
pub trait ModelSetup {
    type Model: Classifier;
    type Data: Dataset<Batch = <Self::Model as Classifier>::Batch>;

    /// Builds the pre-trained encoder with a new head for `num_classes`.
    fn new_model(&self, num_classes: usize, device: &Device) -> Result<Self::Model>;

    /// Loads a fine-tuned model from a checkpoint's `model.safetensors`.
    fn load_model(
        &self,
        path: &Path,
        state: &CheckpointState,
        num_classes: usize,
        device: &Device,
    ) -> Result<Self::Model>;

    /// Describes `model` at `step` for a checkpoint.
    fn state(&self, model: &Self::Model, step: usize, labels: &LabelSet) -> CheckpointState;

    /// Returns whether a model of this setup wrote the checkpoint, for resuming.
    fn matches(&self, state: &CheckpointState) -> bool;
}

/// A BERT-family encoder with its tokenizer.
pub struct TextSetup {
    pub model_name: String,
    pub files: PretrainedFiles,
    pub pooling: Pooling,
}

impl TextSetup {
    /// Resolves the model and tokenises the splits.
    pub fn prepare(
        config: &Config,
        known_labels: Option<LabelSet>,
    ) -> Result<(TextSetup, DatasetSplits<EncodedDataset>)> {
        let files = PretrainedFiles::resolve(&config.model.name)?;
        if config.model.max_length > files.config.max_position_embeddings {
            bail!(
                "model.max_length = {} exceeds the model's max_position_embeddings = {}; lower it",
                config.model.max_length,
                files.config.max_position_embeddings
            );
        }
        let tokenizer = TextTokenizer::from_file(&files.tokenizer_path(), config.model.max_length)?;
        let splits = load_splits(&config.data, config.train.seed, known_labels)?;
        let encode = |split: Split| EncodedDataset::new(split.examples, split.labels, &tokenizer);
        let splits = DatasetSplits {
            train: encode(splits.train)?,
            validation: splits.validation.map(encode).transpose()?,
            test: splits.test.map(encode).transpose()?,
            labels: splits.labels,
            skipped_images: 0,
        };
        let setup = TextSetup {
            model_name: config.model.name.clone(),
            pooling: files.pooling(config.model.pooling),
            files,
        };
        Ok((setup, splits))
    }
}

impl ModelSetup for TextSetup {
    type Model = TextClassifier;
    type Data = EncodedDataset;

    fn new_model(&self, num_classes: usize, device: &Device) -> Result<TextClassifier> {
        let encoder = self.files.load_encoder(device)?;
        TextClassifier::new(
            encoder,
            &self.files.config,
            num_classes,
            self.pooling,
            device,
        )
    }

    fn load_model(
        &self,
        path: &Path,
        state: &CheckpointState,
        num_classes: usize,
        device: &Device,
    ) -> Result<TextClassifier> {
        TextClassifier::load(
            path,
            &self.files.config,
            num_classes,
            state.pooling.unwrap_or(self.pooling),
            device,
        )
    }

    fn state(&self, model: &TextClassifier, step: usize, labels: &LabelSet) -> CheckpointState {
        CheckpointState {
            step,
            model_name: self.model_name.clone(),
            kind: ModelKind::Text,
            encoder_config: Some(self.files.config.clone()),
            pooling: Some(model.pooling),
            image_size: None,
            labels: labels.names.clone(),
        }
    }

    fn matches(&self, state: &CheckpointState) -> bool {
        state.kind == ModelKind::Text && state.encoder_config.as_ref() == Some(&self.files.config)
    }
}

/// The EfficientNet-Lite0 backbone.
pub struct ImageSetup {
    pub model_name: String,
    pub weights: PathBuf,
    pub transform: ImageTransform,
}

impl ImageSetup {
    /// Finds the backbone's weights and lists (and checks) the images of each split.
    pub fn prepare(
        config: &Config,
        known_labels: Option<LabelSet>,
    ) -> Result<(ImageSetup, DatasetSplits<ImageDataset>)> {
        let weights = image_backbone_weights(&config.model.name)?;
        let transform = ImageSetup::transform(config);
        let splits = load_image_splits(&config.data, &transform, config.train.seed, known_labels)?;
        let setup = ImageSetup {
            model_name: config.model.name.clone(),
            weights,
            transform,
        };
        Ok((setup, splits))
    }

    /// Returns the input transform that `config` sets, with the backbone's normalisation.
    pub fn transform(config: &Config) -> ImageTransform {
        input_transform(config.model.image_size, config.data.augment)
    }
}

impl ModelSetup for ImageSetup {
    type Model = ImageClassifier;
    type Data = ImageDataset;

    fn new_model(&self, num_classes: usize, device: &Device) -> Result<ImageClassifier> {
        let backbone = EfficientNetLite0::load_pretrained(&self.weights, device)?;
        Ok(ImageClassifier::new(backbone, num_classes, device))
    }

    fn load_model(
        &self,
        path: &Path,
        _: &CheckpointState,
        num_classes: usize,
        device: &Device,
    ) -> Result<ImageClassifier> {
        ImageClassifier::load(path, num_classes, device)
    }

    fn state(&self, _: &ImageClassifier, step: usize, labels: &LabelSet) -> CheckpointState {
        CheckpointState {
            step,
            model_name: self.model_name.clone(),
            kind: ModelKind::Image,
            encoder_config: None,
            pooling: None,
            image_size: Some(self.transform.size),
            labels: labels.names.clone(),
        }
    }

    fn matches(&self, state: &CheckpointState) -> bool {
        state.kind == ModelKind::Image
    }
}
