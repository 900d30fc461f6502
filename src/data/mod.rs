//! Labelled data: text file readers, image data set readers, the label set, splits, and
//! tokenised, padded batches.

mod batch;
mod dataset;
pub mod image;
mod labels;
pub mod splits;
mod text;

pub use batch::{EncodedDataset, TokenBatch, shuffled_batches};
pub use dataset::{Batch, Dataset, DatasetSplits};
pub use labels::{LabelSet, name_label};
pub use splits::{Split, Splits, columns, load_splits};
pub use text::{Columns, LabelRequirement, TextExample, read_examples};
