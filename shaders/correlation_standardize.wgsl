// Correlation penalty, step 1: column statistics of H ([N, d], row-major, unnormalised).
//
// One thread per feature column j walks the N rows twice (mean, then variance around it,
// which is steadier in f32 than the one-pass sum of squares) and writes
//   Z[i, j] = (H[i, j] - mean_j) / sigma_j,  sigma_j^2 = sum_i (H[i, j] - mean_j)^2 / (N - 1)
//   inverse_std[j] = 1 / sigma_j.
// A column with sigma_j^2 <= 1e-12 is constant in the batch: it gets Z = 0 and
// inverse_std = 0, so it drops out of R and passes no gradient.

const MIN_VARIANCE: f32 = 1e-12;

@group(0) @binding(0) var<storage, read_write> instances: array<f32>;
@group(0) @binding(1) var<storage, read_write> standardized: array<f32>;
@group(0) @binding(2) var<storage, read_write> inverse_std: array<f32>;
@group(0) @binding(3) var<storage, read_write> params: ColumnParams;

@compute @workgroup_size(64, 1, 1)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
    let column = id.x;
    let rows = params.rows;
    let width = params.width;
    if column >= width {
        return;
    }

    var sum = 0.0;
    for (var row = 0u; row < rows; row++) {
        sum += instances[row * width + column];
    }
    let mean = sum / f32(rows);

    var squares = 0.0;
    for (var row = 0u; row < rows; row++) {
        let centred = instances[row * width + column] - mean;
        squares += centred * centred;
    }
    let variance = squares / f32(rows - 1u);
    let inverse = select(0.0, inverseSqrt(variance), variance > MIN_VARIANCE);

    for (var row = 0u; row < rows; row++) {
        let index = row * width + column;
        standardized[index] = (instances[index] - mean) * inverse;
    }
    inverse_std[column] = inverse;
}
