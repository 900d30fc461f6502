//! `acf export-projector`: one snapshot as TensorBoard Embedding Projector files.

use std::path::PathBuf;

use acf::snapshot::export_projector;
use anyhow::Result;

use super::RunArgs;

#[derive(clap::Args)]
pub struct ExportProjectorArgs {
    #[command(flatten)]
    run: RunArgs,
    /// Snapshot step to export; the latest by default.
    #[arg(long)]
    step: Option<usize>,
    /// Output folder; `<run>/projector` by default. Open it with `tensorboard --logdir`, or
    /// load the two TSV files at projector.tensorflow.org.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
}

pub fn run(args: ExportProjectorArgs) -> Result<()> {
    let out = args.out.unwrap_or_else(|| args.run.run.join("projector"));
    let export = export_projector(&args.run.run, args.step, &out)?;
    println!(
        "{}",
        serde_json::json!({
            "step": export.step,
            "rows": export.rows,
            "vectors": export.vectors,
            "metadata": export.metadata,
            "config": export.config,
        })
    );
    Ok(())
}
