//! Events the trainer emits. Sinks (the run directory, the terminal) consume them, so the
//! training code does not depend on who listens.

use serde::Serialize;

use super::evaluate::LossMeans;
use super::metrics::ClassificationMetrics;
use crate::snapshot::{SharedSample, SharedSnapshot};

/// One logged optimiser step.
#[derive(Debug, Clone, Serialize)]
pub struct StepMetrics {
    pub step: usize,
    /// Fractional epoch: 1.5 is halfway through the second epoch.
    pub epoch: f64,
    pub lr: f64,
    pub loss: f64,
    pub loss_ce: f64,
    pub loss_contrastive: f64,
    pub loss_correlation: f64,
    pub grad_norm: f64,
    /// Training examples per second over the steps since the previous logged step.
    pub examples_per_second: f64,
}

/// One evaluation of a split.
#[derive(Debug, Clone, Serialize)]
pub struct EvaluationMetrics {
    pub step: usize,
    pub epoch: f64,
    /// `validation` or `test`.
    pub split: String,
    pub examples: usize,
    #[serde(flatten)]
    pub losses: LossMeans,
    #[serde(flatten)]
    pub metrics: ClassificationMetrics,
}

#[derive(Debug, Clone)]
pub enum TrainEvent {
    Started {
        total_steps: usize,
        start_step: usize,
        backend: String,
        adapter: String,
    },
    Step(StepMetrics),
    Evaluation(EvaluationMetrics),
    Checkpoint {
        step: usize,
        path: std::path::PathBuf,
    },
    /// The instances every snapshot embeds; sent once, before the first snapshot.
    SnapshotSample(SharedSample),
    /// Embeddings of the sample and the label embeddings at one step.
    Snapshot(SharedSnapshot),
    Finished {
        step: usize,
        wall_seconds: f64,
        /// The run was asked to stop before its last step; a checkpoint contains `step`.
        stopped: bool,
    },
}

/// A consumer of training events.
pub trait EventSink {
    fn handle(&mut self, event: &TrainEvent) -> anyhow::Result<()>;
}
