//! Reading and writing model weights as safetensors under Hugging Face's tensor names.
//!
//! `WeightSource` hands out tensors by name and remembers which ones were claimed, so a
//! missing, extra or mis-shaped tensor is an error that names it. `WeightSink` collects
//! tensors for the reverse trip (checkpoints), again under Hugging Face names.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use burn::module::Param;
use burn::nn::{Embedding, LayerNorm, LayerNormConfig, Linear};
use burn::prelude::*;
use burn::tensor::TensorData;
use safetensors::{Dtype, SafeTensors};

/// Tensors of one safetensors file, decoded to f32 and keyed by name without any
/// architecture prefix (such as `bert.`).
pub struct WeightSource {
    path: PathBuf,
    tensors: BTreeMap<String, (Vec<usize>, Vec<f32>)>,
    /// Names taken by a module or deliberately skipped.
    claimed: BTreeSet<String>,
    device: Device,
}

impl WeightSource {
    /// Reads `path` and strips `prefix` (for example `"bert."`) from names that carry it.
    pub fn open(path: &Path, prefix: &str, device: &Device) -> Result<WeightSource> {
        let bytes =
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        let file = SafeTensors::deserialize(&bytes).map_err(|err| {
            anyhow::anyhow!(
                "{}: not a valid safetensors file ({err}); the file may be truncated, so download or copy it again",
                path.display()
            )
        })?;

        let mut tensors = BTreeMap::new();
        for (name, view) in file.tensors() {
            let shape = view.shape().to_vec();
            let values = match view.dtype() {
                Dtype::F32 => view
                    .data()
                    .chunks_exact(4)
                    .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                    .collect(),
                Dtype::F16 => view
                    .data()
                    .chunks_exact(2)
                    .map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f32())
                    .collect(),
                Dtype::BF16 => view
                    .data()
                    .chunks_exact(2)
                    .map(|b| half::bf16::from_le_bytes([b[0], b[1]]).to_f32())
                    .collect(),
                // Integer buffers such as `embeddings.position_ids` are not parameters.
                Dtype::I64 | Dtype::I32 => Vec::new(),
                other => bail!(
                    "{}: tensor {name} has dtype {other:?}; only F32, F16 and BF16 weights are supported",
                    path.display()
                ),
            };
            let name = name.strip_prefix(prefix).unwrap_or(&name).to_string();
            tensors.insert(name, (shape, values));
        }

        Ok(WeightSource {
            path: path.to_path_buf(),
            tensors,
            claimed: BTreeSet::new(),
            device: device.clone(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn contains(&self, name: &str) -> bool {
        self.tensors.contains_key(name)
    }

    /// Marks a tensor as deliberately unused (a buffer or a head this model does not have).
    pub fn skip(&mut self, name: &str) {
        if self.tensors.contains_key(name) {
            self.claimed.insert(name.to_string());
        }
    }

    /// Takes a tensor by name, checking its shape.
    pub fn tensor<const D: usize>(&mut self, name: &str, shape: [usize; D]) -> Result<Tensor<D>> {
        let values = self.values(name, &shape)?;
        Ok(Tensor::from_data(
            TensorData::new(values, shape),
            &self.device,
        ))
    }

    fn values(&mut self, name: &str, shape: &[usize]) -> Result<Vec<f32>> {
        let Some((found_shape, values)) = self.tensors.get(name) else {
            bail!(
                "{}: tensor {name} is missing; the checkpoint does not match the model's config.json",
                self.path.display()
            );
        };
        if found_shape.as_slice() != shape {
            bail!(
                "{}: tensor {name} has shape {found_shape:?}, expected {shape:?} from config.json",
                self.path.display()
            );
        }
        self.claimed.insert(name.to_string());
        Ok(values.clone())
    }

    /// Builds a `Linear` from Hugging Face's `[out, in]` weight and `[out]` bias.
    pub fn linear(&mut self, prefix: &str, d_input: usize, d_output: usize) -> Result<Linear> {
        let weight = self.values(&format!("{prefix}.weight"), &[d_output, d_input])?;
        let bias = self.tensor(&format!("{prefix}.bias"), [d_output])?;

        // burn stores linear weights as [in, out], the transpose of PyTorch's layout.
        let mut transposed = vec![0.0f32; weight.len()];
        for out in 0..d_output {
            for input in 0..d_input {
                transposed[input * d_output + out] = weight[out * d_input + input];
            }
        }
        let weight = Tensor::from_data(
            TensorData::new(transposed, [d_input, d_output]),
            &self.device,
        );
        Ok(Linear {
            weight: Param::from_tensor(weight),
            bias: Some(Param::from_tensor(bias)),
        })
    }

    /// Builds a `LayerNorm` from `{prefix}.weight` and `{prefix}.bias`.
    pub fn layer_norm(&mut self, prefix: &str, d_model: usize, epsilon: f64) -> Result<LayerNorm> {
        let mut norm = LayerNormConfig::new(d_model)
            .with_epsilon(epsilon)
            .init(&self.device);
        norm.gamma = Param::from_tensor(self.tensor(&format!("{prefix}.weight"), [d_model])?);
        norm.beta = Some(Param::from_tensor(
            self.tensor(&format!("{prefix}.bias"), [d_model])?,
        ));
        Ok(norm)
    }

    pub fn embedding(&mut self, name: &str, count: usize, d_model: usize) -> Result<Embedding> {
        Ok(Embedding {
            weight: Param::from_tensor(self.tensor(&format!("{name}.weight"), [count, d_model])?),
        })
    }

    /// Marks every tensor whose name starts with `prefix` as unused and returns how many.
    pub fn skip_prefixed(&mut self, prefix: &str) -> usize {
        let names: Vec<String> = self
            .tensors
            .keys()
            .filter(|name| name.starts_with(prefix) && !self.claimed.contains(*name))
            .cloned()
            .collect();
        let count = names.len();
        self.claimed.extend(names);
        count
    }

    /// Fails when the file contains tensors that no module took.
    pub fn finish(self) -> Result<()> {
        let extra: Vec<&String> = self
            .tensors
            .keys()
            .filter(|name| !self.claimed.contains(*name))
            .collect();
        if !extra.is_empty() {
            let listed: Vec<&str> = extra.iter().take(8).map(|name| name.as_str()).collect();
            bail!(
                "{}: {} unexpected tensor(s) not used by the model: {}; the checkpoint has a different architecture than config.json describes",
                self.path.display(),
                extra.len(),
                listed.join(", ")
            );
        }
        Ok(())
    }
}

/// Tensors collected for writing, under Hugging Face names and layouts.
#[derive(Default)]
pub struct WeightSink {
    tensors: BTreeMap<String, (Vec<usize>, Vec<f32>)>,
}

impl WeightSink {
    pub fn tensor<const D: usize>(&mut self, name: &str, tensor: Tensor<D>) {
        let shape = tensor.dims().to_vec();
        let values = tensor_values(tensor);
        self.tensors.insert(name.to_string(), (shape, values));
    }

    pub fn linear(&mut self, prefix: &str, linear: &Linear) {
        // Back to PyTorch's [out, in] layout.
        self.tensor(&format!("{prefix}.weight"), linear.weight.val().transpose());
        if let Some(bias) = &linear.bias {
            self.tensor(&format!("{prefix}.bias"), bias.val());
        }
    }

    pub fn layer_norm(&mut self, prefix: &str, norm: &LayerNorm) {
        self.tensor(&format!("{prefix}.weight"), norm.gamma.val());
        if let Some(beta) = &norm.beta {
            self.tensor(&format!("{prefix}.bias"), beta.val());
        }
    }

    pub fn embedding(&mut self, name: &str, embedding: &Embedding) {
        self.tensor(&format!("{name}.weight"), embedding.weight.val());
    }

    /// Moves every tensor of `other` into this sink with `prefix` before its name.
    pub fn extend_prefixed(&mut self, prefix: &str, other: WeightSink) {
        for (name, tensor) in other.tensors {
            self.tensors.insert(format!("{prefix}{name}"), tensor);
        }
    }

    /// Serialises the tensors as a safetensors file's bytes.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let views: Vec<(String, safetensors::tensor::TensorView<'_>)> = self
            .tensors
            .iter()
            .map(|(name, (shape, values))| {
                let bytes: &[u8] = bytemuck::cast_slice(values);
                let view = safetensors::tensor::TensorView::new(Dtype::F32, shape.clone(), bytes)
                    .expect("shape matches the value count");
                (name.clone(), view)
            })
            .collect();
        Ok(safetensors::serialize(views, None)?)
    }
}

/// Copies a tensor's values to the host as f32, whatever its device.
pub fn tensor_values<const D: usize>(tensor: Tensor<D>) -> Vec<f32> {
    tensor
        .inner()
        .into_data()
        .convert::<f32>()
        .try_to_vec::<f32>()
        .expect("f32 tensor data")
}
