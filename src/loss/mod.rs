//! Losses of the ACF objective: cross-entropy, the supervised and the aligned contrastive
//! loss, and the correlation penalty, plus their weighted sum.
//!
//! The functions at this level are the reference implementation in burn tensor ops: they
//! build the M x M similarity matrix explicitly and run on every burn backend. [`fused`]
//! has the same functions through WGSL kernels on wgpu.

mod contrastive;
mod correlation;
pub mod fused;
mod objective;

pub use contrastive::{aligned_contrastive_loss, l2_normalize, supervised_contrastive_loss};
pub use correlation::correlation_penalty;
pub use objective::{LossBreakdown, cross_entropy, objective_loss};

/// The reference functions under one name, for code that picks between the two paths.
pub mod reference {
    pub use super::contrastive::{aligned_contrastive_loss, supervised_contrastive_loss};
    pub use super::correlation::correlation_penalty;
}
