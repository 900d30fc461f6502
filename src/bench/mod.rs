//! Benchmarks that compare the fused WGSL losses with the reference tensor-op losses on
//! one device, in one process.

pub mod losses;
