//! `acf gui`: the explorer window.

use std::path::PathBuf;

use acf::config::Config;
use acf::gui::{GuiOptions, launch};
use acf::run::RunDir;
use anyhow::{Result, bail};

#[derive(clap::Args)]
pub struct GuiArgs {
    /// Config file whose values fill the setup form (and that `--start` trains).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Override one config key of the form, e.g. `--set train.snapshot_every=20`; repeatable.
    #[arg(long = "set", value_name = "SECTION.KEY=VALUE")]
    overrides: Vec<String>,
    /// Run directory to open: finished, or still being written by `acf train` elsewhere.
    #[arg(long, value_name = "DIR", conflicts_with = "start")]
    run: Option<PathBuf>,
    /// Start training the config at once instead of waiting for the Start button.
    #[arg(long)]
    start: bool,
    /// Render the window to this PNG once the run has loaded (with --start: once training
    /// has finished), then exit. Needs a display; use Xvfb on a server.
    #[arg(long, value_name = "PNG")]
    screenshot: Option<PathBuf>,
    /// Once the map shows a snapshot, draw this many frames without vsync, print frame-time
    /// statistics as JSON, then close (a run started with --start stops with a checkpoint).
    #[arg(long, value_name = "N")]
    measure_frames: Option<usize>,
    /// Window size in points, WIDTHxHEIGHT.
    #[arg(long, value_name = "WxH", default_value = "1600x1000")]
    window_size: String,
}

pub fn run(args: GuiArgs) -> Result<()> {
    let config = Config::load(args.config.as_deref(), &args.overrides)?;
    if args.start && config.data.train.is_none() {
        bail!("--start needs data.train; pass --config FILE or --set data.train=PATH");
    }
    let window_size = parse_size(&args.window_size)?;
    // Bad paths fail here, before a window opens and a run loads.
    if let Some(run) = &args.run {
        RunDir::new(run).check_is_run()?;
    }
    if let Some(path) = &args.screenshot {
        check_png_path(path)?;
    }
    let outcome = launch(GuiOptions {
        config,
        run: args.run,
        start: args.start,
        screenshot: args.screenshot.clone(),
        measure_frames: args.measure_frames,
        window_size,
    })?;

    if let Some(report) = &outcome.frames {
        println!("{}", serde_json::to_string_pretty(report)?);
    }
    if let Some(error) = outcome.error {
        bail!("{error}");
    }
    match (&args.screenshot, &outcome.screenshot) {
        (Some(_), Some(path)) => tracing::info!("screenshot written to {}", path.display()),
        (Some(path), None) => bail!(
            "the window closed before the screenshot {} was taken",
            path.display()
        ),
        _ => {}
    }
    Ok(())
}

fn parse_size(text: &str) -> Result<[f32; 2]> {
    let parsed = text.split_once('x').and_then(|(width, height)| {
        Some([width.trim().parse().ok()?, height.trim().parse().ok()?])
    });
    match parsed {
        Some([width, height]) if width >= 400.0 && height >= 300.0 => Ok([width, height]),
        _ => bail!(
            "--window-size {text:?}: expected WIDTHxHEIGHT of at least 400x300, e.g. 1600x1000"
        ),
    }
}

fn check_png_path(path: &std::path::Path) -> Result<()> {
    let is_png = path
        .extension()
        .is_some_and(|extension| extension.eq_ignore_ascii_case("png"));
    if !is_png {
        bail!(
            "--screenshot {}: the file name must end in .png",
            path.display()
        );
    }
    if path.is_dir() {
        bail!(
            "--screenshot {}: is a folder; give a file name",
            path.display()
        );
    }
    let parent = path
        .parent()
        .filter(|parent| !parent.as_os_str().is_empty());
    if let Some(parent) = parent
        && !parent.is_dir()
    {
        bail!(
            "--screenshot {}: folder {} does not exist; create it first",
            path.display(),
            parent.display()
        );
    }
    Ok(())
}
