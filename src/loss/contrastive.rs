//! Supervised contrastive loss (Khosla et al. 2020) and its aligned form (ACF), where the
//! L2-normalised label embeddings join the instances in one pool of M = N + C items.
//!
//! For pool items v_a with labels y_a and s_ab = v_a . v_b / tau:
//!   loss_a = -(1/|P(a)|) sum_{p in P(a)} [ s_ap - log sum_{k != a} exp(s_ak) ]
//! with P(a) = { p != a : y_p = y_a }. The loss is the mean of loss_a over anchors with at
//! least one positive: every instance, plus (with `label_anchors`) every label embedding
//! whose class occurs in the batch. All C label embeddings are always contrasted against.

use burn::prelude::*;

/// Norms are clamped at this value before dividing, so a zero vector stays zero.
const NORM_EPSILON: f32 = 1e-12;

/// Off-diagonal scores only: the diagonal (a = k) gets this before the log-sum-exp, which
/// underflows to exactly zero weight after the max is subtracted.
const EXCLUDED_SCORE: f32 = -1.0e9;

/// Divides each row by its L2 norm, clamped at 1e-12. `[rows, d] -> [rows, d]`.
pub fn l2_normalize(rows: Tensor<2>) -> Tensor<2> {
    let norms = rows
        .clone()
        .square()
        .sum_dim(1)
        .sqrt()
        .clamp_min(NORM_EPSILON); // [rows, 1]
    rows / norms
}

/// ACF loss over instances and label embeddings in one pool.
///
/// - `instances`: [N, d], unnormalised pooled encoder outputs.
/// - `labels`: [N], class indices in `0..C`.
/// - `label_embeddings`: [C, d], the classifier rows, unnormalised.
///
/// Returns a one-element tensor: the mean of `loss_a` over anchors with a positive, or 0
/// when no anchor has one.
pub fn aligned_contrastive_loss(
    instances: Tensor<2>,
    labels: Tensor<1, Int>,
    label_embeddings: Tensor<2>,
    temperature: f32,
    label_anchors: bool,
) -> Tensor<1> {
    let (pool, pool_labels, anchor_kind) =
        aligned_pool(instances, labels, label_embeddings, label_anchors);
    pooled_contrastive_loss(pool, pool_labels, anchor_kind, temperature)
}

/// Builds the ACF pool: normalised instances then normalised label embeddings ([M, d]),
/// their labels ([M]) and which rows may be anchors ([M], 1 or 0). Shared with the fused
/// loss.
pub(crate) fn aligned_pool(
    instances: Tensor<2>,
    labels: Tensor<1, Int>,
    label_embeddings: Tensor<2>,
    label_anchors: bool,
) -> (Tensor<2>, Tensor<1, Int>, Tensor<1>) {
    let [num_instances, _] = instances.dims();
    let [num_classes, _] = label_embeddings.dims();
    let device = instances.device();

    let pool = Tensor::cat(
        vec![l2_normalize(instances), l2_normalize(label_embeddings)],
        0,
    ); // [M, d]
    let class_ids = Tensor::<1, Int>::arange(0..num_classes as i64, &device);
    let pool_labels = Tensor::cat(vec![labels, class_ids], 0); // [M]

    // Label embeddings are anchors only when asked; their positives are the batch's
    // instances of their class, so "class present in the batch" is "has a positive".
    let anchor_kind = Tensor::<1>::cat(
        vec![
            Tensor::ones([num_instances], &device),
            Tensor::ones([num_classes], &device) * if label_anchors { 1.0 } else { 0.0 },
        ],
        0,
    ); // [M]
    (pool, pool_labels, anchor_kind)
}

/// SupCon loss over instances only: the ACF formula with no label embeddings in the pool.
/// `instances`: [N, d] unnormalised; `labels`: [N].
pub fn supervised_contrastive_loss(
    instances: Tensor<2>,
    labels: Tensor<1, Int>,
    temperature: f32,
) -> Tensor<1> {
    let [num_instances, _] = instances.dims();
    let device = instances.device();
    let anchor_kind = Tensor::ones([num_instances], &device);
    pooled_contrastive_loss(l2_normalize(instances), labels, anchor_kind, temperature)
}

/// `pool`: [M, d] normalised rows; `pool_labels`: [M]; `anchor_kind`: [M], 1 where a row may
/// be an anchor. Builds the full M x M score matrix.
fn pooled_contrastive_loss(
    pool: Tensor<2>,
    pool_labels: Tensor<1, Int>,
    anchor_kind: Tensor<1>,
    temperature: f32,
) -> Tensor<1> {
    let [size, _] = pool.dims();
    let device = pool.device();

    let scores = pool.clone().matmul(pool.transpose()) / temperature as f64; // [M, M]
    let diagonal = Tensor::<2, Bool>::diag_mask([size, size], 0, &device).bool_not();

    // log sum_{k != a} exp(s_ak), with the row max subtracted for stability.
    let off_diagonal = scores.clone().mask_fill(diagonal.clone(), EXCLUDED_SCORE);
    let row_max = off_diagonal.clone().max_dim(1).detach(); // [M, 1]
    let log_sum_exp = (off_diagonal - row_max.clone()).exp().sum_dim(1).log() + row_max; // [M, 1]

    let same_label = pool_labels
        .clone()
        .reshape([size, 1])
        .expand([size, size])
        .equal(pool_labels.reshape([1, size]).expand([size, size]));
    let positives = same_label.bool_and(diagonal.bool_not()).float(); // [M, M]
    let positive_count = positives.clone().sum_dim(1); // [M, 1]

    // loss_a = log_sum_exp_a - mean_{p in P(a)} s_ap
    let positive_scores = (positives * scores).sum_dim(1); // [M, 1]
    let anchor_loss = log_sum_exp - positive_scores / positive_count.clone().clamp_min(1.0);

    let anchors = positive_count.greater_elem(0.0).float() * anchor_kind.reshape([size, 1]);
    let anchor_count = anchors.clone().sum().clamp_min(1.0);
    (anchor_loss * anchors).sum() / anchor_count
}
