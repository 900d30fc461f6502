//! Snapshots on disk, in the run directory's `snapshots/` folder: the sample once as
//! `sample.json`, and one safetensors file per snapshot with the readouts in its metadata.
//! Both are written atomically, so a run killed mid-write leaves no half file.

use std::collections::HashMap;
use std::path::Path;

use anyhow::{Context, Result, bail};
use safetensors::SafeTensors;
use safetensors::tensor::{Dtype, TensorView};

use super::{AlignmentReadouts, EmbeddingSnapshot, SPRITE_FILE, SnapshotSample, Sprite};
use crate::run::write_atomic;

/// Folder of the snapshots inside a run directory.
pub const SNAPSHOT_DIR: &str = "snapshots";
/// The sample's texts and labels, inside [`SNAPSHOT_DIR`].
pub const SAMPLE_FILE: &str = "sample.json";
/// Value of the `format` metadata key. A reader rejects other layouts.
const FORMAT: &str = "acf-snapshot-1";

/// File name of the snapshot at `step`, relative to [`SNAPSHOT_DIR`].
pub fn snapshot_file_name(step: usize) -> String {
    format!("step-{step:07}.safetensors")
}

/// Writes `sample.json` and, for an image sample, `sprite.png` beside it.
pub fn write_sample(path: &Path, sample: &SnapshotSample) -> Result<()> {
    if let Some(sprite) = &sample.sprite {
        sprite.write(&path.with_file_name(SPRITE_FILE))?;
    }
    write_atomic(path, serde_json::to_string(sample)?.as_bytes())
}

/// Reads `sample.json` and its thumbnails. Missing or damaged thumbnails leave the texts
/// usable: the sample comes back without them, with a warning.
pub fn read_sample(path: &Path) -> Result<SnapshotSample> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut sample: SnapshotSample = serde_json::from_str(&text).map_err(|err| {
        anyhow::anyhow!(
            "{}: not a snapshot sample ({err}); the file is damaged, so hover texts are unavailable",
            path.display()
        )
    })?;
    if let Some(cell) = sample.thumbnail_size {
        let sprite_path = path.with_file_name(SPRITE_FILE);
        match Sprite::read(&sprite_path, sample.instances.len(), cell) {
            Ok(sprite) => sample.sprite = Some(std::sync::Arc::new(sprite)),
            Err(err) => tracing::warn!("thumbnails unavailable: {err:#}"),
        }
    }
    Ok(sample)
}

pub fn write_snapshot(path: &Path, snapshot: &EmbeddingSnapshot) -> Result<()> {
    let n = snapshot.instance_count();
    let classes = snapshot.class_count();
    let dim = snapshot.dim;
    let labels: Vec<i32> = snapshot.labels.iter().map(|&x| x as i32).collect();
    let predictions: Vec<i32> = snapshot.predictions.iter().map(|&x| x as i32).collect();
    let projection: Vec<f32> = snapshot.projection.iter().flatten().copied().collect();

    let views = vec![
        (
            "instances",
            view(
                Dtype::F32,
                bytemuck::cast_slice(&snapshot.instances),
                vec![n, dim],
            )?,
        ),
        (
            "label_embeddings",
            view(
                Dtype::F32,
                bytemuck::cast_slice(&snapshot.label_embeddings),
                vec![classes, dim],
            )?,
        ),
        (
            "labels",
            view(Dtype::I32, bytemuck::cast_slice(&labels), vec![n])?,
        ),
        (
            "predictions",
            view(Dtype::I32, bytemuck::cast_slice(&predictions), vec![n])?,
        ),
        (
            "projection",
            view(
                Dtype::F32,
                bytemuck::cast_slice(&projection),
                vec![n + classes, 2],
            )?,
        ),
        (
            "basis",
            view(
                Dtype::F32,
                bytemuck::cast_slice(&snapshot.basis),
                vec![dim, 2],
            )?,
        ),
    ];
    let metadata = HashMap::from([
        ("format".to_string(), FORMAT.to_string()),
        ("step".to_string(), snapshot.step.to_string()),
        (
            "readouts".to_string(),
            serde_json::to_string(&snapshot.readouts)?,
        ),
        (
            "explained_variance".to_string(),
            serde_json::to_string(&snapshot.explained_variance)?,
        ),
    ]);
    let bytes = safetensors::serialize(views, Some(metadata))?;
    write_atomic(path, &bytes)
}

fn view(dtype: Dtype, bytes: &[u8], shape: Vec<usize>) -> Result<TensorView<'_>> {
    Ok(TensorView::new(dtype, shape, bytes)?)
}

/// Reads and checks a snapshot file; any inconsistency is an error naming the file.
pub fn read_snapshot(path: &Path) -> Result<EmbeddingSnapshot> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let damaged = |what: String| {
        anyhow::anyhow!(
            "{}: {what}; the snapshot is damaged (a run killed mid-write leaves none, so the file was changed since)",
            path.display()
        )
    };
    let file = SafeTensors::deserialize(&bytes)
        .map_err(|err| damaged(format!("not a safetensors file ({err})")))?;
    let (_, header) = SafeTensors::read_metadata(&bytes)
        .map_err(|err| damaged(format!("unreadable header ({err})")))?;
    let metadata = header.metadata().clone().unwrap_or_default();
    if metadata.get("format").map(String::as_str) != Some(FORMAT) {
        bail!(damaged(format!(
            "format is {:?}, expected {FORMAT:?}",
            metadata.get("format")
        )));
    }
    let meta = |key: &str| {
        metadata
            .get(key)
            .ok_or_else(|| damaged(format!("metadata key {key:?} is missing")))
    };
    let step: usize = meta("step")?
        .parse()
        .map_err(|err| damaged(format!("step is not a number ({err})")))?;
    let readouts: AlignmentReadouts = serde_json::from_str(meta("readouts")?)
        .map_err(|err| damaged(format!("readouts are not valid ({err})")))?;
    let explained_variance: [f32; 2] = serde_json::from_str(meta("explained_variance")?)
        .map_err(|err| damaged(format!("explained_variance is not valid ({err})")))?;

    let tensor = |name: &str, dtype: Dtype| {
        let view = file
            .tensor(name)
            .map_err(|_| damaged(format!("tensor {name:?} is missing")))?;
        if view.dtype() != dtype {
            bail!(damaged(format!(
                "tensor {name:?} has dtype {:?}, expected {dtype:?}",
                view.dtype()
            )));
        }
        Ok((view.shape().to_vec(), view.data().to_vec()))
    };
    let floats = |bytes: Vec<u8>| -> Vec<f32> {
        bytes
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect()
    };
    let indices = |bytes: Vec<u8>| -> Vec<i32> {
        bytes
            .chunks_exact(4)
            .map(|b| i32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect()
    };

    let (instance_shape, instances) = tensor("instances", Dtype::F32)?;
    let (label_shape, label_embeddings) = tensor("label_embeddings", Dtype::F32)?;
    let (_, labels) = tensor("labels", Dtype::I32)?;
    let (_, predictions) = tensor("predictions", Dtype::I32)?;
    let (_, projection) = tensor("projection", Dtype::F32)?;
    let (_, basis) = tensor("basis", Dtype::F32)?;
    let [n, dim] = instance_shape[..] else {
        bail!(damaged(format!(
            "instances have shape {instance_shape:?}, expected [n, d]"
        )));
    };
    let [classes, label_dim] = label_shape[..] else {
        bail!(damaged(format!(
            "label_embeddings have shape {label_shape:?}, expected [C, d]"
        )));
    };
    let labels = indices(labels);
    let predictions = indices(predictions);
    let projection = floats(projection);
    let basis = floats(basis);
    if label_dim != dim
        || labels.len() != n
        || predictions.len() != n
        || projection.len() != (n + classes) * 2
        || basis.len() != dim * 2
    {
        bail!(damaged(format!(
            "tensor shapes disagree (n = {n}, C = {classes}, d = {dim}, label width {label_dim}, {} labels, {} predictions, {} projected points)",
            labels.len(),
            predictions.len(),
            projection.len() / 2
        )));
    }
    let finite = |values: &[f32]| values.iter().all(|value| value.is_finite());
    let instances = floats(instances);
    let label_embeddings = floats(label_embeddings);
    for (name, values) in [
        ("instances", &instances),
        ("label_embeddings", &label_embeddings),
        ("projection", &projection),
        ("basis", &basis),
    ] {
        if !finite(values) {
            bail!(damaged(format!(
                "tensor {name:?} contains NaN or infinite values"
            )));
        }
    }
    let in_range = |values: &[i32]| values.iter().all(|&c| c >= 0 && (c as usize) < classes);
    if !in_range(&labels) || !in_range(&predictions) {
        bail!(damaged(format!("a class index lies outside 0..{classes}")));
    }

    Ok(EmbeddingSnapshot {
        step,
        dim,
        instances,
        label_embeddings,
        labels: labels.into_iter().map(|c| c as u32).collect(),
        predictions: predictions.into_iter().map(|c| c as u32).collect(),
        projection: projection.chunks_exact(2).map(|p| [p[0], p[1]]).collect(),
        basis,
        explained_variance,
        readouts,
    })
}
