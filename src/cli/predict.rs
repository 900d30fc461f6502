//! `acf predict`.

use std::io::Write;
use std::path::PathBuf;

use acf::data::image::{ImageDataset, read_image_inputs};
use acf::data::{EncodedDataset, LabelRequirement, columns, read_examples};
use acf::run::write_atomic;
use acf::train::evaluate::{Predictions, predict};
use anyhow::Result;
use serde_json::json;

use super::run_model::{TrainedModel, load_run};
use super::{DeviceArgs, RunArgs};

#[derive(clap::Args)]
pub struct PredictArgs {
    #[command(flatten)]
    run: RunArgs,
    /// Examples to label: CSV, TSV or JSONL with the run's text column(s), or .txt with one
    /// text a line. For an image run: an image file, a folder (searched recursively), an
    /// IDX image file or a CSV of paths.
    #[arg(long, value_name = "PATH")]
    input: PathBuf,
    /// JSONL output, one {"text" or "image", "label", "probabilities", "nearest_label"}
    /// object a line; stdout when unset.
    #[arg(long, value_name = "FILE")]
    output: Option<PathBuf>,
    #[command(flatten)]
    device: DeviceArgs,
}

pub fn run(args: PredictArgs) -> Result<()> {
    let trained = load_run(&args.run, args.device.backend)?;
    let config = &trained.config;
    let device = &trained.selected.device;
    let batch_size = config.eval_batch_size();

    // Each input's own fields of its output line: the text (and pair) or the image.
    let (inputs, predictions): (Vec<serde_json::Value>, Predictions) = match &trained.model {
        TrainedModel::Text { model, tokenizer } => {
            let examples = read_examples(
                &args.input,
                &columns(&config.data),
                LabelRequirement::Optional,
            )?;
            let dataset = EncodedDataset::new(examples, Vec::new(), tokenizer)?;
            let (predictions, _) = predict(model.as_ref(), &dataset, None, batch_size, device)?;
            let inputs = dataset
                .examples
                .iter()
                .map(|example| match &example.text_pair {
                    Some(pair) => json!({"text": example.text, "text_pair": pair}),
                    None => json!({"text": example.text}),
                })
                .collect();
            (inputs, predictions)
        }
        TrainedModel::Image { model, transform } => {
            let examples = read_image_inputs(&args.input, &config.data)?;
            let (dataset, _) = ImageDataset::new(
                examples,
                Vec::new(),
                transform.clone(),
                config.data.skip_bad_images,
            )?;
            let (predictions, _) = predict(model, &dataset, None, batch_size, device)?;
            let inputs = dataset
                .examples
                .iter()
                .map(|example| json!({"image": example.origin}))
                .collect();
            (inputs, predictions)
        }
    };

    let classes = trained.labels.len();
    let names = &trained.labels.names;
    let mut output = String::new();
    for (index, mut line) in inputs.into_iter().enumerate() {
        let row = &predictions.probabilities[index * classes..(index + 1) * classes];
        let probabilities: serde_json::Map<String, serde_json::Value> = names
            .iter()
            .zip(row)
            .map(|(name, probability)| (name.clone(), json!(probability)))
            .collect();
        line["label"] = json!(names[predictions.classes[index]]);
        line["probabilities"] = json!(probabilities);
        line["nearest_label"] = json!(names[predictions.nearest_labels[index]]);
        output.push_str(&serde_json::to_string(&line)?);
        output.push('\n');
    }

    let count = predictions.classes.len();
    match &args.output {
        Some(path) => {
            write_atomic(path, output.as_bytes())?;
            tracing::info!(output = %path.display(), examples = count, "predictions written");
        }
        None => std::io::stdout().write_all(output.as_bytes())?,
    }
    Ok(())
}
