//! `metrics.jsonl`: one JSON object per event, appended and flushed as it happens.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;

use anyhow::{Context, Result};

pub struct MetricsLog {
    file: File,
}

impl MetricsLog {
    /// Opens `path` for appending; a resumed run continues the same log.
    pub fn open(path: &Path) -> Result<MetricsLog> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .with_context(|| format!("cannot open {}", path.display()))?;
        Ok(MetricsLog { file })
    }

    pub fn append(&mut self, event: &serde_json::Value) -> Result<()> {
        let mut line = serde_json::to_string(event)?;
        line.push('\n');
        self.file
            .write_all(line.as_bytes())
            .and_then(|()| self.file.flush())
            .context("cannot append to metrics.jsonl")
    }
}

/// Reads every complete JSON line of a metrics log. A truncated or invalid line (a run
/// killed mid-write) is skipped and reported in the returned list of problems.
pub fn read_metrics(path: &Path) -> Result<(Vec<serde_json::Value>, Vec<String>)> {
    let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut events = Vec::new();
    let mut problems = Vec::new();
    for (index, line) in BufReader::new(file).lines().enumerate() {
        let line = line.with_context(|| format!("cannot read {}", path.display()))?;
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str(&line) {
            Ok(value) => events.push(value),
            Err(err) => problems.push(format!(
                "{}:{}: skipped invalid line: {err}",
                path.display(),
                index + 1
            )),
        }
    }
    Ok((events, problems))
}
