//! Training: the loop, AdamW with warmup and decay, evaluation, metrics and checkpoints.

pub mod checkpoint;
pub mod evaluate;
pub mod events;
pub mod metrics;
pub mod optimizer;
pub mod schedule;
pub mod setup;
pub mod snapshot;
mod trainer;

pub use events::{EventSink, TrainEvent};
pub use trainer::{train, train_until};
