//! The explorer's data, built from the run's event records: curves, snapshots and
//! messages about what could not be read. It needs no window, so tests drive it with
//! scripted records.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::Value;

use crate::snapshot::{
    AlignmentReadouts, EmbeddingSnapshot, SharedSample, SharedSnapshot, read_snapshot,
};

/// Fields of a `step` record plotted as `train/<field>`.
const STEP_FIELDS: [&str; 7] = [
    "loss",
    "loss_ce",
    "loss_contrastive",
    "loss_correlation",
    "lr",
    "grad_norm",
    "examples_per_second",
];
/// Fields of an `evaluation` record plotted as `<split>/<field>`.
const EVALUATION_FIELDS: [&str; 8] = [
    "loss",
    "loss_ce",
    "loss_contrastive",
    "loss_correlation",
    "accuracy",
    "macro_f1",
    "matthews_correlation",
    "nearest_label_accuracy",
];
/// Readouts of a `snapshot` record plotted as `alignment/<field>`.
pub const READOUT_FIELDS: [&str; 5] = [
    "own_label_cosine",
    "alignment",
    "uniformity",
    "anisotropy",
    "label_cosine",
];

/// The embeddings of one snapshot, loaded from disk on first use.
#[derive(Debug, Clone)]
pub enum SnapshotData {
    /// In the run directory, not read yet.
    OnDisk(PathBuf),
    Loaded(SharedSnapshot),
    /// Missing or damaged; the message is in [`RunState::messages`].
    Unavailable,
}

#[derive(Debug, Clone)]
pub struct SnapshotEntry {
    pub step: usize,
    /// Instance count from the event record, checked against the file.
    pub instances: Option<usize>,
    pub readouts: AlignmentReadouts,
    pub data: SnapshotData,
}

/// Progress of the run.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum RunStatus {
    #[default]
    Empty,
    Running {
        step: usize,
        total_steps: usize,
    },
    Finished {
        step: usize,
        stopped: bool,
    },
    Failed(String),
}

/// Details shown when hovering one instance of the map.
#[derive(Debug, Clone, PartialEq)]
pub struct InstanceDetails {
    pub text: String,
    /// Source file line, when the sample is known.
    pub line: Option<usize>,
    pub label: String,
    pub predicted: String,
    /// Cosine to each label embedding, in class order.
    pub label_cosines: Vec<(String, f32)>,
}

#[derive(Debug, Default)]
pub struct RunState {
    pub run_dir: Option<PathBuf>,
    pub label_names: Vec<String>,
    /// Series by tag (`train/loss`, `validation/accuracy`, `alignment/anisotropy`), each a
    /// list of [step, value] in step order.
    pub curves: BTreeMap<String, Vec<[f64; 2]>>,
    /// In step order.
    pub snapshots: Vec<SnapshotEntry>,
    pub sample: Option<SharedSample>,
    pub status: RunStatus,
    pub backend: Option<String>,
    /// Everything that could not be read, for the message bar.
    pub messages: Vec<String>,
}

impl RunState {
    /// Adds a problem once; the same text twice shows once.
    pub fn report(&mut self, message: impl Into<String>) {
        let message = message.into();
        if !self.messages.contains(&message) {
            tracing::warn!("{message}");
            self.messages.push(message);
        }
    }

    /// Applies one `metrics.jsonl` record. A record this version cannot use is an error
    /// that gives the reason; the caller adds where it came from.
    pub fn apply_record(&mut self, record: &Value) -> Result<(), String> {
        let event = record.get("event").and_then(Value::as_str);
        let step = record
            .get("step")
            .and_then(Value::as_u64)
            .map(|s| s as usize);
        let needs_step = matches!(event, Some("step" | "evaluation" | "snapshot"));
        let step = match step {
            None if needs_step => {
                return Err(format!(
                    "a {} record without a whole-number \"step\"",
                    event.unwrap_or_default()
                ));
            }
            step => step,
        };
        match event {
            Some("started") => {
                let total_steps = field_usize(record, "total_steps").unwrap_or(0);
                let start_step = field_usize(record, "start_step").unwrap_or(0);
                self.backend = record
                    .get("adapter")
                    .and_then(Value::as_str)
                    .map(String::from);
                self.status = RunStatus::Running {
                    step: start_step,
                    total_steps,
                };
            }
            Some("step") => {
                let step = step.unwrap_or_default();
                for field in STEP_FIELDS {
                    self.push_point(&format!("train/{field}"), step, record.get(field));
                }
                if let RunStatus::Running { step: current, .. } = &mut self.status {
                    *current = step;
                }
            }
            Some("evaluation") => {
                let step = step.unwrap_or_default();
                let split = record
                    .get("split")
                    .and_then(Value::as_str)
                    .unwrap_or("validation");
                for field in EVALUATION_FIELDS {
                    self.push_point(&format!("{split}/{field}"), step, record.get(field));
                }
            }
            Some("snapshot") => {
                let step = step.unwrap_or_default();
                for field in READOUT_FIELDS {
                    self.push_point(&format!("alignment/{field}"), step, record.get(field));
                }
                let readouts = serde_json::from_value(record.clone()).unwrap_or_default();
                let data = match (&self.run_dir, record.get("file").and_then(Value::as_str)) {
                    (Some(dir), Some(file)) => SnapshotData::OnDisk(dir.join(file)),
                    _ => SnapshotData::Unavailable,
                };
                self.insert_snapshot(SnapshotEntry {
                    step,
                    instances: field_usize(record, "instances"),
                    readouts,
                    data,
                });
            }
            Some("finished") => {
                self.status = RunStatus::Finished {
                    step: step.unwrap_or(0),
                    stopped: record
                        .get("stopped")
                        .and_then(Value::as_bool)
                        .unwrap_or(false),
                };
            }
            // Checkpoints and the sample line need nothing drawn.
            Some("checkpoint" | "snapshot_sample") => {}
            Some(other) => return Err(format!("unknown event {other:?}")),
            None => return Err("a record without an \"event\" field".into()),
        }
        Ok(())
    }

    /// Adds a snapshot that arrived with its data (a live run).
    pub fn add_snapshot(&mut self, snapshot: SharedSnapshot) {
        self.insert_snapshot(SnapshotEntry {
            step: snapshot.step,
            instances: Some(snapshot.instance_count()),
            readouts: snapshot.readouts.clone(),
            data: SnapshotData::Loaded(snapshot),
        });
    }

    pub fn set_sample(&mut self, sample: SharedSample) {
        if self.label_names.is_empty() {
            self.label_names = sample.label_names.clone();
        }
        self.sample = Some(sample);
    }

    /// Returns the data of snapshot `index`, read from disk the first time. A file that is missing
    /// or damaged gives `None` and a message.
    pub fn snapshot(&mut self, index: usize) -> Option<SharedSnapshot> {
        let entry = self.snapshots.get_mut(index)?;
        let path = match &entry.data {
            SnapshotData::Loaded(snapshot) => return Some(snapshot.clone()),
            SnapshotData::Unavailable => return None,
            SnapshotData::OnDisk(path) => path.clone(),
        };
        match load_snapshot(&path, entry.step, entry.instances) {
            Ok(snapshot) => {
                entry.data = SnapshotData::Loaded(snapshot.clone());
                let sample_size = self.sample.as_ref().map(|sample| sample.instances.len());
                if let Some(size) = sample_size
                    && size != snapshot.instance_count()
                {
                    self.report(format!(
                        "snapshots/sample.json lists {size} instances, but the snapshot of step {} has {}; hover texts are unavailable",
                        snapshot.step,
                        snapshot.instance_count()
                    ));
                }
                Some(snapshot)
            }
            Err(message) => {
                entry.data = SnapshotData::Unavailable;
                self.report(message);
                None
            }
        }
    }

    /// Returns the details shown when hovering instance `index` of `snapshot`.
    pub fn instance_details(&self, snapshot: &EmbeddingSnapshot, index: usize) -> InstanceDetails {
        let name = |class: u32| {
            self.label_names
                .get(class as usize)
                .cloned()
                .unwrap_or_else(|| format!("class {class}"))
        };
        // A sample of another size belongs to another run: its texts would be wrong.
        let instance = self
            .sample
            .as_ref()
            .filter(|sample| sample.instances.len() == snapshot.instance_count())
            .and_then(|sample| sample.instances.get(index));
        InstanceDetails {
            text: instance.map_or_else(
                || {
                    "(text unavailable: snapshots/sample.json is missing, damaged or from another run)"
                        .to_string()
                },
                |instance| instance.text.clone(),
            ),
            line: instance.map(|instance| instance.line),
            label: name(snapshot.labels[index]),
            predicted: name(snapshot.predictions[index]),
            label_cosines: snapshot
                .label_cosines(index)
                .into_iter()
                .enumerate()
                .map(|(class, cosine)| (name(class as u32), cosine))
                .collect(),
        }
    }

    fn insert_snapshot(&mut self, entry: SnapshotEntry) {
        match self.snapshots.binary_search_by_key(&entry.step, |e| e.step) {
            // A resumed run takes the same step again; the later one wins.
            Ok(position) => self.snapshots[position] = entry,
            Err(position) => self.snapshots.insert(position, entry),
        }
    }

    fn push_point(&mut self, tag: &str, step: usize, value: Option<&Value>) {
        let Some(value) = value.and_then(Value::as_f64) else {
            return;
        };
        let series = self.curves.entry(tag.to_string()).or_default();
        // A resumed run repeats the steps after its last checkpoint: keep the new ones.
        while series.last().is_some_and(|point| point[0] >= step as f64) {
            series.pop();
        }
        series.push([step as f64, value]);
    }
}

fn field_usize(record: &Value, key: &str) -> Option<usize> {
    record
        .get(key)
        .and_then(Value::as_u64)
        .map(|value| value as usize)
}

fn load_snapshot(
    path: &Path,
    step: usize,
    instances: Option<usize>,
) -> Result<SharedSnapshot, String> {
    if !path.exists() {
        return Err(format!(
            "{}: snapshot of step {step} is missing; its readouts still show in the curves",
            path.display()
        ));
    }
    let snapshot = read_snapshot(path).map_err(|err| format!("{err:#}"))?;
    if snapshot.step != step {
        return Err(format!(
            "{}: contains the snapshot of step {}, but metrics.jsonl files it under step {step}; the file was renamed or copied, so it is not shown",
            path.display(),
            snapshot.step
        ));
    }
    if let Some(expected) = instances
        && expected != snapshot.instance_count()
    {
        return Err(format!(
            "{}: has {} instances, but metrics.jsonl records {expected}; the file was replaced, so it is not shown",
            path.display(),
            snapshot.instance_count()
        ));
    }
    Ok(Arc::new(snapshot))
}
