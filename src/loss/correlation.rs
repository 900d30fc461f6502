//! Correlation penalty against anisotropy (CorReg form): the Frobenius norm of the
//! off-diagonal part of the feature correlation matrix of the batch,
//!   L_corr = sqrt( sum_{j != k} R_jk^2 ) = ||R - I||_F,
//! with R the Pearson correlation of the columns of H = [h_1..h_N] (unnormalised).

use burn::prelude::*;

/// Columns whose batch variance is at or below this are left out of R.
const MIN_VARIANCE: f32 = 1e-12;

/// Correlation penalty of `instances` ([N, d], unnormalised). With `squared`, returns
/// `||R - I||_F^2`. Constant columns are left out of R and pass no gradient. A batch with
/// N < 2 has no correlation, so the penalty is 0.
pub fn correlation_penalty(instances: Tensor<2>, squared: bool) -> Tensor<1> {
    let [count, width] = instances.dims();
    let device = instances.device();
    if count < 2 {
        return Tensor::zeros([1], &device) * instances.sum();
    }
    let unbiased = (count - 1) as f64;

    let centred = instances.clone() - instances.mean_dim(0); // [N, d]
    let variance = centred.clone().square().sum_dim(0) / unbiased; // [1, d]
    let kept_columns = variance.clone().greater_elem(MIN_VARIANCE).float().detach(); // [1, d]
    let std_dev = variance.clamp_min(MIN_VARIANCE).sqrt();
    let standardised = centred / std_dev * kept_columns; // [N, d], dropped columns are 0

    let correlation = standardised.clone().transpose().matmul(standardised) / unbiased; // [d, d]
    let off_diagonal = Tensor::<2, Bool>::diag_mask([width, width], 0, &device).float();
    let sum_squares = (correlation * off_diagonal).square().sum();
    if squared {
        sum_squares
    } else {
        // Clamping keeps the gradient of sqrt finite for an all-constant batch.
        sum_squares.clamp_min(1e-20).sqrt()
    }
}
