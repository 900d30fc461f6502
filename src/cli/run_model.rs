//! Loading a trained run's latest checkpoint for evaluation and prediction.

use acf::config::{BackendChoice, Config};
use acf::data::LabelSet;
use acf::device::{SelectedDevice, select_device};
use acf::model::{PretrainedFiles, TextClassifier, TextTokenizer};
use acf::run::RunDir;
use acf::train::checkpoint::{MODEL_FILE, latest_checkpoint, read_state};
use anyhow::{Context, Result};
use burn::module::Module;

use super::RunArgs;

pub struct TrainedRun {
    pub config: Config,
    pub labels: LabelSet,
    pub tokenizer: TextTokenizer,
    pub model: TextClassifier,
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

    let files = PretrainedFiles::resolve(&config.model.name)?;
    let tokenizer = TextTokenizer::from_file(&files.tokenizer_path(), config.model.max_length)?;
    let selected = select_device(backend.unwrap_or(config.device.backend))?;
    let model = TextClassifier::load(
        &checkpoint.join(MODEL_FILE),
        &state.encoder_config,
        labels.len(),
        state.pooling,
        &selected.device,
    )?
    .valid();
    tracing::info!(checkpoint = %checkpoint.display(), "loaded model");
    Ok(TrainedRun {
        config,
        labels,
        tokenizer,
        model,
        selected,
    })
}
