//! `acf eval`.

use std::path::PathBuf;

use acf::data::image::{ImageDataset, encode_labels, read_images};
use acf::data::{EncodedDataset, LabelRequirement, columns, read_examples};
use acf::train::evaluate::{Evaluation, evaluate};
use anyhow::Result;
use serde_json::json;

use super::run_model::{TrainedModel, load_run};
use super::{DeviceArgs, RunArgs};

#[derive(clap::Args)]
pub struct EvalArgs {
    #[command(flatten)]
    run: RunArgs,
    /// Labelled data in the run's format: a CSV, TSV or JSONL file with the run's column
    /// names. For an image run, a class-per-folder tree, an IDX image file or a CSV of
    /// path,label.
    #[arg(long, value_name = "PATH")]
    data: PathBuf,
    #[command(flatten)]
    device: DeviceArgs,
}

pub fn run(args: EvalArgs) -> Result<()> {
    let trained = load_run(&args.run, args.device.backend)?;
    let config = &trained.config;
    let device = &trained.selected.device;
    let evaluation: Evaluation = match &trained.model {
        TrainedModel::Text { model, tokenizer } => {
            let examples = read_examples(
                &args.data,
                &columns(&config.data),
                LabelRequirement::Required,
            )?;
            let labels = trained.labels.encode(&examples, &args.data)?;
            let dataset = EncodedDataset::new(examples, labels, tokenizer)?;
            evaluate(
                model.as_ref(),
                &dataset,
                &config.objective,
                config.eval_batch_size(),
                device,
            )?
        }
        TrainedModel::Image { model, transform } => {
            let examples = read_images(&args.data, &config.data)?;
            let labels = encode_labels(&trained.labels, &examples)?;
            let (dataset, _) = ImageDataset::new(
                examples,
                labels,
                transform.clone(),
                config.data.skip_bad_images,
            )?;
            evaluate(
                model,
                &dataset,
                &config.objective,
                config.eval_batch_size(),
                device,
            )?
        }
    };
    let report = json!({
        "data": args.data,
        "examples": evaluation.examples,
        "metrics": evaluation.metrics,
        "losses": evaluation.losses,
        "backend": trained.selected.backend,
        "adapter": trained.selected.adapter,
    });
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}
