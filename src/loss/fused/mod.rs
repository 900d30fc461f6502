//! The ACF losses through hand-written WGSL kernels (`shaders/`), with the signatures of
//! the reference functions in [`crate::loss`].
//!
//! On a wgpu device the contrastive loss runs as one tiled pass over the pool forward and
//! one backward. Neither keeps the M x M score matrix, so memory is O(M d). The
//! correlation penalty runs as two forward and two backward kernels. On any other device
//! (the CPU backend) these functions call the reference implementation.
//!
//! The L2 normalisation and the assembly of the pool stay in burn tensor ops. They are
//! O(M d) element-wise work next to the O(M^2 d) contrastive kernels, and burn's autodiff
//! already differentiates them.

mod backend;
mod contrastive;
mod correlation;
mod kernels;

use burn::backend::{Dispatch, DispatchDevice};
use burn::cubecl::Device as CubeDevice;
use burn::prelude::*;

pub use backend::FusedLossBackend;
pub use kernels::{KernelVariant, force_kernel_variant};

use super::contrastive::aligned_pool;
use super::{l2_normalize, reference};

/// Returns whether the fused kernels run on `device`: true for wgpu devices, with or
/// without autodiff.
pub fn kernels_available(device: &Device) -> bool {
    cube_device(device).is_some()
}

/// The cubecl device under `device` (wgpu in this build), without autodiff.
fn cube_device(device: &Device) -> Option<CubeDevice> {
    match device.clone().inner().as_dispatch() {
        DispatchDevice::Cube(cube) => Some(cube.clone()),
        _ => None,
    }
}

/// Fused [`crate::loss::aligned_contrastive_loss`]: same arguments, same value.
pub fn aligned_contrastive_loss(
    instances: Tensor<2>,
    labels: Tensor<1, Int>,
    label_embeddings: Tensor<2>,
    temperature: f32,
    label_anchors: bool,
) -> Tensor<1> {
    let [_, width] = instances.dims();
    // The kernels need at least one feature column; an empty width goes to the reference.
    if width == 0 || !kernels_available(&instances.device()) {
        return reference::aligned_contrastive_loss(
            instances,
            labels,
            label_embeddings,
            temperature,
            label_anchors,
        );
    }
    let (pool, pool_labels, anchor_kind) =
        aligned_pool(instances, labels, label_embeddings, label_anchors);
    pool_contrastive_loss(pool, pool_labels, anchor_kind, temperature)
}

/// Fused [`crate::loss::supervised_contrastive_loss`]: the same kernel with no label
/// embeddings in the pool.
pub fn supervised_contrastive_loss(
    instances: Tensor<2>,
    labels: Tensor<1, Int>,
    temperature: f32,
) -> Tensor<1> {
    let device = instances.device();
    let [num_instances, width] = instances.dims();
    if width == 0 || !kernels_available(&device) {
        return reference::supervised_contrastive_loss(instances, labels, temperature);
    }
    let anchor_kind = Tensor::ones([num_instances], &device);
    pool_contrastive_loss(l2_normalize(instances), labels, anchor_kind, temperature)
}

/// Fused [`crate::loss::correlation_penalty`].
pub fn correlation_penalty(instances: Tensor<2>, squared: bool) -> Tensor<1> {
    let [count, width] = instances.dims();
    // With fewer than 2 rows or no columns the penalty is 0; the reference handles that.
    if count < 2 || width == 0 || !kernels_available(&instances.device()) {
        return reference::correlation_penalty(instances, squared);
    }
    Tensor::from_dispatch(Dispatch::fused_correlation_penalty(
        instances.into_dispatch(),
        squared,
    ))
}

fn pool_contrastive_loss(
    pool: Tensor<2>,
    pool_labels: Tensor<1, Int>,
    anchor_kind: Tensor<1>,
    temperature: f32,
) -> Tensor<1> {
    Tensor::from_dispatch(Dispatch::fused_pool_contrastive_loss(
        pool.into_dispatch(),
        pool_labels.into_dispatch(),
        anchor_kind.into_dispatch(),
        temperature,
    ))
}

/// Returns the contrastive kernel variant that runs on `device` (probing it on first use), or
/// `None` where the fused kernels do not run.
pub fn kernel_variant(device: &Device) -> Option<KernelVariant> {
    cube_device(device).map(|cube| kernels::kernel_variant(&cube.client(), &cube))
}

/// Returns the largest buffer `device` binds to a kernel, in bytes; `None` for devices that do
/// not report one (the CPU backend).
pub fn max_buffer_bytes(device: &Device) -> Option<u64> {
    cube_device(device).map(|cube| cube.client().properties().memory.max_page_size)
}
