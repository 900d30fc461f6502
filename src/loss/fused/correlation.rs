//! The fused correlation penalty: the forward launches and the autodiff backward pass.

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops};
use burn::backend::ops::FloatTensorOps;
use burn::backend::wgpu::{CubeBackend, CubeTensor, into_contiguous};
use burn::tensor::{DType, Scalar};

use super::backend::{as_f32, cast_back, dims2};
use super::kernels::{
    CORRELATION_TILE, Kernel, WORKGROUP_THREADS, empty_f32, groups, launch, params_buffer,
};

/// State the correlation forward pass keeps for the backward pass: O(N d + d^2).
#[derive(Clone, Debug)]
pub(super) struct CorrelationForward {
    pub(super) loss: CubeTensor,
    /// [N, d]: the standardised batch Z.
    pub(super) standardized: CubeTensor,
    /// [d, d]: R with a zero diagonal.
    pub(super) correlation: CubeTensor,
    /// [d]: 1 / sigma_j, 0 for a constant column.
    pub(super) inverse_std: CubeTensor,
}

impl CorrelationForward {
    pub(super) fn run(instances: CubeTensor, squared: bool) -> Self {
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
pub(super) struct CorrelationBackward {
    pub(super) squared: bool,
    /// The input's float type, which its gradient must have.
    pub(super) dtype: DType,
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
