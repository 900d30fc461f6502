//! Image fine-tuning end to end through the `acf` binary, on real data and real weights:
//! EfficientNet-Lite0 (converted by scripts/setup) and Fashion-MNIST (Debian
//! dataset-fashion-mnist), at 32 x 32 on the CPU backend to keep the test short. Then
//! evaluation, prediction and embedding of PNG files, and the bad inputs of an image run.

mod common;

use std::path::{Path, PathBuf};

use acf::data::image::{load_rgb, read_idx};
use common::{acf, repo_root, stderr, stdout};

const FASHION_MNIST: &str = "/usr/share/datasets/fashion-mnist";

fn fashion_mnist(name: &str) -> PathBuf {
    let path = Path::new(FASHION_MNIST).join(name);
    assert!(
        path.is_file(),
        "{} is missing; run scripts/setup (Debian dataset-fashion-mnist)",
        path.display()
    );
    path
}

fn backbone() -> String {
    let dir = repo_root().join("models/efficientnet-lite0");
    assert!(
        dir.join("model.safetensors").is_file(),
        "{} is missing; run scripts/setup",
        dir.display()
    );
    dir.display().to_string()
}

/// `acf train` arguments for a few steps of the Fashion-MNIST config at 32 x 32.
fn train_args(run: &Path, max_steps: usize) -> Vec<String> {
    let config = repo_root().join("configs/fashion-mnist.toml");
    [
        "train",
        "--config",
        &config.display().to_string(),
        "--backend",
        "cpu",
        "--run-dir",
        &run.display().to_string(),
        "--set",
        &format!("model.name=\"{}\"", backbone()),
        "--set",
        "model.image_size=32",
        "--set",
        "data.max_train_samples=64",
        "--set",
        "data.max_eval_samples=32",
        "--set",
        "train.batch_size=16",
        "--set",
        &format!("train.max_steps={max_steps}"),
        "--set",
        "train.log_every=1",
        "--set",
        "train.checkpoint_every=2",
        "--set",
        "train.snapshot_every=2",
        "--set",
        "train.snapshot_size=16",
    ]
    .iter()
    .map(|arg| arg.to_string())
    .collect()
}

fn run_acf(dir: &Path, args: &[String]) -> std::process::Output {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    acf(dir, &args)
}

/// Writes the first `count` Fashion-MNIST test images as PNGs under `root/<label>/`.
fn write_png_folder(root: &Path, count: usize) {
    let examples = read_idx(
        &fashion_mnist("t10k-images-idx3-ubyte.gz"),
        &fashion_mnist("t10k-labels-idx1-ubyte.gz"),
    )
    .unwrap();
    for (index, example) in examples.iter().take(count).enumerate() {
        let folder = root.join(example.label.as_deref().unwrap());
        std::fs::create_dir_all(&folder).unwrap();
        load_rgb(example)
            .unwrap()
            .save(folder.join(format!("{index:03}.png")))
            .unwrap();
    }
}

fn json_lines(text: &str) -> Vec<serde_json::Value> {
    text.lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

#[test]
fn fashion_mnist_run_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");

    // Two steps, then a resume to four: the checkpoint at step 2 carries the run on.
    let output = run_acf(dir.path(), &train_args(&run, 2));
    assert!(output.status.success(), "{}", stderr(&output));
    let run_arg = run.display().to_string();
    let output = acf(
        dir.path(),
        &[
            "train",
            "--resume",
            &run_arg,
            "--backend",
            "cpu",
            "--set",
            "train.max_steps=4",
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));

    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["steps"], 4);
    let accuracy = summary["validation"]["accuracy"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&accuracy));
    assert_eq!(summary["validation"]["examples"], 32);
    let losses = common::step_losses(&run);
    assert_eq!(losses.len(), 4, "one logged loss per step");
    assert!(losses.iter().all(|loss| loss.is_finite()));

    let state: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(run.join("checkpoints/step-0000004/state.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(state["kind"], "image");
    assert_eq!(state["image_size"], 32);
    let labels = std::fs::read_to_string(run.join("labels.json")).unwrap();
    assert!(labels.contains("\"Ankle boot\""), "{labels}");
    for step in [0, 2, 4] {
        assert!(
            run.join(format!("snapshots/step-{step:07}.safetensors"))
                .is_file(),
            "snapshot of step {step}"
        );
    }
    let sample = std::fs::read_to_string(run.join("snapshots/sample.json")).unwrap();
    assert!(sample.contains("t10k-images-idx3-ubyte.gz["), "{sample}");
    // Thumbnails for hover: 16 cells of 32 pixels in a 4 x 4 sprite, also for the projector.
    let sprite = image::open(run.join("snapshots/sprite.png")).unwrap();
    assert_eq!((sprite.width(), sprite.height()), (128, 128));
    let projector = dir.path().join("projector");
    let output = acf(
        dir.path(),
        &[
            "export-projector",
            "--run",
            &run.display().to_string(),
            "--out",
            &projector.display().to_string(),
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let config = std::fs::read_to_string(projector.join("projector_config.pbtxt")).unwrap();
    assert!(config.contains("image_path: \"sprite.png\""), "{config}");
    // 16 instances and 10 label embeddings: a 6 x 6 grid.
    let sprite = image::open(projector.join("sprite.png")).unwrap();
    assert_eq!((sprite.width(), sprite.height()), (192, 192));

    // Evaluation and prediction on PNG files of the test split.
    let images = dir.path().join("images");
    write_png_folder(&images, 20);
    let images_arg = images.display().to_string();
    let output = acf(
        dir.path(),
        &[
            "eval",
            "--run",
            &run_arg,
            "--data",
            &images_arg,
            "--backend",
            "cpu",
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let report: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(report["examples"], 20);
    assert!(report["metrics"]["accuracy"].as_f64().is_some());

    let output = acf(
        dir.path(),
        &[
            "predict",
            "--run",
            &run_arg,
            "--input",
            &images_arg,
            "--backend",
            "cpu",
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let predictions = json_lines(&stdout(&output));
    assert_eq!(predictions.len(), 20);
    for prediction in &predictions {
        assert!(prediction["image"].as_str().unwrap().ends_with(".png"));
        let probabilities = prediction["probabilities"].as_object().unwrap();
        assert_eq!(probabilities.len(), 10);
        let total: f64 = probabilities.values().map(|p| p.as_f64().unwrap()).sum();
        assert!((total - 1.0).abs() < 1e-4, "probabilities sum to {total}");
        assert!(probabilities.contains_key(prediction["label"].as_str().unwrap()));
    }

    // Embeddings of the pre-trained backbone: unit-norm 1280-d vectors, one per image.
    let embeddings = dir.path().join("embeddings.jsonl");
    let output = acf(
        dir.path(),
        &[
            "embed",
            "--model",
            &backbone(),
            "--input",
            &images_arg,
            "--output",
            &embeddings.display().to_string(),
            "--image-size",
            "64",
            "--backend",
            "cpu",
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let lines = json_lines(&std::fs::read_to_string(&embeddings).unwrap());
    assert_eq!(lines.len(), 20);
    for line in &lines {
        let vector: Vec<f64> = line["embedding"]
            .as_array()
            .unwrap()
            .iter()
            .map(|value| value.as_f64().unwrap())
            .collect();
        assert_eq!(vector.len(), 1280);
        let norm = vector.iter().map(|value| value * value).sum::<f64>().sqrt();
        assert!((norm - 1.0).abs() < 1e-4, "norm {norm}");
    }
}

#[test]
fn corrupt_images_error_or_skip() {
    let dir = tempfile::tempdir().unwrap();
    let images = dir.path().join("train");
    write_png_folder(&images, 24);
    // A PNG cut off after its header: a truncated download.
    let victim = std::fs::read_dir(images.join("9"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let bytes = std::fs::read(&victim).unwrap();
    std::fs::write(&victim, &bytes[..40]).unwrap();

    let mut args = train_args(&dir.path().join("run"), 1);
    args.extend(
        [
            "--set",
            &format!("data.train=\"{}\"", images.display()),
            "--set",
            &format!("data.validation=\"{}\"", images.display()),
            "--set",
            "train.batch_size=4",
        ]
        .iter()
        .map(|arg| arg.to_string()),
    );
    let output = run_acf(dir.path(), &args);
    assert!(!output.status.success());
    let message = stderr(&output);
    assert!(
        message.contains(&victim.display().to_string()) && message.contains("data.skip_bad_images"),
        "{message}"
    );
    assert!(
        !dir.path().join("run/metrics.jsonl").exists(),
        "nothing is written before the data is checked"
    );

    args.extend(["--set".to_string(), "data.skip_bad_images=true".to_string()]);
    let output = run_acf(dir.path(), &args);
    assert!(output.status.success(), "{}", stderr(&output));
    let message = stderr(&output);
    assert!(message.contains("skipped=1"), "{message}");
    let summary: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("run/summary.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        summary["skipped_images"], 2,
        "the broken file is in the training and the validation folder"
    );
}

#[test]
fn backbone_of_other_format_errors() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("model");
    std::fs::create_dir_all(&model).unwrap();
    std::fs::copy(
        repo_root().join("models/efficientnet-lite0/config.json"),
        model.join("config.json"),
    )
    .unwrap();
    let train = |dir: &Path| {
        let mut args = train_args(&dir.join("run"), 1);
        args.extend([
            "--set".to_string(),
            format!("model.name=\"{}\"", model.display()),
        ]);
        run_acf(dir, &args)
    };

    // Not a safetensors file at all, such as the PyTorch pickle of the same weights.
    std::fs::write(model.join("model.safetensors"), b"\x80\x02not safetensors").unwrap();
    let message = stderr(&train(dir.path()));
    assert!(
        message.contains("not a valid safetensors file") && message.contains("model.safetensors"),
        "{message}"
    );

    // A valid safetensors file of another architecture.
    let mut other = safetensors_header_only("encoder.layer.0.weight");
    std::fs::write(model.join("model.safetensors"), &mut other).unwrap();
    let message = stderr(&train(dir.path()));
    assert!(
        message.contains("no _conv_stem.weight") && message.contains("scripts/setup"),
        "{message}"
    );
}

/// Builds a safetensors file with one 1-element f32 tensor called `name`.
fn safetensors_header_only(name: &str) -> Vec<u8> {
    let header =
        format!("{{\"{name}\":{{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}}}");
    let mut header = header.into_bytes();
    while header.len() % 8 != 0 {
        header.push(b' ');
    }
    let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
    bytes.extend(header);
    bytes.extend(0f32.to_le_bytes());
    bytes
}
