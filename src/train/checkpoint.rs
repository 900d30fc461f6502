//! Checkpoints: `checkpoints/step-NNNNNNN/` with the model (safetensors, Hugging Face
//! names), the optimiser moments and `state.json`, plus a `checkpoints/latest` pointer.
//! A checkpoint is written into a temporary folder and renamed into place, so a run killed
//! mid-write leaves the previous checkpoint as the latest one.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

use super::optimizer::AdamW;
use crate::config::Pooling;
use crate::model::{BertConfig, Classifier, ModelKind};
use crate::run::{RunDir, write_atomic};

/// Checkpoints kept on disk; older ones are removed after a new one is in place.
const KEPT_CHECKPOINTS: usize = 2;

/// Checkpoint metadata besides tensors, to resume and to check compatibility.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CheckpointState {
    /// Optimiser steps completed.
    pub step: usize,
    /// `model.name` the run started from.
    pub model_name: String,
    /// Text encoder or image backbone. Checkpoints without the key are text models.
    #[serde(default)]
    pub kind: ModelKind,
    /// The text encoder's `config.json`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoder_config: Option<BertConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pooling: Option<Pooling>,
    /// Input side of an image backbone, pixels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_size: Option<u32>,
    pub labels: Vec<String>,
}

pub const MODEL_FILE: &str = "model.safetensors";
pub const OPTIMIZER_FILE: &str = "optimizer.safetensors";
pub const STATE_FILE: &str = "state.json";
const LATEST_FILE: &str = "latest";

/// Writes a checkpoint and points `checkpoints/latest` at it.
pub fn write_checkpoint<M: Classifier>(
    run: &RunDir,
    model: &M,
    optimizer: &AdamW,
    state: &CheckpointState,
) -> Result<PathBuf> {
    let root = run.checkpoints();
    std::fs::create_dir_all(&root).with_context(|| format!("cannot create {}", root.display()))?;
    let name = format!("step-{:07}", state.step);
    let final_dir = root.join(&name);
    let temporary = root.join(format!(".{name}.tmp-{}", std::process::id()));
    if temporary.exists() {
        std::fs::remove_dir_all(&temporary)?;
    }
    std::fs::create_dir_all(&temporary)?;

    write_atomic(&temporary.join(MODEL_FILE), &model.export().to_bytes()?)?;
    optimizer.save(&temporary.join(OPTIMIZER_FILE))?;
    write_atomic(
        &temporary.join(STATE_FILE),
        serde_json::to_string_pretty(state)?.as_bytes(),
    )?;

    if final_dir.exists() {
        // Only a resumed run that repeats a step lands here; the new tensors replace the old.
        std::fs::remove_dir_all(&final_dir)?;
    }
    std::fs::rename(&temporary, &final_dir)
        .with_context(|| format!("cannot move checkpoint into {}", final_dir.display()))?;
    write_atomic(&root.join(LATEST_FILE), name.as_bytes())?;
    prune(&root, &name)?;
    Ok(final_dir)
}

fn prune(root: &Path, latest: &str) -> Result<()> {
    let mut names: Vec<String> = std::fs::read_dir(root)?
        .filter_map(|entry| entry.ok())
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with("step-"))
        .collect();
    names.sort();
    let excess = names.len().saturating_sub(KEPT_CHECKPOINTS);
    for name in names.iter().take(excess) {
        if name != latest {
            std::fs::remove_dir_all(root.join(name))?;
        }
    }
    Ok(())
}

/// Returns the folder that `checkpoints/latest` points at, if any.
pub fn latest_checkpoint(run: &RunDir) -> Result<Option<PathBuf>> {
    let pointer = run.checkpoints().join(LATEST_FILE);
    if !pointer.exists() {
        return Ok(None);
    }
    let name = std::fs::read_to_string(&pointer)
        .with_context(|| format!("cannot read {}", pointer.display()))?;
    let dir = run.checkpoints().join(name.trim());
    if !dir.join(STATE_FILE).is_file() || !dir.join(MODEL_FILE).is_file() {
        bail!(
            "{}: points at {} which is incomplete; remove the pointer to fall back to an older checkpoint",
            pointer.display(),
            dir.display()
        );
    }
    Ok(Some(dir))
}

pub fn read_state(dir: &Path) -> Result<CheckpointState> {
    let path = dir.join(STATE_FILE);
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    serde_json::from_str(&text)
        .map_err(|err| anyhow::anyhow!("{}: invalid checkpoint state: {err}", path.display()))
}
