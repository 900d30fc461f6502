//! Wordpiece tokenisation through Hugging Face's `tokenizers`, from the checkpoint's own
//! `tokenizer.json`, with truncation to `max_length` tokens and no padding (batches are
//! padded when they are built).

use std::path::Path;

use anyhow::{Result, anyhow};
use tokenizers::{EncodeInput, Tokenizer, TruncationParams, TruncationStrategy};

/// Token ids of one example, special tokens included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenizedText {
    pub input_ids: Vec<u32>,
    pub token_type_ids: Vec<u32>,
}

pub struct TextTokenizer {
    inner: Tokenizer,
    pad_id: u32,
}

impl TextTokenizer {
    /// Loads `tokenizer.json` and truncates every input to `max_length` tokens (longest
    /// segment first for sentence pairs, as `transformers` does).
    pub fn from_file(path: &Path, max_length: usize) -> Result<TextTokenizer> {
        let mut inner = Tokenizer::from_file(path)
            .map_err(|err| anyhow!("{}: invalid tokenizer file: {err}", path.display()))?;
        inner
            .with_truncation(Some(TruncationParams {
                max_length,
                strategy: TruncationStrategy::LongestFirst,
                ..TruncationParams::default()
            }))
            .map_err(|err| anyhow!("{}: cannot set truncation: {err}", path.display()))?;
        inner.with_padding(None);
        let pad_id = inner.token_to_id("[PAD]").unwrap_or(0);
        Ok(TextTokenizer { inner, pad_id })
    }

    pub fn pad_id(&self) -> u32 {
        self.pad_id
    }

    /// Tokenises texts (and optional second segments) with special tokens.
    pub fn encode(&self, texts: &[(&str, Option<&str>)]) -> Result<Vec<TokenizedText>> {
        let inputs: Vec<EncodeInput> = texts
            .iter()
            .map(|(text, pair)| match pair {
                Some(pair) => EncodeInput::Dual((*text).into(), (*pair).into()),
                None => EncodeInput::Single((*text).into()),
            })
            .collect();
        let encodings = self
            .inner
            .encode_batch(inputs, true)
            .map_err(|err| anyhow!("tokenisation failed: {err}"))?;
        Ok(encodings
            .into_iter()
            .map(|encoding| TokenizedText {
                input_ids: encoding.get_ids().to_vec(),
                token_type_ids: encoding.get_type_ids().to_vec(),
            })
            .collect())
    }
}
