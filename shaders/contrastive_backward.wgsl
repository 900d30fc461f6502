// Contrastive loss over the pool, backward pass. Recomputes score tiles from the pool and
// the forward pass's per-row statistics instead of reading a saved M x M matrix.
//
// With L = (1 / W) sum_a weight_a * loss_a, W = max(1, sum_a weight_a), upstream gradient
// g and softmax_ak = exp(s_ak - log_sum_exp_a):
//   dL/ds_ak = c_ak = (g / W) weight_a (softmax_ak - [k in P(a)] / |P(a)|),  k != a
// and since s_ak = v_a . v_k / tau, every row b collects its roles as anchor and as
// contrast (positive or negative) in one sum:
//   dL/dv_b = (1 / tau) sum_{k != b} (c_bk + c_kb) v_k.
// A workgroup owns TILE rows b, so it writes their gradient rows without atomics: per
// contrast tile it builds the TILE x TILE coefficients (c_bk + c_kb) / tau in workgroup
// memory, then adds coefficients x pool rows into the gradient, TILE columns at a time.
//
// Workgroup memory: the 8 KiB of score tiles plus a 4 KiB coefficient tile.

@group(0) @binding(2) var<storage, read_write> row_stats: array<vec4<f32>>;
// One element: g / W.
@group(0) @binding(3) var<storage, read_write> loss_scale: array<f32>;
@group(0) @binding(4) var<storage, read_write> gradient: array<f32>;
@group(0) @binding(5) var<storage, read_write> params: PoolParams;

var<workgroup> coefficients: array<f32, 1024>; // [TILE anchor rows][TILE contrast rows]

@compute @workgroup_size(64, 1, 1)
fn main(
    @builtin(workgroup_id) group: vec3<u32>,
    @builtin(local_invocation_index) thread: u32,
) {
    let tx = thread % LANES;
    let ty = thread / LANES;
    let anchor_first = group.x * TILE;
    let rows = params.rows;
    let width = params.width;
    let inv_temperature = params.inv_temperature;
    let scale = loss_scale[0];

    var anchor_labels: vec4<i32>;
    var anchor_stats: array<vec4<f32>, 4>;
    for (var i = 0u; i < 4u; i++) {
        let anchor = min(anchor_first + 4u * ty + i, rows - 1u);
        anchor_labels[i] = labels[anchor];
        anchor_stats[i] = row_stats[anchor];
    }

    let tiles = (rows + TILE - 1u) / TILE;
    for (var tile = 0u; tile < tiles; tile++) {
        let contrast_first = tile * TILE;
        let dots = score_tile(anchor_first, contrast_first, thread);

        for (var j = 0u; j < 4u; j++) {
            let contrast = contrast_first + 4u * tx + j;
            let contrast_valid = contrast < rows;
            let contrast_index = min(contrast, rows - 1u);
            let contrast_label = labels[contrast_index];
            let contrast_stats = row_stats[contrast_index];
            for (var i = 0u; i < 4u; i++) {
                let anchor = anchor_first + 4u * ty + i;
                var coefficient = 0.0;
                if contrast_valid && anchor < rows && contrast != anchor {
                    let score = dots[i][j] * inv_temperature;
                    let positive = contrast_label == anchor_labels[i];
                    // (log_sum_exp, weight, 1 / |P|, row loss) per row.
                    let as_anchor = anchor_stats[i].y * (exp(score - anchor_stats[i].x) - select(0.0, anchor_stats[i].z, positive));
                    let as_contrast = contrast_stats.y * (exp(score - contrast_stats.x) - select(0.0, contrast_stats.z, positive));
                    coefficient = (as_anchor + as_contrast) * scale * inv_temperature;
                }
                coefficients[(4u * ty + i) * TILE + 4u * tx + j] = coefficient;
            }
        }

        for (var column_first = 0u; column_first < width; column_first += TILE) {
            // Stage TILE contrast rows x TILE feature columns, row-major this time.
            for (var step = 0u; step < TILE * TILE / THREADS; step++) {
                let element = thread + step * THREADS;
                let row = element / TILE;
                let column = element % TILE;
                contrast_tile[row * TILE + column] = pool_value(contrast_first + row, column_first + column);
            }
            // Orders the coefficient writes above and these loads before the reads below.
            workgroupBarrier();

            var sums: array<vec4<f32>, 4>;
            for (var k = 0u; k < TILE; k++) {
                let c = 4u * ty * TILE + k;
                let weights = vec4<f32>(coefficients[c], coefficients[c + TILE], coefficients[c + 2u * TILE], coefficients[c + 3u * TILE]);
                let v = k * TILE + 4u * tx;
                let values = vec4<f32>(contrast_tile[v], contrast_tile[v + 1u], contrast_tile[v + 2u], contrast_tile[v + 3u]);
                sums[0] += weights.x * values;
                sums[1] += weights.y * values;
                sums[2] += weights.z * values;
                sums[3] += weights.w * values;
            }

            for (var i = 0u; i < 4u; i++) {
                let anchor = anchor_first + 4u * ty + i;
                for (var j = 0u; j < 4u; j++) {
                    let column = column_first + 4u * tx + j;
                    if anchor < rows && column < width {
                        let index = anchor * width + column;
                        // The output buffer starts uninitialised, so the first tile stores.
                        let previous = select(gradient[index], 0.0, tile == 0u);
                        gradient[index] = previous + sums[i][j];
                    }
                }
            }
            // The staged rows and the coefficients must outlive every thread's reads.
            workgroupBarrier();
        }
    }
}
