//! Loading a trained run's latest checkpoint for evaluation and prediction.

use acf::config::{BackendChoice, Config, Pooling};
use acf::data::LabelSet;
use acf::data::image::ImageTransform;
use acf::device::{SelectedDevice, select_device};
use acf::model::{ImageClassifier, ModelKind, PretrainedFiles, TextClassifier, TextTokenizer};
use acf::run::RunDir;
use acf::train::checkpoint::{MODEL_FILE, latest_checkpoint, read_state};
use acf::train::setup::ImageSetup;
use anyhow::{Context, Result};
use burn::module::Module;

use super::RunArgs;

/// A fine-tuned model with what turns inputs into its batches.
pub enum TrainedModel {
    Text {
        /// Boxed because a BERT module is much larger than the image model's handles.
        model: Box<TextClassifier>,
        tokenizer: TextTokenizer,
    },
    Image {
        model: ImageClassifier,
        transform: ImageTransform,
    },
}

pub struct TrainedRun {
    pub config: Config,
    pub labels: LabelSet,
    pub model: TrainedModel,
    pub selected: SelectedDevice,
}

pub fn load_run(args: &RunArgs, backend: Option<BackendChoice>) -> Result<TrainedRun> {
    let run = RunDir::new(&args.run);
    let config = Config::from_run_file(&run.config())
        .with_context(|| format!("{} is not a run directory", run.root.display()))?;
    let labels = LabelSet::load(&run.labels())?;
    let checkpoint = latest_checkpoint(&run)?.with_context(|| {
        format!(
            "{}: no checkpoint yet; train the run first",
            run.root.display()
        )
    })?;
    let state = read_state(&checkpoint)?;
    let selected = select_device(backend.unwrap_or(config.device.backend))?;
    let weights = checkpoint.join(MODEL_FILE);

    let model = match state.kind {
        ModelKind::Text => {
            let files = PretrainedFiles::resolve(&config.model.name)?;
            let tokenizer =
                TextTokenizer::from_file(&files.tokenizer_path(), config.model.max_length)?;
            let encoder_config = state.encoder_config.as_ref().with_context(|| {
                format!(
                    "{}: the checkpoint state has no encoder_config",
                    checkpoint.display()
                )
            })?;
            let model = TextClassifier::load(
                &weights,
                encoder_config,
                labels.len(),
                state.pooling.unwrap_or(Pooling::Cls),
                &selected.device,
            )?
            .valid();
            TrainedModel::Text {
                model: Box::new(model),
                tokenizer,
            }
        }
        ModelKind::Image => {
            let mut transform = ImageSetup::transform(&config);
            transform.augment = false;
            transform.size = state.image_size.unwrap_or(transform.size);
            let model = ImageClassifier::load(&weights, labels.len(), &selected.device)?.valid();
            TrainedModel::Image { model, transform }
        }
    };
    tracing::info!(checkpoint = %checkpoint.display(), "loaded model");
    Ok(TrainedRun {
        config,
        labels,
        model,
        selected,
    })
}
