//! The fused contrastive loss: the forward launches and the autodiff backward pass.

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops};
use burn::backend::ops::{FloatTensorOps, IntTensorOps};
use burn::backend::wgpu::{CubeBackend, CubeTensor, into_contiguous};
use burn::tensor::{DType, IntDType, Scalar, Shape};

use super::backend::{as_f32, cast_back, column, dims2};
use super::kernels::{
    ANCHORS_PER_GROUP, Kernel, THREAD_STATS_FLOATS_PER_GROUP, empty_f32, groups, kernel_variant,
    launch, pool_params, tile_launches,
};

/// State the contrastive forward pass keeps for the backward pass: O(M d) in all.
#[derive(Clone, Debug)]
pub(super) struct ContrastiveForward {
    pub(super) loss: CubeTensor,
    pub(super) pool: CubeTensor,
    pub(super) pool_labels: CubeTensor,
    /// [M, 4]: log-sum-exp, anchor weight, 1 / |P(a)|, weighted row loss.
    pub(super) row_stats: CubeTensor,
    /// [1]: 1 / max(1, sum of anchor weights).
    pub(super) inverse_anchor_count: CubeTensor,
}

impl ContrastiveForward {
    pub(super) fn run(
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
        let thread_stats = empty_f32(&pool, [workgroups as usize * THREAD_STATS_FLOATS_PER_GROUP]);
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
pub(super) struct ContrastiveBackward {
    pub(super) temperature: f32,
    /// The pool's float type, which its gradient must have.
    pub(super) dtype: DType,
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
        let workgroups = groups(rows, ANCHORS_PER_GROUP);
        for tiles in tile_launches(rows, width) {
            launch(
                &state.pool.client,
                Kernel::ContrastiveBackward(variant),
                (workgroups, 1),
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
