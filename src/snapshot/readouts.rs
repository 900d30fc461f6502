//! Alignment readouts of one snapshot: how close instances sit to their own label
//! embedding, alignment and uniformity (Wang & Isola, ICML 2020), anisotropy, and how far
//! apart the label embeddings are. All on L2-normalised vectors.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use super::cosine;

/// Pairs sampled for the pairwise readouts. 20,000 pairs give a standard error of about
/// 0.005 on a mean cosine, at a cost that does not grow with the sample size.
const SAMPLED_PAIRS: usize = 20_000;

/// `None` where a readout is undefined (no class with two instances, a single label).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AlignmentReadouts {
    /// Mean cosine of each instance to its own class's label embedding.
    pub own_label_cosine: Option<f64>,
    /// E ||f(x) - f(y)||^2 over same-class pairs (alpha = 2); lower is better aligned.
    pub alignment: Option<f64>,
    /// log E exp(-2 ||f(x) - f(y)||^2) over all pairs (t = 2); lower is more uniform.
    pub uniformity: Option<f64>,
    /// Mean cosine between random instance pairs; near 0 for an isotropic space.
    pub anisotropy: Option<f64>,
    /// Mean cosine between distinct label embeddings.
    pub label_cosine: Option<f64>,
}

/// Computes the readouts of `instances` [n, d] with true classes `labels` and
/// `label_embeddings` [C, d]. Pairs are drawn with a fixed seed, so a snapshot always gives
/// the same numbers.
pub fn alignment_readouts(
    instances: &[f32],
    labels: &[u32],
    label_embeddings: &[f32],
    dim: usize,
) -> AlignmentReadouts {
    let normalized = normalize_rows(instances, dim);
    let row = |index: usize| &normalized[index * dim..(index + 1) * dim];
    let label_rows: Vec<&[f32]> = label_embeddings.chunks_exact(dim.max(1)).collect();
    let count = labels.len();
    let mut rng = StdRng::seed_from_u64(0x00a1_19e0);

    let own_label_cosine = mean((0..count).filter_map(|index| {
        label_rows
            .get(labels[index] as usize)
            .map(|label| cosine(row(index), label) as f64)
    }));

    let mut by_class: Vec<Vec<usize>> = vec![Vec::new(); label_rows.len()];
    for (index, &label) in labels.iter().enumerate() {
        if let Some(members) = by_class.get_mut(label as usize) {
            members.push(index);
        }
    }
    let pairable: Vec<&Vec<usize>> = by_class
        .iter()
        .filter(|members| members.len() > 1)
        .collect();
    let alignment = if pairable.is_empty() {
        None
    } else {
        mean((0..SAMPLED_PAIRS).map(|_| {
            // A class in proportion to its size, then two distinct members of it.
            let anchor = rng.random_range(0..count);
            let members = match by_class.get(labels[anchor] as usize) {
                Some(members) if members.len() > 1 => members,
                _ => pairable[rng.random_range(0..pairable.len())],
            };
            let (a, b) = distinct_pair(&mut rng, members.len());
            squared_distance(row(members[a]), row(members[b]))
        }))
    };

    let (uniformity, anisotropy) = if count < 2 {
        (None, None)
    } else {
        let pairs: Vec<(usize, usize)> = (0..SAMPLED_PAIRS)
            .map(|_| distinct_pair(&mut rng, count))
            .collect();
        let gaussian = mean(
            pairs
                .iter()
                .map(|&(a, b)| (-2.0 * squared_distance(row(a), row(b))).exp()),
        );
        let anisotropy = mean(pairs.iter().map(|&(a, b)| cosine(row(a), row(b)) as f64));
        (gaussian.map(f64::ln), anisotropy)
    };

    let label_cosine = mean(
        (0..label_rows.len())
            .flat_map(|a| (a + 1..label_rows.len()).map(move |b| (a, b)))
            .take(SAMPLED_PAIRS * 10)
            .map(|(a, b)| cosine(label_rows[a], label_rows[b]) as f64),
    );

    AlignmentReadouts {
        own_label_cosine,
        alignment,
        uniformity,
        anisotropy,
        label_cosine,
    }
}

fn normalize_rows(values: &[f32], dim: usize) -> Vec<f32> {
    let mut normalized = values.to_vec();
    for row in normalized.chunks_exact_mut(dim.max(1)) {
        let norm = row.iter().map(|x| x * x).sum::<f32>().sqrt();
        if norm > 0.0 {
            row.iter_mut().for_each(|x| *x /= norm);
        }
    }
    normalized
}

fn distinct_pair(rng: &mut StdRng, count: usize) -> (usize, usize) {
    let a = rng.random_range(0..count);
    let b = (a + rng.random_range(1..count)) % count;
    (a, b)
}

fn squared_distance(a: &[f32], b: &[f32]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| ((x - y) * (x - y)) as f64)
        .sum()
}

fn mean(values: impl Iterator<Item = f64>) -> Option<f64> {
    let (sum, count) = values.fold((0.0, 0usize), |(sum, count), value| {
        (sum + value, count + 1)
    });
    (count > 0).then(|| sum / count as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instances_on_their_label_embeddings_are_aligned() {
        // Two classes on the two axes; every instance equals its label embedding.
        let instances = [1.0, 0.0, 2.0, 0.0, 0.0, 1.0, 0.0, 3.0];
        let labels = [0, 0, 1, 1];
        let label_embeddings = [1.0, 0.0, 0.0, 1.0];
        let readouts = alignment_readouts(&instances, &labels, &label_embeddings, 2);
        assert!((readouts.own_label_cosine.unwrap() - 1.0).abs() < 1e-6);
        assert!(readouts.alignment.unwrap().abs() < 1e-9);
        assert!(readouts.label_cosine.unwrap().abs() < 1e-9);
        // Random pairs are same-class (cosine 1) or cross-class (cosine 0) in equal odds,
        // up to sampling noise.
        let anisotropy = readouts.anisotropy.unwrap();
        assert!((anisotropy - 1.0 / 3.0).abs() < 0.03, "{anisotropy}");
    }

    #[test]
    fn singleton_classes_have_no_alignment() {
        let readouts = alignment_readouts(&[1.0, 0.0, 0.0, 1.0], &[0, 1], &[1.0, 0.0, 0.0, 1.0], 2);
        assert_eq!(readouts.alignment, None);
        assert!(readouts.uniformity.is_some());
    }
}
