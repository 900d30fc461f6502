//! The library losses against an independent float64 computation: values to relative
//! error 1e-5 and gradients (central differences in f64) to 1e-4, on burn's CPU backend
//! and on wgpu (lavapipe in CI).

mod common;

use acf::loss::{aligned_contrastive_loss, correlation_penalty, supervised_contrastive_loss};
use burn::prelude::*;
use burn::tensor::TensorData;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

// ---------------------------------------------------------------------------------------
// Float64 reference, written from the formulas and independent of the library code.
// ---------------------------------------------------------------------------------------

fn normalize_rows(rows: &[Vec<f64>]) -> Vec<Vec<f64>> {
    rows.iter()
        .map(|row| {
            let norm = row.iter().map(|x| x * x).sum::<f64>().sqrt().max(1e-12);
            row.iter().map(|x| x / norm).collect()
        })
        .collect()
}

/// Contrastive loss over a pool; `anchor_allowed[a]` marks rows that may be anchors.
fn pool_loss_f64(pool: &[Vec<f64>], labels: &[i64], anchor_allowed: &[bool], tau: f64) -> f64 {
    let m = pool.len();
    let score = |a: usize, b: usize| -> f64 {
        pool[a]
            .iter()
            .zip(&pool[b])
            .map(|(x, y)| x * y)
            .sum::<f64>()
            / tau
    };
    let mut total = 0.0;
    let mut anchors = 0usize;
    for a in 0..m {
        let positives: Vec<usize> = (0..m)
            .filter(|&p| p != a && labels[p] == labels[a])
            .collect();
        if positives.is_empty() || !anchor_allowed[a] {
            continue;
        }
        let others: Vec<f64> = (0..m).filter(|&k| k != a).map(|k| score(a, k)).collect();
        let max = others.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let log_sum_exp = others.iter().map(|s| (s - max).exp()).sum::<f64>().ln() + max;
        let mean_positive =
            positives.iter().map(|&p| score(a, p)).sum::<f64>() / positives.len() as f64;
        total += log_sum_exp - mean_positive;
        anchors += 1;
    }
    if anchors == 0 {
        0.0
    } else {
        total / anchors as f64
    }
}

fn acf_f64(
    instances: &[Vec<f64>],
    labels: &[i64],
    label_embeddings: &[Vec<f64>],
    tau: f64,
    label_anchors: bool,
) -> f64 {
    let mut pool = normalize_rows(instances);
    pool.extend(normalize_rows(label_embeddings));
    let mut pool_labels = labels.to_vec();
    pool_labels.extend(0..label_embeddings.len() as i64);
    let mut allowed = vec![true; instances.len()];
    allowed.extend(std::iter::repeat_n(label_anchors, label_embeddings.len()));
    pool_loss_f64(&pool, &pool_labels, &allowed, tau)
}

fn supcon_f64(instances: &[Vec<f64>], labels: &[i64], tau: f64) -> f64 {
    pool_loss_f64(
        &normalize_rows(instances),
        labels,
        &vec![true; instances.len()],
        tau,
    )
}

fn correlation_f64(instances: &[Vec<f64>], squared: bool) -> f64 {
    let n = instances.len();
    let d = instances[0].len();
    let mean: Vec<f64> = (0..d)
        .map(|j| instances.iter().map(|r| r[j]).sum::<f64>() / n as f64)
        .collect();
    let centred: Vec<Vec<f64>> = instances
        .iter()
        .map(|r| r.iter().zip(&mean).map(|(x, m)| x - m).collect())
        .collect();
    let covariance =
        |j: usize, k: usize| centred.iter().map(|r| r[j] * r[k]).sum::<f64>() / (n - 1) as f64;
    let kept_columns: Vec<usize> = (0..d).filter(|&j| covariance(j, j) > 1e-12).collect();
    let mut sum = 0.0;
    for &j in &kept_columns {
        for &k in &kept_columns {
            if j != k {
                let r = covariance(j, k) / (covariance(j, j).sqrt() * covariance(k, k).sqrt());
                sum += r * r;
            }
        }
    }
    if squared { sum } else { sum.sqrt() }
}

/// Central-difference gradient of `f` with respect to every entry of `rows`.
fn numeric_gradient(rows: &[Vec<f64>], f: &dyn Fn(&[Vec<f64>]) -> f64) -> Vec<Vec<f64>> {
    let step = 1e-6;
    let mut gradient = vec![vec![0.0; rows[0].len()]; rows.len()];
    for i in 0..rows.len() {
        for j in 0..rows[0].len() {
            let mut plus = rows.to_vec();
            plus[i][j] += step;
            let mut minus = rows.to_vec();
            minus[i][j] -= step;
            gradient[i][j] = (f(&plus) - f(&minus)) / (2.0 * step);
        }
    }
    gradient
}

// ---------------------------------------------------------------------------------------
// Helpers to run the library on a device.
// ---------------------------------------------------------------------------------------

fn random_rows(rng: &mut StdRng, rows: usize, width: usize) -> Vec<Vec<f64>> {
    (0..rows)
        .map(|_| {
            (0..width)
                .map(|_| rng.random_range(-1.0..1.0) as f32 as f64)
                .collect()
        })
        .collect()
}

fn to_tensor(rows: &[Vec<f64>], device: &Device) -> Tensor<2> {
    let width = rows[0].len();
    let values: Vec<f32> = rows.iter().flatten().map(|&x| x as f32).collect();
    Tensor::<2>::from_data(TensorData::new(values, [rows.len(), width]), device).require_grad()
}

fn labels_tensor(labels: &[i64], device: &Device) -> Tensor<1, Int> {
    Tensor::from_data(TensorData::new(labels.to_vec(), [labels.len()]), device)
}

fn gradient_of(tensor: &Tensor<2>, grads: &burn::tensor::Gradients) -> Vec<f64> {
    let gradient = tensor.grad(grads).expect("input has a gradient");
    gradient
        .into_data()
        .convert::<f32>()
        .try_to_vec::<f32>()
        .unwrap()
        .into_iter()
        .map(f64::from)
        .collect()
}

fn relative_error(value: f64, reference: f64) -> f64 {
    (value - reference).abs() / reference.abs().max(1e-12)
}

/// Max absolute difference over max absolute reference entry.
fn gradient_error(values: &[f64], reference: &[Vec<f64>]) -> f64 {
    let flat: Vec<f64> = reference.iter().flatten().cloned().collect();
    let scale = flat.iter().map(|x| x.abs()).fold(0.0, f64::max).max(1e-12);
    values
        .iter()
        .zip(&flat)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max)
        / scale
}

const VALUE_TOLERANCE: f64 = 1e-5;
const GRADIENT_TOLERANCE: f64 = 1e-4;

/// A labelled case for the contrastive losses.
struct Case {
    name: &'static str,
    labels: Vec<i64>,
    classes: usize,
    width: usize,
    temperature: f64,
}

fn contrastive_cases() -> Vec<Case> {
    vec![
        Case {
            name: "mixed classes",
            labels: vec![0, 1, 2, 0, 1, 2, 0, 1, 0, 2, 1, 0],
            classes: 3,
            width: 7,
            temperature: 0.1,
        },
        // Class 2 has a single member; class 3 is absent from the batch.
        Case {
            name: "singleton and absent class",
            labels: vec![0, 0, 1, 1, 1, 2, 0, 1],
            classes: 4,
            width: 5,
            temperature: 0.1,
        },
        Case {
            name: "all one class",
            labels: vec![1, 1, 1, 1, 1, 1],
            classes: 2,
            width: 6,
            temperature: 0.1,
        },
        Case {
            name: "low temperature",
            labels: vec![0, 1, 0, 1, 0, 1, 1, 0, 2],
            classes: 3,
            width: 9,
            temperature: 0.05,
        },
    ]
}

fn check_acf_on(device: &Device, backend: &str) {
    let mut rng = StdRng::seed_from_u64(7);
    for case in contrastive_cases() {
        for label_anchors in [true, false] {
            let instances = random_rows(&mut rng, case.labels.len(), case.width);
            let label_embeddings = random_rows(&mut rng, case.classes, case.width);
            let tau = case.temperature;

            let expected = acf_f64(
                &instances,
                &case.labels,
                &label_embeddings,
                tau,
                label_anchors,
            );
            let expected_instances = numeric_gradient(&instances, &|x| {
                acf_f64(x, &case.labels, &label_embeddings, tau, label_anchors)
            });
            let expected_labels = numeric_gradient(&label_embeddings, &|e| {
                acf_f64(&instances, &case.labels, e, tau, label_anchors)
            });

            let instance_tensor = to_tensor(&instances, device);
            let label_tensor = to_tensor(&label_embeddings, device);
            let loss = aligned_contrastive_loss(
                instance_tensor.clone(),
                labels_tensor(&case.labels, device),
                label_tensor.clone(),
                tau as f32,
                label_anchors,
            );
            let value = loss.clone().into_scalar::<f32>() as f64;
            let grads = loss.backward();

            let context = format!("{backend}, {}, label_anchors={label_anchors}", case.name);
            assert!(
                relative_error(value, expected) <= VALUE_TOLERANCE,
                "{context}: loss {value} vs f64 {expected}"
            );
            let instance_error =
                gradient_error(&gradient_of(&instance_tensor, &grads), &expected_instances);
            assert!(
                instance_error <= GRADIENT_TOLERANCE,
                "{context}: instance gradient error {instance_error}"
            );
            let label_error = gradient_error(&gradient_of(&label_tensor, &grads), &expected_labels);
            assert!(
                label_error <= GRADIENT_TOLERANCE,
                "{context}: label embedding gradient error {label_error}"
            );
        }
    }
}

fn check_supcon_on(device: &Device, backend: &str) {
    let mut rng = StdRng::seed_from_u64(11);
    for case in contrastive_cases() {
        let instances = random_rows(&mut rng, case.labels.len(), case.width);
        let tau = case.temperature;
        let expected = supcon_f64(&instances, &case.labels, tau);
        let expected_gradient = numeric_gradient(&instances, &|x| supcon_f64(x, &case.labels, tau));

        let tensor = to_tensor(&instances, device);
        let loss = supervised_contrastive_loss(
            tensor.clone(),
            labels_tensor(&case.labels, device),
            tau as f32,
        );
        let value = loss.clone().into_scalar::<f32>() as f64;
        let grads = loss.backward();

        let context = format!("{backend}, {}", case.name);
        assert!(
            relative_error(value, expected) <= VALUE_TOLERANCE,
            "{context}: loss {value} vs f64 {expected}"
        );
        let error = gradient_error(&gradient_of(&tensor, &grads), &expected_gradient);
        assert!(
            error <= GRADIENT_TOLERANCE,
            "{context}: gradient error {error}"
        );
    }
}

fn check_correlation_on(device: &Device, backend: &str) {
    let mut rng = StdRng::seed_from_u64(13);
    for (rows, width) in [(16usize, 6usize), (9, 11), (3, 5)] {
        for squared in [false, true] {
            let mut instances = random_rows(&mut rng, rows, width);
            // A constant column is left out of the correlation and gets no gradient.
            for row in instances.iter_mut() {
                row[1] = 0.25;
            }
            let expected = correlation_f64(&instances, squared);
            let expected_gradient = numeric_gradient(&instances, &|x| correlation_f64(x, squared));

            let tensor = to_tensor(&instances, device);
            let loss = correlation_penalty(tensor.clone(), squared);
            let value = loss.clone().into_scalar::<f32>() as f64;
            let grads = loss.backward();
            let gradient = gradient_of(&tensor, &grads);

            let context = format!("{backend}, {rows}x{width}, squared={squared}");
            assert!(
                relative_error(value, expected) <= VALUE_TOLERANCE,
                "{context}: penalty {value} vs f64 {expected}"
            );
            let error = gradient_error(&gradient, &expected_gradient);
            assert!(
                error <= GRADIENT_TOLERANCE,
                "{context}: gradient error {error}"
            );
            assert!(
                gradient.iter().all(|g| g.is_finite()),
                "{context}: non-finite gradient"
            );
        }
    }
}

#[test]
fn acf_loss_matches_f64_reference_cpu() {
    check_acf_on(&Device::flex().autodiff(), "cpu");
}

#[test]
fn supcon_loss_matches_f64_reference_cpu() {
    check_supcon_on(&Device::flex().autodiff(), "cpu");
}

#[test]
fn correlation_penalty_matches_f64_reference_cpu() {
    check_correlation_on(&Device::flex().autodiff(), "cpu");
}

#[test]
fn losses_match_f64_reference_wgpu() {
    let device = common::wgpu_device().device.autodiff();
    check_acf_on(&device, "wgpu");
    check_supcon_on(&device, "wgpu");
    check_correlation_on(&device, "wgpu");
}

#[test]
fn correlation_penalty_of_constant_batch_is_zero() {
    let device = Device::flex().autodiff();
    let tensor = Tensor::<2>::ones([4, 3], &device).require_grad();
    let loss = correlation_penalty(tensor.clone(), false);
    let value = loss.clone().into_scalar::<f32>();
    let gradient = gradient_of(&tensor, &loss.backward());
    assert!(value.abs() < 1e-6, "penalty {value}");
    assert!(gradient.iter().all(|g| *g == 0.0), "gradient {gradient:?}");
}
