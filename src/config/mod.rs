//! Run configuration: the TOML file, `--set section.key=value` overrides, defaults and
//! range checks. Unknown keys are errors so a typo never silently falls back to a default.

mod overrides;
mod validate;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

pub use overrides::apply_override;

/// Input sides, in pixels, that `model.image_size` and `acf embed --image-size` accept.
pub const IMAGE_SIZES: std::ops::RangeInclusive<u32> = 32..=1024;

/// The whole run configuration, one section per stage of the data flow.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub model: ModelConfig,
    pub data: DataConfig,
    pub objective: ObjectiveConfig,
    pub train: TrainConfig,
    pub device: DeviceConfig,
    pub output: OutputConfig,
}

/// Pooling of the encoder's token states into one vector per example.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Pooling {
    /// The hidden state of the first (`[CLS]`) token.
    Cls,
    /// The mean of the hidden states over non-padding tokens.
    Mean,
    /// BERT's pooler: `tanh(W h_cls + b)`, which needs `pooler.*` weights in the checkpoint.
    Pooler,
}

impl std::fmt::Display for Pooling {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let name = match self {
            Pooling::Cls => "cls",
            Pooling::Mean => "mean",
            Pooling::Pooler => "pooler",
        };
        f.write_str(name)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ModelConfig {
    /// Hub id (`sentence-transformers/all-MiniLM-L6-v2`) or a local folder.
    pub name: String,
    /// Pooling; `None` takes the checkpoint's `1_Pooling/config.json`, else `cls`.
    pub pooling: Option<Pooling>,
    /// Maximum tokens per example, special tokens included; longer text is truncated.
    pub max_length: usize,
    /// Side of the square input images of an image backbone, in pixels.
    pub image_size: u32,
}

impl Default for ModelConfig {
    fn default() -> Self {
        Self {
            name: "sentence-transformers/all-MiniLM-L6-v2".into(),
            pooling: None,
            max_length: 128,
            image_size: 224,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct DataConfig {
    pub train: Option<PathBuf>,
    pub validation: Option<PathBuf>,
    /// Fraction of the training file held out for validation when `validation` is unset.
    pub validation_fraction: Option<f64>,
    pub test: Option<PathBuf>,
    pub text_column: String,
    pub text_pair_column: Option<String>,
    pub label_column: String,
    /// Class names for integer labels 0..C-1, in class order, for data that carries only
    /// numbers (IDX files). They also fix the class order.
    pub label_names: Option<Vec<String>>,
    /// Column of the image path in a CSV image list. Paths are relative to the CSV.
    pub image_column: String,
    /// Skip images that fail to decode, with a count, instead of stopping.
    pub skip_bad_images: bool,
    /// Random crop (after resizing to 8/7 of `model.image_size`) and horizontal flip of
    /// training images.
    pub augment: bool,
    /// Keep only the first this many training examples (after a validation fraction is
    /// held out), as `run_glue.py`'s `max_train_samples`.
    pub max_train_samples: Option<usize>,
    /// Keep only the first this many validation examples.
    pub max_eval_samples: Option<usize>,
    /// Keep only the first this many test examples.
    pub max_test_samples: Option<usize>,
}

impl Default for DataConfig {
    fn default() -> Self {
        Self {
            train: None,
            validation: None,
            validation_fraction: None,
            test: None,
            text_column: "text".into(),
            text_pair_column: None,
            label_column: "label".into(),
            label_names: None,
            image_column: "path".into(),
            skip_bad_images: false,
            augment: false,
            max_train_samples: None,
            max_eval_samples: None,
            max_test_samples: None,
        }
    }
}

/// The training objective, as in the table of objectives: `ce`, `supcon`/`scl`, `acf`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ObjectiveKind {
    Ce,
    Supcon,
    Scl,
    Acf,
}

impl ObjectiveKind {
    /// Returns whether the objective has a contrastive term, which needs two examples per batch.
    pub fn is_contrastive(self) -> bool {
        !matches!(self, ObjectiveKind::Ce)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ObjectiveConfig {
    pub kind: ObjectiveKind,
    /// Softmax temperature tau of the contrastive term.
    pub temperature: f32,
    /// Weight of the contrastive term; cross-entropy gets `1 - lambda`.
    pub lambda: f32,
    /// Weight mu of the correlation penalty, for any kind.
    pub correlation_weight: f32,
    /// Use `||R - I||_F^2` instead of `||R - I||_F`.
    pub correlation_squared: bool,
    /// Label embeddings of classes present in the batch are anchors too (ACF only).
    pub label_anchors: bool,
    /// Run the contrastive loss and the correlation penalty as fused WGSL kernels on wgpu
    /// devices; `false` runs the reference tensor-op losses. CPU devices always run the
    /// reference.
    pub fused: bool,
}

impl Default for ObjectiveConfig {
    fn default() -> Self {
        Self {
            kind: ObjectiveKind::Acf,
            temperature: 0.1,
            lambda: 0.5,
            correlation_weight: 0.04,
            correlation_squared: false,
            label_anchors: true,
            fused: true,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct TrainConfig {
    pub epochs: usize,
    /// Stop after this many optimiser steps; overrides `epochs` when set.
    pub max_steps: Option<usize>,
    pub batch_size: usize,
    /// Batch size for evaluation and embedding; defaults to `2 * batch_size`.
    pub eval_batch_size: Option<usize>,
    pub learning_rate: f64,
    /// Decoupled weight decay (AdamW); biases and LayerNorm weights are not decayed.
    pub weight_decay: f64,
    /// Fraction of all steps spent in linear warmup.
    pub warmup_fraction: f64,
    /// Clip the global L2 norm of all gradients to this value; 0 disables clipping.
    pub max_grad_norm: f64,
    pub seed: u64,
    /// Evaluate every this many steps; 0 evaluates at the end of each epoch.
    pub eval_every: usize,
    /// Embedding snapshots for the explorer every this many steps (plus before the first
    /// and after the last step); 0 disables them.
    pub snapshot_every: usize,
    /// Instances of the validation split (the training split without one) per snapshot.
    pub snapshot_size: usize,
    /// Write a training event to `metrics.jsonl` every this many steps.
    pub log_every: usize,
    /// Write a checkpoint every this many steps; 0 writes one at each evaluation.
    pub checkpoint_every: usize,
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            epochs: 1,
            max_steps: None,
            batch_size: 32,
            eval_batch_size: None,
            learning_rate: 5e-5,
            weight_decay: 0.01,
            warmup_fraction: 0.1,
            max_grad_norm: 1.0,
            seed: 42,
            eval_every: 0,
            snapshot_every: 50,
            snapshot_size: 2000,
            log_every: 10,
            checkpoint_every: 0,
        }
    }
}

/// Backend choice for running the model.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum BackendChoice {
    /// A wgpu adapter on Vulkan, Metal or DX12, else the CPU backend with a warning.
    Auto,
    /// A wgpu adapter on Vulkan, Metal or DX12, or an error.
    Wgpu,
    /// burn's pure-Rust CPU backend (Flex).
    Cpu,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct DeviceConfig {
    pub backend: BackendChoice,
}

impl Default for DeviceConfig {
    fn default() -> Self {
        Self {
            backend: BackendChoice::Auto,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct OutputConfig {
    pub run_dir: PathBuf,
}

impl Default for OutputConfig {
    fn default() -> Self {
        Self {
            run_dir: PathBuf::from("runs/default"),
        }
    }
}

impl Config {
    /// Loads a config file (or the defaults when `path` is `None`), applies `key=value`
    /// overrides in order, and checks every value's range.
    pub fn load(path: Option<&Path>, overrides: &[String]) -> Result<Config> {
        let (mut table, source) = match path {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read config file {}", path.display()))?;
                let table: toml::Table = toml::from_str(&text)
                    .map_err(|err| anyhow::anyhow!("{}: invalid TOML: {err}", path.display()))?;
                (table, path.display().to_string())
            }
            None => (toml::Table::new(), "defaults".to_string()),
        };

        for item in overrides {
            apply_override(&mut table, item)?;
        }
        // A bad value may come from the file or from --set; the message names both.
        let source = if overrides.is_empty() {
            source
        } else {
            format!("{source} with --set overrides")
        };

        let mut config: Config = toml::Value::Table(table).try_into().map_err(|err| {
            anyhow::anyhow!("{source}: {err}; see `acf train --help` for the config keys")
        })?;

        if let Some(path) = path {
            config.resolve_paths(path.parent().unwrap_or(Path::new(".")));
        }
        config.validate(&source)?;
        Ok(config)
    }

    /// Parses a fully resolved `config.toml` from a run directory.
    pub fn from_run_file(path: &Path) -> Result<Config> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        toml::from_str(&text).map_err(|err| anyhow::anyhow!("{}: {err}", path.display()))
    }

    /// Serialises the resolved config as TOML.
    pub fn to_toml(&self) -> Result<String> {
        Ok(toml::to_string_pretty(self)?)
    }

    /// Batch size for evaluation passes.
    pub fn eval_batch_size(&self) -> usize {
        self.train
            .eval_batch_size
            .unwrap_or(self.train.batch_size * 2)
    }

    // Data paths in a config file are relative to the current directory, as in the
    // command line, unless they only exist relative to the config file.
    fn resolve_paths(&mut self, config_dir: &Path) {
        for path in [
            &mut self.data.train,
            &mut self.data.validation,
            &mut self.data.test,
        ]
        .into_iter()
        .flatten()
        {
            if path.is_relative() && !path.exists() && config_dir.join(&*path).exists() {
                *path = config_dir.join(&*path);
            }
        }
    }
}
