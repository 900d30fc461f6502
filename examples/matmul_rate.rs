//! Measures the matmul rate (GFLOP/s) of a backend: `cargo run --release --example matmul_rate -- wgpu|cpu`.
use std::time::Instant;

use acf::config::BackendChoice;
use acf::device::select_device;
use burn::prelude::*;
use burn::tensor::Distribution;

fn main() {
    let choice = match std::env::args().nth(1).as_deref() {
        Some("cpu") => BackendChoice::Cpu,
        _ => BackendChoice::Wgpu,
    };
    let selected = select_device(choice).unwrap();
    let device = selected.device;
    for (m, k, n) in [
        (2048usize, 384usize, 1536usize),
        (2048, 384, 384),
        (1024, 1024, 1024),
    ] {
        let a = Tensor::<2>::random([m, k], Distribution::Default, &device);
        let b = Tensor::<2>::random([k, n], Distribution::Default, &device);
        let _ = a.clone().matmul(b.clone()).sum().into_scalar::<f32>();
        let repeats = 5;
        let start = Instant::now();
        for _ in 0..repeats {
            let _ = a.clone().matmul(b.clone()).sum().into_scalar::<f32>();
        }
        let seconds = start.elapsed().as_secs_f64() / repeats as f64;
        let gflops = 2.0 * (m * k * n) as f64 / seconds / 1e9;
        println!(
            "{} {m}x{k}x{n}: {:.1} ms, {gflops:.1} GFLOP/s",
            selected.backend,
            seconds * 1e3
        );
    }
}
