//! A real fine-tuning run of all-MiniLM-L6-v2 with the ACF objective on the wgpu backend
//! (lavapipe in CI), followed by eval, predict, resume and a run stopped by a NaN loss.

mod common;

use std::path::Path;

use common::{acf, head_csv, rotten_tomatoes, stderr, stdout};

fn read_events(run: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(run.join("metrics.jsonl"))
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

fn latest_checkpoint(run: &Path) -> String {
    std::fs::read_to_string(run.join("checkpoints/latest")).unwrap()
}

#[test]
fn acf_training_on_wgpu_end_to_end() {
    let adapter = common::wgpu_device().adapter;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();

    // Real snippets plus the inputs that must never be errors: empty, non-English, emoji
    // and text far longer than max_length.
    head_csv(&rotten_tomatoes("train"), &root.join("train.csv"), 60);
    let mut extra = csv::Writer::from_writer(
        std::fs::OpenOptions::new()
            .append(true)
            .open(root.join("train.csv"))
            .unwrap(),
    );
    extra.write_record(["", "rotten"]).unwrap();
    extra
        .write_record(["Ein großartiger Film 🎬🍿", "fresh"])
        .unwrap();
    extra
        .write_record([&"an endless review ".repeat(200), "rotten"])
        .unwrap();
    extra.write_record(["这部电影非常精彩", "fresh"]).unwrap();
    extra.flush().unwrap();
    head_csv(
        &rotten_tomatoes("validation"),
        &root.join("validation.csv"),
        32,
    );
    std::fs::write(
        root.join("config.toml"),
        "[model]\nname = \"sentence-transformers/all-MiniLM-L6-v2\"\nmax_length = 32\n\n\
         [data]\ntrain = \"train.csv\"\nvalidation = \"validation.csv\"\n\n\
         [objective]\nkind = \"acf\"\n\n\
         [train]\nbatch_size = 16\nmax_steps = 4\neval_every = 2\nlog_every = 1\nlearning_rate = 1e-4\n",
    )
    .unwrap();

    let output = acf(
        root,
        &[
            "train",
            "--config",
            "config.toml",
            "--run-dir",
            "run",
            "--backend",
            "wgpu",
        ],
    );
    assert!(output.status.success(), "train failed: {}", stderr(&output));
    let run = root.join("run");

    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["backend"], "wgpu");
    assert_eq!(summary["adapter"], adapter.as_str());
    assert!(
        adapter.contains("Vulkan") || adapter.contains("Metal") || adapter.contains("DX12"),
        "{adapter}"
    );
    let accuracy = summary["validation"]["accuracy"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&accuracy));
    assert!(summary["train"]["examples_per_second"].as_f64().unwrap() > 0.0);

    let events = read_events(&run);
    let steps: Vec<&serde_json::Value> = events.iter().filter(|e| e["event"] == "step").collect();
    assert_eq!(steps.len(), 4);
    for key in [
        "step",
        "epoch",
        "lr",
        "loss",
        "loss_ce",
        "loss_contrastive",
        "loss_correlation",
        "examples_per_second",
    ] {
        assert!(
            steps[0][key].is_number(),
            "step event lacks {key}: {}",
            steps[0]
        );
    }
    assert!(steps[0]["loss_contrastive"].as_f64().unwrap() > 0.0);
    let evaluations: Vec<&serde_json::Value> = events
        .iter()
        .filter(|e| e["event"] == "evaluation")
        .collect();
    assert_eq!(evaluations.len(), 2);
    assert_eq!(evaluations[0]["split"], "validation");
    for key in [
        "accuracy",
        "macro_f1",
        "matthews_correlation",
        "nearest_label_accuracy",
    ] {
        assert!(evaluations[0][key].is_number(), "evaluation lacks {key}");
    }
    let labels: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("labels.json")).unwrap()).unwrap();
    assert_eq!(labels["names"], serde_json::json!(["fresh", "rotten"]));
    assert_eq!(latest_checkpoint(&run), "step-0000004");

    // eval on the validation file reproduces the final validation accuracy.
    let output = acf(
        root,
        &[
            "eval",
            "--run",
            "run",
            "--data",
            "validation.csv",
            "--backend",
            "wgpu",
        ],
    );
    assert!(output.status.success(), "eval failed: {}", stderr(&output));
    let report: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    let eval_accuracy = report["metrics"]["accuracy"].as_f64().unwrap();
    assert!(
        (eval_accuracy - accuracy).abs() < 1e-9,
        "eval {eval_accuracy} vs summary {accuracy}"
    );

    // predict writes one labelled line per input line with probabilities summing to 1.
    std::fs::write(root.join("input.txt"), "a wonderful film\n\nterrible 😡\n").unwrap();
    let output = acf(
        root,
        &[
            "predict",
            "--run",
            "run",
            "--input",
            "input.txt",
            "--output",
            "predictions.jsonl",
            "--backend",
            "wgpu",
        ],
    );
    assert!(
        output.status.success(),
        "predict failed: {}",
        stderr(&output)
    );
    let predictions = std::fs::read_to_string(root.join("predictions.jsonl")).unwrap();
    let lines: Vec<serde_json::Value> = predictions
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    for line in &lines {
        let label = line["label"].as_str().unwrap();
        assert!(label == "fresh" || label == "rotten");
        let total: f64 = line["probabilities"]
            .as_object()
            .unwrap()
            .values()
            .map(|p| p.as_f64().unwrap())
            .sum();
        assert!((total - 1.0).abs() < 1e-4, "probabilities sum to {total}");
    }

    // resume continues from the checkpoint at step 4 to step 6.
    let output = acf(
        root,
        &[
            "train",
            "--resume",
            "run",
            "--set",
            "train.max_steps=6",
            "--backend",
            "wgpu",
        ],
    );
    assert!(
        output.status.success(),
        "resume failed: {}",
        stderr(&output)
    );
    let events = read_events(&run);
    let started: Vec<&serde_json::Value> =
        events.iter().filter(|e| e["event"] == "started").collect();
    assert_eq!(started.len(), 2);
    assert_eq!(started[1]["start_step"], 4);
    let last_step = events.iter().rfind(|e| e["event"] == "step").unwrap();
    assert_eq!(last_step["step"], 6);
    assert_eq!(latest_checkpoint(&run), "step-0000006");

    // A temperature that overflows f32 makes the loss non-finite (NaN or -inf) at the next
    // step: the run stops with the step number and the last good checkpoint stays.
    let checkpoint_before =
        std::fs::read(run.join("checkpoints/step-0000006/model.safetensors")).unwrap();
    let output = acf(
        root,
        &[
            "train",
            "--resume",
            "run",
            "--set",
            "train.max_steps=8",
            "--set",
            "objective.temperature=1e-40",
            "--backend",
            "wgpu",
        ],
    );
    assert!(!output.status.success());
    let message = stderr(&output);
    assert!(message.contains("step 7: the loss is"), "{message}");
    assert!(
        message.contains("loss is NaN")
            || message.contains("loss is -inf")
            || message.contains("loss is inf"),
        "{message}"
    );
    assert!(message.contains("step-0000006"), "{message}");
    assert_eq!(latest_checkpoint(&run), "step-0000006");
    let checkpoint_after =
        std::fs::read(run.join("checkpoints/step-0000006/model.safetensors")).unwrap();
    assert!(
        checkpoint_before == checkpoint_after,
        "the last good checkpoint changed"
    );
}
