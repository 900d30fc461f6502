//! `acf train`.

use std::path::PathBuf;

use acf::config::Config;
use acf::run::{RunDir, RunDirSink};
use acf::train::{EventSink, train};
use anyhow::Result;

use super::DeviceArgs;
use super::progress::ProgressSink;

/// Config keys, shown by `acf train --help`.
pub const CONFIG_HELP: &str = "\
Config keys (TOML sections, or --set section.key=value):
  model.name                 hub id (resolved in the Hugging Face cache) or local folder
  model.pooling              cls | mean | pooler; default from 1_Pooling/config.json, else cls
  model.max_length           tokens per example, special tokens included; longer text is truncated (default 128)
  model.image_size           side of the square input images of an image backbone, pixels (default 224)
  data.train                 CSV, TSV or JSONL file with text and label columns; for an image
                             backbone: a class-per-folder tree, an IDX image file (its
                             *-labels-idx1-ubyte[.gz] beside it), or a CSV of path,label
  data.validation            labelled file for evaluation, or:
  data.validation_fraction   fraction of the training file held out, in (0, 1)
  data.test                  optional labelled file, evaluated at the end
  data.text_column           column of the text (default text)
  data.text_pair_column      optional second segment for sentence-pair tasks
  data.label_column          column of the label, string or integer (default label)
  data.label_names           class names for integer labels 0..C-1, in class order (for IDX files)
  data.image_column          column of the image path in a CSV image list (default path)
  data.skip_bad_images       skip images that fail to decode, with a count (default false)
  data.augment               random crop and horizontal flip of training images (default false)
  data.max_train_samples     keep the first N training examples (default: all)
  data.max_eval_samples      keep the first N validation examples (default: all)
  data.max_test_samples      keep the first N test examples (default: all)
  objective.kind             ce | supcon | scl | acf (default acf)
  objective.temperature      softmax temperature tau of the contrastive term, > 0 (default 0.1)
  objective.lambda           contrastive weight in [0, 1]; cross-entropy gets 1 - lambda (default 0.5)
  objective.correlation_weight  weight mu of the correlation penalty, >= 0 (default 0.04)
  objective.correlation_squared use ||R - I||_F^2 instead of ||R - I||_F (default false)
  objective.label_anchors    label embeddings of classes in the batch are anchors too (default true)
  objective.fused            fused WGSL loss kernels on wgpu; false runs the reference ops (default true)
  train.epochs               passes over the training set (default 1)
  train.max_steps            optimiser steps; overrides epochs when set
  train.batch_size           examples per step, >= 2 for contrastive objectives (default 32)
  train.eval_batch_size      examples per evaluation pass (default 2 * batch_size)
  train.learning_rate        peak AdamW learning rate (default 5e-5)
  train.weight_decay         decoupled weight decay; not applied to biases and LayerNorm (default 0.01)
  train.warmup_fraction      fraction of steps with linear warmup, then linear decay (default 0.1)
  train.max_grad_norm        clip the global gradient L2 norm; 0 disables (default 1.0)
  train.seed                 seed of shuffling, splits, initialisation and dropout (default 42)
  train.eval_every           steps between evaluations; 0 = end of each epoch (default 0)
  train.log_every            steps between metrics.jsonl step events (default 10)
  train.checkpoint_every     steps between checkpoints; 0 = at each evaluation (default 0)
  train.snapshot_every       steps between embedding snapshots for `acf gui`; 0 disables (default 50)
  train.snapshot_size        validation instances per snapshot (default 2000)
  device.backend             auto | wgpu | cpu (default auto)
  output.run_dir             run directory (default runs/default)";

#[derive(clap::Args)]
pub struct TrainArgs {
    /// TOML config file; keys not set keep their defaults (see README).
    #[arg(long, value_name = "FILE", conflicts_with = "resume")]
    config: Option<PathBuf>,
    /// Override one config key, e.g. `--set objective.temperature=0.05`; repeatable, applied in order.
    #[arg(long = "set", value_name = "SECTION.KEY=VALUE")]
    overrides: Vec<String>,
    /// Run directory for outputs; overrides `output.run_dir`. Must not hold a run already.
    #[arg(long, value_name = "DIR", conflicts_with = "resume")]
    run_dir: Option<PathBuf>,
    /// Continue the run in DIR from its latest checkpoint, with its own config.toml (plus any --set).
    #[arg(long, value_name = "DIR")]
    resume: Option<PathBuf>,
    #[command(flatten)]
    device: DeviceArgs,
}

pub fn run(args: TrainArgs) -> Result<()> {
    let mut overrides = args.overrides.clone();
    if let Some(backend) = args.device.backend {
        let name = format!("{backend:?}").to_lowercase();
        overrides.push(format!("device.backend=\"{name}\""));
    }

    let (config, resume) = match &args.resume {
        Some(dir) => {
            let mut config = Config::load(Some(&RunDir::new(dir).config()), &overrides)?;
            config.output.run_dir = dir.clone();
            (config, true)
        }
        None => {
            let mut config = Config::load(args.config.as_deref(), &overrides)?;
            if let Some(dir) = &args.run_dir {
                config.output.run_dir = dir.clone();
            }
            (config, false)
        }
    };

    let mut sinks: Vec<Box<dyn EventSink>> = vec![
        Box::new(RunDirSink::new(RunDir::new(&config.output.run_dir))),
        Box::new(ProgressSink::default()),
    ];
    let summary = train(config, resume, &mut sinks)?;
    println!("{}", serde_json::to_string_pretty(&summary)?);
    Ok(())
}
