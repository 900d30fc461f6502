//! Subcommands: `train`, `eval`, `predict`, `embed`, `gui`, `export-projector` and `bench`.

mod bench;
mod embed;
mod evaluate;
mod export_projector;
mod gui;
mod predict;
mod progress;
mod run_model;
mod train;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use acf::config::BackendChoice;
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "acf",
    version,
    about = "Aligned contrastive fine-tuning (ACF) of pre-trained text and image encoders on wgpu",
    long_about = "Fine-tunes a pre-trained BERT-family encoder or the EfficientNet-Lite0 image backbone with cross-entropy, supervised contrastive (SupCon/SCL) or aligned contrastive (ACF) objectives, on a wgpu GPU adapter or the CPU. Logs go to stderr; set RUST_LOG=debug for more."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Fine-tune a model; writes config, metrics, summary and checkpoints to a run directory.
    #[command(after_long_help = train::CONFIG_HELP)]
    Train(train::TrainArgs),
    /// Evaluate a run's latest checkpoint on a labelled file; prints metrics as JSON.
    Eval(evaluate::EvalArgs),
    /// Predict labels and class probabilities for each example of a file, as JSONL.
    Predict(predict::PredictArgs),
    /// Write pooled, L2-normalised sentence or image embeddings of a pre-trained model as JSONL.
    Embed(embed::EmbedArgs),
    /// Open the explorer window: start a run, watch one in progress, or replay a run directory.
    Gui(gui::GuiArgs),
    /// Write one embedding snapshot as TensorBoard Embedding Projector TSV files.
    ExportProjector(export_projector::ExportProjectorArgs),
    /// Benchmarks on this machine's device.
    #[command(subcommand)]
    Bench(bench::BenchCommand),
}

/// Options shared by subcommands that run a model.
#[derive(clap::Args, Clone)]
pub struct DeviceArgs {
    /// Backend. `auto` uses a hardware wgpu adapter (Vulkan, Metal, DX12), else the CPU
    /// backend with a warning. `wgpu` requires an adapter. `cpu` uses burn's Flex backend.
    #[arg(long, value_enum)]
    pub backend: Option<BackendChoice>,
}

/// A run directory argument.
#[derive(clap::Args, Clone)]
pub struct RunArgs {
    /// Run directory written by `acf train` (contains config.toml, labels.json, checkpoints/).
    #[arg(long, value_name = "DIR")]
    pub run: PathBuf,
}

pub fn run() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
                tracing_subscriber::EnvFilter::new(
                    "info,wgpu_core=warn,wgpu_hal=warn,naga=warn,cubecl=warn",
                )
            }),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .init();

    let cli = Cli::parse();
    let result = match cli.command {
        Command::Train(args) => train::run(args),
        Command::Eval(args) => evaluate::run(args),
        Command::Predict(args) => predict::run(args),
        Command::Embed(args) => embed::run(args),
        Command::Gui(args) => gui::run(args),
        Command::ExportProjector(args) => export_projector::run(args),
        Command::Bench(command) => bench::run(command),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!("{err:#}");
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
