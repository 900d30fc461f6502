//! `acf eval`.

use std::path::PathBuf;

use acf::data::{EncodedDataset, LabelRequirement, columns, read_examples};
use acf::train::evaluate::evaluate;
use anyhow::Result;
use serde_json::json;

use super::run_model::load_run;
use super::{DeviceArgs, RunArgs};

#[derive(clap::Args)]
pub struct EvalArgs {
    #[command(flatten)]
    run: RunArgs,
    /// Labelled CSV, TSV or JSONL file with the run's column names.
    #[arg(long, value_name = "FILE")]
    data: PathBuf,
    #[command(flatten)]
    device: DeviceArgs,
}

pub fn run(args: EvalArgs) -> Result<()> {
    let trained = load_run(&args.run, args.device.backend)?;
    let examples = read_examples(
        &args.data,
        &columns(&trained.config.data),
        LabelRequirement::Required,
    )?;
    let labels = trained.labels.encode(&examples, &args.data)?;
    let dataset = EncodedDataset::new(examples, labels, &trained.tokenizer)?;

    let evaluation = evaluate(
        &trained.model,
        &dataset,
        &trained.config.objective,
        trained.config.eval_batch_size(),
        trained.tokenizer.pad_id(),
        &trained.selected.device,
    )?;
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
