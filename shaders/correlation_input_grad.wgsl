// Correlation penalty, backward pass, step 2: from dZ to dH through the standardisation
// Z[i, j] = (H[i, j] - mean_j) / sigma_j. One thread per feature column j:
//   dH[i, j] = (1 / sigma_j) (dZ[i, j] - mean_i dZ[., j] - Z[i, j] sum_i (dZ[i, j] Z[i, j]) / (N - 1)).
// A dropped (constant) column has inverse_std = 0 and so gets a zero gradient.

@group(0) @binding(0) var<storage, read_write> standardized: array<f32>;
@group(0) @binding(1) var<storage, read_write> standardized_grad: array<f32>;
@group(0) @binding(2) var<storage, read_write> inverse_std: array<f32>;
@group(0) @binding(3) var<storage, read_write> instances_grad: array<f32>;
@group(0) @binding(4) var<storage, read_write> params: ColumnParams;

@compute @workgroup_size(64, 1, 1)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
    let column = id.x;
    let rows = params.rows;
    let width = params.width;
    if column >= width {
        return;
    }

    var grad_sum = 0.0;
    var grad_dot = 0.0;
    for (var row = 0u; row < rows; row++) {
        let index = row * width + column;
        grad_sum += standardized_grad[index];
        grad_dot += standardized_grad[index] * standardized[index];
    }
    let grad_mean = grad_sum / f32(rows);
    let projection = grad_dot / f32(rows - 1u);

    let inverse = inverse_std[column];
    for (var row = 0u; row < rows; row++) {
        let index = row * width + column;
        instances_grad[index] = inverse * (standardized_grad[index] - grad_mean - standardized[index] * projection);
    }
}
