//! The terminal as an event sink: a progress bar with loss and throughput, and log lines
//! for evaluations and checkpoints.

use acf::train::{EventSink, TrainEvent};
use anyhow::Result;
use indicatif::{ProgressBar, ProgressStyle};

#[derive(Default)]
pub struct ProgressSink {
    bar: Option<ProgressBar>,
}

impl ProgressSink {
    /// Logs `line` without tearing the progress bar.
    fn log(&self, line: &str) {
        match &self.bar {
            Some(bar) => bar.suspend(|| tracing::info!("{line}")),
            None => tracing::info!("{line}"),
        }
    }
}

impl EventSink for ProgressSink {
    fn handle(&mut self, event: &TrainEvent) -> Result<()> {
        match event {
            TrainEvent::Started {
                total_steps,
                start_step,
                ..
            } => {
                let bar = ProgressBar::new(*total_steps as u64);
                bar.set_style(ProgressStyle::with_template(
                    "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} steps (eta {eta}) {msg}",
                )?);
                bar.set_position(*start_step as u64);
                self.bar = Some(bar);
            }
            TrainEvent::Step(metrics) => {
                if let Some(bar) = &self.bar {
                    bar.set_position(metrics.step as u64);
                    bar.set_message(format!(
                        "loss {:.4} (ce {:.4}, contrastive {:.4}, corr {:.4}) lr {:.2e} {:.1} ex/s",
                        metrics.loss,
                        metrics.loss_ce,
                        metrics.loss_contrastive,
                        metrics.loss_correlation,
                        metrics.lr,
                        metrics.examples_per_second
                    ));
                }
            }
            TrainEvent::Evaluation(metrics) => {
                let line = format!(
                    "step {} {}: accuracy {:.4}, macro-F1 {:.4}, MCC {:.4}, nearest-label accuracy {:.4}, loss {:.4}",
                    metrics.step,
                    metrics.split,
                    metrics.metrics.accuracy,
                    metrics.metrics.macro_f1,
                    metrics.metrics.matthews_correlation,
                    metrics.metrics.nearest_label_accuracy,
                    metrics.losses.loss
                );
                self.log(&line);
            }
            TrainEvent::Checkpoint { step, path } => {
                let line = format!("step {step}: checkpoint {}", path.display());
                self.log(&line);
            }
            TrainEvent::Snapshot(snapshot) => {
                let line = format!(
                    "step {}: snapshot of {} instances, own-label cosine {}",
                    snapshot.step,
                    snapshot.instance_count(),
                    snapshot
                        .readouts
                        .own_label_cosine
                        .map_or("n/a".to_string(), |value| format!("{value:.3}"))
                );
                self.log(&line);
            }
            TrainEvent::SnapshotSample(_) => {}
            TrainEvent::Finished { .. } => {
                if let Some(bar) = self.bar.take() {
                    bar.finish();
                }
            }
        }
        Ok(())
    }
}
