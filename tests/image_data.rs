//! The image data readers: ImageFolder trees, IDX files (gzipped and not) and CSV image
//! lists, decoding of mixed sizes and channel counts, and every bad input they reject.

use std::io::Write;
use std::path::Path;

use acf::config::DataConfig;
use acf::data::image::{
    Crop, ImageTransform, Preprocess, decode_batch, load_image_splits, read_idx, read_image_folder,
    read_image_inputs, read_image_list, read_images,
};
use image::{GrayImage, Luma, Rgb, RgbImage, Rgba, RgbaImage};

fn preprocess(crop: Crop, flip: bool) -> Preprocess {
    Preprocess {
        resize: 8,
        size: 8,
        crop,
        flip,
        mean: [0.5, 0.5, 0.5],
        std: [0.5, 0.5, 0.5],
    }
}

/// Writes a class-per-folder tree with a grey, an RGB and an RGBA image of three sizes.
fn write_folder(root: &Path) {
    std::fs::create_dir_all(root.join("cat")).unwrap();
    std::fs::create_dir_all(root.join("dog")).unwrap();
    GrayImage::from_pixel(10, 12, Luma([255]))
        .save(root.join("cat/a.png"))
        .unwrap();
    RgbImage::from_pixel(16, 8, Rgb([0, 0, 255]))
        .save(root.join("cat/b.jpg"))
        .unwrap();
    RgbaImage::from_pixel(8, 8, Rgba([255, 0, 0, 10]))
        .save(root.join("dog/c.png"))
        .unwrap();
    std::fs::write(root.join("dog/notes.txt"), "not an image").unwrap();
}

fn write_idx(images: &Path, labels: &Path, count: u32, label_count: u32, gzip: bool) {
    let mut image_bytes = Vec::new();
    for value in [0x0803u32, count, 4, 4] {
        image_bytes.extend(value.to_be_bytes());
    }
    image_bytes.extend((0..count * 16).map(|i| (i % 256) as u8));
    let mut label_bytes = Vec::new();
    for value in [0x0801u32, label_count] {
        label_bytes.extend(value.to_be_bytes());
    }
    label_bytes.extend((0..label_count).map(|i| (i % 10) as u8));
    for (path, bytes) in [(images, image_bytes), (labels, label_bytes)] {
        if gzip {
            let mut encoder =
                flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            encoder.write_all(&bytes).unwrap();
            std::fs::write(path, encoder.finish().unwrap()).unwrap();
        } else {
            std::fs::write(path, bytes).unwrap();
        }
    }
}

#[test]
fn image_folder_lists_classes_and_images() {
    let dir = tempfile::tempdir().unwrap();
    write_folder(dir.path());
    let examples = read_image_folder(dir.path()).unwrap();
    let labels: Vec<_> = examples.iter().map(|e| e.label.clone().unwrap()).collect();
    assert_eq!(labels, ["cat", "cat", "dog"], "the text file is skipped");
}

#[test]
fn mixed_sizes_and_channels_decode_to_one_shape() {
    let dir = tempfile::tempdir().unwrap();
    write_folder(dir.path());
    let examples = read_image_folder(dir.path()).unwrap();
    let (values, skipped) = decode_batch(
        &examples,
        &[0, 1, 2],
        &preprocess(Crop::Center, false),
        7,
        2,
        false,
    )
    .unwrap();
    assert!(skipped.is_empty());
    assert_eq!(values.len(), 3 * 3 * 8 * 8);
    // White grey image: every channel normalises to (1 - 0.5) / 0.5 = 1.
    assert!(values[..192].iter().all(|&v| (v - 1.0).abs() < 1e-6));
    // Red RGBA image: alpha is dropped, red is 1 and green -1.
    let red = &values[384..];
    assert!((red[0] - 1.0).abs() < 1e-6, "red channel {}", red[0]);
    assert!((red[64] + 1.0).abs() < 1e-6, "green channel {}", red[64]);
}

#[test]
fn random_crops_and_flips_follow_the_seed() {
    let dir = tempfile::tempdir().unwrap();
    write_folder(dir.path());
    let examples = read_image_folder(dir.path()).unwrap();
    let crop = preprocess(Crop::Random, true);
    let first = decode_batch(&examples, &[1], &crop, 3, 1, false).unwrap().0;
    let again = decode_batch(&examples, &[1], &crop, 3, 1, false).unwrap().0;
    assert_eq!(first, again);
}

#[test]
fn empty_class_folder_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    write_folder(dir.path());
    std::fs::create_dir_all(dir.path().join("bird")).unwrap();
    let error = format!("{:#}", read_image_folder(dir.path()).unwrap_err());
    assert!(
        error.contains("class folder \"bird\" contains no images"),
        "{error}"
    );
}

#[test]
fn corrupt_image_errors_or_skips() {
    let dir = tempfile::tempdir().unwrap();
    write_folder(dir.path());
    std::fs::write(
        dir.path().join("dog/broken.png"),
        b"\x89PNG\r\n\x1a\ntruncated",
    )
    .unwrap();
    let examples = read_image_folder(dir.path()).unwrap();
    let broken = examples
        .iter()
        .position(|e| e.origin.ends_with("broken.png"))
        .unwrap();
    let all: Vec<usize> = (0..examples.len()).collect();

    let error = decode_batch(
        &examples,
        &all,
        &preprocess(Crop::Center, false),
        0,
        2,
        false,
    )
    .unwrap_err();
    let error = format!("{error:#}");
    assert!(
        error.contains("broken.png: cannot decode the image"),
        "{error}"
    );
    assert!(error.contains("data.skip_bad_images"), "{error}");

    let (values, skipped) = decode_batch(
        &examples,
        &all,
        &preprocess(Crop::Center, false),
        0,
        2,
        true,
    )
    .unwrap();
    assert_eq!(skipped, vec![broken]);
    assert_eq!(values.len(), (examples.len() - 1) * 192);
}

#[test]
fn idx_reads_raw_and_gzipped_files() {
    let dir = tempfile::tempdir().unwrap();
    for gzip in [false, true] {
        let (images, labels) = (dir.path().join("images"), dir.path().join("labels"));
        write_idx(&images, &labels, 12, 12, gzip);
        let examples = read_idx(&images, &labels).unwrap();
        assert_eq!(examples.len(), 12);
        assert_eq!(examples[11].label.as_deref(), Some("1"));
        let (values, _) = decode_batch(
            &examples,
            &[0],
            &preprocess(Crop::Center, false),
            0,
            1,
            false,
        )
        .unwrap();
        assert_eq!(values.len(), 192, "grey 4 x 4 becomes RGB 8 x 8");
    }
}

#[test]
fn idx_count_mismatch_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let (images, labels) = (dir.path().join("images"), dir.path().join("labels"));
    write_idx(&images, &labels, 12, 11, false);
    let error = format!("{:#}", read_idx(&images, &labels).unwrap_err());
    assert!(error.contains("has 12 images but"), "{error}");
    assert!(error.contains("has 11 labels"), "{error}");
}

#[test]
fn idx_truncated_and_swapped_files_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let (images, labels) = (dir.path().join("images"), dir.path().join("labels"));
    write_idx(&images, &labels, 12, 12, false);
    let swapped = format!("{:#}", read_idx(&labels, &images).unwrap_err());
    assert!(swapped.contains("is not an IDX image file"), "{swapped}");

    let bytes = std::fs::read(&images).unwrap();
    std::fs::write(&images, &bytes[..bytes.len() - 5]).unwrap();
    let truncated = format!("{:#}", read_idx(&images, &labels).unwrap_err());
    assert!(truncated.contains("truncated or damaged"), "{truncated}");
}

#[test]
fn image_list_resolves_paths_and_names_missing_files() {
    let dir = tempfile::tempdir().unwrap();
    write_folder(dir.path());
    std::fs::write(
        dir.path().join("list.csv"),
        "path,label\ncat/a.png,cat\ndog/c.png,dog\n",
    )
    .unwrap();
    let examples = read_image_list(&dir.path().join("list.csv"), "path", "label").unwrap();
    assert_eq!(examples.len(), 2);

    std::fs::write(
        dir.path().join("bad.csv"),
        "path,label\ncat/a.png,cat\ncat/missing.png,cat\n",
    )
    .unwrap();
    let error = format!(
        "{:#}",
        read_image_list(&dir.path().join("bad.csv"), "path", "label").unwrap_err()
    );
    assert!(error.contains("bad.csv:3: image"), "{error}");
    assert!(error.contains("missing.png does not exist"), "{error}");
}

#[test]
fn hidden_folders_are_not_classes() {
    let dir = tempfile::tempdir().unwrap();
    write_folder(dir.path());
    std::fs::create_dir_all(dir.path().join(".ipynb_checkpoints")).unwrap();
    RgbImage::from_pixel(4, 4, Rgb([1, 2, 3]))
        .save(dir.path().join(".ipynb_checkpoints/a.png"))
        .unwrap();
    let examples = read_image_folder(dir.path()).unwrap();
    assert_eq!(examples.len(), 3);
    assert!(examples.iter().all(|e| !e.origin.contains(".ipynb")));
}

#[test]
fn truncated_jpeg_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    write_folder(dir.path());
    let path = dir.path().join("cat/b.jpg");
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    let examples = read_image_folder(dir.path()).unwrap();
    let index = examples
        .iter()
        .position(|e| e.origin.ends_with("b.jpg"))
        .unwrap();
    let crop = preprocess(Crop::Center, false);
    let error = format!(
        "{:#}",
        decode_batch(&examples, &[index], &crop, 0, 1, false).unwrap_err()
    );
    assert!(error.contains("b.jpg"), "{error}");
    assert!(error.contains("no end-of-image marker"), "{error}");
}

#[test]
fn bmp_and_extreme_aspect_images_decode() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("a")).unwrap();
    RgbImage::from_pixel(5, 3, Rgb([0, 255, 0]))
        .save(dir.path().join("a/green.bmp"))
        .unwrap();
    // A 20000 x 1 strip: it is cut to 4 x 1 before resizing, so it stays cheap.
    GrayImage::from_pixel(20_000, 1, Luma([0]))
        .save(dir.path().join("a/strip.png"))
        .unwrap();
    let examples = read_image_folder(dir.path()).unwrap();
    assert_eq!(examples.len(), 2);
    let crop = preprocess(Crop::Center, false);
    let (values, skipped) = decode_batch(&examples, &[0, 1], &crop, 0, 2, false).unwrap();
    assert!(skipped.is_empty());
    assert_eq!(values.len(), 2 * 3 * 8 * 8);
    // Green BMP: the green channel normalises to 1, the red one to -1.
    assert!(
        (values[64] - 1.0).abs() < 1e-6,
        "green channel {}",
        values[64]
    );
    assert!((values[0] + 1.0).abs() < 1e-6, "red channel {}", values[0]);
}

#[test]
fn idx_pairs_files_named_with_a_dot() {
    let dir = tempfile::tempdir().unwrap();
    let images = dir.path().join("train-images.idx3-ubyte");
    write_idx(
        &images,
        &dir.path().join("train-labels.idx1-ubyte"),
        3,
        3,
        false,
    );
    let examples = read_images(&images, &DataConfig::default()).unwrap();
    assert_eq!(examples.len(), 3);
}

#[test]
fn max_train_samples_must_keep_every_class() {
    let dir = tempfile::tempdir().unwrap();
    write_folder(dir.path());
    let config = DataConfig {
        train: Some(dir.path().to_path_buf()),
        max_train_samples: Some(2),
        ..DataConfig::default()
    };
    let transform = ImageTransform {
        size: 8,
        mean: [0.5; 3],
        std: [0.5; 3],
        augment: false,
    };
    let error = format!(
        "{:#}",
        load_image_splits(&config, &transform, 0, None)
            .err()
            .unwrap()
    );
    assert!(error.contains("data.max_train_samples"), "{error}");
    assert!(error.contains("[dog]"), "{error}");
}

#[test]
fn input_folders_skip_linked_folders() {
    let dir = tempfile::tempdir().unwrap();
    write_folder(dir.path());
    std::os::unix::fs::symlink(".", dir.path().join("cat/self")).unwrap();
    std::os::unix::fs::symlink("..", dir.path().join("cat/up")).unwrap();
    let examples = read_image_inputs(dir.path(), &DataConfig::default()).unwrap();
    assert_eq!(examples.len(), 3, "each image once, links not followed");
}
