//! The run directory as an event sink: every event becomes one line of `metrics.jsonl`.

use anyhow::Result;
use serde_json::json;

use super::{MetricsLog, RunDir};
use crate::snapshot::{
    SAMPLE_FILE, SNAPSHOT_DIR, snapshot_file_name, write_sample, write_snapshot,
};
use crate::train::{EventSink, TrainEvent};

pub struct RunDirSink {
    log: Option<MetricsLog>,
    run: RunDir,
}

impl RunDirSink {
    pub fn new(run: RunDir) -> RunDirSink {
        RunDirSink { log: None, run }
    }

    fn log(&mut self) -> Result<&mut MetricsLog> {
        if self.log.is_none() {
            std::fs::create_dir_all(&self.run.root)?;
            self.log = Some(MetricsLog::open(&self.run.metrics())?);
        }
        Ok(self.log.as_mut().expect("opened above"))
    }
}

impl EventSink for RunDirSink {
    fn handle(&mut self, event: &TrainEvent) -> Result<()> {
        // Snapshot data goes to its own file first, so every logged snapshot line names a
        // file that exists.
        match event {
            TrainEvent::SnapshotSample(sample) => {
                write_sample(&self.run.snapshots().join(SAMPLE_FILE), sample)?;
            }
            TrainEvent::Snapshot(snapshot) => {
                let path = self.run.snapshots().join(snapshot_file_name(snapshot.step));
                write_snapshot(&path, snapshot)?;
            }
            _ => {}
        }
        let record = event_record(event)?;
        self.log()?.append(&record)
    }
}

/// Returns the `metrics.jsonl` line of an event. Snapshot lines carry the readouts and name the
/// file with the embeddings, relative to the run directory.
pub fn event_record(event: &TrainEvent) -> Result<serde_json::Value> {
    Ok(match event {
        TrainEvent::Started {
            total_steps,
            start_step,
            backend,
            adapter,
        } => json!({
            "event": "started", "total_steps": total_steps, "start_step": start_step,
            "backend": backend, "adapter": adapter,
        }),
        TrainEvent::Step(metrics) => {
            let mut value = serde_json::to_value(metrics)?;
            value["event"] = json!("step");
            value
        }
        TrainEvent::Evaluation(metrics) => {
            let mut value = serde_json::to_value(metrics)?;
            value["event"] = json!("evaluation");
            value
        }
        TrainEvent::Checkpoint { step, path } => json!({
            "event": "checkpoint", "step": step, "path": path,
        }),
        TrainEvent::SnapshotSample(sample) => json!({
            "event": "snapshot_sample", "split": sample.split,
            "instances": sample.instances.len(),
            "file": format!("{SNAPSHOT_DIR}/{SAMPLE_FILE}"),
        }),
        TrainEvent::Snapshot(snapshot) => {
            let mut value = serde_json::to_value(&snapshot.readouts)?;
            value["event"] = json!("snapshot");
            value["step"] = json!(snapshot.step);
            value["instances"] = json!(snapshot.instance_count());
            value["classes"] = json!(snapshot.class_count());
            value["explained_variance"] = json!(snapshot.explained_variance);
            value["file"] = json!(format!(
                "{SNAPSHOT_DIR}/{}",
                snapshot_file_name(snapshot.step)
            ));
            value
        }
        TrainEvent::Finished {
            step,
            wall_seconds,
            stopped,
        } => json!({
            "event": "finished", "step": step, "wall_seconds": wall_seconds, "stopped": stopped,
        }),
    })
}
