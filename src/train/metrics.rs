//! Classification metrics over predicted and true class indices.

use serde::{Deserialize, Serialize};

/// Metrics of one evaluation pass.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ClassificationMetrics {
    pub accuracy: f64,
    pub macro_f1: f64,
    /// Matthews correlation coefficient, multiclass form (Gorodkin 2004).
    pub matthews_correlation: f64,
    /// Accuracy of predicting the class whose label embedding has the highest cosine
    /// similarity to the instance representation.
    pub nearest_label_accuracy: f64,
}

/// Confusion matrix, `counts[true][predicted]`.
pub fn confusion_matrix(truth: &[usize], predicted: &[usize], classes: usize) -> Vec<Vec<u64>> {
    let mut counts = vec![vec![0u64; classes]; classes];
    for (&t, &p) in truth.iter().zip(predicted) {
        counts[t][p] += 1;
    }
    counts
}

pub fn accuracy(truth: &[usize], predicted: &[usize]) -> f64 {
    if truth.is_empty() {
        return 0.0;
    }
    let correct = truth.iter().zip(predicted).filter(|(t, p)| t == p).count();
    correct as f64 / truth.len() as f64
}

/// Computes the unweighted mean of per-class F1 over all classes of the label set. A class
/// with no true and no predicted examples scores 0, as scikit-learn's `zero_division=0` does.
pub fn macro_f1(truth: &[usize], predicted: &[usize], classes: usize) -> f64 {
    if classes == 0 {
        return 0.0;
    }
    let counts = confusion_matrix(truth, predicted, classes);
    let mut total = 0.0;
    for class in 0..classes {
        let true_positive = counts[class][class] as f64;
        let predicted_total: u64 = counts.iter().map(|row| row[class]).sum();
        let actual_total: u64 = counts[class].iter().sum();
        let denominator = predicted_total as f64 + actual_total as f64;
        if denominator > 0.0 {
            total += 2.0 * true_positive / denominator;
        }
    }
    total / classes as f64
}

/// Multiclass Matthews correlation coefficient; 0 when undefined (one class predicted or
/// present), as scikit-learn returns.
pub fn matthews_correlation(truth: &[usize], predicted: &[usize], classes: usize) -> f64 {
    let counts = confusion_matrix(truth, predicted, classes);
    let samples = truth.len() as f64;
    let correct: f64 = (0..classes).map(|k| counts[k][k] as f64).sum();
    let actual: Vec<f64> = (0..classes)
        .map(|k| counts[k].iter().sum::<u64>() as f64)
        .collect();
    let predicted_totals: Vec<f64> = (0..classes)
        .map(|k| counts.iter().map(|row| row[k]).sum::<u64>() as f64)
        .collect();

    let dot: f64 = actual
        .iter()
        .zip(&predicted_totals)
        .map(|(a, p)| a * p)
        .sum();
    let numerator = correct * samples - dot;
    let actual_term = samples * samples - actual.iter().map(|a| a * a).sum::<f64>();
    let predicted_term = samples * samples - predicted_totals.iter().map(|p| p * p).sum::<f64>();
    let denominator = (actual_term * predicted_term).sqrt();
    if denominator == 0.0 {
        0.0
    } else {
        numerator / denominator
    }
}

/// Index of the largest value in each row of a row-major [rows, columns] matrix.
pub fn argmax_rows(values: &[f32], columns: usize) -> Vec<usize> {
    values
        .chunks(columns)
        .map(|row| {
            row.iter()
                .enumerate()
                .fold((0, f32::NEG_INFINITY), |best, (index, &value)| {
                    if value > best.1 { (index, value) } else { best }
                })
                .0
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn macro_f1_matches_hand_computation() {
        // Class 0: tp 2, fp 1, fn 0 -> F1 0.8. Class 1: tp 1, fp 0, fn 1 -> F1 2/3.
        let truth = [0, 0, 1, 1];
        let predicted = [0, 0, 0, 1];
        let expected = (0.8 + 2.0 / 3.0) / 2.0;
        assert!((macro_f1(&truth, &predicted, 2) - expected).abs() < 1e-12);
    }

    #[test]
    fn matthews_binary_matches_formula() {
        // tp 1, tn 2, fp 0, fn 1: (1*2 - 0*1) / sqrt(1*2*3*2) = 2 / sqrt(12)
        let truth = [1, 1, 0, 0];
        let predicted = [1, 0, 0, 0];
        let expected = 2.0 / 12f64.sqrt();
        assert!((matthews_correlation(&truth, &predicted, 2) - expected).abs() < 1e-12);
    }

    #[test]
    fn matthews_is_zero_for_constant_predictions() {
        assert_eq!(matthews_correlation(&[0, 1, 1], &[1, 1, 1], 2), 0.0);
    }

    #[test]
    fn argmax_picks_first_maximum() {
        assert_eq!(argmax_rows(&[0.1, 0.9, 0.5, 0.5, 0.2, 0.1], 3), vec![1, 0]);
    }
}
