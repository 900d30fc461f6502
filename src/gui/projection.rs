//! The shared-space map: instances and label embeddings of one snapshot in one 2-D PCA
//! projection, a slider to replay the snapshots, and a hover readout per instance.

use eframe::egui;
use std::cell::RefCell;
use std::ops::RangeInclusive;
use std::sync::Arc;

use egui::{Color32, ColorImage, Pos2, Rect, Shape, TextureOptions, Ui};
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
    raster: RefCell<PointRaster>,
    /// The sample's thumbnail sprite on the GPU, keyed by the sprite's address.
    sprite_texture: Option<(usize, egui::TextureHandle)>,
}

impl Default for ProjectionView {
    fn default() -> Self {
        Self {
            selected: 0,
            follow_latest: true,
            point_size: 2.0,
            raster: RefCell::default(),
            sprite_texture: None,
        }
    }
}

impl ProjectionView {
    /// Returns the snapshot index the view shows, after following new snapshots.
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
            &self.raster,
        );
        let names = state.label_names.clone();
        let response = Plot::new("projection")
            .data_aspect(1.0)
            // PCA coordinates have no units worth reading; the hover shows the instance.
            .show_x(false)
            .show_y(false)
            .legend(Legend::default())
            // No background fill: a software renderer pays for every shaded pixel.
            .show_background(false)
            .show_axes(false)
            .show(ui, |plot_ui| {
                plot_ui.add(cloud);
                for (class, &color) in colors.iter().enumerate() {
                    let [x, y] = snapshot.projection[n + class];
                    let name = names
                        .get(class)
                        .cloned()
                        .unwrap_or_else(|| format!("class {class}"));
                    // The outline is unnamed, so the legend takes the class colour.
                    let outline = ui_text_color(Color32::GRAY);
                    plot_ui.points(
                        Points::new("", PlotPoints::from(vec![[x as f64, y as f64]]))
                            .shape(MarkerShape::Diamond)
                            .radius(12.0)
                            .filled(true)
                            .color(outline),
                    );
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
            let thumbnail = self.thumbnail(ui.ctx(), state, snapshot.instance_count(), index);
            response
                .response
                .on_hover_ui_at_pointer(|ui| details_ui(ui, &details, thumbnail));
        }
    }

    /// Returns the texture and cell of instance `index`'s thumbnail, for image samples whose
    /// size matches the snapshot.
    fn thumbnail(
        &mut self,
        ctx: &egui::Context,
        state: &RunState,
        instances: usize,
        index: usize,
    ) -> Option<(egui::TextureId, Rect)> {
        let sprite = state
            .sample
            .as_ref()
            .and_then(|sample| sample.sprite.clone())
            .filter(|sprite| sprite.count == instances)?;
        let key = Arc::as_ptr(&sprite) as usize;
        if self
            .sprite_texture
            .as_ref()
            .is_none_or(|(cached, _)| *cached != key)
        {
            let (width, height) = sprite.image.dimensions();
            let image =
                ColorImage::from_rgb([width as usize, height as usize], sprite.image.as_raw());
            let texture = ctx.load_texture("thumbnails", image, TextureOptions::NEAREST);
            self.sprite_texture = Some((key, texture));
        }
        let texture = &self.sprite_texture.as_ref()?.1;
        let [left, top, right, bottom] = sprite.uv(index);
        Some((
            texture.id(),
            Rect::from_min_max(Pos2::new(left, top), Pos2::new(right, bottom)),
        ))
    }
}

/// Returns the instance drawn nearest to `pointer`, if within [`HOVER_RADIUS`].
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

/// Side of a hovered thumbnail, in points.
const THUMBNAIL_POINTS: f32 = 96.0;

fn details_ui(ui: &mut Ui, details: &InstanceDetails, thumbnail: Option<(egui::TextureId, Rect)>) {
    ui.set_max_width(420.0);
    if let Some((texture, uv)) = thumbnail {
        ui.add(egui::Image::new((texture, egui::vec2(THUMBNAIL_POINTS, THUMBNAIL_POINTS))).uv(uv));
    }
    ui.label(egui::RichText::new(&details.text).italics());
    // An image's text is its file (or IDX record), so its position is a record number.
    match (details.line, thumbnail) {
        (Some(line), None) => _ = ui.label(format!("source line {line}")),
        (Some(record), Some(_)) => _ = ui.label(format!("record {record} of the split")),
        (None, _) => {}
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

/// Snapshot step, plot bounds, screen rect, pixels per point and marker size, as bits.
type RasterKey = (usize, [u64; 4], [u32; 4], u32, u32);

/// The rasterised instances of the last frame, reused while the view is unchanged.
#[derive(Default)]
pub struct PointRaster {
    key: Option<RasterKey>,
    texture: Option<egui::TextureHandle>,
}

/// All instances of a snapshot as one texture, rasterised on the CPU whenever the view
/// changes. On a software renderer such as lavapipe, 20,000 tiny triangles cost far more
/// than one textured rectangle, and on a GPU both are cheap. Wrong predictions are hollow.
struct PointCloud<'a> {
    base: PlotItemBase,
    snapshot: &'a EmbeddingSnapshot,
    colors: &'a [Color32],
    size: f32,
    background: Color32,
    bounds: PlotBounds,
    raster: &'a RefCell<PointRaster>,
}

impl<'a> PointCloud<'a> {
    fn new(
        snapshot: &'a EmbeddingSnapshot,
        colors: &'a [Color32],
        size: f32,
        background: Color32,
        raster: &'a RefCell<PointRaster>,
    ) -> Self {
        let mut bounds = PlotBounds::NOTHING;
        for &[x, y] in &snapshot.projection {
            bounds.extend_with(&PlotPoint::new(x as f64, y as f64));
        }
        Self {
            // Unnamed, so the legend lists only the classes.
            base: PlotItemBase::new(String::new()),
            snapshot,
            colors,
            size,
            background,
            bounds,
            raster,
        }
    }

    /// Draws every instance into an image the size of the plot frame in physical pixels.
    fn rasterize(&self, transform: &PlotTransform, pixels_per_point: f32) -> ColorImage {
        let frame = *transform.frame();
        let width = (frame.width() * pixels_per_point).round().max(1.0) as usize;
        let height = (frame.height() * pixels_per_point).round().max(1.0) as usize;
        let mut image = ColorImage::filled([width, height], Color32::TRANSPARENT);
        let half = (self.size * pixels_per_point).round().max(1.0) as i64;
        let hollow = (half / 2).max(1) - 1;

        let mut fill = |cx: i64, cy: i64, radius: i64, color: Color32| {
            for y in (cy - radius).max(0)..=(cy + radius).min(height as i64 - 1) {
                for x in (cx - radius).max(0)..=(cx + radius).min(width as i64 - 1) {
                    image.pixels[y as usize * width + x as usize] = color;
                }
            }
        };
        let snapshot = self.snapshot;
        for index in 0..snapshot.instance_count() {
            let [x, y] = snapshot.projection[index];
            let position = transform.position_from_point(&PlotPoint::new(x as f64, y as f64));
            let cx = ((position.x - frame.left()) * pixels_per_point) as i64;
            let cy = ((position.y - frame.top()) * pixels_per_point) as i64;
            let color = self.colors[snapshot.labels[index] as usize];
            if snapshot.labels[index] == snapshot.predictions[index] {
                fill(cx, cy, half, color);
            } else {
                fill(cx, cy, half + 1, color);
                fill(cx, cy, hollow, self.background);
            }
        }
        image
    }
}

impl PlotItem for PointCloud<'_> {
    fn shapes(&self, ui: &Ui, transform: &PlotTransform, shapes: &mut Vec<Shape>) {
        let frame = *transform.frame();
        let bounds = transform.bounds();
        let pixels_per_point = ui.ctx().pixels_per_point();
        let key = (
            self.snapshot.step,
            [
                bounds.min()[0].to_bits(),
                bounds.min()[1].to_bits(),
                bounds.max()[0].to_bits(),
                bounds.max()[1].to_bits(),
            ],
            [
                frame.left().to_bits(),
                frame.top().to_bits(),
                frame.width().to_bits(),
                frame.height().to_bits(),
            ],
            pixels_per_point.to_bits(),
            self.size.to_bits(),
        );

        let mut raster = self.raster.borrow_mut();
        if raster.key != Some(key) || raster.texture.is_none() {
            let image = self.rasterize(transform, pixels_per_point);
            match &mut raster.texture {
                Some(texture) => texture.set(image, TextureOptions::NEAREST),
                None => {
                    raster.texture = Some(ui.ctx().load_texture(
                        "instances",
                        image,
                        TextureOptions::NEAREST,
                    ));
                }
            }
            raster.key = Some(key);
        }
        // Only the part of the image around the points is drawn, for the same reason.
        let texture = raster.texture.as_ref().expect("rasterised above");
        let min = transform
            .position_from_point(&PlotPoint::new(self.bounds.min()[0], self.bounds.max()[1]));
        let max = transform
            .position_from_point(&PlotPoint::new(self.bounds.max()[0], self.bounds.min()[1]));
        let margin = self.size * 2.0 + 2.0;
        let area = Rect::from_min_max(min, max).expand(margin).intersect(frame);
        if area.is_positive() {
            let uv = Rect::from_min_max(
                ((area.min - frame.min) / frame.size()).to_pos2(),
                ((area.max - frame.min) / frame.size()).to_pos2(),
            );
            shapes.push(Shape::image(texture.id(), area, uv, Color32::WHITE));
        }
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
