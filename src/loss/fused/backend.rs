//! The backend extension that runs the fused kernels, and its autodiff backward passes.
//!
//! Only the cubecl backend implements it, and only its wgpu runtime compiles WGSL, so
//! `super::kernels_available` routes every other device to the reference losses first.

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::ops::{FloatTensorOps, IntTensorOps};
use burn::backend::tensor::{FloatTensor, IntTensor};
use burn::backend::wgpu::{CubeBackend, CubeTensor, into_contiguous};
use burn::backend::{Autodiff, Backend, backend_extension};
use burn::tensor::{DType, FloatDType, IntDType, Scalar, Shape, Slice};

use super::kernels::{
    ANCHORS_PER_GROUP, CORRELATION_TILE, Kernel, WORKGROUP_THREADS, empty_f32, groups,
    kernel_variant, launch, params_buffer, pool_params, tile_launches,
};

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
        match backward
            .prepare::<C>([pool.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                let forward = ContrastiveForward::run(
                    pool.into_primitive(),
                    pool_labels,
                    anchor_kind,
                    temperature,
                );
                let loss = cast_back(forward.loss.clone(), dtype);
                prep.finish(forward, loss)
            }
            OpsKind::UnTracked(prep) => {
                let forward = ContrastiveForward::run(
                    pool.into_primitive(),
                    pool_labels,
                    anchor_kind,
                    temperature,
                );
                prep.finish(cast_back(forward.loss, dtype))
            }
        }
    }

    fn fused_correlation_penalty(instances: FloatTensor<Self>, squared: bool) -> FloatTensor<Self> {
        let dtype = instances.primitive().dtype;
        let backward = CorrelationBackward { squared, dtype };
        match backward
            .prepare::<C>([instances.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                let forward = CorrelationForward::run(instances.into_primitive(), squared);
                let loss = cast_back(forward.loss.clone(), dtype);
                prep.finish(forward, loss)
            }
            OpsKind::UnTracked(prep) => {
                let forward = CorrelationForward::run(instances.into_primitive(), squared);
                prep.finish(cast_back(forward.loss, dtype))
            }
        }
    }
}

/// The kernels compute in f32, whatever the model's float type.
fn as_f32(tensor: CubeTensor) -> CubeTensor {
    let tensor = if tensor.dtype == DType::F32 {
        tensor
    } else {
        CubeBackend::float_cast(tensor, FloatDType::F32)
    };
    into_contiguous(tensor)
}

fn cast_back(tensor: CubeTensor, dtype: DType) -> CubeTensor {
    if tensor.dtype == dtype {
        tensor
    } else {
        CubeBackend::float_cast(tensor, dtype.into())
    }
}

fn dims2(tensor: &CubeTensor) -> (usize, usize) {
    let shape = tensor.meta.shape();
    (shape[0], shape[1])
}

/// Column `column` of a [rows, columns] tensor, as [rows, 1].
fn column(tensor: CubeTensor, column: usize) -> CubeTensor {
    let column = column as isize;
    CubeBackend::float_slice(
        tensor,
        &[Slice::full(), Slice::new(column, Some(column + 1), 1)],
    )
}

/// What the contrastive forward pass leaves for the backward pass: O(M d) in all.
#[derive(Clone, Debug)]
struct ContrastiveForward {
    loss: CubeTensor,
    pool: CubeTensor,
    pool_labels: CubeTensor,
    /// [M, 4]: log-sum-exp, anchor weight, 1 / |P(a)|, weighted row loss.
    row_stats: CubeTensor,
    /// [1]: 1 / max(1, sum of anchor weights).
    inverse_anchor_count: CubeTensor,
}

impl ContrastiveForward {
    fn run(
        pool: CubeTensor,
        pool_labels: CubeTensor,
        anchor_kind: CubeTensor,
        temperature: f32,
    ) -> Self {
        let pool = as_f32(pool);
        let anchor_kind = as_f32(anchor_kind);
        let pool_labels = if pool_labels.dtype == DType::I32 {
            pool_labels
        } else {
            CubeBackend::int_cast(pool_labels, IntDType::I32)
        };
        let pool_labels = into_contiguous(pool_labels);
        let (rows, width) = dims2(&pool);

        let row_stats = empty_f32(&pool, [rows, 4]);
        let workgroups = groups(rows, ANCHORS_PER_GROUP);
        // Running statistics of each thread's 8 anchors between launches: 8 vec4 per thread.
        let thread_stats = empty_f32(&pool, [workgroups as usize * 64 * 8, 4]);
        let variant = kernel_variant(&pool.client, &pool.device);
        for tiles in tile_launches(rows, width) {
            launch(
                &pool.client,
                Kernel::ContrastiveForward(variant),
                (workgroups, 1),
                vec![
                    pool.handle.clone(),
                    pool_labels.handle.clone(),
                    anchor_kind.handle.clone(),
                    row_stats.handle.clone(),
                    thread_stats.handle.clone(),
                    pool_params(&pool.client, rows, width, 1.0 / temperature, tiles),
                ],
            );
        }

        // loss = sum_a weight_a loss_a / max(1, sum_a weight_a), in O(M) burn ops.
        let totals = CubeBackend::float_sum_dim(row_stats.clone(), 0); // [1, 4]
        let anchor_count =
            CubeBackend::float_clamp_min(column(totals.clone(), 1), Scalar::from(1.0f32));
        let inverse_anchor_count =
            CubeBackend::float_reshape(CubeBackend::float_recip(anchor_count), Shape::new([1]));
        let loss_sum = CubeBackend::float_reshape(column(totals, 3), Shape::new([1]));
        let loss = CubeBackend::float_mul(loss_sum, inverse_anchor_count.clone());

        Self {
            loss,
            pool,
            pool_labels,
            row_stats,
            inverse_anchor_count,
        }
    }
}

#[derive(Debug)]
struct ContrastiveBackward {
    temperature: f32,
    /// The pool's float type, which its gradient must have.
    dtype: DType,
}

impl Backward<CubeBackend, 1> for ContrastiveBackward {
    type State = ContrastiveForward;

    fn backward(
        self,
        ops: Ops<Self::State, 1>,
        grads: &mut Gradients,
        _checkpointer: &mut Checkpointer,
    ) {
        let [pool_node] = ops.parents;
        let upstream = as_f32(grads.consume::<CubeBackend>(&ops.node)); // [1]
        let Some(pool_node) = pool_node else {
            return;
        };
        let state = ops.state;
        let (rows, width) = dims2(&state.pool);

        let loss_scale = CubeBackend::float_mul(upstream, state.inverse_anchor_count);
        let gradient = empty_f32(&state.pool, [rows, width]);
        let variant = kernel_variant(&state.pool.client, &state.pool.device);
        let scale = into_contiguous(loss_scale);
        for tiles in tile_launches(rows, width) {
            launch(
                &state.pool.client,
                Kernel::ContrastiveBackward(variant),
                (groups(rows, ANCHORS_PER_GROUP), 1),
                vec![
                    state.pool.handle.clone(),
                    state.pool_labels.handle.clone(),
                    state.row_stats.handle.clone(),
                    scale.handle.clone(),
                    gradient.handle.clone(),
                    pool_params(
                        &state.pool.client,
                        rows,
                        width,
                        1.0 / self.temperature,
                        tiles,
                    ),
                ],
            );
        }
        grads.register::<CubeBackend>(pool_node.id, cast_back(gradient, self.dtype));
    }
}

/// What the correlation forward pass leaves for the backward pass: O(N d + d^2).
#[derive(Clone, Debug)]
struct CorrelationForward {
    loss: CubeTensor,
    /// [N, d]: the standardised batch Z.
    standardized: CubeTensor,
    /// [d, d]: R with a zero diagonal.
    correlation: CubeTensor,
    /// [d]: 1 / sigma_j, 0 for a constant column.
    inverse_std: CubeTensor,
}

impl CorrelationForward {
    fn run(instances: CubeTensor, squared: bool) -> Self {
        let instances = as_f32(instances);
        let (rows, width) = dims2(&instances);
        assert!(
            rows >= 2,
            "the correlation penalty needs at least 2 rows, got {rows}"
        );

        let standardized = empty_f32(&instances, [rows, width]);
        let inverse_std = empty_f32(&instances, [width]);
        let column_params = params_buffer(&instances.client, rows as u32, width as u32, 0.0, 0);
        launch(
            &instances.client,
            Kernel::CorrelationStandardize,
            (groups(width, WORKGROUP_THREADS), 1),
            vec![
                instances.handle.clone(),
                standardized.handle.clone(),
                inverse_std.handle.clone(),
                column_params,
            ],
        );

        let tiles = groups(width, CORRELATION_TILE);
        let correlation = empty_f32(&instances, [width, width]);
        let tile_squares = empty_f32(&instances, [(tiles * tiles) as usize]);
        let gram_params = params_buffer(
            &instances.client,
            rows as u32,
            width as u32,
            1.0 / (rows - 1) as f32,
            tiles,
        );
        launch(
            &instances.client,
            Kernel::CorrelationGram,
            (tiles, tiles),
            vec![
                standardized.handle.clone(),
                correlation.handle.clone(),
                tile_squares.handle.clone(),
                gram_params,
            ],
        );

        let sum_squares = CubeBackend::float_sum(tile_squares); // [1]
        let loss = if squared {
            sum_squares
        } else {
            // The clamp keeps the backward pass's division by the loss finite.
            CubeBackend::float_sqrt(CubeBackend::float_clamp_min(
                sum_squares,
                Scalar::from(1e-20f32),
            ))
        };

        Self {
            loss,
            standardized,
            correlation,
            inverse_std,
        }
    }
}

#[derive(Debug)]
struct CorrelationBackward {
    squared: bool,
    /// The input's float type, which its gradient must have.
    dtype: DType,
}

impl Backward<CubeBackend, 1> for CorrelationBackward {
    type State = CorrelationForward;

    fn backward(
        self,
        ops: Ops<Self::State, 1>,
        grads: &mut Gradients,
        _checkpointer: &mut Checkpointer,
    ) {
        let [instances_node] = ops.parents;
        let upstream = as_f32(grads.consume::<CubeBackend>(&ops.node)); // [1]
        let Some(instances_node) = instances_node else {
            return;
        };
        let state = ops.state;
        let (rows, width) = dims2(&state.standardized);
        let unbiased = (rows - 1) as f32;

        // R = Z^T Z / (N - 1) gives dZ = 2 Z dL/dR / (N - 1), and dL/dR = R / L for
        // L = ||R - I||_F, or 2 R for its square.
        let coefficient = if self.squared {
            CubeBackend::float_mul_scalar(upstream, Scalar::from(4.0 / unbiased))
        } else {
            let scaled = CubeBackend::float_mul_scalar(upstream, Scalar::from(2.0 / unbiased));
            CubeBackend::float_div(scaled, state.loss)
        };

        let params =
            |tensor: &CubeTensor| params_buffer(&tensor.client, rows as u32, width as u32, 0.0, 0);
        let standardized_grad = empty_f32(&state.standardized, [rows, width]);
        launch(
            &state.standardized.client,
            Kernel::CorrelationBackward,
            (
                groups(width, CORRELATION_TILE),
                groups(rows, CORRELATION_TILE),
            ),
            vec![
                state.standardized.handle.clone(),
                state.correlation.handle.clone(),
                into_contiguous(coefficient).handle,
                standardized_grad.handle.clone(),
                params(&state.standardized),
            ],
        );

        let instances_grad = empty_f32(&state.standardized, [rows, width]);
        launch(
            &state.standardized.client,
            Kernel::CorrelationInputGrad,
            (groups(width, WORKGROUP_THREADS), 1),
            vec![
                state.standardized.handle.clone(),
                standardized_grad.handle,
                state.inverse_std.handle.clone(),
                instances_grad.handle.clone(),
                params(&state.standardized),
            ],
        );
        grads.register::<CubeBackend>(instances_node.id, cast_back(instances_grad, self.dtype));
    }
}
