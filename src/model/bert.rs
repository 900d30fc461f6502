//! BERT-family encoder, mirroring Hugging Face's `BertModel` module for module so a tensor
//! name such as `encoder.layer.3.attention.self.query.weight` leads to the struct that owns
//! it. Follows `transformers/models/bert/modeling_bert.py` (absolute position embeddings,
//! post-LayerNorm blocks, exact erf GELU).

use anyhow::{Result, bail};
use burn::nn::{Dropout, DropoutConfig, Embedding, LayerNorm, Linear};
use burn::prelude::*;
use burn::tensor::activation::{gelu, softmax};
use serde::Deserialize;

use super::weights::{WeightSink, WeightSource};

/// The checkpoint's own `config.json`, the fields this encoder reads.
#[derive(Debug, Clone, Deserialize, serde::Serialize, PartialEq)]
pub struct BertConfig {
    pub vocab_size: usize,
    pub hidden_size: usize,
    pub num_hidden_layers: usize,
    pub num_attention_heads: usize,
    pub intermediate_size: usize,
    #[serde(default = "default_hidden_act")]
    pub hidden_act: String,
    #[serde(default = "default_dropout")]
    pub hidden_dropout_prob: f64,
    #[serde(default = "default_dropout")]
    pub attention_probs_dropout_prob: f64,
    pub max_position_embeddings: usize,
    #[serde(default = "default_type_vocab_size")]
    pub type_vocab_size: usize,
    #[serde(default = "default_layer_norm_eps")]
    pub layer_norm_eps: f64,
    #[serde(default)]
    pub model_type: Option<String>,
    #[serde(default)]
    pub position_embedding_type: Option<String>,
}

fn default_hidden_act() -> String {
    "gelu".into()
}
fn default_dropout() -> f64 {
    0.1
}
fn default_type_vocab_size() -> usize {
    2
}
fn default_layer_norm_eps() -> f64 {
    1e-12
}

impl BertConfig {
    /// Checks that the config describes an architecture this encoder implements.
    pub fn check_supported(&self, source: &str) -> Result<()> {
        if let Some(model_type) = &self.model_type
            && !matches!(model_type.as_str(), "bert")
        {
            bail!("{source}: model_type {model_type:?} is not a BERT-family encoder");
        }
        if self.hidden_act != "gelu" {
            bail!(
                "{source}: hidden_act {:?} is not supported; only \"gelu\" is implemented",
                self.hidden_act
            );
        }
        if let Some(kind) = &self.position_embedding_type
            && kind != "absolute"
        {
            bail!("{source}: position_embedding_type {kind:?} is not supported; only \"absolute\"");
        }
        if self.num_attention_heads == 0
            || !self.hidden_size.is_multiple_of(self.num_attention_heads)
        {
            bail!(
                "{source}: hidden_size {} is not divisible by num_attention_heads {}",
                self.hidden_size,
                self.num_attention_heads
            );
        }
        Ok(())
    }

    fn head_size(&self) -> usize {
        self.hidden_size / self.num_attention_heads
    }
}

fn dropout(probability: f64) -> Dropout {
    DropoutConfig::new(probability).init()
}

#[derive(Module, Debug)]
pub struct BertEmbeddings {
    pub word_embeddings: Embedding,
    pub position_embeddings: Embedding,
    pub token_type_embeddings: Embedding,
    pub layer_norm: LayerNorm,
    pub dropout: Dropout,
}

impl BertEmbeddings {
    fn load(weights: &mut WeightSource, config: &BertConfig) -> Result<Self> {
        let d = config.hidden_size;
        weights.skip("embeddings.position_ids");
        Ok(Self {
            word_embeddings: weights.embedding(
                "embeddings.word_embeddings",
                config.vocab_size,
                d,
            )?,
            position_embeddings: weights.embedding(
                "embeddings.position_embeddings",
                config.max_position_embeddings,
                d,
            )?,
            token_type_embeddings: weights.embedding(
                "embeddings.token_type_embeddings",
                config.type_vocab_size,
                d,
            )?,
            layer_norm: weights.layer_norm("embeddings.LayerNorm", d, config.layer_norm_eps)?,
            dropout: dropout(config.hidden_dropout_prob),
        })
    }

    fn export(&self, sink: &mut WeightSink) {
        sink.embedding("embeddings.word_embeddings", &self.word_embeddings);
        sink.embedding("embeddings.position_embeddings", &self.position_embeddings);
        sink.embedding(
            "embeddings.token_type_embeddings",
            &self.token_type_embeddings,
        );
        sink.layer_norm("embeddings.LayerNorm", &self.layer_norm);
    }

    /// `input_ids`, `token_type_ids`: [batch, seq] -> [batch, seq, hidden].
    fn forward(&self, input_ids: Tensor<2, Int>, token_type_ids: Tensor<2, Int>) -> Tensor<3> {
        let [batch, seq] = input_ids.dims();
        let device = input_ids.device();
        let positions = Tensor::<1, Int>::arange(0..seq as i64, &device)
            .reshape([1, seq])
            .expand([batch, seq]);

        let embeddings = self.word_embeddings.forward(input_ids)
            + self.position_embeddings.forward(positions)
            + self.token_type_embeddings.forward(token_type_ids);
        self.dropout.forward(self.layer_norm.forward(embeddings))
    }
}

/// Multi-head scaled dot-product self-attention (`attention.self`).
#[derive(Module, Debug)]
pub struct BertSelfAttention {
    pub query: Linear,
    pub key: Linear,
    pub value: Linear,
    pub dropout: Dropout,
    #[module(skip)]
    pub num_heads: usize,
}

impl BertSelfAttention {
    /// `hidden`: [batch, seq, hidden]; `mask_bias`: [batch, 1, 1, seq], 0 for tokens and a
    /// large negative number for padding, added to the attention scores.
    fn forward(&self, hidden: Tensor<3>, mask_bias: Tensor<4>) -> Tensor<3> {
        let [batch, seq, d_model] = hidden.dims();
        let head_size = d_model / self.num_heads;
        let split_heads = |x: Tensor<3>| {
            x.reshape([batch, seq, self.num_heads, head_size])
                .swap_dims(1, 2) // [batch, heads, seq, head_size]
        };

        let query = split_heads(self.query.forward(hidden.clone()));
        let key = split_heads(self.key.forward(hidden.clone()));
        let value = split_heads(self.value.forward(hidden));

        let scores = query.matmul(key.swap_dims(2, 3)) / (head_size as f64).sqrt() + mask_bias;
        let probabilities = self.dropout.forward(softmax(scores, 3)); // [batch, heads, seq, seq]
        probabilities
            .matmul(value)
            .swap_dims(1, 2)
            .reshape([batch, seq, d_model])
    }
}

/// Projection, dropout, residual and LayerNorm after attention (`attention.output`).
#[derive(Module, Debug)]
pub struct BertSelfOutput {
    pub dense: Linear,
    pub layer_norm: LayerNorm,
    pub dropout: Dropout,
}

#[derive(Module, Debug)]
pub struct BertAttention {
    pub self_attention: BertSelfAttention,
    pub output: BertSelfOutput,
}

/// Feed-forward up-projection with GELU (`intermediate`).
#[derive(Module, Debug)]
pub struct BertIntermediate {
    pub dense: Linear,
}

/// Feed-forward down-projection, dropout, residual and LayerNorm (`output`).
#[derive(Module, Debug)]
pub struct BertOutput {
    pub dense: Linear,
    pub layer_norm: LayerNorm,
    pub dropout: Dropout,
}

#[derive(Module, Debug)]
pub struct BertLayer {
    pub attention: BertAttention,
    pub intermediate: BertIntermediate,
    pub output: BertOutput,
}

impl BertLayer {
    fn load(weights: &mut WeightSource, config: &BertConfig, index: usize) -> Result<Self> {
        let d = config.hidden_size;
        let eps = config.layer_norm_eps;
        let p = format!("encoder.layer.{index}");
        Ok(Self {
            attention: BertAttention {
                self_attention: BertSelfAttention {
                    query: weights.linear(&format!("{p}.attention.self.query"), d, d)?,
                    key: weights.linear(&format!("{p}.attention.self.key"), d, d)?,
                    value: weights.linear(&format!("{p}.attention.self.value"), d, d)?,
                    dropout: dropout(config.attention_probs_dropout_prob),
                    num_heads: config.num_attention_heads,
                },
                output: BertSelfOutput {
                    dense: weights.linear(&format!("{p}.attention.output.dense"), d, d)?,
                    layer_norm: weights.layer_norm(
                        &format!("{p}.attention.output.LayerNorm"),
                        d,
                        eps,
                    )?,
                    dropout: dropout(config.hidden_dropout_prob),
                },
            },
            intermediate: BertIntermediate {
                dense: weights.linear(
                    &format!("{p}.intermediate.dense"),
                    d,
                    config.intermediate_size,
                )?,
            },
            output: BertOutput {
                dense: weights.linear(&format!("{p}.output.dense"), config.intermediate_size, d)?,
                layer_norm: weights.layer_norm(&format!("{p}.output.LayerNorm"), d, eps)?,
                dropout: dropout(config.hidden_dropout_prob),
            },
        })
    }

    fn export(&self, sink: &mut WeightSink, index: usize) {
        let p = format!("encoder.layer.{index}");
        let attention = &self.attention;
        sink.linear(
            &format!("{p}.attention.self.query"),
            &attention.self_attention.query,
        );
        sink.linear(
            &format!("{p}.attention.self.key"),
            &attention.self_attention.key,
        );
        sink.linear(
            &format!("{p}.attention.self.value"),
            &attention.self_attention.value,
        );
        sink.linear(
            &format!("{p}.attention.output.dense"),
            &attention.output.dense,
        );
        sink.layer_norm(
            &format!("{p}.attention.output.LayerNorm"),
            &attention.output.layer_norm,
        );
        sink.linear(&format!("{p}.intermediate.dense"), &self.intermediate.dense);
        sink.linear(&format!("{p}.output.dense"), &self.output.dense);
        sink.layer_norm(&format!("{p}.output.LayerNorm"), &self.output.layer_norm);
    }

    /// [batch, seq, hidden] -> [batch, seq, hidden].
    fn forward(&self, hidden: Tensor<3>, mask_bias: Tensor<4>) -> Tensor<3> {
        let attention = &self.attention;
        let context = attention.self_attention.forward(hidden.clone(), mask_bias);
        let context = attention.output.dense.forward(context);
        let hidden = attention
            .output
            .layer_norm
            .forward(attention.output.dropout.forward(context) + hidden);

        let intermediate = gelu(self.intermediate.dense.forward(hidden.clone()));
        let output = self.output.dense.forward(intermediate);
        self.output
            .layer_norm
            .forward(self.output.dropout.forward(output) + hidden)
    }
}

#[derive(Module, Debug)]
pub struct BertEncoder {
    pub layer: Vec<BertLayer>,
}

/// `tanh(W h_cls + b)` over the first token (`pooler.dense`).
#[derive(Module, Debug)]
pub struct BertPooler {
    pub dense: Linear,
}

/// The encoder: embeddings, transformer layers and the optional pooler.
#[derive(Module, Debug)]
pub struct BertModel {
    pub embeddings: BertEmbeddings,
    pub encoder: BertEncoder,
    pub pooler: Option<BertPooler>,
}

/// Output of one encoder pass.
pub struct BertOutputs {
    /// [batch, seq, hidden]
    pub last_hidden_state: Tensor<3>,
    /// [batch, hidden], present when the checkpoint has pooler weights.
    pub pooler_output: Option<Tensor<2>>,
}

impl BertModel {
    /// Builds the encoder from `config` and takes every tensor it needs from `weights`.
    pub fn load(weights: &mut WeightSource, config: &BertConfig) -> Result<Self> {
        let embeddings = BertEmbeddings::load(weights, config)?;
        let layer = (0..config.num_hidden_layers)
            .map(|index| BertLayer::load(weights, config, index))
            .collect::<Result<Vec<_>>>()?;
        let pooler = if weights.contains("pooler.dense.weight") {
            Some(BertPooler {
                dense: weights.linear("pooler.dense", config.hidden_size, config.hidden_size)?,
            })
        } else {
            None
        };
        debug_assert_eq!(
            config.head_size() * config.num_attention_heads,
            config.hidden_size
        );
        Ok(Self {
            embeddings,
            encoder: BertEncoder { layer },
            pooler,
        })
    }

    /// Adds every tensor under its Hugging Face name to `sink`.
    pub fn export(&self, sink: &mut WeightSink) {
        self.embeddings.export(sink);
        for (index, layer) in self.encoder.layer.iter().enumerate() {
            layer.export(sink, index);
        }
        if let Some(pooler) = &self.pooler {
            sink.linear("pooler.dense", &pooler.dense);
        }
    }

    /// `input_ids`, `token_type_ids`: [batch, seq]; `attention_mask`: [batch, seq] with 1 for
    /// tokens and 0 for padding.
    pub fn forward(
        &self,
        input_ids: Tensor<2, Int>,
        token_type_ids: Tensor<2, Int>,
        attention_mask: Tensor<2>,
    ) -> BertOutputs {
        let [batch, seq] = input_ids.dims();

        // Padding keys get -10000 before the softmax, as in the original BERT, which
        // underflows to an attention weight of exactly 0 in f32.
        let mask_bias = ((attention_mask - 1.0) * 10000.0).reshape([batch, 1, 1, seq]);

        let mut hidden = self.embeddings.forward(input_ids, token_type_ids);
        for layer in &self.encoder.layer {
            hidden = layer.forward(hidden, mask_bias.clone());
        }

        let pooler_output = self.pooler.as_ref().map(|pooler| {
            let d_model = hidden.dims()[2];
            let first = hidden
                .clone()
                .slice([0..batch, 0..1])
                .reshape([batch, d_model]);
            pooler.dense.forward(first).tanh()
        });
        BertOutputs {
            last_hidden_state: hidden,
            pooler_output,
        }
    }
}
