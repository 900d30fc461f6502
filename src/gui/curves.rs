//! Loss curves: total loss and each component, validation metrics and the learning rate
//! over steps, with TensorBoard-style smoothing, a log scale and a hover readout.

use eframe::egui;
use egui_plot::{HoverPosition, Legend, Line, Plot, PlotPoints, Points};

use super::projection::class_color;
use super::state::RunState;

/// One plot: a title and the tags it draws.
struct Panel {
    title: &'static str,
    tags: &'static [&'static str],
    /// Whether the log-scale switch applies (losses span decades; accuracy does not).
    log_scale: bool,
}

const PANELS: [Panel; 3] = [
    Panel {
        title: "Loss",
        tags: &[
            "train/loss",
            "train/loss_ce",
            "train/loss_contrastive",
            "train/loss_correlation",
            "validation/loss",
        ],
        log_scale: true,
    },
    Panel {
        title: "Validation",
        tags: &[
            "validation/accuracy",
            "validation/macro_f1",
            "validation/nearest_label_accuracy",
        ],
        log_scale: false,
    },
    Panel {
        title: "Learning rate",
        tags: &["train/lr"],
        log_scale: false,
    },
];

pub struct CurvesView {
    /// Weight of the exponential moving average over training steps, in [0, 1).
    pub smoothing: f64,
    pub log_scale: bool,
}

impl Default for CurvesView {
    fn default() -> Self {
        Self {
            smoothing: 0.6,
            // The correlation penalty and the other terms differ by orders of magnitude.
            log_scale: true,
        }
    }
}

impl CurvesView {
    pub fn ui(&mut self, ui: &mut egui::Ui, state: &RunState) {
        ui.horizontal(|ui| {
            ui.add(egui::Slider::new(&mut self.smoothing, 0.0..=0.99).text("smoothing"))
                .on_hover_text("Exponential moving average over training steps, as in TensorBoard; validation points are not smoothed");
            ui.checkbox(&mut self.log_scale, "log scale (loss)");
        });

        let height = ui.available_height();
        ui.columns(PANELS.len(), |columns| {
            for (panel, ui) in PANELS.iter().zip(columns.iter_mut()) {
                self.panel_ui(ui, panel, state, height - 24.0);
            }
        });
    }

    fn panel_ui(&self, ui: &mut egui::Ui, panel: &Panel, state: &RunState, height: f32) {
        let log = panel.log_scale && self.log_scale;
        ui.label(egui::RichText::new(panel.title).strong());
        let plot = Plot::new(panel.title)
            .height(height.max(80.0))
            .legend(Legend::default())
            // No background fill: a software renderer pays for every shaded pixel.
            .show_background(false)
            .x_axis_label("step")
            .label_formatter(move |hover: &HoverPosition<'_>| match hover {
                HoverPosition::NearDataPoint {
                    plot_name,
                    position,
                    ..
                } => {
                    let value = if log {
                        10f64.powf(position.y)
                    } else {
                        position.y
                    };
                    Some(format!("{plot_name}\nstep {:.0}: {value:.5}", position.x))
                }
                HoverPosition::Elsewhere { .. } => None,
            });
        let plot = if log {
            plot.y_axis_formatter(|mark, _| format!("{:.1e}", 10f64.powf(mark.value)))
        } else {
            plot
        };
        plot.show(ui, |plot_ui| {
            for (index, tag) in panel.tags.iter().enumerate() {
                // One colour per tag, shared by its line and markers, so the legend keeps it.
                let color = class_color(index);
                let Some(points) = state.curves.get(*tag) else {
                    continue;
                };
                let points = if tag.starts_with("train/") {
                    smooth(points, self.smoothing)
                } else {
                    points.clone()
                };
                let points: Vec<[f64; 2]> = if log {
                    points
                        .iter()
                        .map(|&[x, y]| [x, y.max(1e-12).log10()])
                        .collect()
                } else {
                    points
                };
                if !tag.starts_with("train/") {
                    // Evaluations are sparse; markers show a run's first one, which no line can.
                    plot_ui.points(
                        Points::new(*tag, PlotPoints::from(points.clone()))
                            .radius(3.0)
                            .color(color),
                    );
                }
                plot_ui.line(Line::new(*tag, PlotPoints::from(points)).color(color));
            }
        });
    }
}

/// Debiased exponential moving average, as TensorBoard smooths scalars.
pub fn smooth(points: &[[f64; 2]], weight: f64) -> Vec<[f64; 2]> {
    let mut average = 0.0;
    let mut debias = 1.0;
    points
        .iter()
        .map(|&[step, value]| {
            average = average * weight + (1.0 - weight) * value;
            debias *= weight;
            [step, average / (1.0 - debias).max(1e-12)]
        })
        .collect()
}
