//! Pooling of token states into one vector per example, as sentence-transformers'
//! `Pooling` module and BERT's pooler do it.

use burn::prelude::*;

use super::bert::BertOutputs;
use crate::config::Pooling;

/// Pools `outputs` into [batch, hidden]. `attention_mask`: [batch, seq], 1 for tokens.
/// `Pooling::Pooler` needs pooler weights; loading checks that they exist.
pub fn pool(outputs: BertOutputs, attention_mask: Tensor<2>, pooling: Pooling) -> Tensor<2> {
    let hidden = outputs.last_hidden_state; // [batch, seq, d]
    let [batch, seq, d_model] = hidden.dims();
    match pooling {
        Pooling::Cls => hidden.slice([0..batch, 0..1]).reshape([batch, d_model]),
        Pooling::Mean => {
            let mask = attention_mask.reshape([batch, seq, 1]);
            let summed = (hidden * mask.clone()).sum_dim(1).reshape([batch, d_model]);
            // sentence-transformers clamps the token count at 1e-9.
            let counts = mask.sum_dim(1).reshape([batch, 1]).clamp_min(1e-9);
            summed / counts
        }
        Pooling::Pooler => outputs
            .pooler_output
            .expect("pooler weights are checked when the model is loaded"),
    }
}
