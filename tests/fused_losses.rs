//! The fused WGSL losses against the reference losses on the same wgpu device (lavapipe in
//! CI): loss values to relative error 1e-5, gradients to 1e-4 (max absolute difference over
//! the largest reference entry). Sizes are chosen off the 8- and 64-row blocks and off
//! multiples of 4, with duplicated rows, one class, 1000 classes and temperature 0.05.

mod common;

use acf::loss::{fused, reference};
use burn::prelude::*;
use burn::tensor::{Distribution, TensorData};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const VALUE_TOLERANCE: f64 = 1e-5;
const GRADIENT_TOLERANCE: f64 = 1e-4;

fn values(tensor: Tensor<2>) -> Vec<f64> {
    tensor
        .into_data()
        .convert::<f32>()
        .try_to_vec::<f32>()
        .unwrap()
        .into_iter()
        .map(f64::from)
        .collect()
}

fn scalar(tensor: Tensor<1>) -> f64 {
    f64::from(tensor.into_scalar::<f32>())
}

fn relative_error(value: f64, reference: f64) -> f64 {
    (value - reference).abs() / reference.abs().max(1e-12)
}

fn gradient_error(values: &[f64], reference: &[f64]) -> f64 {
    let scale = reference
        .iter()
        .map(|x| x.abs())
        .fold(0.0, f64::max)
        .max(1e-12);
    values
        .iter()
        .zip(reference)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max)
        / scale
}

/// Loss value and gradients of one loss function with respect to each input.
fn loss_and_gradients(
    inputs: &[Tensor<2>],
    loss: impl Fn(Vec<Tensor<2>>) -> Tensor<1>,
) -> (f64, Vec<Vec<f64>>) {
    let tracked: Vec<Tensor<2>> = inputs
        .iter()
        .map(|input| input.clone().detach().require_grad())
        .collect();
    let value = loss(tracked.clone());
    let grads = value.backward();
    let gradients = tracked
        .iter()
        .map(|input| values(input.grad(&grads).expect("input has a gradient")))
        .collect();
    (scalar(value), gradients)
}

fn assert_agree(
    name: &str,
    inputs: &[Tensor<2>],
    fused_loss: impl Fn(Vec<Tensor<2>>) -> Tensor<1>,
    reference_loss: impl Fn(Vec<Tensor<2>>) -> Tensor<1>,
) {
    let (fused_value, fused_gradients) = loss_and_gradients(inputs, fused_loss);
    let (reference_value, reference_gradients) = loss_and_gradients(inputs, reference_loss);
    let value_error = relative_error(fused_value, reference_value);
    assert!(
        value_error <= VALUE_TOLERANCE,
        "{name}: fused loss {fused_value} vs reference {reference_value} (relative error {value_error:e})"
    );
    for (index, (fused, reference)) in fused_gradients.iter().zip(&reference_gradients).enumerate()
    {
        assert!(
            fused.iter().all(|x| x.is_finite()),
            "{name}: input {index} gradient is not finite"
        );
        let error = gradient_error(fused, reference);
        assert!(
            error <= GRADIENT_TOLERANCE,
            "{name}: input {index} gradient relative error {error:e}"
        );
    }
}

fn random_labels(rng: &mut StdRng, count: usize, classes: usize) -> Vec<i64> {
    (0..count)
        .map(|_| rng.random_range(0..classes as i64))
        .collect()
}

fn labels_tensor(labels: &[i64], device: &Device) -> Tensor<1, Int> {
    Tensor::from_data(TensorData::new(labels.to_vec(), [labels.len()]), device)
}

fn random(rows: usize, width: usize, device: &Device) -> Tensor<2> {
    Tensor::random([rows, width], Distribution::Normal(0.0, 1.0), device)
}

struct ContrastiveCase {
    name: &'static str,
    instances: usize,
    classes: usize,
    width: usize,
    temperature: f32,
    duplicate_rows: bool,
}

fn contrastive_cases() -> Vec<ContrastiveCase> {
    let case = |name, instances, classes, width, temperature, duplicate_rows| ContrastiveCase {
        name,
        instances,
        classes,
        width,
        temperature,
        duplicate_rows,
    };
    vec![
        case("small, off-tile", 37, 5, 50, 0.1, false),
        case("several tiles", 157, 12, 97, 0.1, false),
        case("duplicated rows", 45, 3, 33, 0.1, true),
        case("one class", 29, 1, 18, 0.1, false),
        case("1000 classes", 70, 1000, 35, 0.1, false),
        case("temperature 0.05", 61, 4, 71, 0.05, false),
        case("width 3", 23, 3, 3, 0.1, false),
        case("MiniLM width", 64, 2, 384, 0.1, false),
        // 18 contrast tiles at d = 1100 take two launches (the per-launch loop budget).
        case("several launches", 1090, 10, 1100, 0.1, false),
    ]
}

fn check_contrastive_cases(device: &Device) {
    let mut rng = StdRng::seed_from_u64(11);
    for case in contrastive_cases() {
        let mut instances = random(case.instances, case.width, device);
        let mut labels = random_labels(&mut rng, case.instances, case.classes);
        if case.duplicate_rows {
            // Every row twice, with the same label: pairs with cosine exactly 1.
            instances = Tensor::cat(vec![instances.clone(), instances], 0);
            labels.extend(labels.clone());
        }
        let label_embeddings = random(case.classes, case.width, device);
        let labels = labels_tensor(&labels, device);
        let temperature = case.temperature;

        for label_anchors in [true, false] {
            let name = format!("ACF {} (label anchors {label_anchors})", case.name);
            let acf =
                |function: fn(Tensor<2>, Tensor<1, Int>, Tensor<2>, f32, bool) -> Tensor<1>| {
                    let labels = labels.clone();
                    move |inputs: Vec<Tensor<2>>| {
                        function(
                            inputs[0].clone(),
                            labels.clone(),
                            inputs[1].clone(),
                            temperature,
                            label_anchors,
                        )
                    }
                };
            assert_agree(
                &name,
                &[instances.clone(), label_embeddings.clone()],
                acf(fused::aligned_contrastive_loss),
                acf(reference::aligned_contrastive_loss),
            );
        }

        let supcon = |function: fn(Tensor<2>, Tensor<1, Int>, f32) -> Tensor<1>| {
            let labels = labels.clone();
            move |inputs: Vec<Tensor<2>>| function(inputs[0].clone(), labels.clone(), temperature)
        };
        assert_agree(
            &format!("SupCon {}", case.name),
            std::slice::from_ref(&instances),
            supcon(fused::supervised_contrastive_loss),
            supcon(reference::supervised_contrastive_loss),
        );
    }
}

fn check_correlation_cases(device: &Device) {
    let cases = [(37, 50), (3, 9), (32, 384), (70, 97), (5, 2)];
    for (rows, width) in cases {
        // Shifted and scaled columns, as pooled encoder outputs are.
        let instances = random(rows, width, device) * 3.0 + 0.5;
        for squared in [false, true] {
            assert_agree(
                &format!("correlation {rows} x {width} (squared {squared})"),
                std::slice::from_ref(&instances),
                move |inputs| fused::correlation_penalty(inputs[0].clone(), squared),
                move |inputs| reference::correlation_penalty(inputs[0].clone(), squared),
            );
        }
    }

    // A constant column is left out of R: no NaN, and the same value and gradient.
    let varying = random(19, 6, device);
    let constant = Tensor::<2>::ones([19, 1], device) * 2.5;
    let instances = Tensor::cat(vec![varying, constant], 1);
    assert_agree(
        "correlation with a constant column",
        &[instances],
        |inputs| fused::correlation_penalty(inputs[0].clone(), false),
        |inputs| reference::correlation_penalty(inputs[0].clone(), false),
    );
}

#[test]
fn fused_losses_match_reference_wgpu() {
    let device = common::wgpu_device().device.autodiff();
    assert!(
        fused::kernels_available(&device),
        "the wgpu device must run the fused kernels"
    );
    // The kernel variant the adapter gets (subgroup on lavapipe), then the portable one.
    check_contrastive_cases(&device);
    check_correlation_cases(&device);
    fused::force_kernel_variant(Some(fused::KernelVariant::Portable));
    check_contrastive_cases(&device);
    fused::force_kernel_variant(None);
}

#[test]
fn fused_losses_fall_back_on_cpu() {
    let device = Device::flex().autodiff();
    assert!(!fused::kernels_available(&device));
    let instances = random(9, 4, &device);
    let labels = labels_tensor(&[0, 1, 0, 1, 2, 2, 0, 1, 1], &device);
    let label_embeddings = random(3, 4, &device);
    let fused_value = scalar(fused::aligned_contrastive_loss(
        instances.clone(),
        labels.clone(),
        label_embeddings.clone(),
        0.1,
        true,
    ));
    let reference_value = scalar(reference::aligned_contrastive_loss(
        instances,
        labels,
        label_embeddings,
        0.1,
        true,
    ));
    assert_eq!(fused_value, reference_value);
}
