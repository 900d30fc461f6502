//! Labelled data: text file readers, image data set readers, the label set, splits, and
//! tokenised, padded batches.

mod batch;
pub mod image;
mod labels;
mod splits;
mod text;

pub use batch::{EncodedDataset, TokenBatch, shuffled_batches};
pub use labels::LabelSet;
pub use splits::{Split, Splits, columns, load_splits};
pub use text::{Columns, LabelRequirement, TextExample, read_examples};
