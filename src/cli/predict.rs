//! `acf predict`.

use std::io::Write;
use std::path::PathBuf;

use acf::data::{EncodedDataset, LabelRequirement, columns, read_examples};
use acf::run::write_atomic;
use acf::train::evaluate::predict;
use anyhow::Result;
use serde_json::json;

use super::run_model::load_run;
use super::{DeviceArgs, RunArgs};

#[derive(clap::Args)]
pub struct PredictArgs {
    #[command(flatten)]
    run: RunArgs,
    /// Examples to label: CSV, TSV or JSONL with the run's text column(s), or .txt with one text a line.
    #[arg(long, value_name = "FILE")]
    input: PathBuf,
    /// JSONL output, one {"text", "label", "probabilities", "nearest_label"} object a line; stdout when unset.
    #[arg(long, value_name = "FILE")]
    output: Option<PathBuf>,
    #[command(flatten)]
    device: DeviceArgs,
}

pub fn run(args: PredictArgs) -> Result<()> {
    let trained = load_run(&args.run, args.device.backend)?;
    let examples = read_examples(
        &args.input,
        &columns(&trained.config.data),
        LabelRequirement::Optional,
    )?;
    let dataset = EncodedDataset::new(examples, Vec::new(), &trained.tokenizer)?;

    let (predictions, _) = predict(
        &trained.model,
        &dataset,
        None,
        trained.config.eval_batch_size(),
        trained.tokenizer.pad_id(),
        &trained.selected.device,
    )?;

    let classes = trained.labels.len();
    let mut output = String::new();
    for (index, example) in dataset.examples.iter().enumerate() {
        let row = &predictions.probabilities[index * classes..(index + 1) * classes];
        let probabilities: serde_json::Map<String, serde_json::Value> = trained
            .labels
            .names
            .iter()
            .zip(row)
            .map(|(name, probability)| (name.clone(), json!(probability)))
            .collect();
        let mut line = json!({
            "text": example.text,
            "label": trained.labels.names[predictions.classes[index]],
            "probabilities": probabilities,
            "nearest_label": trained.labels.names[predictions.nearest_labels[index]],
        });
        if let Some(pair) = &example.text_pair {
            line["text_pair"] = json!(pair);
        }
        output.push_str(&serde_json::to_string(&line)?);
        output.push('\n');
    }

    match &args.output {
        Some(path) => {
            write_atomic(path, output.as_bytes())?;
            tracing::info!(output = %path.display(), examples = dataset.len(), "predictions written");
        }
        None => std::io::stdout().write_all(output.as_bytes())?,
    }
    Ok(())
}
