//! The EfficientNet-Lite0 port against the PyTorch original: ImageNet logits of two real
//! photos (tests/fixtures/efficientnet, made by
//! scripts/reference/make_efficientnet_reference.py) on burn's CPU backend.

mod common;

use std::path::PathBuf;

use acf::config::BackendChoice;
use acf::device::select_device;
use acf::model::efficientnet::{EfficientNetLite0, INPUT_MEAN, INPUT_STD};
use acf::model::weights::tensor_values;
use burn::prelude::*;
use burn::tensor::TensorData;
use common::repo_root;

/// Largest logit difference over the largest reference logit.
const MAX_RELATIVE_ERROR: f32 = 1e-4;

fn weights() -> PathBuf {
    let path = repo_root().join("models/efficientnet-lite0/model.safetensors");
    assert!(
        path.is_file(),
        "{} is missing; run scripts/setup first",
        path.display()
    );
    path
}

/// Returns the photo as a normalised [1, 3, 224, 224] tensor, as the reference script fed it.
fn photo(name: &str, device: &Device) -> Tensor<4> {
    let path = repo_root().join(format!("tests/fixtures/efficientnet/{name}.png"));
    let image = image::open(&path).unwrap().to_rgb8();
    let (width, height) = image.dimensions();
    let (width, height) = (width as usize, height as usize);
    let mut values = vec![0.0f32; 3 * width * height];
    for (x, y, pixel) in image.enumerate_pixels() {
        for channel in 0..3 {
            let value = pixel[channel] as f32 / 255.0;
            values[channel * width * height + y as usize * width + x as usize] =
                (value - INPUT_MEAN[channel]) / INPUT_STD[channel];
        }
    }
    Tensor::from_data(TensorData::new(values, [1, 3, height, width]), device)
}

#[test]
fn lite0_logits_match_pytorch() {
    let device = select_device(BackendChoice::Cpu).unwrap().device;
    let (backbone, fc) = EfficientNetLite0::load_imagenet(&weights(), &device).unwrap();
    let reference: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo_root().join("tests/fixtures/efficientnet/logits.json"))
            .unwrap(),
    )
    .unwrap();

    for (name, top1) in [("chelsea", 285), ("coffee", 967)] {
        let expected: Vec<f32> = reference["images"][name]["logits"]
            .as_array()
            .unwrap()
            .iter()
            .map(|value| value.as_f64().unwrap() as f32)
            .collect();
        let logits = tensor_values(fc.forward(backbone.features(photo(name, &device))));

        let scale = expected
            .iter()
            .fold(0.0f32, |max, value| max.max(value.abs()));
        let difference = logits
            .iter()
            .zip(&expected)
            .fold(0.0f32, |max, (a, b)| max.max((a - b).abs()));
        eprintln!("{name}: max logit difference {difference}, max logit {scale}");
        assert!(
            difference / scale <= MAX_RELATIVE_ERROR,
            "{name}: max logit difference {difference} over max logit {scale}"
        );
        let predicted = logits
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .unwrap()
            .0;
        assert_eq!(predicted, top1, "{name}: ImageNet top-1 class");
    }
}
