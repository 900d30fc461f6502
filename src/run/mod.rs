//! The run directory: resolved config, labels, the event log, the summary, checkpoints and
//! embedding snapshots.
//! Every file but the append-only `metrics.jsonl` is written atomically (temporary file,
//! then rename), so a run killed mid-write leaves the previous version intact.

mod metrics_log;
mod sink;

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

pub use metrics_log::{MetricsLog, read_metrics};
pub use sink::{RunDirSink, event_record};

/// Writes `bytes` to `path` through a temporary file in the same folder and a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let file_name = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temporary = dir.join(format!(".{file_name}.tmp-{}", std::process::id()));
    {
        let mut file = std::fs::File::create(&temporary)
            .with_context(|| format!("cannot create {}", temporary.display()))?;
        file.write_all(bytes)
            .and_then(|()| file.sync_all())
            .with_context(|| format!("cannot write {}", temporary.display()))?;
    }
    if let Err(err) = std::fs::rename(&temporary, path) {
        let _ = std::fs::remove_file(&temporary);
        return Err(err).with_context(|| format!("cannot replace {}", path.display()));
    }
    Ok(())
}

/// Paths of the files in one run directory.
#[derive(Debug, Clone)]
pub struct RunDir {
    pub root: PathBuf,
}

impl RunDir {
    pub fn new(root: &Path) -> RunDir {
        RunDir {
            root: root.to_path_buf(),
        }
    }

    pub fn config(&self) -> PathBuf {
        self.root.join("config.toml")
    }

    pub fn labels(&self) -> PathBuf {
        self.root.join("labels.json")
    }

    pub fn metrics(&self) -> PathBuf {
        self.root.join("metrics.jsonl")
    }

    pub fn summary(&self) -> PathBuf {
        self.root.join("summary.json")
    }

    pub fn checkpoints(&self) -> PathBuf {
        self.root.join("checkpoints")
    }

    pub fn snapshots(&self) -> PathBuf {
        self.root.join(crate::snapshot::SNAPSHOT_DIR)
    }

    /// Checks that the folder contains a run written by `acf train`, for commands that read one.
    pub fn check_is_run(&self) -> Result<()> {
        let root = self.root.display();
        if self.root.is_file() {
            anyhow::bail!(
                "{root} is a file, not a run directory; pass the folder that `acf train` wrote"
            );
        }
        if !self.root.exists() {
            anyhow::bail!("{root}: no such run directory");
        }
        if !self.metrics().exists() && !self.config().exists() {
            anyhow::bail!(
                "{root}: not a run directory (no metrics.jsonl or config.toml); pass the folder that `acf train` wrote"
            );
        }
        Ok(())
    }

    /// Returns whether the folder already contains a run (a config or any checkpoint).
    pub fn has_run(&self) -> bool {
        self.config().exists() || self.checkpoints().exists()
    }
}
