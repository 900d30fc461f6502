//! Thumbnails of an image sample, for hover in the explorer: one sprite sheet with a
//! square cell per instance in sample order, row-major in a grid of ceil(sqrt(n)) columns,
//! the layout TensorBoard's Embedding Projector reads.

use std::path::Path;

use anyhow::{Context, Result, bail};
use image::RgbImage;

use crate::run::write_atomic;

/// The sample's thumbnails, inside the snapshots folder.
pub const SPRITE_FILE: &str = "sprite.png";
/// Side of one thumbnail, pixels.
pub const THUMBNAIL_SIZE: u32 = 32;

#[derive(Debug, Clone, PartialEq)]
pub struct Sprite {
    /// Side of one cell, pixels.
    pub cell: u32,
    pub count: usize,
    pub image: RgbImage,
}

impl Sprite {
    /// Lays out `thumbnails`, each `cell x cell`, in one sheet.
    pub fn new(thumbnails: &[RgbImage], cell: u32) -> Sprite {
        let columns = columns(thumbnails.len());
        let mut image = RgbImage::new(columns * cell, columns * cell);
        for (index, thumbnail) in thumbnails.iter().enumerate() {
            let (x, y) = cell_origin(index, columns, cell);
            image::imageops::replace(&mut image, thumbnail, x as i64, y as i64);
        }
        Sprite {
            cell,
            count: thumbnails.len(),
            image,
        }
    }

    /// Returns the cell of instance `index` as a rectangle in [0, 1] texture coordinates:
    /// (left, top, right, bottom).
    pub fn uv(&self, index: usize) -> [f32; 4] {
        let (x, y) = cell_origin(index, columns(self.count), self.cell);
        let (width, height) = self.image.dimensions();
        [
            x as f32 / width as f32,
            y as f32 / height as f32,
            (x + self.cell) as f32 / width as f32,
            (y + self.cell) as f32 / height as f32,
        ]
    }

    /// Returns the thumbnail of instance `index`.
    pub fn thumbnail(&self, index: usize) -> RgbImage {
        let (x, y) = cell_origin(index, columns(self.count), self.cell);
        image::imageops::crop_imm(&self.image, x, y, self.cell, self.cell).to_image()
    }

    pub fn write(&self, path: &Path) -> Result<()> {
        let mut bytes = Vec::new();
        self.image
            .write_to(
                &mut std::io::Cursor::new(&mut bytes),
                image::ImageFormat::Png,
            )
            .context("cannot encode the thumbnail sprite as PNG")?;
        write_atomic(path, &bytes)
    }

    /// Reads a sprite of `count` cells of `cell` pixels. A sheet of another size belongs to
    /// another sample, so it is an error.
    pub fn read(path: &Path, count: usize, cell: u32) -> Result<Sprite> {
        let image = image::open(path)
            .with_context(|| format!("cannot read {}", path.display()))?
            .to_rgb8();
        let side = columns(count) * cell;
        if image.dimensions() != (side, side) {
            bail!(
                "{}: {} x {} pixels, but {count} thumbnails of {cell} pixels need {side} x {side}; the file belongs to another run",
                path.display(),
                image.width(),
                image.height()
            );
        }
        Ok(Sprite { cell, count, image })
    }
}

fn columns(count: usize) -> u32 {
    (count as f64).sqrt().ceil().max(1.0) as u32
}

fn cell_origin(index: usize, columns: u32, cell: u32) -> (u32, u32) {
    let index = index as u32;
    ((index % columns) * cell, (index / columns) * cell)
}
