//! The explorer window: run setup on the left, curves and the shared-space map in the
//! middle, alignment readouts on the right, messages at the bottom.

use eframe::egui;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use egui::{Color32, ColorImage, Ui};

use super::automation::Automation;
use super::curves::CurvesView;
use super::live::LiveRun;
use super::projection::ProjectionView;
use super::readouts::ReadoutsView;
use super::setup::{SetupAction, SetupPanel};
use super::state::{RunState, RunStatus};
use super::watch::RunWatcher;
use crate::config::Config;
use crate::run::RunDir;

/// How often a watched run directory is read for new lines.
const POLL_INTERVAL: Duration = Duration::from_secs(1);

pub struct ExplorerApp {
    pub state: RunState,
    watcher: Option<RunWatcher>,
    live: Option<LiveRun>,
    setup: SetupPanel,
    curves: CurvesView,
    projection: ProjectionView,
    readouts: ReadoutsView,
    automation: Automation,
    wake: Arc<dyn Fn() + Send + Sync>,
    last_poll: Instant,
    /// The window was asked to close while training ran: close once the trainer stopped.
    close_when_stopped: bool,
}

impl ExplorerApp {
    /// `wake` requests a new UI frame and may be called from any thread.
    pub fn new(
        config: Config,
        automation: Automation,
        wake: Arc<dyn Fn() + Send + Sync>,
    ) -> ExplorerApp {
        ExplorerApp {
            state: RunState::default(),
            watcher: None,
            live: None,
            setup: SetupPanel::new(config),
            curves: CurvesView::default(),
            projection: ProjectionView::default(),
            readouts: ReadoutsView,
            automation,
            wake,
            last_poll: Instant::now(),
            close_when_stopped: false,
        }
    }

    /// Shows the run in `root`, finished or in progress.
    pub fn open_run(&mut self, root: PathBuf) {
        let mut state = RunState::default();
        match RunWatcher::open(&root, &mut state) {
            Ok(watcher) => {
                // The form starts from the opened run's config, ready for a variant of it.
                if let Ok(config) = Config::from_run_file(&RunDir::new(&root).config()) {
                    self.setup = SetupPanel::new(config);
                }
                self.state = state;
                self.watcher = Some(watcher);
                self.projection = ProjectionView::default();
            }
            Err(err) => self.state.report(format!("{err:#}")),
        }
    }

    /// Starts training `config` on its own thread and shows it live.
    pub fn start_run(&mut self, config: Config) {
        match LiveRun::start(config, self.wake.clone()) {
            Ok(live) => {
                self.state = RunState {
                    run_dir: Some(live.run_dir.clone()),
                    ..RunState::default()
                };
                self.watcher = None;
                self.projection = ProjectionView::default();
                self.live = Some(live);
            }
            Err(err) => self.setup.error = Some(format!("cannot start training: {err:#}")),
        }
    }

    fn training(&self) -> bool {
        self.live.as_ref().is_some_and(|live| !live.ended())
    }

    /// Brings in new events, then handles a close request while training runs.
    fn update_state(&mut self, ctx: &egui::Context) {
        if let Some(live) = &mut self.live {
            live.drain(&mut self.state);
        }
        if let Some(watcher) = &mut self.watcher {
            if self.last_poll.elapsed() >= POLL_INTERVAL {
                watcher.poll(&mut self.state);
                self.last_poll = Instant::now();
            }
            ctx.request_repaint_after(POLL_INTERVAL);
        }

        if ctx.input(|input| input.viewport().close_requested()) && self.training() {
            ctx.send_viewport_cmd(egui::ViewportCommand::CancelClose);
            if let Some(live) = &self.live {
                live.stop();
            }
            self.close_when_stopped = true;
        }
        if self.close_when_stopped && !self.training() {
            ctx.send_viewport_cmd(egui::ViewportCommand::Close);
        }
        if self.close_when_stopped {
            ctx.request_repaint_after(Duration::from_millis(200));
        }
    }

    fn status_ui(&self, ui: &mut Ui) {
        ui.horizontal(|ui| {
            ui.strong("acf explorer");
            if let Some(dir) = &self.state.run_dir {
                ui.label(format!("run {}", dir.display()));
            }
            let status = match &self.state.status {
                RunStatus::Empty => "no run open".to_string(),
                RunStatus::Running { step, total_steps } => {
                    format!("training: step {step} of {total_steps}")
                }
                RunStatus::Finished {
                    step,
                    stopped: false,
                } => format!("finished at step {step}"),
                RunStatus::Finished {
                    step,
                    stopped: true,
                } => {
                    format!("stopped at step {step} (resume with acf train --resume)")
                }
                RunStatus::Failed(message) => format!("failed: {message}"),
            };
            ui.label(status);
            if let Some(adapter) = &self.state.backend {
                ui.label(format!("on {adapter}"));
            }
            if self.close_when_stopped {
                ui.label("closing after the current step and a checkpoint...");
            }
        });
    }

    fn messages_ui(&self, ui: &mut Ui) {
        egui::ScrollArea::vertical()
            .max_height(90.0)
            .show(ui, |ui| {
                for message in &self.state.messages {
                    ui.colored_label(ui.visuals().warn_fg_color, message);
                }
            });
    }
}

impl eframe::App for ExplorerApp {
    fn clear_color(&self, visuals: &egui::Visuals) -> [f32; 4] {
        visuals.panel_fill.to_normalized_gamma_f32()
    }

    fn ui(&mut self, ui: &mut Ui, frame: &mut eframe::Frame) {
        let ctx = ui.ctx().clone();
        self.update_state(&ctx);

        // Panels draw no fill of their own: the clear colour is the panel colour, so a
        // software renderer does not shade every pixel of the window twice.
        let style = ui.style().clone();
        let side = egui::Frame::side_top_panel(&style).fill(Color32::TRANSPARENT);
        let central = egui::Frame::central_panel(&style).fill(Color32::TRANSPARENT);

        egui::Panel::top("status")
            .frame(side)
            .show(ui, |ui| self.status_ui(ui));
        if !self.state.messages.is_empty() {
            egui::Panel::bottom("messages")
                .frame(side)
                .show(ui, |ui| self.messages_ui(ui));
        }
        let running = self.training();
        let stopping = self.live.as_ref().is_some_and(LiveRun::stopping);
        let action = egui::Panel::left("setup")
            .frame(side)
            .resizable(true)
            .default_size(300.0)
            .show(ui, |ui| self.setup.ui(ui, running, stopping))
            .inner;
        match action {
            SetupAction::Start(config) => self.start_run(*config),
            SetupAction::Stop => {
                if let Some(live) = &self.live {
                    live.stop();
                }
            }
            SetupAction::Open(dir) => self.open_run(dir),
            SetupAction::None => {}
        }

        let selected = self.projection.current(&self.state);
        egui::Panel::right("readouts")
            .frame(side)
            .resizable(true)
            .default_size(320.0)
            .show(ui, |ui| self.readouts.ui(ui, &self.state, selected));
        egui::CentralPanel::default().frame(central).show(ui, |ui| {
            let curves_height = (ui.available_height() * 0.38).max(160.0);
            ui.allocate_ui(egui::vec2(ui.available_width(), curves_height), |ui| {
                self.curves.ui(ui, &self.state);
            });
            ui.separator();
            self.projection.ui(ui, &mut self.state);
        });

        let projected = selected
            .and_then(|index| self.state.snapshot(index))
            .map_or(0, |snapshot| snapshot.instance_count());
        self.automation
            .after_frame(&ctx, frame, self.training(), projected);
    }
}

/// Saves `image` as a PNG, atomically.
pub fn save_png(image: &ColorImage, path: &std::path::Path) -> anyhow::Result<()> {
    let [width, height] = image.size;
    let rgba: Vec<u8> = image
        .pixels
        .iter()
        .flat_map(|pixel| pixel.to_srgba_unmultiplied())
        .collect();
    let mut bytes = Vec::new();
    image::ImageEncoder::write_image(
        image::codecs::png::PngEncoder::new(&mut bytes),
        &rgba,
        width as u32,
        height as u32,
        image::ExtendedColorType::Rgba8,
    )?;
    crate::run::write_atomic(path, &bytes)
}
