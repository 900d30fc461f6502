//! The run directory as an event sink: every event becomes one line of `metrics.jsonl`.

use anyhow::Result;
use serde_json::json;

use super::{MetricsLog, RunDir};
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
        let value = match event {
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
            TrainEvent::Finished { step, wall_seconds } => json!({
                "event": "finished", "step": step, "wall_seconds": wall_seconds,
            }),
        };
        self.log()?.append(&value)
    }
}
