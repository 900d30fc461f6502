// Contrastive loss over the pool, forward pass. Never writes the M x M score matrix.
//
// With s_ak = v_a . v_k / tau and P(a) = { p != a : label_p = label_a }, each anchor row a
// gets, in one sweep over all contrast tiles:
//   log_sum_exp_a = log sum_{k != a} exp(s_ak)   (online: running max and rescaled sum)
//   positive_sum_a = sum_{p in P(a)} s_ap,  positive_count_a = |P(a)|
// and writes row_stats[a] = (log_sum_exp_a, weight_a, 1 / |P(a)|, weight_a * loss_a) with
//   loss_a = log_sum_exp_a - positive_sum_a / |P(a)|
//   weight_a = anchor_kind_a if |P(a)| > 0, else 0.
// The caller sums the last column and divides by max(1, sum of weights).
//
// Each thread keeps running statistics for its 8 anchors over the contrast rows of its
// block column, carried in `thread_stats` from one launch over a range of tiles to the
// next; after the last tile the 8 threads that share an anchor merge theirs.
// Workgroup memory: 64 x 8 x 16 bytes = 8 KiB.

@group(0) @binding(2) var<storage, read_write> anchor_kind: array<f32>;
@group(0) @binding(3) var<storage, read_write> row_stats: array<vec4<f32>>;
// Per (workgroup, thread, anchor i): running statistics between launches.
@group(0) @binding(4) var<storage, read_write> thread_stats: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read_write> params: PoolParams;

// Per (anchor row, contrast block): running max, rescaled sum, positive sum and count.
var<workgroup> block_stats: array<vec4<f32>, 512>; // [TILE_ROWS][BLOCK]

// Folds 8 scores into one anchor's (running max, rescaled sum, positive sum, positive
// count). `valid` masks out contrast rows past M and the anchor itself.
fn fold_scores(
    stats: vec4<f32>,
    low: vec4<f32>,
    high: vec4<f32>,
    valid_low: vec4<bool>,
    valid_high: vec4<bool>,
    positive_low: vec4<bool>,
    positive_high: vec4<bool>,
) -> vec4<f32> {
    let excluded = vec4<f32>(NEG_LARGE);
    let scores_low = select(excluded, low, valid_low);
    let scores_high = select(excluded, high, valid_high);
    let block_max = max(max(max(scores_low.x, scores_low.y), max(scores_low.z, scores_low.w)),
                        max(max(scores_high.x, scores_high.y), max(scores_high.z, scores_high.w)));
    let new_max = max(stats.x, block_max);
    let terms = exp(scores_low - vec4<f32>(new_max)) + exp(scores_high - vec4<f32>(new_max));
    let sum = stats.y * exp(stats.x - new_max) + terms.x + terms.y + terms.z + terms.w;

    let take_low = valid_low & positive_low;
    let take_high = valid_high & positive_high;
    let zero = vec4<f32>(0.0);
    let one = vec4<f32>(1.0);
    let positives = select(zero, low, take_low) + select(zero, high, take_high);
    let counts = select(zero, one, take_low) + select(zero, one, take_high);
    return vec4<f32>(
        new_max,
        sum,
        stats.z + positives.x + positives.y + positives.z + positives.w,
        stats.w + counts.x + counts.y + counts.z + counts.w,
    );
}

@compute @workgroup_size(64, 1, 1)
fn main(
    @builtin(workgroup_id) group: vec3<u32>,
    @builtin(local_invocation_index) thread: u32,
) {
    let rows = params.rows;
    let anchor_block = thread / BLOCK;
    let contrast_block = thread % BLOCK;
    let anchor_first = group.x * TILE_ROWS + anchor_block * BLOCK;

    let saved = (group.x * 64u + thread) * BLOCK;
    var anchor_labels: array<i32, 8>;
    var stats: array<vec4<f32>, 8>;
    for (var i = 0u; i < BLOCK; i++) {
        anchor_labels[i] = labels[min(anchor_first + i, rows - 1u)];
        if params.tile_begin == 0u {
            stats[i] = vec4<f32>(NEG_LARGE, 0.0, 0.0, 0.0);
        } else {
            stats[i] = thread_stats[saved + i];
        }
    }

    for (var tile = params.tile_begin; tile < params.tile_end; tile++) {
        let contrast_first = tile * TILE_ROWS + contrast_block * BLOCK;
        let dots = dot_block(anchor_first, contrast_first, contrast_block);
        let contrast_labels = block_labels(contrast_first);
        let contrast_low = vec4<u32>(contrast_first) + vec4<u32>(0u, 1u, 2u, 3u);
        let contrast_high = contrast_low + vec4<u32>(4u);
        let in_pool_low = contrast_low < vec4<u32>(rows);
        let in_pool_high = contrast_high < vec4<u32>(rows);
        for (var i = 0u; i < BLOCK; i++) {
            let anchor = vec4<u32>(anchor_first + i);
            stats[i] = fold_scores(
                stats[i],
                dots[2u * i] * params.inv_temperature,
                dots[2u * i + 1u] * params.inv_temperature,
                in_pool_low & (contrast_low != anchor),
                in_pool_high & (contrast_high != anchor),
                contrast_labels[0] == vec4<i32>(anchor_labels[i]),
                contrast_labels[1] == vec4<i32>(anchor_labels[i]),
            );
        }
    }

    let tiles = (rows + TILE_ROWS - 1u) / TILE_ROWS;
    if params.tile_end < tiles {
        for (var i = 0u; i < BLOCK; i++) {
            thread_stats[saved + i] = stats[i];
        }
        return;
    }

    for (var i = 0u; i < BLOCK; i++) {
        block_stats[(anchor_block * BLOCK + i) * BLOCK + contrast_block] = stats[i];
    }
    // Every thread's statistics must be written before one thread per anchor merges them.
    workgroupBarrier();

    let anchor = group.x * TILE_ROWS + thread;
    if anchor < rows {
        var row_max = NEG_LARGE;
        for (var block = 0u; block < BLOCK; block++) {
            row_max = max(row_max, block_stats[thread * BLOCK + block].x);
        }
        var sum = 0.0;
        var positives = 0.0;
        var count = 0.0;
        for (var block = 0u; block < BLOCK; block++) {
            let partial = block_stats[thread * BLOCK + block];
            sum += partial.y * exp(partial.x - row_max);
            positives += partial.z;
            count += partial.w;
        }
        // A pool of one row has no k != a; its log-sum-exp is left at 0 and it is no anchor.
        let log_sum_exp = select(0.0, row_max + log(sum), sum > 0.0);
        let has_positive = count > 0.0;
        let weight = select(0.0, anchor_kind[anchor], has_positive);
        let inverse_count = select(0.0, 1.0 / count, has_positive);
        let row_loss = select(0.0, weight * (log_sum_exp - positives * inverse_count), has_positive);
        row_stats[anchor] = vec4<f32>(log_sum_exp, weight, inverse_count, row_loss);
    }
}
