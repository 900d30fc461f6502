//! AdamW (Loshchilov & Hutter 2019) as `torch.optim.AdamW` computes it, with clipping of
//! the global gradient norm as `torch.nn.utils.clip_grad_norm_` does.
//!
//! The moment estimates are keyed by the parameter's module path (for example
//! `encoder.layer.0.attention.self_attention.query.weight`), not by burn's runtime
//! parameter ids, so a checkpoint's optimiser state maps back onto a reloaded model.

use std::collections::HashMap;
use std::path::Path;

use anyhow::{Context, Result, bail};
use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::optim::GradientsParams;
use burn::prelude::*;
use burn::tensor::TensorData;

use crate::model::weights::tensor_values;

/// PyTorch's default epsilon for Adam-family optimisers, also `transformers`' default.
const EPSILON: f64 = 1e-8;
const BETA_1: f64 = 0.9;
const BETA_2: f64 = 0.999;

/// First and second moment of one parameter, flattened to one dimension.
struct Moments {
    first: Tensor<1>,
    second: Tensor<1>,
}

pub struct AdamW {
    weight_decay: f64,
    /// Number of optimiser steps taken, for the bias correction.
    steps: u64,
    moments: HashMap<String, Moments>,
}

/// Measurements of one optimiser step.
pub struct StepReport {
    /// Global L2 norm of the gradients before clipping.
    pub grad_norm: f64,
}

impl AdamW {
    pub fn new(weight_decay: f64) -> AdamW {
        AdamW {
            weight_decay,
            steps: 0,
            moments: HashMap::new(),
        }
    }

    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// Applies one update to every parameter of `module` that has a gradient. Weight decay
    /// skips one-dimensional parameters (biases and LayerNorm weights), as the usual
    /// `transformers` recipe does. `max_grad_norm` = 0 disables clipping.
    pub fn step<M: Module>(
        &mut self,
        module: M,
        mut grads: GradientsParams,
        learning_rate: f64,
        max_grad_norm: f64,
    ) -> Result<(M, StepReport)> {
        let mut norm = GradientNorm {
            grads: &grads,
            squared_sum: None,
        };
        module.visit(&mut norm);
        let grad_norm = norm
            .squared_sum
            .map(|sum| sum.into_scalar::<f32>() as f64)
            .unwrap_or(0.0)
            .sqrt();
        if !grad_norm.is_finite() {
            bail!("gradient norm is {grad_norm}");
        }

        // torch.nn.utils.clip_grad_norm_: scale by max_norm / (norm + 1e-6), capped at 1.
        let scale = if max_grad_norm > 0.0 {
            (max_grad_norm / (grad_norm + 1e-6)).min(1.0)
        } else {
            1.0
        };

        self.steps += 1;
        let mut mapper = UpdateMapper {
            optimizer: self,
            grads: &mut grads,
            path: Vec::new(),
            learning_rate,
            scale,
        };
        let module = module.map(&mut mapper);
        Ok((module, StepReport { grad_norm }))
    }

    /// Writes the moments as safetensors (`{path}.exp_avg`, `{path}.exp_avg_sq`), with the
    /// step count in the file's metadata.
    pub fn save(&self, path: &Path) -> Result<()> {
        let mut entries: Vec<(String, Vec<f32>)> = Vec::new();
        for (name, moments) in &self.moments {
            entries.push((
                format!("{name}.exp_avg"),
                tensor_values(moments.first.clone()),
            ));
            entries.push((
                format!("{name}.exp_avg_sq"),
                tensor_values(moments.second.clone()),
            ));
        }
        let views: Vec<(String, safetensors::tensor::TensorView<'_>)> = entries
            .iter()
            .map(|(name, values)| {
                let view = safetensors::tensor::TensorView::new(
                    safetensors::Dtype::F32,
                    vec![values.len()],
                    bytemuck::cast_slice(values),
                )
                .expect("shape matches the value count");
                (name.clone(), view)
            })
            .collect();
        let metadata = HashMap::from([
            ("steps".to_string(), self.steps.to_string()),
            ("weight_decay".to_string(), self.weight_decay.to_string()),
        ]);
        let bytes = safetensors::serialize(views, Some(metadata))?;
        crate::run::write_atomic(path, &bytes)
    }

    /// Reads moments written by [`AdamW::save`] onto `device`.
    pub fn load(path: &Path, weight_decay: f64, device: &Device) -> Result<AdamW> {
        let bytes =
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        let (_, metadata) = safetensors::SafeTensors::read_metadata(&bytes)
            .map_err(|err| anyhow::anyhow!("{}: invalid optimiser state: {err}", path.display()))?;
        let steps = metadata
            .metadata()
            .as_ref()
            .and_then(|map| map.get("steps"))
            .and_then(|value| value.parse().ok())
            .with_context(|| format!("{}: optimiser state has no step count", path.display()))?;
        let file = safetensors::SafeTensors::deserialize(&bytes)
            .map_err(|err| anyhow::anyhow!("{}: invalid optimiser state: {err}", path.display()))?;

        let read = |name: &str| -> Result<Tensor<1>> {
            let view = file
                .tensor(name)
                .map_err(|err| anyhow::anyhow!("{}: {name}: {err}", path.display()))?;
            let values: Vec<f32> = bytemuck::pod_collect_to_vec(view.data());
            let count = values.len();
            Ok(Tensor::from_data(TensorData::new(values, [count]), device))
        };
        let mut moments = HashMap::new();
        for name in file.names() {
            if let Some(parameter) = name.strip_suffix(".exp_avg") {
                moments.insert(
                    parameter.to_string(),
                    Moments {
                        first: read(name)?,
                        second: read(&format!("{parameter}.exp_avg_sq"))?,
                    },
                );
            }
        }
        Ok(AdamW {
            weight_decay,
            steps,
            moments,
        })
    }
}

struct GradientNorm<'a> {
    grads: &'a GradientsParams,
    squared_sum: Option<Tensor<1>>,
}

impl ModuleVisitor for GradientNorm<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        if let Some(grad) = self.grads.get::<D>(param.id) {
            let squares = grad.square().sum();
            self.squared_sum = Some(match self.squared_sum.take() {
                Some(total) => total + squares,
                None => squares,
            });
        }
    }
}

struct UpdateMapper<'a> {
    optimizer: &'a mut AdamW,
    grads: &'a mut GradientsParams,
    path: Vec<String>,
    learning_rate: f64,
    scale: f64,
}

impl ModuleMapper for UpdateMapper<'_> {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.path.push(name.to_string());
    }

    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.pop();
    }

    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let (id, tensor, mapper) = param.consume();
        let Some(grad) = self.grads.remove::<D>(id) else {
            return Param::from_mapped_value(id, tensor, mapper);
        };

        let require_grad = tensor.is_require_grad();
        let value = tensor.inner();
        let shape = value.dims();
        let count: usize = shape.iter().product();
        let grad = grad.inner().reshape([count]) * self.scale;
        let flat = value.reshape([count]);

        let key = self.path.join(".");
        let optimizer = &mut *self.optimizer;
        let moments = optimizer.moments.remove(&key).unwrap_or_else(|| Moments {
            first: flat.zeros_like(),
            second: flat.zeros_like(),
        });
        let first = moments.first * BETA_1 + grad.clone() * (1.0 - BETA_1);
        let second = moments.second * BETA_2 + grad.square() * (1.0 - BETA_2);

        let steps = optimizer.steps as i32;
        let bias_correction_1 = 1.0 - BETA_1.powi(steps);
        let bias_correction_2 = 1.0 - BETA_2.powi(steps);
        let step_size = self.learning_rate / bias_correction_1;
        let denominator = second.clone().sqrt() / bias_correction_2.sqrt() + EPSILON;

        let decay = if D > 1 {
            1.0 - self.learning_rate * optimizer.weight_decay
        } else {
            1.0
        };
        let updated = flat * decay - first.clone() / denominator * step_size;
        optimizer.moments.insert(key, Moments { first, second });

        let mut updated = Tensor::from_inner(updated.reshape(shape));
        if require_grad {
            updated = updated.require_grad();
        }
        Param::from_mapped_value(id, updated, mapper)
    }
}
