//! Unattended use of the window, for CI, the README and benchmarks. `--screenshot` saves
//! one rendered frame as a PNG once the run has loaded (with `--start`, once training has
//! ended). `--measure-frames` records frame times. Either closes the window when done.

use eframe::egui;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use egui::ColorImage;
use serde::Serialize;

use super::app::save_png;

/// Frames drawn before the screenshot, so plots have fitted their bounds to the data.
const SETTLE_FRAMES: usize = 5;
/// Frames left out of the frame-time figures: the first ones upload fonts and pipelines.
const WARMUP_FRAMES: usize = 10;
/// How long a requested screenshot may take before the window gives up.
const SCREENSHOT_TIMEOUT: Duration = Duration::from_secs(120);

/// Frame times of a `--measure-frames` run, in milliseconds.
#[derive(Debug, Clone, Serialize)]
pub struct FrameReport {
    pub frames: usize,
    /// Instances drawn in the map.
    pub projected_points: usize,
    /// Time between the starts of consecutive frames, which is the on-screen frame time.
    pub median_frame_ms: f64,
    pub p95_frame_ms: f64,
    /// eframe's CPU time per frame (UI code, tessellation and rendering, not vsync).
    pub median_cpu_ms: f64,
    pub p95_cpu_ms: f64,
}

/// Results of the unattended window, read after the event loop returns.
#[derive(Debug, Default)]
pub struct GuiOutcome {
    pub screenshot: Option<PathBuf>,
    pub frames: Option<FrameReport>,
    pub error: Option<String>,
}

pub struct Automation {
    screenshot: Option<PathBuf>,
    measure_frames: Option<usize>,
    /// Hold the screenshot until a run started with the window has ended.
    wait_for_training: bool,
    outcome: Arc<Mutex<GuiOutcome>>,
    frames: usize,
    requested: Option<Instant>,
    image: Arc<Mutex<Option<Arc<ColorImage>>>>,
    last_frame: Option<Instant>,
    intervals: Vec<f64>,
    cpu: Vec<f64>,
}

impl Automation {
    pub fn new(
        screenshot: Option<PathBuf>,
        measure_frames: Option<usize>,
        wait_for_training: bool,
        outcome: Arc<Mutex<GuiOutcome>>,
    ) -> Automation {
        Automation {
            screenshot,
            measure_frames,
            wait_for_training,
            outcome,
            frames: 0,
            requested: None,
            image: Arc::new(Mutex::new(None)),
            last_frame: None,
            intervals: Vec::new(),
            cpu: Vec::new(),
        }
    }

    /// Called at the end of every frame.
    pub fn after_frame(
        &mut self,
        ctx: &egui::Context,
        frame: &eframe::Frame,
        training: bool,
        projected_points: usize,
    ) {
        if self.measure_frames.is_some() {
            self.measure(ctx, frame, projected_points);
        }
        if self.screenshot.is_some() && self.measure_frames.is_none() {
            if training && self.wait_for_training {
                return;
            }
            self.screenshot(ctx);
        }
    }

    fn measure(&mut self, ctx: &egui::Context, frame: &eframe::Frame, projected_points: usize) {
        // Frames count once the map shows a snapshot; a run started with the window has
        // none until its first snapshot is taken.
        if projected_points == 0 {
            self.last_frame = None;
            ctx.request_repaint_after(Duration::from_millis(200));
            return;
        }
        let now = Instant::now();
        self.frames += 1;
        if self.frames > WARMUP_FRAMES {
            if let Some(last) = self.last_frame {
                self.intervals
                    .push(now.duration_since(last).as_secs_f64() * 1000.0);
            }
            if let Some(cpu) = frame.info().cpu_usage {
                self.cpu.push(cpu as f64 * 1000.0);
            }
        }
        self.last_frame = Some(now);
        ctx.request_repaint();

        let target = self.measure_frames.unwrap_or(0);
        if self.intervals.len() >= target {
            let report = FrameReport {
                frames: self.intervals.len(),
                projected_points,
                median_frame_ms: percentile(&mut self.intervals, 0.5),
                p95_frame_ms: percentile(&mut self.intervals, 0.95),
                median_cpu_ms: percentile(&mut self.cpu, 0.5),
                p95_cpu_ms: percentile(&mut self.cpu, 0.95),
            };
            self.outcome.lock().expect("outcome lock").frames = Some(report);
            self.measure_frames = None;
            self.frames = 0;
            if self.screenshot.is_none() {
                ctx.send_viewport_cmd(egui::ViewportCommand::Close);
            }
        }
    }

    fn screenshot(&mut self, ctx: &egui::Context) {
        self.frames += 1;
        if self.frames < SETTLE_FRAMES {
            ctx.request_repaint();
            return;
        }
        let Some(requested) = self.requested else {
            let slot = self.image.clone();
            let waker = ctx.clone();
            ctx.request_screenshot(move |image| {
                *slot.lock().expect("screenshot lock") = Some(image);
                waker.request_repaint();
            });
            self.requested = Some(Instant::now());
            return;
        };

        let image = self.image.lock().expect("screenshot lock").take();
        let mut outcome = self.outcome.lock().expect("outcome lock");
        match image {
            Some(image) => {
                let path = self.screenshot.take().expect("a screenshot was asked for");
                match save_png(&image, &path) {
                    Ok(()) => outcome.screenshot = Some(path),
                    Err(err) => {
                        outcome.error = Some(format!("cannot write {}: {err:#}", path.display()));
                    }
                }
                ctx.send_viewport_cmd(egui::ViewportCommand::Close);
            }
            None if requested.elapsed() > SCREENSHOT_TIMEOUT => {
                outcome.error = Some(format!(
                    "the window produced no screenshot within {} s",
                    SCREENSHOT_TIMEOUT.as_secs()
                ));
                self.screenshot = None;
                ctx.send_viewport_cmd(egui::ViewportCommand::Close);
            }
            None => ctx.request_repaint_after(Duration::from_millis(100)),
        }
    }
}

/// Returns the `quantile` of `values` by nearest rank, or 0 when empty.
fn percentile(values: &mut [f64], quantile: f64) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(f64::total_cmp);
    let rank = ((values.len() as f64 * quantile).ceil() as usize).clamp(1, values.len());
    values[rank - 1]
}
