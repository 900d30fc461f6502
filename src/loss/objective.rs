//! The training objective: cross-entropy plus the contrastive term and the correlation
//! penalty, weighted by `objective.kind`, `lambda` and `correlation_weight`.

use burn::prelude::*;
use burn::tensor::activation::log_softmax;

use crate::config::{ObjectiveConfig, ObjectiveKind};

use super::{fused, reference};

/// The total loss and each weighted-in component, one-element tensors.
pub struct LossBreakdown {
    pub total: Tensor<1>,
    pub cross_entropy: Tensor<1>,
    /// SupCon or ACF loss; zero for `ce`.
    pub contrastive: Tensor<1>,
    /// Correlation penalty before weighting; zero when its weight is 0.
    pub correlation: Tensor<1>,
}

/// Mean cross-entropy of `logits` ([N, C]) against `labels` ([N]).
pub fn cross_entropy(logits: Tensor<2>, labels: Tensor<1, Int>) -> Tensor<1> {
    let [count, _] = logits.dims();
    let log_probabilities = log_softmax(logits, 1);
    let picked = log_probabilities.gather(1, labels.reshape([count, 1])); // [N, 1]
    picked.mean().neg()
}

/// Combines the losses for one batch. With `config.fused`, the contrastive loss and the
/// correlation penalty run as WGSL kernels on wgpu devices and as the reference elsewhere.
///
/// - `pooled`: [N, d] unnormalised instance representations h_i.
/// - `logits`: [N, C].
/// - `label_embeddings`: [C, d], the classifier rows.
pub fn objective_loss(
    config: &ObjectiveConfig,
    pooled: Tensor<2>,
    logits: Tensor<2>,
    label_embeddings: Tensor<2>,
    labels: Tensor<1, Int>,
) -> LossBreakdown {
    let device = pooled.device();
    let cross_entropy_loss = cross_entropy(logits, labels.clone());
    let lambda = config.lambda as f64;

    let (contrastive, mut total) = match config.kind {
        ObjectiveKind::Ce => (Tensor::zeros([1], &device), cross_entropy_loss.clone()),
        ObjectiveKind::Supcon | ObjectiveKind::Scl => {
            let loss = if config.fused {
                fused::supervised_contrastive_loss
            } else {
                reference::supervised_contrastive_loss
            };
            let contrastive = loss(pooled.clone(), labels, config.temperature);
            let total = cross_entropy_loss.clone() * (1.0 - lambda) + contrastive.clone() * lambda;
            (contrastive, total)
        }
        ObjectiveKind::Acf => {
            let loss = if config.fused {
                fused::aligned_contrastive_loss
            } else {
                reference::aligned_contrastive_loss
            };
            let contrastive = loss(
                pooled.clone(),
                labels,
                label_embeddings,
                config.temperature,
                config.label_anchors,
            );
            let total = cross_entropy_loss.clone() * (1.0 - lambda) + contrastive.clone() * lambda;
            (contrastive, total)
        }
    };

    let correlation = if config.correlation_weight > 0.0 {
        let penalty = if config.fused {
            fused::correlation_penalty(pooled, config.correlation_squared)
        } else {
            reference::correlation_penalty(pooled, config.correlation_squared)
        };
        total = total + penalty.clone() * config.correlation_weight as f64;
        penalty
    } else {
        Tensor::zeros([1], &device)
    };

    LossBreakdown {
        total,
        cross_entropy: cross_entropy_loss,
        contrastive,
        correlation,
    }
}
