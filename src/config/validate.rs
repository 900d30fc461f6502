//! Range checks on a parsed config. Each error names the key, the bad value and the fix.

use anyhow::{Result, bail};

use super::{Config, IMAGE_SIZES};

impl Config {
    /// Checks every value's range; `source` (the config file or "defaults") leads each message.
    pub fn validate(&self, source: &str) -> Result<()> {
        let objective = &self.objective;
        let train = &self.train;

        if !(objective.temperature > 0.0 && objective.temperature.is_finite()) {
            bail!(
                "{source}: objective.temperature = {} is out of range; it must be > 0 (typical: 0.05 to 0.5)",
                objective.temperature
            );
        }
        if !(0.0..=1.0).contains(&objective.lambda) {
            bail!(
                "{source}: objective.lambda = {} is out of range; it must be in [0, 1]",
                objective.lambda
            );
        }
        if !(objective.correlation_weight >= 0.0 && objective.correlation_weight.is_finite()) {
            bail!(
                "{source}: objective.correlation_weight = {} is out of range; it must be >= 0",
                objective.correlation_weight
            );
        }

        let contrastive = objective.kind.is_contrastive() || objective.correlation_weight > 0.0;
        if train.batch_size < 1 || (contrastive && train.batch_size < 2) {
            bail!(
                "{source}: train.batch_size = {} is out of range; contrastive objectives and the correlation penalty need at least 2 examples per batch",
                train.batch_size
            );
        }
        if train.eval_batch_size == Some(0) {
            bail!("{source}: train.eval_batch_size = 0 is out of range; it must be >= 1");
        }
        if train.epochs == 0 && train.max_steps.is_none() {
            bail!(
                "{source}: train.epochs = 0 trains nothing; set train.epochs >= 1 or train.max_steps"
            );
        }
        if train.max_steps == Some(0) {
            bail!("{source}: train.max_steps = 0 trains nothing; set it >= 1 or remove it");
        }
        if !(train.learning_rate > 0.0 && train.learning_rate.is_finite()) {
            bail!(
                "{source}: train.learning_rate = {} is out of range; it must be > 0 (typical: 2e-5 to 1e-4)",
                train.learning_rate
            );
        }
        if !(train.weight_decay >= 0.0 && train.weight_decay.is_finite()) {
            bail!(
                "{source}: train.weight_decay = {} is out of range; it must be >= 0",
                train.weight_decay
            );
        }
        if !(0.0..1.0).contains(&train.warmup_fraction) {
            bail!(
                "{source}: train.warmup_fraction = {} is out of range; it must be in [0, 1)",
                train.warmup_fraction
            );
        }
        if !(train.max_grad_norm >= 0.0 && train.max_grad_norm.is_finite()) {
            bail!(
                "{source}: train.max_grad_norm = {} is out of range; it must be >= 0 (0 disables clipping)",
                train.max_grad_norm
            );
        }
        if train.snapshot_every > 0 && train.snapshot_size < 2 {
            bail!(
                "{source}: train.snapshot_size = {} is out of range; it must be >= 2, or set train.snapshot_every = 0 to turn snapshots off",
                train.snapshot_size
            );
        }
        if train.log_every == 0 {
            bail!("{source}: train.log_every = 0 is out of range; it must be >= 1");
        }
        if self.model.max_length < 2 {
            bail!(
                "{source}: model.max_length = {} is out of range; it must hold at least [CLS] and [SEP]",
                self.model.max_length
            );
        }
        if !IMAGE_SIZES.contains(&self.model.image_size) {
            bail!(
                "{source}: model.image_size = {} is out of range; it must be in [{}, {}] pixels",
                self.model.image_size,
                IMAGE_SIZES.start(),
                IMAGE_SIZES.end()
            );
        }
        if let Some(names) = &self.data.label_names {
            let mut sorted = names.clone();
            sorted.sort();
            sorted.dedup();
            if names.len() < 2 || sorted.len() != names.len() || names.iter().any(String::is_empty)
            {
                bail!(
                    "{source}: data.label_names = {names:?} must list at least two distinct, non-empty names, in class order"
                );
            }
        }
        for (key, value) in [
            ("max_train_samples", self.data.max_train_samples),
            ("max_eval_samples", self.data.max_eval_samples),
            ("max_test_samples", self.data.max_test_samples),
        ] {
            if value == Some(0) {
                bail!("{source}: data.{key} = 0 leaves no examples; set it >= 1 or remove it");
            }
        }
        if let Some(fraction) = self.data.validation_fraction {
            if !(fraction > 0.0 && fraction < 1.0) {
                bail!(
                    "{source}: data.validation_fraction = {fraction} is out of range; it must be in (0, 1)"
                );
            }
            if self.data.validation.is_some() {
                bail!(
                    "{source}: data.validation and data.validation_fraction are both set; keep one"
                );
            }
        }
        Ok(())
    }
}
