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

@group(0) @binding(2) var<storage, read_write> anchor_kind: array<f32>;
@group(0) @binding(3) var<storage, read_write> row_stats: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> params: PoolParams;

// Per (anchor row, lane): running max, rescaled sum, positive score sum, positive count.
var<workgroup> lane_stats: array<vec4<f32>, 256>; // [TILE][LANES]

@compute @workgroup_size(64, 1, 1)
fn main(
    @builtin(workgroup_id) group: vec3<u32>,
    @builtin(local_invocation_index) thread: u32,
) {
    let tx = thread % LANES;
    let ty = thread / LANES;
    let anchor_first = group.x * TILE;
    let rows = params.rows;

    var anchor_labels: vec4<i32>;
    for (var i = 0u; i < 4u; i++) {
        anchor_labels[i] = labels[min(anchor_first + 4u * ty + i, rows - 1u)];
    }

    var running_max = vec4<f32>(NEG_LARGE);
    var running_sum = vec4<f32>(0.0);
    var positive_sum = vec4<f32>(0.0);
    var positive_count = vec4<f32>(0.0);

    let tiles = (rows + TILE - 1u) / TILE;
    for (var tile = 0u; tile < tiles; tile++) {
        let contrast_first = tile * TILE;
        let dots = score_tile(anchor_first, contrast_first, thread);

        for (var i = 0u; i < 4u; i++) {
            let anchor = anchor_first + 4u * ty + i;
            var scores = vec4<f32>(NEG_LARGE);
            for (var j = 0u; j < 4u; j++) {
                let contrast = contrast_first + 4u * tx + j;
                if contrast < rows && contrast != anchor {
                    scores[j] = dots[i][j] * params.inv_temperature;
                    if labels[contrast] == anchor_labels[i] {
                        positive_sum[i] += scores[j];
                        positive_count[i] += 1.0;
                    }
                }
            }
            // One rescale per four scores keeps the exp count near one per score.
            let tile_max = max(max(scores.x, scores.y), max(scores.z, scores.w));
            let new_max = max(running_max[i], tile_max);
            let terms = exp(scores - vec4<f32>(new_max));
            running_sum[i] = running_sum[i] * exp(running_max[i] - new_max) + terms.x + terms.y + terms.z + terms.w;
            running_max[i] = new_max;
        }
    }

    for (var i = 0u; i < 4u; i++) {
        lane_stats[(4u * ty + i) * LANES + tx] = vec4<f32>(running_max[i], running_sum[i], positive_sum[i], positive_count[i]);
    }
    // All lanes of a row must have written before one thread merges them.
    workgroupBarrier();

    let anchor = anchor_first + thread;
    if thread < TILE && anchor < rows {
        var row_max = NEG_LARGE;
        for (var lane = 0u; lane < LANES; lane++) {
            row_max = max(row_max, lane_stats[thread * LANES + lane].x);
        }
        var sum = 0.0;
        var positives = 0.0;
        var count = 0.0;
        for (var lane = 0u; lane < LANES; lane++) {
            let stats = lane_stats[thread * LANES + lane];
            sum += stats.y * exp(stats.x - row_max);
            positives += stats.z;
            count += stats.w;
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
