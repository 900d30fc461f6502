//! The shared 2-D map: PCA of instances and label embeddings together, on the device, with
//! each new basis rotated onto the previous one so replayed snapshots do not flip.

use burn::prelude::*;
use burn::tensor::TensorData;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::model::weights::tensor_values;

/// Block power iterations for the top two principal axes. They start from the previous
/// snapshot's basis, which is close. A cold start converges at a rate of
/// lambda_3 / lambda_2 per iteration.
const POWER_ITERATIONS: usize = 96;

/// Guards the normalisation of a column that collapsed to zero (all points equal).
const EPSILON: f64 = 1e-12;

/// The projection of one snapshot.
#[derive(Debug, Clone)]
pub struct SharedProjection {
    /// One 2-D point per input row.
    pub coordinates: Vec<[f32; 2]>,
    /// Row-major [d, 2] orthonormal basis.
    pub basis: Vec<f32>,
    /// Variance along each axis over the total variance.
    pub explained_variance: [f32; 2],
}

/// Projects `points` [m, d] (instances and label embeddings stacked) onto their top two
/// principal axes. The covariance and the power iterations run on the points' device; only
/// the [d, 2] basis and the [m, 2] coordinates come back. `previous` is the basis of the
/// previous snapshot, which warm-starts the iteration and fixes the orientation.
pub fn project_shared(points: Tensor<2>, previous: Option<&[f32]>) -> SharedProjection {
    let [rows, dim] = points.dims();
    let device = points.device();

    let centred = points.clone() - points.mean_dim(0); // [m, d]
    let covariance = centred.clone().transpose().matmul(centred.clone()) / rows.max(1) as f64; // [d, d]
    let total_variance =
        centred.clone().powi_scalar(2).sum().into_scalar::<f32>() / rows.max(1) as f32;

    let start = match previous {
        Some(basis) if basis.len() == dim * 2 => basis.to_vec(),
        _ => random_basis(dim),
    };
    let mut basis = Tensor::<2>::from_data(TensorData::new(start, [dim, 2]), &device); // [d, 2]
    for _ in 0..POWER_ITERATIONS {
        basis = orthonormalize(covariance.clone().matmul(basis));
    }

    // Rayleigh-Ritz on the 2-D subspace orders the two axes by variance.
    let image = tensor_values(covariance.matmul(basis.clone())); // [d, 2]
    let mut basis = tensor_values(basis);
    let ritz = ritz_matrix(&basis, &image);
    let variances = rotate_to_eigenbasis(&mut basis, ritz);
    match previous {
        Some(previous) if previous.len() == basis.len() => align_basis(&mut basis, previous),
        _ => fix_signs(&mut basis),
    }

    let basis_tensor = Tensor::<2>::from_data(TensorData::new(basis.clone(), [dim, 2]), &device);
    let coordinates = tensor_values(centred.matmul(basis_tensor)) // [m, 2]
        .chunks_exact(2)
        .map(|pair| [pair[0], pair[1]])
        .collect();
    let share = |variance: f32| {
        if total_variance > 0.0 {
            (variance / total_variance).clamp(0.0, 1.0)
        } else {
            0.0
        }
    };
    SharedProjection {
        coordinates,
        basis,
        explained_variance: [share(variances[0]), share(variances[1])],
    }
}

/// Gram-Schmidt on the two columns of `basis` [d, 2].
fn orthonormalize(basis: Tensor<2>) -> Tensor<2> {
    let [dim, _] = basis.dims();
    let first = basis.clone().slice([0..dim, 0..1]); // [d, 1]
    let second = basis.slice([0..dim, 1..2]); // [d, 1]
    let first = normalize_column(first);
    let overlap = (first.clone() * second.clone()).sum_dim(0); // [1, 1]
    let second = normalize_column(second - first.clone() * overlap);
    Tensor::cat(vec![first, second], 1)
}

fn normalize_column(column: Tensor<2>) -> Tensor<2> {
    let norm = column.clone().powi_scalar(2).sum_dim(0).sqrt() + EPSILON; // [1, 1]
    column / norm
}

/// Returns a fixed pseudo-random start, drawn on the host so the device's seeded random stream
/// (dropout, initialisation) is not disturbed by taking a snapshot.
fn random_basis(dim: usize) -> Vec<f32> {
    let mut rng = StdRng::seed_from_u64(0x5eed_0f9c);
    (0..dim * 2).map(|_| rng.random_range(-1.0..1.0)).collect()
}

/// B^T (C B) for a row-major [d, 2] basis B and image C B: a symmetric 2 x 2 matrix.
fn ritz_matrix(basis: &[f32], image: &[f32]) -> [[f32; 2]; 2] {
    let mut matrix = [[0.0f32; 2]; 2];
    for (row, image_row) in basis.chunks_exact(2).zip(image.chunks_exact(2)) {
        for i in 0..2 {
            for j in 0..2 {
                matrix[i][j] += row[i] * image_row[j];
            }
        }
    }
    matrix
}

/// Rotates the two basis columns onto the eigenvectors of the 2 x 2 `ritz` matrix, the
/// larger eigenvalue first, and returns both eigenvalues.
fn rotate_to_eigenbasis(basis: &mut [f32], ritz: [[f32; 2]; 2]) -> [f32; 2] {
    let off_diagonal = 0.5 * (ritz[0][1] + ritz[1][0]);
    let angle = 0.5 * (2.0 * off_diagonal).atan2(ritz[0][0] - ritz[1][1]);
    let (sin, cos) = angle.sin_cos();
    for row in basis.chunks_exact_mut(2) {
        let (a, b) = (row[0], row[1]);
        row[0] = cos * a + sin * b;
        row[1] = -sin * a + cos * b;
    }
    [
        ritz[0][0] * cos * cos + 2.0 * off_diagonal * sin * cos + ritz[1][1] * sin * sin,
        ritz[0][0] * sin * sin - 2.0 * off_diagonal * sin * cos + ritz[1][1] * cos * cos,
    ]
}

/// Applies the orthogonal 2 x 2 map R (rotation or reflection) that minimises
/// ||B R - B_previous||_F (orthogonal Procrustes), so the new map is oriented like the old.
pub fn align_basis(basis: &mut [f32], previous: &[f32]) {
    // M = B^T B_previous; the best rotation maximises tr(R^T M).
    let mut m = [[0.0f32; 2]; 2];
    for (row, previous_row) in basis.chunks_exact(2).zip(previous.chunks_exact(2)) {
        for i in 0..2 {
            for j in 0..2 {
                m[i][j] += row[i] * previous_row[j];
            }
        }
    }
    let rotation_score = (m[0][0] + m[1][1]).hypot(m[1][0] - m[0][1]);
    let reflection_score = (m[0][0] - m[1][1]).hypot(m[0][1] + m[1][0]);
    let r = if rotation_score >= reflection_score {
        let angle = (m[1][0] - m[0][1]).atan2(m[0][0] + m[1][1]);
        let (sin, cos) = angle.sin_cos();
        [[cos, -sin], [sin, cos]]
    } else {
        let angle = (m[0][1] + m[1][0]).atan2(m[0][0] - m[1][1]);
        let (sin, cos) = angle.sin_cos();
        [[cos, sin], [sin, -cos]]
    };
    for row in basis.chunks_exact_mut(2) {
        let (a, b) = (row[0], row[1]);
        row[0] = a * r[0][0] + b * r[1][0];
        row[1] = a * r[0][1] + b * r[1][1];
    }
}

/// Without a previous basis, makes each axis's largest loading positive, so the same
/// embeddings always give the same picture.
fn fix_signs(basis: &mut [f32]) {
    for column in 0..2 {
        let largest = basis
            .chunks_exact(2)
            .map(|row| row[column])
            .fold(0.0f32, |best, value| {
                if value.abs() > best.abs() {
                    value
                } else {
                    best
                }
            });
        if largest < 0.0 {
            for row in basis.chunks_exact_mut(2) {
                row[column] = -row[column];
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn align_basis_undoes_a_rotation() {
        let previous = vec![1.0, 0.0, 0.0, 1.0, 0.0, 0.0]; // [3, 2]
        let (sin, cos) = 0.7f32.sin_cos();
        let mut rotated = vec![cos, -sin, sin, cos, 0.0, 0.0];
        align_basis(&mut rotated, &previous);
        for (value, expected) in rotated.iter().zip(&previous) {
            assert!((value - expected).abs() < 1e-6, "{rotated:?}");
        }
    }

    #[test]
    fn align_basis_undoes_a_flipped_axis() {
        let previous = vec![1.0, 0.0, 0.0, 1.0, 0.0, 0.0];
        let mut flipped = vec![1.0, 0.0, 0.0, -1.0, 0.0, 0.0];
        align_basis(&mut flipped, &previous);
        for (value, expected) in flipped.iter().zip(&previous) {
            assert!((value - expected).abs() < 1e-6, "{flipped:?}");
        }
    }

    #[test]
    fn rotate_to_eigenbasis_orders_variances() {
        let mut basis = vec![1.0, 0.0, 0.0, 1.0];
        let variances = rotate_to_eigenbasis(&mut basis, [[1.0, 0.0], [0.0, 4.0]]);
        assert!((variances[0] - 4.0).abs() < 1e-5, "{variances:?}");
        assert!((variances[1] - 1.0).abs() < 1e-5, "{variances:?}");
        assert!(
            (basis[2].abs() - 1.0).abs() < 1e-5,
            "first axis is the second input column"
        );
    }
}
