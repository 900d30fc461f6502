//! Encoders and the classifier head: the BERT family, configured from a checkpoint's
//! `config.json`, weights from `model.safetensors`, tokenizer from `tokenizer.json`, and
//! the EfficientNet-Lite0 image backbone.

pub mod bert;
pub mod classifier;
pub mod efficientnet;
pub mod hub;
pub mod image_classifier;
pub mod pooling;
pub mod text_classifier;
pub mod tokenizer;
pub mod weights;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use burn::prelude::*;
use serde::Deserialize;

pub use bert::{BertConfig, BertModel};
pub use classifier::{Classifier, ClassifierOutput};
pub use image_classifier::ImageClassifier;
pub use text_classifier::TextClassifier;
pub use tokenizer::{TextTokenizer, TokenizedText};

use crate::config::Pooling;
use weights::WeightSource;

/// A resolved pre-trained checkpoint folder and the contents of its metadata files.
#[derive(Debug, Clone)]
pub struct PretrainedFiles {
    pub dir: PathBuf,
    pub config: BertConfig,
    /// From sentence-transformers' `1_Pooling/config.json`, when present.
    pub default_pooling: Option<Pooling>,
    /// From sentence-transformers' `sentence_bert_config.json`, when present.
    pub max_seq_length: Option<usize>,
}

#[derive(Deserialize)]
struct PoolingFile {
    #[serde(default)]
    pooling_mode_cls_token: bool,
    #[serde(default)]
    pooling_mode_mean_tokens: bool,
}

#[derive(Deserialize)]
struct SentenceBertFile {
    max_seq_length: Option<usize>,
}

impl PretrainedFiles {
    /// Resolves `name` (folder or hub id) and reads its metadata files.
    pub fn resolve(name: &str) -> Result<PretrainedFiles> {
        let dir = hub::resolve_model_dir(name)?;
        PretrainedFiles::from_dir(&dir)
    }

    pub fn from_dir(dir: &Path) -> Result<PretrainedFiles> {
        let config_path = dir.join("config.json");
        let text = std::fs::read_to_string(&config_path)
            .with_context(|| format!("cannot read {}", config_path.display()))?;
        let config: BertConfig = serde_json::from_str(&text)
            .map_err(|err| anyhow::anyhow!("{}: invalid config: {err}", config_path.display()))?;
        config.check_supported(&config_path.display().to_string())?;

        let pooling_path = dir.join("1_Pooling").join("config.json");
        let default_pooling = match std::fs::read_to_string(&pooling_path) {
            Ok(text) => {
                let file: PoolingFile = serde_json::from_str(&text).map_err(|err| {
                    anyhow::anyhow!("{}: invalid pooling config: {err}", pooling_path.display())
                })?;
                if file.pooling_mode_mean_tokens {
                    Some(Pooling::Mean)
                } else if file.pooling_mode_cls_token {
                    Some(Pooling::Cls)
                } else {
                    None
                }
            }
            Err(_) => None,
        };

        let sbert_path = dir.join("sentence_bert_config.json");
        let max_seq_length = std::fs::read_to_string(&sbert_path)
            .ok()
            .and_then(|text| serde_json::from_str::<SentenceBertFile>(&text).ok())
            .and_then(|file| file.max_seq_length);

        Ok(PretrainedFiles {
            dir: dir.to_path_buf(),
            config,
            default_pooling,
            max_seq_length,
        })
    }

    pub fn tokenizer_path(&self) -> PathBuf {
        self.dir.join("tokenizer.json")
    }

    pub fn weights_path(&self) -> PathBuf {
        self.dir.join("model.safetensors")
    }

    /// Returns the configured pooling, else the checkpoint's, else `cls`.
    pub fn pooling(&self, configured: Option<Pooling>) -> Pooling {
        configured.or(self.default_pooling).unwrap_or(Pooling::Cls)
    }

    /// Loads the pre-trained encoder. Task heads of other checkpoints (`cls.*`,
    /// `classifier.*`) are dropped with a warning, as `transformers` does.
    pub fn load_encoder(&self, device: &Device) -> Result<BertModel> {
        let path = self.weights_path();
        let mut weights = WeightSource::open(&path, "bert.", device)?;
        let dropped = weights.skip_prefixed("cls.") + weights.skip_prefixed("classifier.");
        if dropped > 0 {
            tracing::warn!(
                file = %path.display(),
                dropped,
                "task-head tensors in the checkpoint are not used by the encoder"
            );
        }
        let encoder = BertModel::load(&mut weights, &self.config)?;
        weights.finish()?;
        Ok(encoder)
    }
}

/// `model_type` in the `config.json` that `scripts/convert_efficientnet_lite0.py` writes.
pub const EFFICIENTNET_LITE0_TYPE: &str = "efficientnet-lite0";

/// The kind of encoder `model.name` names: a BERT-family text encoder or an image backbone.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ModelKind {
    #[default]
    Text,
    Image,
}

#[derive(Deserialize)]
struct ModelTypeFile {
    model_type: Option<String>,
}

impl ModelKind {
    /// Reads the `model_type` of a local folder's `config.json`. Hub ids and folders of
    /// other types are text encoders, and loading them checks the details. A name ending
    /// in `efficientnet-lite0` is the image backbone even before `scripts/setup` has
    /// written its folder, so the error message names setup rather than a download.
    pub fn of(name: &str) -> ModelKind {
        if name
            .trim_end_matches('/')
            .ends_with(EFFICIENTNET_LITE0_TYPE)
        {
            return ModelKind::Image;
        }
        let config = Path::new(name).join("config.json");
        let model_type = std::fs::read_to_string(config)
            .ok()
            .and_then(|text| serde_json::from_str::<ModelTypeFile>(&text).ok())
            .and_then(|file| file.model_type);
        if model_type.as_deref() == Some(EFFICIENTNET_LITE0_TYPE) {
            ModelKind::Image
        } else {
            ModelKind::Text
        }
    }
}

/// Returns the weights file of an image backbone folder.
pub fn image_backbone_weights(name: &str) -> Result<PathBuf> {
    let path = Path::new(name).join("model.safetensors");
    if !path.is_file() {
        anyhow::bail!(
            "model {name:?}: {} is missing; run scripts/setup to convert the EfficientNet-Lite0 weights",
            path.display()
        );
    }
    Ok(path)
}
