//! Train, validation and test splits from the `[data]` config: separate files, or a
//! validation fraction split off the training file with a seeded shuffle.

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

use super::{Columns, LabelRequirement, LabelSet, TextExample, name_label, read_examples};
use crate::config::DataConfig;

/// One split's examples, the file they came from, and their class indices.
pub struct Split {
    pub path: PathBuf,
    pub examples: Vec<TextExample>,
    pub labels: Vec<usize>,
}

pub struct Splits {
    pub labels: LabelSet,
    pub train: Split,
    pub validation: Option<Split>,
    pub test: Option<Split>,
}

pub fn columns(config: &DataConfig) -> Columns {
    Columns {
        text: config.text_column.clone(),
        text_pair: config.text_pair_column.clone(),
        label: config.label_column.clone(),
    }
}

/// Reads the splits. `known_labels` (from a run being resumed) fixes the label set;
/// otherwise it is taken from the training file. Fewer than two classes is an error.
pub fn load_splits(
    config: &DataConfig,
    seed: u64,
    known_labels: Option<LabelSet>,
) -> Result<Splits> {
    let Some(train_path) = config.train.clone() else {
        bail!(
            "data.train is not set; point it at a CSV, TSV or JSONL file with text and label columns"
        );
    };
    let columns = columns(config);
    let read = |path: &Path| -> Result<Vec<TextExample>> {
        let mut examples = read_examples(path, &columns, LabelRequirement::Required)?;
        if let Some(names) = &config.label_names {
            for example in &mut examples {
                let origin = format!("{}:{}", path.display(), example.line);
                name_label(&mut example.label, names, &origin)?;
            }
        }
        Ok(examples)
    };
    let mut train_examples = read(&train_path)?;

    let labels = LabelSet::for_training(
        known_labels,
        config.label_names.as_deref(),
        train_examples
            .iter()
            .filter_map(|example| example.label.as_deref()),
        &train_path,
    )?;

    let mut validation = None;
    if let Some(fraction) = config.validation_fraction {
        let validation_examples = hold_out(&mut train_examples, fraction, seed, &train_path)?;
        let encoded = labels.encode(&validation_examples, &train_path)?;
        validation = Some(Split {
            path: train_path.clone(),
            examples: validation_examples,
            labels: encoded,
        });
    }

    let read_split = |path: &Option<PathBuf>| -> Result<Option<Split>> {
        let Some(path) = path else { return Ok(None) };
        let examples = read(path)?;
        let encoded = labels.encode(&examples, path)?;
        Ok(Some(Split {
            path: path.clone(),
            examples,
            labels: encoded,
        }))
    };
    if validation.is_none() {
        validation = read_split(&config.validation)?;
    }
    let mut test = read_split(&config.test)?;
    keep_first(&mut train_examples, config.max_train_samples);
    check_kept_classes(
        &labels,
        train_examples
            .iter()
            .map(|example| example.label.as_deref()),
        config.max_train_samples,
        &train_path,
    )?;
    if let Some(split) = &mut validation {
        split.truncate(config.max_eval_samples);
    }
    if let Some(split) = &mut test {
        split.truncate(config.max_test_samples);
    }

    let train_labels = labels.encode(&train_examples, &train_path)?;
    Ok(Splits {
        labels,
        train: Split {
            path: train_path,
            examples: train_examples,
            labels: train_labels,
        },
        validation,
        test,
    })
}

impl Split {
    fn truncate(&mut self, limit: Option<usize>) {
        keep_first(&mut self.examples, limit);
        keep_first(&mut self.labels, limit);
    }
}

/// Moves a seeded random `fraction` of `examples` out of the training set and returns it.
pub fn hold_out<T>(examples: &mut Vec<T>, fraction: f64, seed: u64, path: &Path) -> Result<Vec<T>> {
    examples.shuffle(&mut StdRng::seed_from_u64(seed));
    let held_out = ((examples.len() as f64) * fraction).round() as usize;
    if held_out == 0 || held_out >= examples.len() {
        bail!(
            "{}: data.validation_fraction = {fraction} leaves {held_out} of {} examples for validation; adjust it",
            path.display(),
            examples.len()
        );
    }
    Ok(examples.split_off(examples.len() - held_out))
}

/// Checks that the first `data.max_train_samples` training examples still contain every
/// class. Files sorted by class (class folders, sorted lists) would otherwise train on the
/// first classes only.
pub fn check_kept_classes<'a>(
    labels: &LabelSet,
    first_labels: impl Iterator<Item = Option<&'a str>>,
    limit: Option<usize>,
    path: &Path,
) -> Result<()> {
    let Some(limit) = limit else { return Ok(()) };
    let mut seen = vec![false; labels.len()];
    for label in first_labels.flatten() {
        if let Some(index) = labels.index_of(label) {
            seen[index] = true;
        }
    }
    let missing: Vec<&str> = labels
        .names
        .iter()
        .zip(&seen)
        .filter(|(_, seen)| !**seen)
        .map(|(name, _)| name.as_str())
        .collect();
    if !missing.is_empty() {
        bail!(
            "{}: the first {limit} training examples (data.max_train_samples) contain no example of [{}]; the file is probably ordered by class, so shuffle it or raise the limit",
            path.display(),
            missing.join(", ")
        );
    }
    Ok(())
}

/// Keeps the first `limit` items, as the `data.max_*_samples` keys set.
pub fn keep_first<T>(items: &mut Vec<T>, limit: Option<usize>) {
    if let Some(limit) = limit {
        items.truncate(limit);
    }
}
