//! The label set of a run: class names taken from the training file, in a fixed order,
//! saved as `labels.json` so evaluation and prediction map names to the same indices.

use std::path::Path;

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

use super::TextExample;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabelSet {
    pub names: Vec<String>,
}

impl LabelSet {
    /// Collects the distinct labels of the training examples. All-integer label sets are
    /// ordered numerically (so `0`..`9` keep their index), others lexicographically.
    pub fn from_examples(examples: &[TextExample]) -> LabelSet {
        LabelSet::from_labels(
            examples
                .iter()
                .filter_map(|example| example.label.as_deref()),
        )
    }

    /// Collects distinct labels in the order [`LabelSet::from_examples`] describes.
    pub fn from_labels<'a>(labels: impl Iterator<Item = &'a str>) -> LabelSet {
        let mut names: Vec<String> = labels.map(str::to_string).collect();
        names.sort();
        names.dedup();
        if names.iter().all(|name| name.parse::<i64>().is_ok()) {
            names.sort_by_key(|name| name.parse::<i64>().unwrap_or(0));
        }
        LabelSet { names }
    }

    /// Builds the label set of `data.label_names`, in its order.
    pub fn from_names(names: &[String]) -> LabelSet {
        LabelSet {
            names: names.to_vec(),
        }
    }

    /// Chooses a run's label set: a resumed run's `known` one, else `data.label_names`, else
    /// the distinct `training` labels. Fewer than two classes is an error naming `path`.
    pub fn for_training<'a>(
        known: Option<LabelSet>,
        names: Option<&[String]>,
        training: impl Iterator<Item = &'a str>,
        path: &Path,
    ) -> Result<LabelSet> {
        let labels = match (known, names) {
            (Some(labels), _) => labels,
            (None, Some(names)) => LabelSet::from_names(names),
            (None, None) => LabelSet::from_labels(training),
        };
        if labels.len() < 2 {
            let found = match labels.names.first() {
                Some(name) => format!("only one class ({name})"),
                None => "no class".to_string(),
            };
            bail!(
                "{}: the training set has {found}; classification and contrastive objectives need at least two",
                path.display()
            );
        }
        Ok(labels)
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|candidate| candidate == name)
    }

    /// Maps every example's label to its class index; a label outside the set is an error
    /// naming the file, line and the known labels.
    pub fn encode(&self, examples: &[TextExample], path: &Path) -> Result<Vec<usize>> {
        examples
            .iter()
            .map(|example| {
                let label = example.label.as_deref().unwrap_or("");
                self.index_of(label).with_context(|| {
                    format!(
                        "{}:{}: label {label:?} is not one of the training labels [{}]; fix the label or add examples of it to the training file",
                        path.display(),
                        example.line,
                        self.names.join(", ")
                    )
                })
            })
            .collect()
    }

    pub fn save(&self, path: &Path) -> Result<()> {
        crate::run::write_atomic(path, serde_json::to_string_pretty(self)?.as_bytes())
    }

    pub fn load(path: &Path) -> Result<LabelSet> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let labels: LabelSet = serde_json::from_str(&text)
            .map_err(|err| anyhow::anyhow!("{}: invalid label file: {err}", path.display()))?;
        if labels.is_empty() {
            bail!("{}: the label list is empty", path.display());
        }
        Ok(labels)
    }
}

/// Replaces an integer label `i` by `names[i]` (`data.label_names`). Labels that are already
/// names are kept, and an integer outside the list is an error naming `origin`.
pub fn name_label(label: &mut Option<String>, names: &[String], origin: &str) -> Result<()> {
    let Some(value) = label.as_deref() else {
        return Ok(());
    };
    if let Ok(index) = value.parse::<usize>() {
        let name = names.get(index).with_context(|| {
            format!(
                "{origin}: label {index} has no entry in data.label_names, which lists {} names; add the missing names",
                names.len()
            )
        })?;
        *label = Some(name.clone());
    }
    Ok(())
}
