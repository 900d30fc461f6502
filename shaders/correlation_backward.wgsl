// Correlation penalty, backward pass, step 1: the gradient with respect to Z,
//   dZ = coefficient * Z R,
// where R is the forward pass's correlation with a zero diagonal and coefficient carries
// the upstream gradient and the derivative of the norm (see the launcher). R is
// symmetric, so this is the gradient through both R_jk and R_kj.
//
// A workgroup owns a TILE x TILE block of dZ (batch rows i, features j) and reduces over
// the d features k, DEPTH at a time. Workgroup memory: 8 KiB.

@group(0) @binding(0) var<storage, read_write> standardized: array<f32>;
@group(0) @binding(1) var<storage, read_write> correlation: array<f32>;
// One element: the coefficient.
@group(0) @binding(2) var<storage, read_write> coefficient: array<f32>;
@group(0) @binding(3) var<storage, read_write> standardized_grad: array<f32>;
@group(0) @binding(4) var<storage, read_write> params: ColumnParams;

var<workgroup> batch_tile: array<f32, 1024>;       // [DEPTH features k][TILE batch rows i]
var<workgroup> correlation_tile: array<f32, 1024>; // [DEPTH features k][TILE features j]

@compute @workgroup_size(64, 1, 1)
fn main(
    @builtin(workgroup_id) group: vec3<u32>,
    @builtin(local_invocation_index) thread: u32,
) {
    let tx = thread % LANES;
    let ty = thread / LANES;
    let batch_first = group.y * TILE;
    let feature_first = group.x * TILE;
    let rows = params.rows;
    let width = params.width;

    var sums: array<vec4<f32>, 4>;
    for (var inner_first = 0u; inner_first < width; inner_first += DEPTH) {
        for (var step = 0u; step < TILE * DEPTH / THREADS; step++) {
            let element = thread + step * THREADS;
            // Z is read along its rows, so the staged tile is transposed on the way in.
            let batch = element / DEPTH;
            let inner = element % DEPTH;
            let z_row = batch_first + batch;
            let z_column = inner_first + inner;
            var z = 0.0;
            if z_row < rows && z_column < width {
                z = standardized[z_row * width + z_column];
            }
            batch_tile[inner * TILE + batch] = z;

            let r_row = inner_first + element / TILE;
            let r_column = feature_first + element % TILE;
            var r = 0.0;
            if r_row < width && r_column < width {
                r = correlation[r_row * width + r_column];
            }
            correlation_tile[element] = r;
        }
        // The tiles must be complete before any thread reads another thread's loads.
        workgroupBarrier();

        for (var inner = 0u; inner < DEPTH; inner++) {
            let b = inner * TILE + 4u * ty;
            let c = inner * TILE + 4u * tx;
            let z = vec4<f32>(batch_tile[b], batch_tile[b + 1u], batch_tile[b + 2u], batch_tile[b + 3u]);
            let r = vec4<f32>(correlation_tile[c], correlation_tile[c + 1u], correlation_tile[c + 2u], correlation_tile[c + 3u]);
            sums[0] += z.x * r;
            sums[1] += z.y * r;
            sums[2] += z.z * r;
            sums[3] += z.w * r;
        }
        // Every thread must be done reading before the next step overwrites the tiles.
        workgroupBarrier();
    }

    let scale = coefficient[0];
    for (var i = 0u; i < 4u; i++) {
        let batch = batch_first + 4u * ty + i;
        for (var j = 0u; j < 4u; j++) {
            let feature = feature_first + 4u * tx + j;
            if batch < rows && feature < width {
                standardized_grad[batch * width + feature] = sums[i][j] * scale;
            }
        }
    }
}
