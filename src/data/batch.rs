//! Tokenised datasets and padded batches on the device.

use anyhow::Result;
use burn::prelude::*;
use burn::tensor::TensorData;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

use super::TextExample;
use super::dataset::{Batch, Dataset};
use crate::model::{TextTokenizer, TokenizedText};

/// Batches are padded to a multiple of this many tokens, which bounds the number of
/// distinct shapes the GPU kernels are compiled and tuned for.
const PAD_MULTIPLE: usize = 8;

/// A split after tokenisation: the source examples, their tokens and class indices.
pub struct EncodedDataset {
    pub examples: Vec<TextExample>,
    pub tokens: Vec<TokenizedText>,
    /// Class index per example; empty for unlabelled inputs.
    pub labels: Vec<usize>,
    /// The tokenizer's padding token.
    pub pad_id: u32,
}

impl EncodedDataset {
    pub fn new(
        examples: Vec<TextExample>,
        labels: Vec<usize>,
        tokenizer: &TextTokenizer,
    ) -> Result<EncodedDataset> {
        let texts: Vec<(&str, Option<&str>)> = examples
            .iter()
            .map(|example| (example.text.as_str(), example.text_pair.as_deref()))
            .collect();
        let tokens = tokenizer.encode(&texts)?;
        Ok(EncodedDataset {
            examples,
            tokens,
            labels,
            pad_id: tokenizer.pad_id(),
        })
    }
}

impl Dataset for EncodedDataset {
    type Batch = TokenBatch;

    fn len(&self) -> usize {
        self.tokens.len()
    }

    fn labels(&self) -> &[usize] {
        &self.labels
    }

    fn batch(&self, indices: &[usize], _: Option<u64>, device: &Device) -> Result<TokenBatch> {
        let tokens: Vec<&TokenizedText> = indices.iter().map(|&i| &self.tokens[i]).collect();
        let labels: Option<Vec<usize>> = if self.labels.is_empty() {
            None
        } else {
            Some(indices.iter().map(|&i| self.labels[i]).collect())
        };
        Ok(TokenBatch::new(
            &tokens,
            labels.as_deref(),
            self.pad_id,
            device,
        ))
    }

    fn describe(&self, index: usize) -> (usize, String) {
        let example = &self.examples[index];
        let text = match &example.text_pair {
            Some(pair) => format!("{} [SEP] {pair}", example.text),
            None => example.text.clone(),
        };
        (example.line, text)
    }
}

/// One padded batch on the device.
#[derive(Debug, Clone)]
pub struct TokenBatch {
    /// [batch, seq]
    pub input_ids: Tensor<2, Int>,
    /// [batch, seq]
    pub token_type_ids: Tensor<2, Int>,
    /// [batch, seq], 1.0 for tokens and 0.0 for padding.
    pub attention_mask: Tensor<2>,
    /// [batch], present for labelled data.
    pub labels: Option<Tensor<1, Int>>,
    /// Number of real (non-padding) tokens, for throughput figures.
    pub token_count: usize,
}

impl TokenBatch {
    pub fn new(
        tokens: &[&TokenizedText],
        labels: Option<&[usize]>,
        pad_id: u32,
        device: &Device,
    ) -> TokenBatch {
        let batch = tokens.len();
        let longest = tokens
            .iter()
            .map(|t| t.input_ids.len())
            .max()
            .unwrap_or(1)
            .max(1);
        let seq = longest.div_ceil(PAD_MULTIPLE) * PAD_MULTIPLE;

        let mut input_ids = vec![pad_id as i64; batch * seq];
        let mut token_type_ids = vec![0i64; batch * seq];
        let mut attention_mask = vec![0.0f32; batch * seq];
        let mut token_count = 0;
        for (row, text) in tokens.iter().enumerate() {
            for (column, (&id, &type_id)) in
                text.input_ids.iter().zip(&text.token_type_ids).enumerate()
            {
                input_ids[row * seq + column] = id as i64;
                token_type_ids[row * seq + column] = type_id as i64;
                attention_mask[row * seq + column] = 1.0;
            }
            token_count += text.input_ids.len();
        }

        TokenBatch {
            input_ids: Tensor::from_data(TensorData::new(input_ids, [batch, seq]), device),
            token_type_ids: Tensor::from_data(
                TensorData::new(token_type_ids, [batch, seq]),
                device,
            ),
            attention_mask: Tensor::from_data(
                TensorData::new(attention_mask, [batch, seq]),
                device,
            ),
            labels: labels.map(|labels| {
                let labels: Vec<i64> = labels.iter().map(|&label| label as i64).collect();
                Tensor::from_data(TensorData::new(labels, [batch]), device)
            }),
            token_count,
        }
    }

    pub fn len(&self) -> usize {
        self.input_ids.dims()[0]
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Batch for TokenBatch {
    fn labels(&self) -> Option<Tensor<1, Int>> {
        self.labels.clone()
    }
}

/// Splits `0..count` into batches of `batch_size` in an order shuffled by `seed`. A last
/// batch of a single example is dropped when `drop_singleton` is set, because contrastive
/// terms need two examples.
pub fn shuffled_batches(
    count: usize,
    batch_size: usize,
    seed: u64,
    drop_singleton: bool,
) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..count).collect();
    order.shuffle(&mut StdRng::seed_from_u64(seed));
    let mut batches: Vec<Vec<usize>> = order.chunks(batch_size).map(<[usize]>::to_vec).collect();
    if drop_singleton && batches.last().is_some_and(|last| last.len() < 2) {
        batches.pop();
    }
    batches
}
