//! Every bad input exits non-zero with one message naming the file, line or key, the value
//! and the fix, and leaves an earlier run in the same folder untouched.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::{acf, stderr};

/// A scratch folder with small valid data files and a config pointing at them.
struct Scratch {
    dir: tempfile::TempDir,
}

impl Scratch {
    fn new() -> Scratch {
        let scratch = Scratch {
            dir: tempfile::tempdir().unwrap(),
        };
        scratch.write(
            "train.csv",
            "text,label\ngood film,pos\nbad film,neg\nfine,pos\nawful,neg\n",
        );
        scratch.write("validation.csv", "text,label\nnice,pos\nboring,neg\n");
        scratch.write(
            "config.toml",
            "[data]\ntrain = \"train.csv\"\nvalidation = \"validation.csv\"\n\n[train]\nbatch_size = 4\nmax_steps = 1\n\n[output]\nrun_dir = \"run\"\n",
        );
        scratch
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn write(&self, name: &str, contents: &str) -> PathBuf {
        let path = self.path(name);
        std::fs::write(&path, contents).unwrap();
        path
    }

    /// Runs `acf train --config config.toml --backend cpu` plus `extra` and returns stderr,
    /// asserting a non-zero exit.
    fn train_fails(&self, extra: &[&str]) -> String {
        let mut args = vec!["train", "--config", "config.toml", "--backend", "cpu"];
        args.extend_from_slice(extra);
        let output = acf(self.dir.path(), &args);
        assert!(
            !output.status.success(),
            "expected failure for {extra:?}, got success"
        );
        stderr(&output)
    }
}

fn assert_mentions(message: &str, parts: &[&str]) {
    for part in parts {
        assert!(message.contains(part), "message lacks {part:?}:\n{message}");
    }
}

/// Contents of every file under `dir`, to check that nothing changed.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(current) = stack.pop() {
        for entry in std::fs::read_dir(&current).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                files.insert(path.clone(), std::fs::read(&path).unwrap());
            }
        }
    }
    files
}

#[test]
fn csv_row_with_wrong_field_count() {
    let scratch = Scratch::new();
    scratch.write("train.csv", "text,label\ngood,pos\nbad, really,neg\n");
    let message = scratch.train_fails(&[]);
    assert_mentions(
        &message,
        &[
            "train.csv:3",
            "3 fields but the header has 2",
            "quote fields",
        ],
    );
}

#[test]
fn empty_label() {
    let scratch = Scratch::new();
    scratch.write("train.csv", "text,label\ngood,pos\nbad,\n");
    assert_mentions(
        &scratch.train_fails(&[]),
        &["train.csv:3", "label is missing or empty"],
    );
}

#[test]
fn validation_label_not_in_training_set() {
    let scratch = Scratch::new();
    scratch.write("validation.csv", "text,label\nnice,pos\nmeh,neutral\n");
    assert_mentions(
        &scratch.train_fails(&[]),
        &[
            "validation.csv:3",
            "\"neutral\"",
            "not one of the training labels [neg, pos]",
        ],
    );
}

#[test]
fn data_file_without_rows() {
    let scratch = Scratch::new();
    scratch.write("validation.csv", "text,label\n");
    assert_mentions(
        &scratch.train_fails(&[]),
        &["validation.csv", "no data rows"],
    );
}

#[test]
fn training_set_with_one_class() {
    let scratch = Scratch::new();
    scratch.write("train.csv", "text,label\ngood,pos\ngreat,pos\n");
    assert_mentions(
        &scratch.train_fails(&[]),
        &["train.csv", "only one class (pos)", "at least two"],
    );
}

#[test]
fn unknown_config_key() {
    let scratch = Scratch::new();
    let mut config = std::fs::read_to_string(scratch.path("config.toml")).unwrap();
    config.push_str("\n[objective]\ntemprature = 0.1\n");
    scratch.write("config.toml", &config);
    assert_mentions(
        &scratch.train_fails(&[]),
        &["config.toml", "unknown field `temprature`", "temperature"],
    );
}

#[test]
fn unknown_override_key() {
    let scratch = Scratch::new();
    assert_mentions(
        &scratch.train_fails(&["--set", "train.epoch=2"]),
        &["unknown field `epoch`"],
    );
}

#[test]
fn temperature_not_positive() {
    let scratch = Scratch::new();
    assert_mentions(
        &scratch.train_fails(&["--set", "objective.temperature=0"]),
        &["objective.temperature = 0", "must be > 0"],
    );
}

#[test]
fn lambda_outside_unit_interval() {
    let scratch = Scratch::new();
    assert_mentions(
        &scratch.train_fails(&["--set", "objective.lambda=1.5"]),
        &["objective.lambda = 1.5", "[0, 1]"],
    );
}

#[test]
fn batch_size_below_two_for_contrastive() {
    let scratch = Scratch::new();
    assert_mentions(
        &scratch.train_fails(&["--set", "train.batch_size=1"]),
        &["train.batch_size = 1", "at least 2"],
    );
}

/// Copies the MiniLM folder with `missing` left out, or `model.safetensors` truncated.
fn model_copy(scratch: &Scratch, missing: Option<&str>, truncate: bool) -> PathBuf {
    let source = acf::model::PretrainedFiles::resolve(common::MODEL)
        .unwrap()
        .dir;
    let target = scratch.path("model");
    std::fs::create_dir_all(&target).unwrap();
    for name in ["config.json", "tokenizer.json", "model.safetensors"] {
        if Some(name) == missing {
            continue;
        }
        let bytes = std::fs::read(source.join(name)).unwrap();
        let bytes = if truncate && name == "model.safetensors" {
            &bytes[..bytes.len() / 3]
        } else {
            &bytes[..]
        };
        std::fs::write(target.join(name), bytes).unwrap();
    }
    target
}

#[test]
fn model_folder_without_config_json() {
    let scratch = Scratch::new();
    let model = model_copy(&scratch, Some("config.json"), false);
    let set = format!("model.name={}", model.display());
    assert_mentions(
        &scratch.train_fails(&["--set", &set]),
        &["config.json is missing"],
    );
}

#[test]
fn model_folder_without_tokenizer_json() {
    let scratch = Scratch::new();
    let model = model_copy(&scratch, Some("tokenizer.json"), false);
    let set = format!("model.name={}", model.display());
    assert_mentions(
        &scratch.train_fails(&["--set", &set]),
        &["tokenizer.json is missing"],
    );
}

#[test]
fn truncated_safetensors() {
    let scratch = Scratch::new();
    let model = model_copy(&scratch, None, true);
    let set = format!("model.name={}", model.display());
    assert_mentions(
        &scratch.train_fails(&["--set", &set]),
        &[
            "model.safetensors",
            "not a valid safetensors file",
            "truncated",
        ],
    );
}

#[test]
fn existing_run_stays_untouched() {
    let scratch = Scratch::new();
    let first = acf(
        scratch.dir.path(),
        &["train", "--config", "config.toml", "--backend", "cpu"],
    );
    assert!(
        first.status.success(),
        "first run failed: {}",
        stderr(&first)
    );
    let run = scratch.path("run");
    let before = snapshot(&run);
    assert!(run.join("checkpoints/latest").is_file());

    // Training again into the same folder is rejected.
    let message = scratch.train_fails(&[]);
    assert_mentions(&message, &["already contains a run", "--resume"]);
    assert_eq!(snapshot(&run), before, "the earlier run changed");

    // Resuming with a different model is rejected.
    let model = model_copy(&scratch, None, false);
    let mut config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(model.join("config.json")).unwrap()).unwrap();
    config["num_hidden_layers"] = serde_json::json!(3);
    std::fs::write(model.join("config.json"), config.to_string()).unwrap();
    let set = format!("model.name={}", model.display());
    let output = acf(
        scratch.dir.path(),
        &[
            "train",
            "--resume",
            "run",
            "--set",
            &set,
            "--set",
            "train.max_steps=2",
            "--backend",
            "cpu",
        ],
    );
    assert!(!output.status.success());
    assert_mentions(
        &stderr(&output),
        &["--resume run", "was trained from model", "start a new run"],
    );
    assert_eq!(snapshot(&run), before, "the earlier run changed");
}
