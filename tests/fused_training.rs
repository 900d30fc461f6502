//! Training with the fused loss kernels follows the reference losses: two `acf train` runs
//! on wgpu (lavapipe in CI), same seed, `objective.fused = true` and `false`, give the same
//! loss curve to relative 1e-3 over 50 steps.
//!
//! The encoder is all-MiniLM-L6-v2 cut to its first layer, so 100 steps on a software
//! renderer take a few minutes. The objective and the trainer are the full ones.

mod common;

use std::path::Path;

use acf::model::PretrainedFiles;
use common::{MODEL, acf, head_csv, rotten_tomatoes, stderr, step_losses};
use safetensors::SafeTensors;
use safetensors::tensor::TensorView;

const STEPS: usize = 50;
const CURVE_TOLERANCE: f64 = 1e-3;

/// Writes MiniLM with only its first transformer layer to `target`.
fn write_one_layer_minilm(target: &Path) {
    let source = PretrainedFiles::resolve(MODEL).expect("MiniLM is in the Hugging Face cache");
    std::fs::create_dir_all(target.join("1_Pooling")).unwrap();
    std::fs::copy(source.tokenizer_path(), target.join("tokenizer.json")).unwrap();
    let source_dir = source.tokenizer_path().parent().unwrap().to_path_buf();
    std::fs::copy(
        source_dir.join("1_Pooling/config.json"),
        target.join("1_Pooling/config.json"),
    )
    .unwrap();

    let mut config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(source_dir.join("config.json")).unwrap())
            .unwrap();
    config["num_hidden_layers"] = 1.into();
    std::fs::write(target.join("config.json"), config.to_string()).unwrap();

    let bytes = std::fs::read(source.weights_path()).unwrap();
    let tensors = SafeTensors::deserialize(&bytes).unwrap();
    let kept: Vec<(String, TensorView)> = tensors
        .tensors()
        .into_iter()
        .filter(|(name, _)| {
            !name.starts_with("encoder.layer.") || name.starts_with("encoder.layer.0.")
        })
        .collect();
    safetensors::serialize_to_file(kept, None, &target.join("model.safetensors")).unwrap();
}

fn train(root: &Path, run: &str, fused: bool) -> Vec<f64> {
    let fused_setting = format!("objective.fused={fused}");
    let output = acf(
        root,
        &[
            "train",
            "--config",
            "config.toml",
            "--run-dir",
            run,
            "--backend",
            "wgpu",
            "--set",
            &fused_setting,
        ],
    );
    assert!(
        output.status.success(),
        "train with {fused_setting} failed: {}",
        stderr(&output)
    );
    step_losses(&root.join(run))
}

#[test]
fn fused_and_reference_training_curves_agree() {
    common::wgpu_device();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write_one_layer_minilm(&root.join("minilm-1-layer"));
    head_csv(&rotten_tomatoes("train"), &root.join("train.csv"), 400);
    head_csv(
        &rotten_tomatoes("validation"),
        &root.join("validation.csv"),
        16,
    );
    std::fs::write(
        root.join("config.toml"),
        format!(
            "[model]\nname = \"minilm-1-layer\"\nmax_length = 16\n\n\
             [data]\ntrain = \"train.csv\"\nvalidation = \"validation.csv\"\n\n\
             [objective]\nkind = \"acf\"\ncorrelation_weight = 0.04\n\n\
             [train]\nbatch_size = 8\nmax_steps = {STEPS}\nlog_every = 1\nlearning_rate = 1e-4\nseed = 7\n"
        ),
    )
    .unwrap();

    let fused = train(root, "fused", true);
    let reference = train(root, "reference", false);
    assert_eq!(fused.len(), STEPS, "one logged loss per step");
    assert_eq!(reference.len(), STEPS, "one logged loss per step");
    for (step, (f, r)) in fused.iter().zip(&reference).enumerate() {
        let error = (f - r).abs() / r.abs().max(1e-12);
        assert!(
            error <= CURVE_TOLERANCE,
            "step {}: fused loss {f} vs reference {r} (relative difference {error:e})",
            step + 1
        );
    }
}
