//! Train, validation and test splits from the `[data]` config: separate files, or a
//! validation fraction split off the training file with a seeded shuffle.

use std::path::PathBuf;

use anyhow::{Result, bail};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

use super::{Columns, LabelRequirement, LabelSet, TextExample, read_examples};
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
    let mut train_examples = read_examples(&train_path, &columns, LabelRequirement::Required)?;

    let labels = match known_labels {
        Some(labels) => labels,
        None => LabelSet::from_examples(&train_examples),
    };
    if labels.len() < 2 {
        bail!(
            "{}: the training set has only one class ({}); classification and contrastive objectives need at least two",
            train_path.display(),
            labels.names.join(", ")
        );
    }

    let mut validation = None;
    if let Some(fraction) = config.validation_fraction {
        train_examples.shuffle(&mut StdRng::seed_from_u64(seed));
        let held_out = ((train_examples.len() as f64) * fraction).round() as usize;
        if held_out == 0 || held_out >= train_examples.len() {
            bail!(
                "{}: data.validation_fraction = {fraction} leaves {held_out} of {} examples for validation; adjust it",
                train_path.display(),
                train_examples.len()
            );
        }
        let validation_examples = train_examples.split_off(train_examples.len() - held_out);
        let encoded = labels.encode(&validation_examples, &train_path)?;
        validation = Some(Split {
            path: train_path.clone(),
            examples: validation_examples,
            labels: encoded,
        });
    }

    let read_split = |path: &Option<PathBuf>| -> Result<Option<Split>> {
        let Some(path) = path else { return Ok(None) };
        let examples = read_examples(path, &columns, LabelRequirement::Required)?;
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
    let test = read_split(&config.test)?;

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
