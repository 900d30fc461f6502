// Correlation penalty, step 2: R = Z^T Z / (N - 1) with its diagonal set to 0, and the
// sum of squares of each output tile (the caller adds the tiles and takes the root).
//
// A workgroup owns a TILE x TILE block of R (rows j, columns k) and reduces over the N
// batch rows DEPTH at a time. Z is row-major [N, d], so both staged tiles are already
// reduction-major: tile[batch_row * TILE + feature]. 64 threads in an 8 x 8 grid each
// own a 4 x 4 block. Workgroup memory: 8 KiB of tiles plus 256 bytes for the reduction.

struct GramParams {
    rows: u32,
    width: u32,
    scale: f32,
    tiles_per_row: u32,
}

@group(0) @binding(0) var<storage, read_write> standardized: array<f32>;
@group(0) @binding(1) var<storage, read_write> correlation: array<f32>;
@group(0) @binding(2) var<storage, read_write> tile_squares: array<f32>;
@group(0) @binding(3) var<storage, read_write> params: GramParams;

var<workgroup> left_tile: array<f32, 1024>;  // [DEPTH][TILE]
var<workgroup> right_tile: array<f32, 1024>; // [DEPTH][TILE]
var<workgroup> thread_squares: array<f32, 64>;

fn standardized_value(row: u32, column: u32) -> f32 {
    if row < params.rows && column < params.width {
        return standardized[row * params.width + column];
    }
    return 0.0;
}

@compute @workgroup_size(64, 1, 1)
fn main(
    @builtin(workgroup_id) group: vec3<u32>,
    @builtin(local_invocation_index) thread: u32,
) {
    let tx = thread % LANES;
    let ty = thread / LANES;
    let row_first = group.y * TILE;
    let column_first = group.x * TILE;
    let width = params.width;

    var sums: array<vec4<f32>, 4>;
    for (var batch_first = 0u; batch_first < params.rows; batch_first += DEPTH) {
        for (var step = 0u; step < TILE * DEPTH / THREADS; step++) {
            let element = thread + step * THREADS;
            let batch = element / TILE;
            let feature = element % TILE;
            left_tile[batch * TILE + feature] = standardized_value(batch_first + batch, row_first + feature);
            right_tile[batch * TILE + feature] = standardized_value(batch_first + batch, column_first + feature);
        }
        // The tiles must be complete before any thread reads another thread's loads.
        workgroupBarrier();

        for (var batch = 0u; batch < DEPTH; batch++) {
            let l = batch * TILE + 4u * ty;
            let r = batch * TILE + 4u * tx;
            let left = vec4<f32>(left_tile[l], left_tile[l + 1u], left_tile[l + 2u], left_tile[l + 3u]);
            let right = vec4<f32>(right_tile[r], right_tile[r + 1u], right_tile[r + 2u], right_tile[r + 3u]);
            sums[0] += left.x * right;
            sums[1] += left.y * right;
            sums[2] += left.z * right;
            sums[3] += left.w * right;
        }
        // Every thread must be done reading before the next step overwrites the tiles.
        workgroupBarrier();
    }

    var squares = 0.0;
    for (var i = 0u; i < 4u; i++) {
        let row = row_first + 4u * ty + i;
        for (var j = 0u; j < 4u; j++) {
            let column = column_first + 4u * tx + j;
            if row < width && column < width {
                let value = select(sums[i][j] * params.scale, 0.0, row == column);
                correlation[row * width + column] = value;
                squares += value * value;
            }
        }
    }

    thread_squares[thread] = squares;
    // Every thread's partial sum must be written before thread 0 adds them.
    workgroupBarrier();
    if thread == 0u {
        var total = 0.0;
        for (var t = 0u; t < THREADS; t++) {
            total += thread_squares[t];
        }
        tile_squares[group.y * params.tiles_per_row + group.x] = total;
    }
}
