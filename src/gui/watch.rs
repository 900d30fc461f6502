//! Reading a run directory, finished or still being written: the labels, the sample and
//! every complete line of `metrics.jsonl`, picking up new lines on each poll.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use anyhow::Result;
use serde_json::Value;

use super::state::RunState;
use crate::data::LabelSet;
use crate::run::RunDir;
use crate::snapshot::{SAMPLE_FILE, read_sample};

/// Follows one run directory.
#[derive(Debug)]
pub struct RunWatcher {
    run: RunDir,
    /// Bytes of `metrics.jsonl` already consumed.
    offset: u64,
    /// Complete lines consumed, for messages that name a line.
    lines: usize,
    /// Text after the last newline: a line being written, or one cut off by a kill.
    pending: String,
    /// The message shown while `pending` contains an incomplete line.
    pending_message: Option<String>,
    sample_loaded: bool,
    /// Invalid lines seen; past [`MAX_LINE_MESSAGES`] they are only counted.
    invalid_lines: usize,
    /// The message that counts the invalid lines not listed one by one.
    invalid_summary: Option<String>,
}

/// Invalid lines reported one by one; the rest are summed up in one message.
const MAX_LINE_MESSAGES: usize = 10;

impl RunWatcher {
    /// Opens `root` and reads what is there into `state`. A folder that is not a run
    /// directory is an error; anything unreadable inside one becomes a message.
    pub fn open(root: &Path, state: &mut RunState) -> Result<RunWatcher> {
        let run = RunDir::new(root);
        run.check_is_run()?;
        state.run_dir = Some(root.to_path_buf());
        if !run.metrics().exists() {
            state.report(format!(
                "{}: missing, so no curves or snapshots are listed; a run writes it from its first event",
                run.metrics().display()
            ));
        }
        match LabelSet::load(&run.labels()) {
            Ok(labels) => state.label_names = labels.names,
            Err(err) => state.report(format!("{err:#}; class names show as numbers")),
        }
        let mut watcher = RunWatcher {
            run,
            offset: 0,
            lines: 0,
            pending: String::new(),
            pending_message: None,
            sample_loaded: false,
            invalid_lines: 0,
            invalid_summary: None,
        };
        watcher.poll(state);
        Ok(watcher)
    }

    pub fn root(&self) -> &Path {
        &self.run.root
    }

    /// Applies every line completed since the last poll.
    pub fn poll(&mut self, state: &mut RunState) {
        let path = self.run.metrics();
        match read_from(&path, self.offset) {
            Ok(bytes) => {
                self.offset += bytes.len() as u64;
                self.pending.push_str(&String::from_utf8_lossy(&bytes));
            }
            Err(err) => {
                state.report(format!("{}: {err}", path.display()));
                return;
            }
        }

        while let Some(end) = self.pending.find('\n') {
            let line: String = self.pending.drain(..=end).collect();
            self.lines += 1;
            self.apply_line(line.trim(), state);
        }
        self.check_pending(state);
        self.load_sample(state);
    }

    fn apply_line(&mut self, line: &str, state: &mut RunState) {
        if line.is_empty() {
            return;
        }
        let problem = match serde_json::from_str::<Value>(line) {
            Ok(record) => state.apply_record(&record).err(),
            Err(err) => Some(format!("invalid JSON: {err}")),
        };
        let Some(problem) = problem else { return };
        self.invalid_lines += 1;
        let path = self.run.metrics();
        if self.invalid_lines <= MAX_LINE_MESSAGES {
            state.report(format!(
                "{}:{}: skipped line: {problem}",
                path.display(),
                self.lines
            ));
            return;
        }
        if let Some(previous) = self.invalid_summary.take() {
            state.messages.retain(|existing| existing != &previous);
        }
        let summary = format!(
            "{}: skipped {} more invalid lines; the file may not be a metrics log",
            path.display(),
            self.invalid_lines - MAX_LINE_MESSAGES
        );
        state.messages.push(summary.clone());
        self.invalid_summary = Some(summary);
    }

    /// Shows a message while the last line is unterminated, because it is either being
    /// written or was cut off, and drops the message once a later poll completes the line.
    fn check_pending(&mut self, state: &mut RunState) {
        if let Some(message) = self.pending_message.take() {
            state.messages.retain(|existing| existing != &message);
        }
        if self.pending.trim().is_empty() {
            return;
        }
        let message = format!(
            "{}:{}: the last line is incomplete (a run killed mid-write, or one still writing it); skipped",
            self.run.metrics().display(),
            self.lines + 1
        );
        state.report(message.clone());
        self.pending_message = Some(message);
    }

    fn load_sample(&mut self, state: &mut RunState) {
        if self.sample_loaded || state.snapshots.is_empty() {
            return;
        }
        self.sample_loaded = true;
        let path: PathBuf = self.run.snapshots().join(SAMPLE_FILE);
        match read_sample(&path) {
            Ok(sample) => state.set_sample(std::sync::Arc::new(sample)),
            Err(err) => state.report(format!("{err:#}")),
        }
    }
}

/// Returns the bytes of `path` from `offset` on. A file that does not exist yet reads as empty.
fn read_from(path: &Path, offset: u64) -> std::io::Result<Vec<u8>> {
    let mut file = match File::open(path) {
        Ok(file) => file,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(err) => return Err(err),
    };
    file.seek(SeekFrom::Start(offset))?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)?;
    Ok(bytes)
}
