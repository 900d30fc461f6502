//! Export of one snapshot for TensorBoard's Embedding Projector. `vectors.tsv` has one
//! embedding per row. `metadata.tsv` has a header and one row per embedding, with a `kind`
//! column that flags the label embeddings. `projector_config.pbtxt` makes the folder a
//! TensorBoard log directory; the two TSV files also load in the standalone projector.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use super::store::{SAMPLE_FILE, read_sample, read_snapshot};
use super::{EmbeddingSnapshot, SnapshotSample};
use super::{SPRITE_FILE, Sprite};
use crate::data::LabelSet;
use crate::run::{RunDir, write_atomic};
use image::RgbImage;

/// The files an export wrote.
#[derive(Debug)]
pub struct ProjectorExport {
    pub step: usize,
    pub vectors: PathBuf,
    pub metadata: PathBuf,
    pub config: PathBuf,
    pub rows: usize,
}

/// Writes the snapshot of `step` (the latest when `None`) of the run in `run_dir` to
/// `out`. Without the sample file the texts are left empty, with a warning.
pub fn export_projector(
    run_dir: &Path,
    step: Option<usize>,
    out: &Path,
) -> Result<ProjectorExport> {
    let run = RunDir::new(run_dir);
    run.check_is_run()?;
    if out.exists() && !out.is_dir() {
        bail!(
            "--out {}: exists and is not a folder; choose a folder",
            out.display()
        );
    }
    let steps = snapshot_steps(&run)?;
    let step = match step {
        Some(step) if steps.contains(&step) => step,
        Some(step) => bail!(
            "{}: no snapshot at step {step}; snapshots exist at steps {steps:?}",
            run.snapshots().display()
        ),
        None => *steps.last().expect("snapshot_steps returns at least one"),
    };
    let path = run.snapshots().join(super::snapshot_file_name(step));
    let snapshot = read_snapshot(&path)?;
    if snapshot.step != step {
        bail!(
            "{}: contains the snapshot of step {}, not {step}; the file was renamed or copied",
            path.display(),
            snapshot.step
        );
    }
    let labels = LabelSet::load(&run.labels())
        .map(|labels| labels.names)
        .unwrap_or_else(|err| {
            tracing::warn!("{err:#}; class names are written as numbers");
            Vec::new()
        });
    let sample = match read_sample(&run.snapshots().join(SAMPLE_FILE)) {
        Ok(sample) if sample.instances.len() == snapshot.instance_count() => Some(sample),
        Ok(sample) => {
            tracing::warn!(
                "{}: lists {} instances, but the snapshot has {}; the text column stays empty",
                run.snapshots().join(SAMPLE_FILE).display(),
                sample.instances.len(),
                snapshot.instance_count()
            );
            None
        }
        Err(err) => {
            tracing::warn!("{err:#}; the text column stays empty");
            None
        }
    };

    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let export = ProjectorExport {
        step,
        vectors: out.join("vectors.tsv"),
        metadata: out.join("metadata.tsv"),
        config: out.join("projector_config.pbtxt"),
        rows: snapshot.instance_count() + snapshot.class_count(),
    };
    write_atomic(&export.vectors, vectors_tsv(&snapshot).as_bytes())?;
    write_atomic(
        &export.metadata,
        metadata_tsv(&snapshot, &labels, sample.as_ref()).as_bytes(),
    )?;
    // The projector gives every row a sprite cell: thumbnails for instances, then a blank
    // cell for each label embedding.
    let sprite = match sample.as_ref().and_then(|sample| sample.sprite.as_ref()) {
        Some(sprite) => {
            let blank = RgbImage::new(sprite.cell, sprite.cell);
            let cells: Vec<RgbImage> = (0..sprite.count)
                .map(|index| sprite.thumbnail(index))
                .chain((0..snapshot.class_count()).map(|_| blank.clone()))
                .collect();
            Sprite::new(&cells, sprite.cell).write(&out.join(SPRITE_FILE))?;
            let cell = sprite.cell;
            format!(
                "  sprite {{\n    image_path: \"{SPRITE_FILE}\"\n    single_image_dim: {cell}\n    single_image_dim: {cell}\n  }}\n"
            )
        }
        None => String::new(),
    };
    let config = format!(
        "embeddings {{\n  tensor_name: \"acf step {step}\"\n  tensor_path: \"vectors.tsv\"\n  metadata_path: \"metadata.tsv\"\n{sprite}}}\n"
    );
    write_atomic(&export.config, config.as_bytes())?;
    Ok(export)
}

/// Steps of the snapshots in a run directory, ascending; an error when there are none.
pub fn snapshot_steps(run: &RunDir) -> Result<Vec<usize>> {
    let dir = run.snapshots();
    let entries = std::fs::read_dir(&dir).with_context(|| {
        format!(
            "{}: no snapshots folder; train with train.snapshot_every > 0 to write snapshots",
            dir.display()
        )
    })?;
    let mut steps: Vec<usize> = entries
        .filter_map(|entry| entry.ok())
        .filter_map(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            name.strip_prefix("step-")?
                .strip_suffix(".safetensors")?
                .parse()
                .ok()
        })
        .collect();
    steps.sort_unstable();
    if steps.is_empty() {
        bail!("{}: contains no snapshot files", dir.display());
    }
    Ok(steps)
}

fn vectors_tsv(snapshot: &EmbeddingSnapshot) -> String {
    let mut text = String::new();
    let rows = snapshot
        .instances
        .chunks_exact(snapshot.dim)
        .chain(snapshot.label_embeddings.chunks_exact(snapshot.dim));
    for row in rows {
        let values: Vec<String> = row.iter().map(|value| value.to_string()).collect();
        text.push_str(&values.join("\t"));
        text.push('\n');
    }
    text
}

fn metadata_tsv(
    snapshot: &EmbeddingSnapshot,
    labels: &[String],
    sample: Option<&SnapshotSample>,
) -> String {
    let name = |class: u32| {
        labels
            .get(class as usize)
            .cloned()
            .unwrap_or_else(|| class.to_string())
    };
    let mut text = String::from("kind\tlabel\tpredicted\tcorrect\ttext\n");
    for index in 0..snapshot.instance_count() {
        let (label, predicted) = (snapshot.labels[index], snapshot.predictions[index]);
        let instance_text = sample
            .and_then(|sample| sample.instances.get(index))
            .map(|instance| tsv_field(&instance.text))
            .unwrap_or_default();
        let _ = writeln!(
            text,
            "instance\t{}\t{}\t{}\t{instance_text}",
            tsv_field(&name(label)),
            tsv_field(&name(predicted)),
            label == predicted
        );
    }
    for class in 0..snapshot.class_count() {
        let label = tsv_field(&name(class as u32));
        let _ = writeln!(
            text,
            "label_embedding\t{label}\t{label}\ttrue\t[label] {label}"
        );
    }
    text
}

/// Tabs and line breaks would split a TSV cell.
fn tsv_field(text: &str) -> String {
    text.replace(['\t', '\n', '\r'], " ")
}
