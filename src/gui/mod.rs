//! The explorer: an eframe window that starts, watches or replays a run, with live loss
//! curves and the shared-space map of instances and label embeddings.

mod app;
mod automation;
mod curves;
mod file_browser;
mod live;
mod projection;
mod readouts;
mod setup;
pub mod state;
mod watch;

use eframe::egui;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use anyhow::{Result, bail};

pub use app::ExplorerApp;
pub use automation::{FrameReport, GuiOutcome};
pub use curves::smooth;
pub use state::{InstanceDetails, RunState, RunStatus};
pub use watch::RunWatcher;

use crate::config::Config;
use automation::Automation;

/// Options of one `acf gui` invocation.
pub struct GuiOptions {
    /// The setup form's initial values.
    pub config: Config,
    /// A run directory to open.
    pub run: Option<PathBuf>,
    /// Start training `config` as soon as the window opens.
    pub start: bool,
    pub screenshot: Option<PathBuf>,
    pub measure_frames: Option<usize>,
    /// Inner window size in points.
    pub window_size: [f32; 2],
}

/// Opens the window and returns when it closes.
pub fn launch(options: GuiOptions) -> Result<GuiOutcome> {
    let outcome = Arc::new(Mutex::new(GuiOutcome::default()));
    let mut native = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("acf explorer")
            .with_inner_size(options.window_size),
        // Dithering adds a noise function to every fragment, which a software renderer
        // pays for in full; the dark theme shows no banding without it.
        dithering: false,
        ..Default::default()
    };
    if options.measure_frames.is_some() {
        // Frame times, not the display's refresh rate.
        native.wgpu_options.surface.present_mode = eframe::wgpu::PresentMode::AutoNoVsync;
    }

    let app_outcome = outcome.clone();
    let result = eframe::run_native(
        "acf explorer",
        native,
        Box::new(move |creation| {
            let ctx = creation.egui_ctx.clone();
            let wake: Arc<dyn Fn() + Send + Sync> = Arc::new(move || ctx.request_repaint());
            let automation = Automation::new(
                options.screenshot,
                options.measure_frames,
                options.start,
                app_outcome,
            );
            let mut app = ExplorerApp::new(options.config.clone(), automation, wake);
            if let Some(run) = options.run {
                app.open_run(run);
            }
            if options.start {
                app.start_run(options.config);
            }
            Ok(Box::new(app))
        }),
    );
    if let Err(err) = result {
        bail!(
            "cannot open the explorer window: {err}. It needs a display (X11, or Xvfb: `xvfb-run acf gui ...`) and a Vulkan, Metal or DX12 driver"
        );
    }
    let outcome = std::mem::take(&mut *outcome.lock().expect("outcome lock"));
    Ok(outcome)
}
