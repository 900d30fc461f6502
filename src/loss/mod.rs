//! Losses of the ACF objective in burn tensor ops: cross-entropy, the supervised and the
//! aligned contrastive loss, and the correlation penalty, plus their weighted sum.
//!
//! These are the reference implementation: they build the M x M similarity matrix
//! explicitly and run on every burn backend.

mod contrastive;
mod correlation;
mod objective;

pub use contrastive::{aligned_contrastive_loss, l2_normalize, supervised_contrastive_loss};
pub use correlation::correlation_penalty;
pub use objective::{LossBreakdown, cross_entropy, objective_loss};
