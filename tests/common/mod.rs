//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use acf::config::BackendChoice;
use acf::device::{SelectedDevice, select_device};

pub const MODEL: &str = "sentence-transformers/all-MiniLM-L6-v2";

/// Returns the wgpu device. The tests require one (lavapipe where there is no GPU),
/// because they exist to check the wgpu path.
pub fn wgpu_device() -> SelectedDevice {
    select_device(BackendChoice::Wgpu)
        .expect("a wgpu adapter is required for this test; run scripts/setup to install lavapipe")
}

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Returns the path of a Rotten Tomatoes split written by scripts/setup.
pub fn rotten_tomatoes(split: &str) -> PathBuf {
    let path = repo_root()
        .join("data/rotten_tomatoes")
        .join(format!("{split}.csv"));
    assert!(
        path.is_file(),
        "{} is missing; run scripts/setup first",
        path.display()
    );
    path
}

/// Runs the `acf` binary with `args` in `dir`.
pub fn acf(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_acf"))
        .args(args)
        .current_dir(dir)
        .env("RUST_LOG", "warn")
        .output()
        .expect("acf runs")
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Writes the first `count` data rows of `source` (with its header) to `target`.
pub fn head_csv(source: &Path, target: &Path, count: usize) {
    let mut reader = csv::Reader::from_path(source).unwrap();
    let mut writer = csv::Writer::from_path(target).unwrap();
    writer.write_record(reader.headers().unwrap()).unwrap();
    for record in reader.records().take(count) {
        writer.write_record(&record.unwrap()).unwrap();
    }
    writer.flush().unwrap();
}

/// Reads the training loss of every logged step of the run in `run`.
pub fn step_losses(run: &Path) -> Vec<f64> {
    std::fs::read_to_string(run.join("metrics.jsonl"))
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str::<serde_json::Value>(line).unwrap())
        .filter(|event| event["event"] == "step")
        .map(|event| event["loss"].as_f64().unwrap())
        .collect()
}
