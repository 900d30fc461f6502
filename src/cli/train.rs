//! `acf train`.

use std::path::PathBuf;

use acf::config::Config;
use acf::run::{RunDir, RunDirSink};
use acf::train::{EventSink, train};
use anyhow::Result;

use super::DeviceArgs;
use super::progress::ProgressSink;

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
