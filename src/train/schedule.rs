//! Learning-rate schedule: linear warmup from 0, then linear decay to 0, as
//! `transformers.get_linear_schedule_with_warmup`.

/// Learning rate of the optimiser step with 0-based index `step` out of `total_steps`.
pub fn linear_warmup_decay(base: f64, step: usize, warmup_steps: usize, total_steps: usize) -> f64 {
    if step < warmup_steps {
        return base * step as f64 / warmup_steps.max(1) as f64;
    }
    let remaining = total_steps.saturating_sub(step) as f64;
    let decay_steps = total_steps.saturating_sub(warmup_steps).max(1) as f64;
    base * (remaining / decay_steps).max(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule_warms_up_then_decays() {
        assert_eq!(linear_warmup_decay(1.0, 0, 10, 100), 0.0);
        assert!((linear_warmup_decay(1.0, 5, 10, 100) - 0.5).abs() < 1e-12);
        assert!((linear_warmup_decay(1.0, 10, 10, 100) - 1.0).abs() < 1e-12);
        assert!((linear_warmup_decay(1.0, 55, 10, 100) - 0.5).abs() < 1e-12);
        assert_eq!(linear_warmup_decay(1.0, 100, 10, 100), 0.0);
    }

    #[test]
    fn schedule_without_warmup_starts_at_base() {
        assert_eq!(linear_warmup_decay(2.0, 0, 0, 10), 2.0);
    }
}
