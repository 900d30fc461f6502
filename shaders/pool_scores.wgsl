// Shared part of the contrastive kernels: the pool binding and one tile of scores.
//
// The pool is M rows of d features, row-major, already L2-normalised. A workgroup owns
// TILE anchor rows and walks over the pool in tiles of TILE contrast rows. For each pair
// of tiles it computes the TILE x TILE dot products v_a . v_k in registers: 64 threads
// in an 8 x 8 grid, each owning a 4 x 4 block of the tile. The feature axis is staged
// through workgroup memory DEPTH columns at a time, stored reduction-major
// (tile[column * TILE + row]) so each thread reads its 4 rows as consecutive floats.
// Rows past M and columns past d are staged as zeros, so M and d need not be multiples
// of the tile sizes.
//
// Workgroup memory here: 2 x 32 x 32 floats = 8 KiB of WebGPU's default 16 KiB.

const TILE: u32 = 32u;
const DEPTH: u32 = 32u;
const LANES: u32 = 8u;
const THREADS: u32 = 64u;
// Stands in for -infinity, which WGSL has no literal for; exp(NEG_LARGE - x) is 0.
const NEG_LARGE: f32 = -3.0e38;

struct PoolParams {
    rows: u32,
    width: u32,
    inv_temperature: f32,
    pad: u32,
}

@group(0) @binding(0) var<storage, read_write> pool: array<f32>;
@group(0) @binding(1) var<storage, read_write> labels: array<i32>;

var<workgroup> anchor_tile: array<f32, 1024>;   // [DEPTH][TILE]
var<workgroup> contrast_tile: array<f32, 1024>; // [DEPTH][TILE]

fn pool_value(row: u32, column: u32) -> f32 {
    if row < params.rows && column < params.width {
        return pool[row * params.width + column];
    }
    return 0.0;
}

// Returns dots[i][j] = v_{anchor_first + 4 ty + i} . v_{contrast_first + 4 tx + j}.
// Every thread of the workgroup must call it: it contains barriers.
fn score_tile(anchor_first: u32, contrast_first: u32, thread: u32) -> array<vec4<f32>, 4> {
    let tx = thread % LANES;
    let ty = thread / LANES;
    var dots: array<vec4<f32>, 4>;
    for (var column_first = 0u; column_first < params.width; column_first += DEPTH) {
        for (var step = 0u; step < TILE * DEPTH / THREADS; step++) {
            let element = thread + step * THREADS;
            let row = element / DEPTH;
            let column = element % DEPTH;
            anchor_tile[column * TILE + row] = pool_value(anchor_first + row, column_first + column);
            contrast_tile[column * TILE + row] = pool_value(contrast_first + row, column_first + column);
        }
        // The tiles must be complete before any thread reads another thread's loads.
        workgroupBarrier();

        for (var column = 0u; column < DEPTH; column++) {
            let a = column * TILE + 4u * ty;
            let b = column * TILE + 4u * tx;
            let anchors = vec4<f32>(anchor_tile[a], anchor_tile[a + 1u], anchor_tile[a + 2u], anchor_tile[a + 3u]);
            let contrasts = vec4<f32>(contrast_tile[b], contrast_tile[b + 1u], contrast_tile[b + 2u], contrast_tile[b + 3u]);
            dots[0] += anchors.x * contrasts;
            dots[1] += anchors.y * contrasts;
            dots[2] += anchors.z * contrasts;
            dots[3] += anchors.w * contrasts;
        }
        // Every thread must be done reading before the next step overwrites the tiles.
        workgroupBarrier();
    }
    return dots;
}
