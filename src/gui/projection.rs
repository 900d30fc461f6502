//! The shared-space map: instances and label embeddings of one snapshot in one 2-D PCA
//! projection, a slider to replay the snapshots, and a hover readout per instance.

use eframe::egui;
use std::ops::RangeInclusive;

use egui::{Color32, Mesh, Pos2, Rect, Shape, Ui, Vec2};
use egui_plot::{
    Legend, MarkerShape, Plot, PlotBounds, PlotGeometry, PlotItem, PlotItemBase, PlotPoint,
    PlotPoints, PlotTransform, Points, Text,
};

use super::state::{InstanceDetails, RunState};
use crate::snapshot::EmbeddingSnapshot;

/// Screen distance (points) within which the pointer picks an instance.
const HOVER_RADIUS: f32 = 8.0;

pub struct ProjectionView {
    /// Index into the run's snapshots.
    pub selected: usize,
    /// Jump to each new snapshot as it arrives.
    pub follow_latest: bool,
    /// Half the side of an instance marker, in points.
    pub point_size: f32,
}

impl Default for ProjectionView {
    fn default() -> Self {
        Self {
            selected: 0,
            follow_latest: true,
            point_size: 2.0,
        }
    }
}

impl ProjectionView {
    /// The snapshot index the view shows, after following new snapshots.
    pub fn current(&mut self, state: &RunState) -> Option<usize> {
        let count = state.snapshots.len();
        if count == 0 {
            return None;
        }
        if self.follow_latest || self.selected >= count {
            self.selected = count - 1;
        }
        Some(self.selected)
    }

    pub fn ui(&mut self, ui: &mut Ui, state: &mut RunState) {
        let Some(current) = self.current(state) else {
            ui.label("No snapshots yet. Training writes one before the first step and every train.snapshot_every steps.");
            return;
        };
        let count = state.snapshots.len();
        ui.horizontal(|ui| {
            let step = state.snapshots[current].step;
            ui.label(format!("step {step}"));
            let slider = ui.add_enabled(
                count > 1,
                egui::Slider::new(&mut self.selected, 0..=count - 1)
                    .text(format!("snapshot of {count}"))
                    .show_value(false),
            );
            if slider.changed() {
                self.follow_latest = self.selected + 1 == count;
            }
            ui.checkbox(&mut self.follow_latest, "follow latest");
            ui.add(egui::Slider::new(&mut self.point_size, 1.0..=6.0).text("point size"));
        });
        let selected = self.selected.min(count - 1);
        let Some(snapshot) = state.snapshot(selected) else {
            ui.colored_label(
                ui.visuals().warn_fg_color,
                "This snapshot's embeddings are unavailable; see the messages below.",
            );
            return;
        };

        let classes = snapshot.class_count();
        let n = snapshot.instance_count();
        let colors: Vec<Color32> = (0..classes).map(class_color).collect();
        let wrong = (0..n)
            .filter(|&i| snapshot.labels[i] != snapshot.predictions[i])
            .count();
        ui.label(format!(
            "{n} instances ({wrong} predicted wrong, drawn hollow) and {classes} label embeddings (diamonds); PC1 {:.1}% and PC2 {:.1}% of the variance",
            100.0 * snapshot.explained_variance[0],
            100.0 * snapshot.explained_variance[1],
        ));

        let cloud = PointCloud::new(
            &snapshot,
            &colors,
            self.point_size,
            ui.visuals().extreme_bg_color,
        );
        let names = state.label_names.clone();
        let response = Plot::new("projection")
            .data_aspect(1.0)
            .legend(Legend::default())
            .show_axes(false)
            .show(ui, |plot_ui| {
                plot_ui.add(cloud);
                for (class, &color) in colors.iter().enumerate() {
                    let [x, y] = snapshot.projection[n + class];
                    let name = names
                        .get(class)
                        .cloned()
                        .unwrap_or_else(|| format!("class {class}"));
                    let point = PlotPoints::from(vec![[x as f64, y as f64]]);
                    plot_ui.points(
                        Points::new(name.clone(), point)
                            .shape(MarkerShape::Diamond)
                            .radius(9.0)
                            .filled(true)
                            .color(color),
                    );
                    plot_ui.text(
                        // Unnamed: the legend already lists the class.
                        Text::new(
                            "",
                            PlotPoint::new(x as f64, y as f64),
                            egui::RichText::new(format!("   {name}"))
                                .strong()
                                .size(15.0),
                        )
                        .anchor(egui::Align2::LEFT_CENTER)
                        .color(ui_text_color(color)),
                    );
                }
            });

        let hovered = response
            .response
            .hover_pos()
            .and_then(|pointer| nearest_instance(&snapshot, &response.transform, pointer));
        if let Some(index) = hovered {
            let details = state.instance_details(&snapshot, index);
            response
                .response
                .on_hover_ui_at_pointer(|ui| details_ui(ui, &details));
        }
    }
}

/// The instance drawn nearest to `pointer`, if within [`HOVER_RADIUS`].
pub fn nearest_instance(
    snapshot: &EmbeddingSnapshot,
    transform: &PlotTransform,
    pointer: Pos2,
) -> Option<usize> {
    snapshot.projection[..snapshot.instance_count()]
        .iter()
        .enumerate()
        .map(|(index, &[x, y])| {
            let position = transform.position_from_point(&PlotPoint::new(x as f64, y as f64));
            (index, position.distance_sq(pointer))
        })
        .filter(|&(_, distance)| distance <= HOVER_RADIUS * HOVER_RADIUS)
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(index, _)| index)
}

fn details_ui(ui: &mut Ui, details: &InstanceDetails) {
    ui.set_max_width(420.0);
    ui.label(egui::RichText::new(&details.text).italics());
    if let Some(line) = details.line {
        ui.label(format!("source line {line}"));
    }
    let verdict = if details.label == details.predicted {
        "correct"
    } else {
        "wrong"
    };
    ui.label(format!(
        "true: {}   predicted: {} ({verdict})",
        details.label, details.predicted
    ));
    egui::Grid::new("label cosines")
        .striped(true)
        .show(ui, |ui| {
            for (name, cosine) in details.label_cosines.iter().take(20) {
                ui.label(name);
                ui.label(format!("cos {cosine:+.3}"));
                ui.end_row();
            }
        });
    if details.label_cosines.len() > 20 {
        ui.label(format!(
            "... and {} more labels",
            details.label_cosines.len() - 20
        ));
    }
}

/// Category colours: Tableau 10 up to ten classes, then hues a golden angle apart.
pub fn class_color(class: usize) -> Color32 {
    const TABLEAU: [Color32; 10] = [
        Color32::from_rgb(78, 121, 167),
        Color32::from_rgb(242, 142, 43),
        Color32::from_rgb(225, 87, 89),
        Color32::from_rgb(118, 183, 178),
        Color32::from_rgb(89, 161, 79),
        Color32::from_rgb(237, 201, 72),
        Color32::from_rgb(176, 122, 161),
        Color32::from_rgb(255, 157, 167),
        Color32::from_rgb(156, 117, 95),
        Color32::from_rgb(186, 176, 172),
    ];
    if class < TABLEAU.len() {
        return TABLEAU[class];
    }
    let hue = (class as f32 * 0.618_034).fract();
    egui::ecolor::Hsva::new(hue, 0.7, 0.9, 1.0).into()
}

/// Label text a little brighter than its marker, so it reads on the dark background.
fn ui_text_color(color: Color32) -> Color32 {
    let lift = |channel: u8| channel.saturating_add((255 - channel) / 3);
    Color32::from_rgb(lift(color.r()), lift(color.g()), lift(color.b()))
}

/// All instances of a snapshot as one mesh of small squares, so 20,000 points cost one
/// shape instead of 20,000 tessellated circles. Wrong predictions are hollow squares.
struct PointCloud {
    base: PlotItemBase,
    points: Vec<([f32; 2], Color32, bool)>,
    size: f32,
    background: Color32,
    bounds: PlotBounds,
}

impl PointCloud {
    fn new(
        snapshot: &EmbeddingSnapshot,
        colors: &[Color32],
        size: f32,
        background: Color32,
    ) -> Self {
        let n = snapshot.instance_count();
        let mut bounds = PlotBounds::NOTHING;
        let points = (0..n)
            .map(|i| {
                let [x, y] = snapshot.projection[i];
                bounds.extend_with(&PlotPoint::new(x as f64, y as f64));
                let color = colors[snapshot.labels[i] as usize];
                (
                    snapshot.projection[i],
                    color,
                    snapshot.labels[i] != snapshot.predictions[i],
                )
            })
            .collect();
        for &[x, y] in &snapshot.projection[n..] {
            bounds.extend_with(&PlotPoint::new(x as f64, y as f64));
        }
        Self {
            // Unnamed, so the legend lists only the classes.
            base: PlotItemBase::new(String::new()),
            points,
            size,
            background,
            bounds,
        }
    }
}

impl PlotItem for PointCloud {
    fn shapes(&self, _ui: &Ui, transform: &PlotTransform, shapes: &mut Vec<Shape>) {
        let mut mesh = Mesh::default();
        let clip = transform.frame().expand(self.size * 2.0);
        let half = Vec2::splat(self.size);
        for &([x, y], color, wrong) in &self.points {
            let center = transform.position_from_point(&PlotPoint::new(x as f64, y as f64));
            if !clip.contains(center) {
                continue;
            }
            if wrong {
                mesh.add_colored_rect(Rect::from_center_size(center, half * 2.6), color);
                mesh.add_colored_rect(Rect::from_center_size(center, half * 1.2), self.background);
            } else {
                mesh.add_colored_rect(Rect::from_center_size(center, half * 2.0), color);
            }
        }
        shapes.push(Shape::mesh(mesh));
    }

    fn initialize(&mut self, _x_range: RangeInclusive<f64>) {}

    fn color(&self) -> Color32 {
        Color32::GRAY
    }

    fn geometry(&self) -> PlotGeometry<'_> {
        PlotGeometry::None
    }

    fn bounds(&self) -> PlotBounds {
        self.bounds
    }

    fn base(&self) -> &PlotItemBase {
        &self.base
    }

    fn base_mut(&mut self) -> &mut PlotItemBase {
        &mut self.base
    }
}
