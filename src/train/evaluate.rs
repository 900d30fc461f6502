//! Evaluation and inference passes: logits, probabilities, nearest-label predictions,
//! loss components and classification metrics over a whole split.

use anyhow::Result;
use burn::prelude::*;
use burn::tensor::activation::softmax;

use super::metrics::{
    ClassificationMetrics, accuracy, argmax_rows, macro_f1, matthews_correlation,
};
use crate::config::ObjectiveConfig;
use crate::data::{Batch, Dataset};
use crate::loss::{l2_normalize, objective_loss};
use crate::model::Classifier;
use crate::model::weights::tensor_values;

/// Per-example outputs of an inference pass.
pub struct Predictions {
    /// Argmax of the logits.
    pub classes: Vec<usize>,
    /// Softmax of the logits, row-major [examples, C].
    pub probabilities: Vec<f32>,
    /// Class of the nearest label embedding by cosine similarity.
    pub nearest_labels: Vec<usize>,
}

/// Mean loss components over a labelled split, weighted by batch size.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct LossMeans {
    pub loss: f64,
    pub loss_ce: f64,
    pub loss_contrastive: f64,
    pub loss_correlation: f64,
}

pub struct Evaluation {
    pub metrics: ClassificationMetrics,
    pub losses: LossMeans,
    pub examples: usize,
}

/// Runs `model` (in evaluation mode: no dropout, no autodiff) over every example of
/// `dataset` in order. Loss components are computed when `objective` is given and the
/// dataset is labelled.
pub fn predict<M, D>(
    model: &M,
    dataset: &D,
    objective: Option<&ObjectiveConfig>,
    batch_size: usize,
    device: &Device,
) -> Result<(Predictions, Option<LossMeans>)>
where
    M: Classifier,
    D: Dataset<Batch = M::Batch>,
{
    let classes = model.num_classes();
    let label_embeddings = model.label_embeddings(); // [C, d]
    let label_directions = l2_normalize(label_embeddings.clone()).transpose(); // [d, C]

    let mut predictions = Predictions {
        classes: Vec::with_capacity(dataset.len()),
        probabilities: Vec::with_capacity(dataset.len() * classes),
        nearest_labels: Vec::with_capacity(dataset.len()),
    };
    let mut sums = LossMeans::default();
    let indices: Vec<usize> = (0..dataset.len()).collect();

    for chunk in indices.chunks(batch_size) {
        let batch = dataset.batch(chunk, None, device)?;
        let output = model.forward(&batch);
        let cosines = l2_normalize(output.pooled.clone()).matmul(label_directions.clone()); // [B, C]

        if let (Some(objective), Some(labels)) = (objective, batch.labels()) {
            let losses = objective_loss(
                objective,
                output.pooled.clone(),
                output.logits.clone(),
                label_embeddings.clone(),
                labels,
            );
            let weight = chunk.len() as f64;
            sums.loss += weight * losses.total.into_scalar::<f32>() as f64;
            sums.loss_ce += weight * losses.cross_entropy.into_scalar::<f32>() as f64;
            sums.loss_contrastive += weight * losses.contrastive.into_scalar::<f32>() as f64;
            sums.loss_correlation += weight * losses.correlation.into_scalar::<f32>() as f64;
        }

        let probabilities = tensor_values(softmax(output.logits, 1));
        predictions
            .classes
            .extend(argmax_rows(&probabilities, classes));
        predictions
            .nearest_labels
            .extend(argmax_rows(&tensor_values(cosines), classes));
        predictions.probabilities.extend(probabilities);
    }

    let losses = objective.filter(|_| !dataset.labels().is_empty()).map(|_| {
        let count = dataset.len().max(1) as f64;
        LossMeans {
            loss: sums.loss / count,
            loss_ce: sums.loss_ce / count,
            loss_contrastive: sums.loss_contrastive / count,
            loss_correlation: sums.loss_correlation / count,
        }
    });
    Ok((predictions, losses))
}

/// Evaluates a labelled split: loss components and classification metrics.
pub fn evaluate<M, D>(
    model: &M,
    dataset: &D,
    objective: &ObjectiveConfig,
    batch_size: usize,
    device: &Device,
) -> Result<Evaluation>
where
    M: Classifier,
    D: Dataset<Batch = M::Batch>,
{
    let (predictions, losses) = predict(model, dataset, Some(objective), batch_size, device)?;
    let classes = model.num_classes();
    let truth = dataset.labels();
    Ok(Evaluation {
        metrics: ClassificationMetrics {
            accuracy: accuracy(truth, &predictions.classes),
            macro_f1: macro_f1(truth, &predictions.classes, classes),
            matthews_correlation: matthews_correlation(truth, &predictions.classes, classes),
            nearest_label_accuracy: accuracy(truth, &predictions.nearest_labels),
        },
        losses: losses.unwrap_or_default(),
        examples: dataset.len(),
    })
}
