// Shared part of the contrastive kernels: bindings, sizes and the dot products of one
// 8 x 8 block of anchor and contrast rows.
//
// The pool is M rows of d features, row-major, already L2-normalised. A workgroup of 64
// threads owns 64 anchor rows and walks over the pool in tiles of 64 contrast rows, so it
// only ever holds a 64 x 64 block of scores. The threads form an 8 x 8 grid: thread
// (anchor_block, contrast_block) computes the dot products of 8 anchor rows with 8
// contrast rows, in registers. Each step over the feature axis loads 16 values and does
// 64 multiply-adds with them. That ratio matters most where every load costs one memory
// access per thread, as on CPU Vulkan drivers such as lavapipe.

const BLOCK: u32 = 8u;
const TILE_ROWS: u32 = 64u;
// Stands in for -infinity, which WGSL has no literal for; exp(NEG_LARGE - x) is 0.
const NEG_LARGE: f32 = -3.0e38;

// One launch covers contrast tiles tile_begin..tile_end. The launcher splits the tiles
// over several launches because lavapipe (Mesa 22) stops any loop once an invocation has
// run 65535 loop iterations in total, and because long launches risk GPU watchdogs.
struct PoolParams {
    rows: u32,
    width: u32,
    inv_temperature: f32,
    tile_begin: u32,
    tile_end: u32,
    pad0: u32,
    pad1: u32,
    pad2: u32,
}

@group(0) @binding(0) var<storage, read_write> pool: array<f32>;
@group(0) @binding(1) var<storage, read_write> labels: array<i32>;

// Element offset of pool row `row`; rows past M are read as row M - 1 and their scores
// discarded by the caller.
fn row_offset(row: u32) -> u32 {
    return min(row, params.rows - 1u) * params.width;
}

// Returns dots[2 i] = (v_{a_i} . v_{c_0}, ..., v_{a_i} . v_{c_3}) and
// dots[2 i + 1] = (v_{a_i} . v_{c_4}, ..., v_{a_i} . v_{c_7}) for the anchor rows
// a_i = anchor_first + i and contrast rows c_j = contrast_first + j. `lane` is the
// thread's index among the 8 threads that share the anchor rows (see block_column).
fn dot_block(anchor_first: u32, contrast_first: u32, lane: u32) -> array<vec4<f32>, 16> {
    let a0 = row_offset(anchor_first);
    let a1 = row_offset(anchor_first + 1u);
    let a2 = row_offset(anchor_first + 2u);
    let a3 = row_offset(anchor_first + 3u);
    let a4 = row_offset(anchor_first + 4u);
    let a5 = row_offset(anchor_first + 5u);
    let a6 = row_offset(anchor_first + 6u);
    let a7 = row_offset(anchor_first + 7u);
    let own_offset = row_offset(anchor_first + lane);
    let c0 = row_offset(contrast_first);
    let c1 = row_offset(contrast_first + 1u);
    let c2 = row_offset(contrast_first + 2u);
    let c3 = row_offset(contrast_first + 3u);
    let c4 = row_offset(contrast_first + 4u);
    let c5 = row_offset(contrast_first + 5u);
    let c6 = row_offset(contrast_first + 6u);
    let c7 = row_offset(contrast_first + 7u);

    var sums: array<vec4<f32>, 16>;
    for (var k = 0u; k < params.width; k++) {
        let low = vec4<f32>(pool[c0 + k], pool[c1 + k], pool[c2 + k], pool[c3 + k]);
        let high = vec4<f32>(pool[c4 + k], pool[c5 + k], pool[c6 + k], pool[c7 + k]);
        let x = block_column(
            pool[own_offset + k],
            array<f32, 8>(pool[a0 + k], pool[a1 + k], pool[a2 + k], pool[a3 + k], pool[a4 + k], pool[a5 + k], pool[a6 + k], pool[a7 + k]),
        );
        sums = accumulate_block(sums, x, low, high);
    }
    return sums;
}

// Returns sums with x[i] * (low, high) added to row i's two vectors, for the 8 rows of a
// block. Written out in full so that the 16 sums stay in registers without unrolling.
fn accumulate_block(
    sums: array<vec4<f32>, 16>,
    x: array<f32, 8>,
    low: vec4<f32>,
    high: vec4<f32>,
) -> array<vec4<f32>, 16> {
    return array<vec4<f32>, 16>(
        sums[0] + x[0] * low, sums[1] + x[0] * high,
        sums[2] + x[1] * low, sums[3] + x[1] * high,
        sums[4] + x[2] * low, sums[5] + x[2] * high,
        sums[6] + x[3] * low, sums[7] + x[3] * high,
        sums[8] + x[4] * low, sums[9] + x[4] * high,
        sums[10] + x[5] * low, sums[11] + x[5] * high,
        sums[12] + x[6] * low, sums[13] + x[6] * high,
        sums[14] + x[7] * low, sums[15] + x[7] * high,
    );
}

// Labels of contrast rows contrast_first + 0..3 and + 4..7, as two vectors.
fn block_labels(contrast_first: u32) -> array<vec4<i32>, 2> {
    let last = params.rows - 1u;
    var values: array<i32, 8>;
    for (var j = 0u; j < BLOCK; j++) {
        values[j] = labels[min(contrast_first + j, last)];
    }
    return array<vec4<i32>, 2>(
        vec4<i32>(values[0], values[1], values[2], values[3]),
        vec4<i32>(values[4], values[5], values[6], values[7]),
    );
}
