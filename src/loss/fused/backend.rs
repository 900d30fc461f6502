//! The backend extension that runs the fused kernels, and its autodiff backward passes.
//!
//! Only the cubecl backend implements it, and only its wgpu runtime compiles WGSL, so
//! `super::kernels_available` routes every other device to the reference losses first.

use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::ops::{Backward, OpsKind};
use burn::backend::ops::FloatTensorOps;
use burn::backend::tensor::{FloatTensor, IntTensor};
use burn::backend::wgpu::{CubeBackend, CubeTensor, into_contiguous};
use burn::backend::{Autodiff, Backend, backend_extension};
use burn::tensor::{DType, FloatDType, Slice};

use super::contrastive::{ContrastiveBackward, ContrastiveForward};
use super::correlation::{CorrelationBackward, CorrelationForward};

/// Fused forms of the two losses on pre-built inputs.
#[backend_extension(Cube, Autodiff)]
pub trait FusedLossBackend: Backend {
    /// Contrastive loss over `pool` ([M, d], rows L2-normalised) with `pool_labels` ([M])
    /// and `anchor_kind` ([M], 1 where a row may be an anchor). Returns a [1] tensor.
    fn fused_pool_contrastive_loss(
        pool: FloatTensor<Self>,
        pool_labels: IntTensor<Self>,
        anchor_kind: FloatTensor<Self>,
        temperature: f32,
    ) -> FloatTensor<Self>;

    /// Correlation penalty of `instances` ([N, d], N >= 2). Returns a [1] tensor.
    fn fused_correlation_penalty(instances: FloatTensor<Self>, squared: bool) -> FloatTensor<Self>;
}

impl FusedLossBackend for CubeBackend {
    fn fused_pool_contrastive_loss(
        pool: FloatTensor<Self>,
        pool_labels: IntTensor<Self>,
        anchor_kind: FloatTensor<Self>,
        temperature: f32,
    ) -> FloatTensor<Self> {
        let dtype = pool.dtype;
        let forward = ContrastiveForward::run(pool, pool_labels, anchor_kind, temperature);
        cast_back(forward.loss, dtype)
    }

    fn fused_correlation_penalty(instances: FloatTensor<Self>, squared: bool) -> FloatTensor<Self> {
        let dtype = instances.dtype;
        let forward = CorrelationForward::run(instances, squared);
        cast_back(forward.loss, dtype)
    }
}

impl<C: CheckpointStrategy> FusedLossBackend for Autodiff<CubeBackend, C> {
    fn fused_pool_contrastive_loss(
        pool: FloatTensor<Self>,
        pool_labels: IntTensor<Self>,
        anchor_kind: FloatTensor<Self>,
        temperature: f32,
    ) -> FloatTensor<Self> {
        let anchor_kind = anchor_kind.into_primitive();
        let dtype = pool.primitive().dtype;
        let backward = ContrastiveBackward { temperature, dtype };
        let prepared = backward
            .prepare::<C>([pool.node()])
            .compute_bound()
            .stateful();
        let forward =
            ContrastiveForward::run(pool.into_primitive(), pool_labels, anchor_kind, temperature);
        let loss = cast_back(forward.loss.clone(), dtype);
        match prepared {
            OpsKind::Tracked(prep) => prep.finish(forward, loss),
            OpsKind::UnTracked(prep) => prep.finish(loss),
        }
    }

    fn fused_correlation_penalty(instances: FloatTensor<Self>, squared: bool) -> FloatTensor<Self> {
        let dtype = instances.primitive().dtype;
        let backward = CorrelationBackward { squared, dtype };
        let prepared = backward
            .prepare::<C>([instances.node()])
            .compute_bound()
            .stateful();
        let forward = CorrelationForward::run(instances.into_primitive(), squared);
        let loss = cast_back(forward.loss.clone(), dtype);
        match prepared {
            OpsKind::Tracked(prep) => prep.finish(forward, loss),
            OpsKind::UnTracked(prep) => prep.finish(loss),
        }
    }
}

/// Converts to a contiguous f32 tensor, because the kernels compute in f32 whatever the
/// model's float type.
pub(super) fn as_f32(tensor: CubeTensor) -> CubeTensor {
    let tensor = if tensor.dtype == DType::F32 {
        tensor
    } else {
        CubeBackend::float_cast(tensor, FloatDType::F32)
    };
    into_contiguous(tensor)
}

pub(super) fn cast_back(tensor: CubeTensor, dtype: DType) -> CubeTensor {
    if tensor.dtype == dtype {
        tensor
    } else {
        CubeBackend::float_cast(tensor, dtype.into())
    }
}

pub(super) fn dims2(tensor: &CubeTensor) -> (usize, usize) {
    let shape = tensor.meta.shape();
    (shape[0], shape[1])
}

/// Column `column` of a [rows, columns] tensor, as [rows, 1].
pub(super) fn column(tensor: CubeTensor, column: usize) -> CubeTensor {
    let column = column as isize;
    CubeBackend::float_slice(
        tensor,
        &[Slice::full(), Slice::new(column, Some(column + 1), 1)],
    )
}
