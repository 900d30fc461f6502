//! `acf bench losses`: fused WGSL losses against the reference ops on one device.

use anyhow::Result;
use clap::{Args, Subcommand};

use acf::bench::losses::{LossBenchOptions, LossBenchRow, Outcome, run_loss_bench};
use acf::config::BackendChoice;
use acf::device::select_device;
use acf::loss::fused::{self, KernelVariant};

#[derive(Subcommand)]
pub enum BenchCommand {
    /// Time forward + backward of the ACF contrastive loss, fused against reference.
    Losses(LossesArgs),
}

#[derive(Args)]
pub struct LossesArgs {
    /// Pool sizes M (instances plus label embeddings), comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "256,1024,4096,16384")]
    sizes: Vec<usize>,
    /// Feature widths d, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "384,768")]
    widths: Vec<usize>,
    /// Label embeddings C in each pool.
    #[arg(long, default_value_t = 16)]
    classes: usize,
    /// Softmax temperature tau.
    #[arg(long, default_value_t = 0.1)]
    temperature: f32,
    /// Timed runs per variant and row, at most; the median is reported.
    #[arg(long, default_value_t = 5)]
    repeats: usize,
    /// Stop adding timed runs to a variant once its runs in a row take this many seconds.
    #[arg(long, default_value_t = 60.0)]
    max_seconds: f64,
    /// Print the report as JSON instead of a table.
    #[arg(long)]
    json: bool,
    /// Backend; the fused kernels need wgpu, so that is the default.
    #[arg(long, value_enum, default_value = "wgpu")]
    backend: BackendChoice,
    /// Fused kernel variant: `auto` probes the adapter, `portable` and `subgroup` pin one.
    #[arg(long, value_enum, default_value = "auto")]
    kernel_variant: VariantChoice,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum VariantChoice {
    Auto,
    Portable,
    Subgroup,
}

pub fn run(command: BenchCommand) -> Result<()> {
    match command {
        BenchCommand::Losses(args) => losses(args),
    }
}

fn losses(args: LossesArgs) -> Result<()> {
    let selected = select_device(args.backend)?;
    fused::force_kernel_variant(match args.kernel_variant {
        VariantChoice::Auto => None,
        VariantChoice::Portable => Some(KernelVariant::Portable),
        VariantChoice::Subgroup => Some(KernelVariant::Subgroup),
    });
    let options = LossBenchOptions {
        pool_sizes: args.sizes,
        widths: args.widths,
        classes: args.classes,
        temperature: args.temperature,
        repeats: args.repeats,
        max_seconds_per_row: args.max_seconds,
    };
    let report = run_loss_bench(
        &selected.device,
        &selected.backend,
        &selected.adapter,
        &options,
        |row| tracing::info!("{}", format_row(row)),
    )?;

    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    println!("device: {} ({})", report.adapter, report.backend);
    if let Some(variant) = report.kernel_variant {
        println!("fused kernel variant: {variant:?}");
    }
    if let Some(limit) = report.max_buffer_bytes {
        println!("max buffer: {} MiB", limit >> 20);
    }
    for rate in &report.matmul {
        println!(
            "burn matmul [1024, {0}] x [{0}, 1024]: {1:.2} GFLOP/s",
            rate.width, rate.gflops
        );
    }
    println!(
        "{:>6} {:>4} {:>11} {:>11} {:>7} {:>9} {:>10} {:>10} {:>9} {:>9}",
        "M",
        "d",
        "fused s",
        "ref s",
        "speedup",
        "floor s",
        "fused MiB",
        "ref MiB",
        "loss err",
        "grad err"
    );
    for row in &report.rows {
        println!("{}", format_row(row));
    }
    for row in &report.rows {
        if let Outcome::Skipped { reason } = &row.reference {
            println!(
                "M = {}, d = {}: reference not run: {reason}",
                row.pool_size, row.width
            );
        }
    }
    Ok(())
}

fn format_row(row: &LossBenchRow) -> String {
    let seconds = |outcome: &Outcome| match outcome {
        Outcome::Measured(m) => format!("{:.4}", m.median_seconds),
        Outcome::Skipped { .. } => "skipped".to_string(),
    };
    let mebibytes = |outcome: &Outcome| match outcome {
        Outcome::Measured(m) => format!("{:.1}", m.peak_bytes as f64 / (1u64 << 20) as f64),
        Outcome::Skipped { .. } => "-".to_string(),
    };
    let optional = |value: Option<f64>, format: fn(f64) -> String| {
        value.map(format).unwrap_or_else(|| "-".into())
    };
    format!(
        "{:>6} {:>4} {:>11} {:>11} {:>7} {:>9.4} {:>10} {:>10} {:>9} {:>9}",
        row.pool_size,
        row.width,
        seconds(&row.fused),
        seconds(&row.reference),
        optional(row.speedup, |x| format!("{x:.2}x")),
        row.floor_seconds,
        mebibytes(&row.fused),
        mebibytes(&row.reference),
        optional(row.loss_relative_error, |x| format!("{x:.1e}")),
        optional(row.gradient_relative_error, |x| format!("{x:.1e}")),
    )
}
