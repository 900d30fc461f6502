// Contrastive loss over the pool, backward pass. Recomputes scores from the pool and the
// forward pass's per-row statistics instead of reading a saved M x M matrix.
//
// With L = (1 / W) sum_a weight_a * loss_a, W = max(1, sum_a weight_a), upstream gradient
// g and softmax_ak = exp(s_ak - log_sum_exp_a):
//   dL/ds_ak = c_ak = (g / W) weight_a (softmax_ak - [k in P(a)] / |P(a)|),  k != a
// and since s_ak = v_a . v_k / tau, every row b collects its roles as anchor and as
// contrast (positive or negative) in one sum:
//   dL/dv_b = (1 / tau) sum_{k != b} (c_bk + c_kb) v_k.
// A workgroup owns 64 rows b and writes their gradient rows, so no atomics are needed.
// Per tile of 64 contrast rows it works in two phases:
//   1. thread (anchor_block, contrast_block) recomputes its 8 x 8 scores and stores the
//      coefficients (c_bk + c_kb) / tau in workgroup memory;
//   2. thread (anchor_block, column_block) multiplies its 8 coefficient rows by the
//      tile's pool rows, 8 feature columns at a time, and adds the result to the gradient.
// Workgroup memory: the 64 x 64 coefficient tile, 16 KiB, WebGPU's default limit.

@group(0) @binding(2) var<storage, read_write> row_stats: array<vec4<f32>>;
// One element: g / W.
@group(0) @binding(3) var<storage, read_write> loss_scale: array<f32>;
@group(0) @binding(4) var<storage, read_write> gradient: array<f32>;
@group(0) @binding(5) var<storage, read_write> params: PoolParams;

var<workgroup> coefficients: array<f32, 4096>; // [TILE_ROWS anchors][TILE_ROWS contrasts]

// Coefficients of one anchor against 4 contrasts; `valid` masks rows past M and the anchor.
fn pair_coefficients(
    scores: vec4<f32>,
    anchor: vec4<f32>,
    contrast: array<vec4<f32>, 4>,
    positive: vec4<bool>,
    valid: vec4<bool>,
    scale: f32,
) -> vec4<f32> {
    // Row statistics are (log_sum_exp, weight, 1 / |P|, row loss); `contrast` is one
    // vector per statistic, over the 4 contrast rows.
    let zero = vec4<f32>(0.0);
    let as_anchor = anchor.y * (exp(scores - vec4<f32>(anchor.x)) - select(zero, vec4<f32>(anchor.z), positive));
    let as_contrast = contrast[1] * (exp(scores - contrast[0]) - select(zero, contrast[2], positive));
    return select(zero, (as_anchor + as_contrast) * scale, valid);
}

// Statistics of contrast rows first..first + 3, one vector per statistic.
fn contrast_stats(first: u32) -> array<vec4<f32>, 4> {
    let last = params.rows - 1u;
    let s0 = row_stats[min(first, last)];
    let s1 = row_stats[min(first + 1u, last)];
    let s2 = row_stats[min(first + 2u, last)];
    let s3 = row_stats[min(first + 3u, last)];
    return array<vec4<f32>, 4>(
        vec4<f32>(s0.x, s1.x, s2.x, s3.x),
        vec4<f32>(s0.y, s1.y, s2.y, s3.y),
        vec4<f32>(s0.z, s1.z, s2.z, s3.z),
        vec4<f32>(s0.w, s1.w, s2.w, s3.w),
    );
}

// Adds 8 consecutive gradient values of one row, skipping rows past M and columns past d.
// The output buffer starts uninitialised, so the first tile stores instead of adding.
fn add_gradient_row(row: u32, column_first: u32, low: vec4<f32>, high: vec4<f32>, first_tile: bool) {
    if row >= params.rows {
        return;
    }
    let width = params.width;
    let base = row * width + column_first;
    let values = array<f32, 8>(low.x, low.y, low.z, low.w, high.x, high.y, high.z, high.w);
    let count = min(BLOCK, width - min(column_first, width));
    for (var j = 0u; j < count; j++) {
        gradient[base + j] = select(gradient[base + j], 0.0, first_tile) + values[j];
    }
}

@compute @workgroup_size(64, 1, 1)
fn main(
    @builtin(workgroup_id) group: vec3<u32>,
    @builtin(local_invocation_index) thread: u32,
) {
    let rows = params.rows;
    let width = params.width;
    let inv_temperature = params.inv_temperature;
    let scale = loss_scale[0] * inv_temperature;
    let anchor_block = thread / BLOCK;
    let column_block = thread % BLOCK;
    let group_first = group.x * TILE_ROWS;
    let anchor_first = group_first + anchor_block * BLOCK;

    var anchor_stats: array<vec4<f32>, 8>;
    var anchor_labels: array<i32, 8>;
    for (var i = 0u; i < BLOCK; i++) {
        let anchor = min(anchor_first + i, rows - 1u);
        anchor_stats[i] = row_stats[anchor];
        anchor_labels[i] = labels[anchor];
    }

    for (var tile = params.tile_begin; tile < params.tile_end; tile++) {
        let tile_first = tile * TILE_ROWS;

        // Phase 1: this thread's 8 x 8 coefficients. Its contrast block is column_block.
        let contrast_first = tile_first + column_block * BLOCK;
        let dots = dot_block(anchor_first, contrast_first, column_block);
        let contrast_labels = block_labels(contrast_first);
        let stats_low = contrast_stats(contrast_first);
        let stats_high = contrast_stats(contrast_first + 4u);
        let contrast_low = vec4<u32>(contrast_first) + vec4<u32>(0u, 1u, 2u, 3u);
        let contrast_high = contrast_low + vec4<u32>(4u);
        for (var i = 0u; i < BLOCK; i++) {
            let anchor = anchor_first + i;
            let anchor_in_pool = anchor < rows;
            let valid_low = (contrast_low < vec4<u32>(rows)) & (contrast_low != vec4<u32>(anchor)) & vec4<bool>(anchor_in_pool);
            let valid_high = (contrast_high < vec4<u32>(rows)) & (contrast_high != vec4<u32>(anchor)) & vec4<bool>(anchor_in_pool);
            let low = pair_coefficients(
                dots[2u * i] * inv_temperature,
                anchor_stats[i],
                stats_low,
                contrast_labels[0] == vec4<i32>(anchor_labels[i]),
                valid_low,
                scale,
            );
            let high = pair_coefficients(
                dots[2u * i + 1u] * inv_temperature,
                anchor_stats[i],
                stats_high,
                contrast_labels[1] == vec4<i32>(anchor_labels[i]),
                valid_high,
                scale,
            );
            let base = (anchor_block * BLOCK + i) * TILE_ROWS + column_block * BLOCK;
            coefficients[base] = low.x;
            coefficients[base + 1u] = low.y;
            coefficients[base + 2u] = low.z;
            coefficients[base + 3u] = low.w;
            coefficients[base + 4u] = high.x;
            coefficients[base + 5u] = high.y;
            coefficients[base + 6u] = high.z;
            coefficients[base + 7u] = high.w;
        }
        // All coefficients of the tile must be written before any thread reads them.
        workgroupBarrier();

        // Phase 2: gradient rows anchor_first..+7, columns column_first..+7 of each
        // 64-column slice. Rows past M in the tile have zero coefficients.
        let contrast_count = min(TILE_ROWS, rows - tile_first);
        for (var slice_first = 0u; slice_first < width; slice_first += TILE_ROWS) {
            let column_first = slice_first + column_block * BLOCK;
            var sums: array<vec4<f32>, 16>;
            // Columns past d are clamped to d - 1 for reading and never written.
            let last_column = width - 1u;
            let k0 = min(column_first, last_column);
            let k1 = min(column_first + 1u, last_column);
            let k2 = min(column_first + 2u, last_column);
            let k3 = min(column_first + 3u, last_column);
            let k4 = min(column_first + 4u, last_column);
            let k5 = min(column_first + 5u, last_column);
            let k6 = min(column_first + 6u, last_column);
            let k7 = min(column_first + 7u, last_column);
            let g = anchor_block * BLOCK * TILE_ROWS;
            for (var k = 0u; k < contrast_count; k++) {
                let row = (tile_first + k) * width;
                let low = vec4<f32>(pool[row + k0], pool[row + k1], pool[row + k2], pool[row + k3]);
                let high = vec4<f32>(pool[row + k4], pool[row + k5], pool[row + k6], pool[row + k7]);
                let x = block_column(
                    coefficients[g + column_block * TILE_ROWS + k],
                    array<f32, 8>(
                        coefficients[g + k], coefficients[g + TILE_ROWS + k],
                        coefficients[g + 2u * TILE_ROWS + k], coefficients[g + 3u * TILE_ROWS + k],
                        coefficients[g + 4u * TILE_ROWS + k], coefficients[g + 5u * TILE_ROWS + k],
                        coefficients[g + 6u * TILE_ROWS + k], coefficients[g + 7u * TILE_ROWS + k],
                    ),
                );
                sums = accumulate_block(sums, x, low, high);
            }
            let first_tile = tile == 0u;
            add_gradient_row(anchor_first, column_first, sums[0], sums[1], first_tile);
            add_gradient_row(anchor_first + 1u, column_first, sums[2], sums[3], first_tile);
            add_gradient_row(anchor_first + 2u, column_first, sums[4], sums[5], first_tile);
            add_gradient_row(anchor_first + 3u, column_first, sums[6], sums[7], first_tile);
            add_gradient_row(anchor_first + 4u, column_first, sums[8], sums[9], first_tile);
            add_gradient_row(anchor_first + 5u, column_first, sums[10], sums[11], first_tile);
            add_gradient_row(anchor_first + 6u, column_first, sums[12], sums[13], first_tile);
            add_gradient_row(anchor_first + 7u, column_first, sums[14], sums[15], first_tile);
        }
        // Every thread must be done reading the coefficients before the next tile's writes.
        workgroupBarrier();
    }
}
