//! acf: aligned contrastive fine-tuning (ACF) of pre-trained encoders on burn and wgpu.
//!
//! Data flows one way, a module per stage: [`data`] -> [`model`] -> [`loss`] -> [`train`],
//! and the trainer emits events that the [`run`] directory and the terminal consume.

pub mod bench;
pub mod config;
pub mod data;
pub mod device;
pub mod gui;
pub mod loss;
pub mod model;
pub mod run;
pub mod snapshot;
pub mod train;
