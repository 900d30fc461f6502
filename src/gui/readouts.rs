//! Alignment readouts beside the map: the selected snapshot's numbers and each readout over
//! steps.

use eframe::egui;
use egui_plot::{HoverPosition, Legend, Line, Plot, PlotPoints};

use super::state::{READOUT_FIELDS, RunState};
use crate::snapshot::AlignmentReadouts;

/// Label and hover explanation of each readout, in [`READOUT_FIELDS`] order.
const DESCRIPTIONS: [(&str, &str); 5] = [
    (
        "own-label cosine",
        "Mean cosine of each instance to its own class's label embedding; ACF pulls it towards 1",
    ),
    (
        "alignment",
        "E ||f(x) - f(y)||^2 over same-class pairs of normalised embeddings (Wang & Isola, 2020); lower is better aligned",
    ),
    (
        "uniformity",
        "log E exp(-2 ||f(x) - f(y)||^2) over all pairs (Wang & Isola, 2020); lower is more uniform",
    ),
    (
        "anisotropy",
        "Mean cosine between random instance pairs; near 0 when the space is isotropic, near 1 when all embeddings share one direction",
    ),
    (
        "label cosine",
        "Mean cosine between distinct label embeddings; lower means better separated labels",
    ),
];

#[derive(Default)]
pub struct ReadoutsView;

impl ReadoutsView {
    pub fn ui(&mut self, ui: &mut egui::Ui, state: &RunState, selected: Option<usize>) {
        ui.heading("Alignment");
        match selected.and_then(|index| state.snapshots.get(index)) {
            Some(entry) => {
                ui.label(format!("snapshot at step {}", entry.step));
                readout_grid(ui, &entry.readouts);
            }
            None => {
                ui.label("No snapshot yet.");
            }
        }
        ui.separator();
        ui.label("over steps");
        Plot::new("readouts")
            .legend(Legend::default())
            // No background fill: a software renderer pays for every shaded pixel.
            .show_background(false)
            .x_axis_label("step")
            .label_formatter(|hover: &HoverPosition<'_>| match hover {
                HoverPosition::NearDataPoint {
                    plot_name,
                    position,
                    ..
                } => Some(format!(
                    "{plot_name}\nstep {:.0}: {:.4}",
                    position.x, position.y
                )),
                HoverPosition::Elsewhere { .. } => None,
            })
            .show(ui, |plot_ui| {
                for (field, (label, _)) in READOUT_FIELDS.iter().zip(DESCRIPTIONS) {
                    if let Some(points) = state.curves.get(&format!("alignment/{field}")) {
                        plot_ui.line(Line::new(label, PlotPoints::from(points.clone())));
                    }
                }
            });
    }
}

fn readout_grid(ui: &mut egui::Ui, readouts: &AlignmentReadouts) {
    let values = [
        readouts.own_label_cosine,
        readouts.alignment,
        readouts.uniformity,
        readouts.anisotropy,
        readouts.label_cosine,
    ];
    egui::Grid::new("readout values")
        .striped(true)
        .show(ui, |ui| {
            for ((label, description), value) in DESCRIPTIONS.iter().zip(values) {
                ui.label(*label).on_hover_text(*description);
                ui.monospace(value.map_or("n/a".to_string(), |value| format!("{value:+.4}")))
                    .on_hover_text(*description);
                ui.end_row();
            }
        });
}
