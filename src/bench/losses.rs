//! Forward + backward of the ACF contrastive loss, fused against reference, over pool sizes
//! M and widths d.
//!
//! Per row: the median wall time of runs after a warm-up that compiles every kernel (each
//! run ends with a device sync), the device memory the run holds, and the fused result's
//! error against the reference. The floor is the work over the rate of burn's matmul,
//! measured on the same device in the same process. The work is about 6 M^2 d FLOPs:
//! 2 M^2 d for the scores forward, 4 M^2 d to recompute them and form the gradient.

use std::time::Instant;

use anyhow::{Result, bail};
use burn::prelude::*;
use burn::tensor::{Distribution, TensorData};
use serde::Serialize;

use crate::loss::fused::KernelVariant;
use crate::loss::{fused, reference};

/// Benchmark settings.
#[derive(Clone, Debug)]
pub struct LossBenchOptions {
    /// Pool sizes M = N + C.
    pub pool_sizes: Vec<usize>,
    /// Feature widths d.
    pub widths: Vec<usize>,
    /// Label embeddings C in the pool; the other M - C rows are instances.
    pub classes: usize,
    pub temperature: f32,
    /// Timed runs per variant and row, at most.
    pub repeats: usize,
    /// Fewer timed runs are made once a variant's runs in a row pass this many seconds.
    pub max_seconds_per_row: f64,
}

/// One timed variant in one row.
#[derive(Clone, Debug, Serialize)]
pub struct Measurement {
    pub median_seconds: f64,
    pub timed_runs: usize,
    /// Device bytes in use beyond the inputs, the larger of two samples: after the forward
    /// pass with the autodiff graph alive and after the backward pass with the gradients.
    pub peak_bytes: u64,
}

#[derive(Clone, Debug, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Outcome {
    Measured(Measurement),
    Skipped { reason: String },
}

#[derive(Clone, Debug, Serialize)]
pub struct LossBenchRow {
    pub pool_size: usize,
    pub width: usize,
    pub fused: Outcome,
    pub reference: Outcome,
    /// Reference time over fused time.
    pub speedup: Option<f64>,
    /// 6 M^2 d FLOPs over the measured matmul rate.
    pub floor_seconds: f64,
    pub loss_relative_error: Option<f64>,
    /// Max absolute gradient difference over the largest reference gradient entry.
    pub gradient_relative_error: Option<f64>,
}

#[derive(Clone, Debug, Serialize)]
pub struct MatmulRate {
    pub width: usize,
    /// [1024, d] x [d, 1024] through burn's matmul, median of 3 warm runs.
    pub gflops: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct LossBenchReport {
    pub backend: String,
    pub adapter: String,
    /// The largest buffer the device binds, in bytes, when it reports one.
    pub max_buffer_bytes: Option<u64>,
    /// The contrastive kernel variant that ran; `None` on devices without the kernels.
    pub kernel_variant: Option<KernelVariant>,
    pub classes: usize,
    pub temperature: f32,
    pub matmul: Vec<MatmulRate>,
    pub rows: Vec<LossBenchRow>,
}

/// Inputs of one row, on the autodiff device.
struct Inputs {
    instances: Tensor<2>,
    labels: Tensor<1, Int>,
    label_embeddings: Tensor<2>,
}

/// Loss value and flattened gradients of instances then label embeddings.
struct RunOutput {
    seconds: f64,
    peak_bytes: u64,
    loss: f64,
    gradients: Vec<f32>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Variant {
    Fused,
    Reference,
}

/// Runs the benchmark on `device` (an autodiff wgpu device for a meaningful comparison).
pub fn run_loss_bench(
    device: &Device,
    backend: &str,
    adapter: &str,
    options: &LossBenchOptions,
    mut on_row: impl FnMut(&LossBenchRow),
) -> Result<LossBenchReport> {
    if options.classes == 0 {
        bail!("--classes must be at least 1");
    }
    if options.widths.contains(&0) {
        bail!("--widths must all be at least 1");
    }
    if let Some(&size) = options.pool_sizes.iter().find(|&&m| m <= options.classes) {
        bail!(
            "invalid --sizes: pool size {size} must be greater than --classes {}, so that the pool contains instances",
            options.classes
        );
    }
    let device = device.clone().autodiff();
    let max_buffer_bytes = fused::max_buffer_bytes(&device);

    let mut matmul = Vec::new();
    for &width in &options.widths {
        matmul.push(MatmulRate {
            width,
            gflops: matmul_gflops(&device, width),
        });
    }

    let mut rows = Vec::new();
    for &width in &options.widths {
        let gflops = matmul
            .iter()
            .find(|rate| rate.width == width)
            .map(|rate| rate.gflops)
            .unwrap_or(f64::NAN);
        // burn compiles its kernels per vector width, which depends on d, so both variants
        // run once untimed on a small pool of this width before any row is timed.
        let warmup = make_inputs(&device, options.classes + 64, width, options.classes, 0);
        run_once(Variant::Fused, &warmup, options.temperature, &device, false)?;
        run_once(
            Variant::Reference,
            &warmup,
            options.temperature,
            &device,
            false,
        )?;

        for (index, &pool_size) in options.pool_sizes.iter().enumerate() {
            let inputs = make_inputs(&device, pool_size, width, options.classes, index as u64);
            let row = measure_row(
                &inputs,
                pool_size,
                width,
                gflops,
                max_buffer_bytes,
                options,
                &device,
            )?;
            on_row(&row);
            rows.push(row);
        }
    }

    Ok(LossBenchReport {
        backend: backend.to_string(),
        adapter: adapter.to_string(),
        max_buffer_bytes,
        kernel_variant: fused::kernel_variant(&device),
        classes: options.classes,
        temperature: options.temperature,
        matmul,
        rows,
    })
}

fn measure_row(
    inputs: &Inputs,
    pool_size: usize,
    width: usize,
    gflops: f64,
    max_buffer_bytes: Option<u64>,
    options: &LossBenchOptions,
    device: &Device,
) -> Result<LossBenchRow> {
    let floor_seconds = 6.0 * (pool_size as f64).powi(2) * width as f64 / (gflops * 1e9);

    let (fused, fused_output) = measure(Variant::Fused, inputs, options, device)?;

    // The reference holds several M x M f32 matrices; one larger than the largest buffer
    // the device binds cannot be allocated.
    let score_bytes = (pool_size as u64).pow(2) * 4;
    let (reference, reference_output) = match max_buffer_bytes {
        Some(limit) if score_bytes > limit => (
            Outcome::Skipped {
                reason: format!(
                    "its {} MiB M x M score matrix exceeds the device's {} MiB buffer limit",
                    score_bytes >> 20,
                    limit >> 20
                ),
            },
            None,
        ),
        _ => {
            let (outcome, output) = measure(Variant::Reference, inputs, options, device)?;
            (outcome, Some(output))
        }
    };

    let speedup = match (&fused, &reference) {
        (Outcome::Measured(f), Outcome::Measured(r)) => Some(r.median_seconds / f.median_seconds),
        _ => None,
    };
    let (loss_relative_error, gradient_relative_error) = match &reference_output {
        Some(reference) => (
            Some((fused_output.loss - reference.loss).abs() / reference.loss.abs().max(1e-12)),
            Some(gradient_error(
                &fused_output.gradients,
                &reference.gradients,
            )),
        ),
        None => (None, None),
    };

    Ok(LossBenchRow {
        pool_size,
        width,
        fused,
        reference,
        speedup,
        floor_seconds,
        loss_relative_error,
        gradient_relative_error,
    })
}

/// Times runs until `repeats` or the row's time budget. The first run also reads back the
/// loss and gradients, after its timer stops, for the error columns. The warm-up has
/// compiled the kernels for this width, so no run pays for compilation.
fn measure(
    variant: Variant,
    inputs: &Inputs,
    options: &LossBenchOptions,
    device: &Device,
) -> Result<(Outcome, RunOutput)> {
    let first = run_once(variant, inputs, options.temperature, device, true)?;
    let mut seconds = vec![first.seconds];
    let mut peak_bytes = first.peak_bytes;
    let mut spent = first.seconds;
    while seconds.len() < options.repeats.max(1) && spent < options.max_seconds_per_row {
        let run = run_once(variant, inputs, options.temperature, device, false)?;
        spent += run.seconds;
        peak_bytes = peak_bytes.max(run.peak_bytes);
        seconds.push(run.seconds);
    }
    seconds.sort_by(f64::total_cmp);
    let middle = seconds.len() / 2;
    let median_seconds = if seconds.len() % 2 == 0 {
        (seconds[middle - 1] + seconds[middle]) / 2.0
    } else {
        seconds[middle]
    };
    let measurement = Measurement {
        median_seconds,
        timed_runs: seconds.len(),
        peak_bytes,
    };
    Ok((Outcome::Measured(measurement), first))
}

fn run_once(
    variant: Variant,
    inputs: &Inputs,
    temperature: f32,
    device: &Device,
    read_back: bool,
) -> Result<RunOutput> {
    device.sync()?;
    let baseline = bytes_in_use(device);
    let start = Instant::now();

    let instances = inputs.instances.clone().require_grad();
    let label_embeddings = inputs.label_embeddings.clone().require_grad();
    let loss_function = match variant {
        Variant::Fused => fused::aligned_contrastive_loss,
        Variant::Reference => reference::aligned_contrastive_loss,
    };
    let loss = loss_function(
        instances.clone(),
        inputs.labels.clone(),
        label_embeddings.clone(),
        temperature,
        true,
    );
    let after_forward = bytes_in_use(device);
    let grads = loss.backward();
    let instances_grad = instances.grad(&grads);
    let label_embeddings_grad = label_embeddings.grad(&grads);
    let after_backward = bytes_in_use(device);
    device.sync()?;
    let seconds = start.elapsed().as_secs_f64();

    let peak_bytes = after_forward.max(after_backward).saturating_sub(baseline);
    let (loss, gradients) = if read_back {
        let mut gradients = Vec::new();
        for gradient in [instances_grad, label_embeddings_grad] {
            let gradient = gradient.expect("every pool row receives a gradient");
            let values = gradient.into_data().convert::<f32>();
            gradients.extend(
                values
                    .try_to_vec::<f32>()
                    .map_err(|err| anyhow::anyhow!("reading a gradient failed: {err:?}"))?,
            );
        }
        (f64::from(loss.into_scalar::<f32>()), gradients)
    } else {
        (f64::NAN, Vec::new())
    };
    Ok(RunOutput {
        seconds,
        peak_bytes,
        loss,
        gradients,
    })
}

fn bytes_in_use(device: &Device) -> u64 {
    device
        .memory_pool_usage()
        .map(|usage| usage.bytes_in_use)
        .unwrap_or(0)
}

fn make_inputs(
    device: &Device,
    pool_size: usize,
    width: usize,
    classes: usize,
    seed: u64,
) -> Inputs {
    device.seed(1000 + seed);
    let instance_count = pool_size - classes;
    let labels: Vec<i64> = (0..instance_count)
        .map(|i| ((i * 7 + seed as usize) % classes) as i64)
        .collect();
    Inputs {
        instances: Tensor::random(
            [instance_count, width],
            Distribution::Normal(0.0, 1.0),
            device,
        ),
        labels: Tensor::from_data(TensorData::new(labels, [instance_count]), device),
        label_embeddings: Tensor::random([classes, width], Distribution::Normal(0.0, 1.0), device),
    }
}

fn gradient_error(values: &[f32], reference: &[f32]) -> f64 {
    let scale = reference
        .iter()
        .map(|x| f64::from(x.abs()))
        .fold(0.0, f64::max)
        .max(1e-12);
    values
        .iter()
        .zip(reference)
        .map(|(a, b)| f64::from((a - b).abs()))
        .fold(0.0, f64::max)
        / scale
}

/// GFLOP/s of a [1024, d] x [d, 1024] matmul, the shape of the reference's score matrix.
fn matmul_gflops(device: &Device, width: usize) -> f64 {
    let device = device.clone().inner();
    let size = 1024;
    let left = Tensor::<2>::random([size, width], Distribution::Default, &device);
    let right = Tensor::<2>::random([width, size], Distribution::Default, &device);
    let _ = left
        .clone()
        .matmul(right.clone())
        .sum()
        .into_scalar::<f32>();
    let mut seconds = Vec::new();
    for _ in 0..3 {
        let start = Instant::now();
        let _ = left
            .clone()
            .matmul(right.clone())
            .sum()
            .into_scalar::<f32>();
        seconds.push(start.elapsed().as_secs_f64());
    }
    seconds.sort_by(f64::total_cmp);
    2.0 * (size * size * width) as f64 / seconds[1] / 1e9
}
