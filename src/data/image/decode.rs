//! Decoding and preprocessing: any PNG, JPEG or BMP (grey, RGB, with or without alpha, any
//! size) or IDX image becomes an RGB image, then a resized, cropped, optionally flipped
//! and normalised [3, size, size] float tensor, as torchvision's transforms produce.

use anyhow::{Context, Result, bail};
use image::imageops::FilterType;
use image::{DynamicImage, GrayImage, ImageFormat, RgbImage};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::{ImageExample, ImageSource};

/// Maximum ratio of an image's longer side to its shorter side before resizing.
const MAX_ASPECT: u32 = 4;
/// Bytes at the end of a JPEG searched for its end-of-image marker.
const JPEG_TAIL: usize = 64;

/// Position of the `size x size` crop in the resized image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Crop {
    Center,
    /// A random position per image and epoch, for training.
    Random,
}

/// The transform chain: resize the shorter side to `resize`, crop `size x size`, flip
/// horizontally with probability 0.5 when `flip`, scale to [0, 1], then normalise each
/// channel with the backbone's `mean` and `std`.
#[derive(Debug, Clone)]
pub struct Preprocess {
    pub resize: u32,
    pub size: u32,
    pub crop: Crop,
    pub flip: bool,
    pub mean: [f32; 3],
    pub std: [f32; 3],
}

/// Decodes one example to RGB. Grey images are replicated to three channels and alpha is
/// dropped.
pub fn load_rgb(example: &ImageExample) -> Result<RgbImage> {
    match &example.source {
        ImageSource::File(path) => {
            let bytes = std::fs::read(path)
                .with_context(|| format!("cannot read image {}", path.display()))?;
            let reader = image::ImageReader::new(std::io::Cursor::new(&bytes))
                .with_guessed_format()
                .with_context(|| format!("cannot read image {}", path.display()))?;
            // The JPEG decoder fills a cut-off file with grey instead of failing, so a
            // truncated download would train silently. A complete JPEG ends with the
            // end-of-image marker FF D9 (some writers pad a few bytes after it).
            let tail = &bytes[bytes.len().saturating_sub(JPEG_TAIL)..];
            if reader.format() == Some(ImageFormat::Jpeg)
                && !tail.windows(2).any(|pair| pair == [0xff, 0xd9])
            {
                bail!(
                    "{}: the JPEG has no end-of-image marker; the file is truncated",
                    path.display()
                );
            }
            let image = reader.decode().with_context(|| {
                format!(
                    "{}: cannot decode the image; the file is damaged or not an image",
                    path.display()
                )
            })?;
            Ok(image.to_rgb8())
        }
        ImageSource::Grey {
            pixels,
            offset,
            rows,
            columns,
        } => {
            let bytes = pixels[*offset..offset + rows * columns].to_vec();
            let grey =
                GrayImage::from_raw(*columns as u32, *rows as u32, bytes).with_context(|| {
                    format!("{}: pixel count does not match its size", example.origin)
                })?;
            Ok(DynamicImage::ImageLuma8(grey).to_rgb8())
        }
    }
}

/// Decodes and preprocesses `examples[indices]` on `threads` worker threads into one
/// row-major [batch, 3, size, size] buffer. `seed` drives random crops and flips. An
/// image that fails to decode is an error naming it, unless `skip_bad` is set: then it is
/// left out and its index returned, and the batch contains the rest in order.
pub fn decode_batch(
    examples: &[ImageExample],
    indices: &[usize],
    preprocess: &Preprocess,
    seed: u64,
    threads: usize,
    skip_bad: bool,
) -> Result<(Vec<f32>, Vec<usize>)> {
    let per_image = 3 * (preprocess.size * preprocess.size) as usize;
    let chunk = indices.len().div_ceil(threads.max(1)).max(1);
    let results: Vec<Vec<(usize, Result<Vec<f32>>)>> = std::thread::scope(|scope| {
        let workers: Vec<_> = indices
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    part.iter()
                        .map(|&index| {
                            let mut rng = StdRng::seed_from_u64(
                                seed ^ (index as u64).wrapping_mul(0x9e37_79b9),
                            );
                            let tensor = load_rgb(&examples[index])
                                .map(|image| transform(&image, preprocess, &mut rng));
                            (index, tensor)
                        })
                        .collect()
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|worker| worker.join().expect("decoding worker panicked"))
            .collect()
    });

    let mut values = Vec::with_capacity(indices.len() * per_image);
    let mut skipped = Vec::new();
    for (index, result) in results.into_iter().flatten() {
        match result {
            Ok(tensor) => values.extend(tensor),
            Err(err) if skip_bad => {
                tracing::warn!("skipped: {err:#}");
                skipped.push(index);
            }
            Err(err) => {
                bail!("{err:#}; set data.skip_bad_images = true to skip such files with a count")
            }
        }
    }
    Ok((values, skipped))
}

/// Resize, crop, flip and normalise one image into [3, size, size], channel-major.
fn transform(image: &RgbImage, preprocess: &Preprocess, rng: &mut StdRng) -> Vec<f32> {
    // Resizing the shorter side of a 20000 x 1 strip to 224 pixels would allocate
    // gigabytes, so an image longer than MAX_ASPECT times its width is first cut to its
    // central MAX_ASPECT : 1 part. Centre crops never reach beyond it.
    let (width, height) = image.dimensions();
    let long_limit = width.min(height).saturating_mul(MAX_ASPECT).max(1);
    let cut;
    let image = if width.max(height) > long_limit {
        let (cut_width, cut_height) = (width.min(long_limit), height.min(long_limit));
        cut = image::imageops::crop_imm(
            image,
            (width - cut_width) / 2,
            (height - cut_height) / 2,
            cut_width,
            cut_height,
        )
        .to_image();
        &cut
    } else {
        image
    };
    let (width, height) = image.dimensions();
    let scale = preprocess.resize as f32 / width.min(height) as f32;
    let resized_width = ((width as f32 * scale).round() as u32).max(preprocess.size);
    let resized_height = ((height as f32 * scale).round() as u32).max(preprocess.size);
    let resized =
        image::imageops::resize(image, resized_width, resized_height, FilterType::Triangle);

    let (left, top) = match preprocess.crop {
        Crop::Center => (
            (resized_width - preprocess.size) / 2,
            (resized_height - preprocess.size) / 2,
        ),
        Crop::Random => (
            rng.random_range(0..=resized_width - preprocess.size),
            rng.random_range(0..=resized_height - preprocess.size),
        ),
    };
    let flip = preprocess.flip && rng.random_bool(0.5);

    let size = preprocess.size as usize;
    let mut tensor = vec![0.0f32; 3 * size * size];
    for y in 0..size {
        for x in 0..size {
            let source_x = if flip { size - 1 - x } else { x };
            let pixel = resized.get_pixel(left + source_x as u32, top + y as u32);
            for channel in 0..3 {
                let value = pixel[channel] as f32 / 255.0;
                tensor[channel * size * size + y * size + x] =
                    (value - preprocess.mean[channel]) / preprocess.std[channel];
            }
        }
    }
    tensor
}
