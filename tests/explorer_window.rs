//! The explorer in a real window under Xvfb: a finished MiniLM run opened with
//! `acf gui --run DIR --screenshot`, and a run trained live from the window with
//! `--start`. Each PNG must show the curves and the map, not a blank frame. Also the
//! trainer's stop signal, which closing the window sends.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use acf::config::Config;
use acf::run::{RunDir, RunDirSink};
use acf::train::{EventSink, TrainEvent, train_until};
use common::{acf, head_csv, rotten_tomatoes, stderr, step_losses};

/// An Xvfb server this test started, stopped on drop.
struct VirtualDisplay {
    server: Child,
    display: String,
}

impl VirtualDisplay {
    fn start() -> VirtualDisplay {
        let number = (90..200)
            .find(|n| {
                !Path::new(&format!("/tmp/.X11-unix/X{n}")).exists()
                    && !Path::new(&format!("/tmp/.X{n}-lock")).exists()
            })
            .expect("a free X display number");
        let display = format!(":{number}");
        let server = Command::new("Xvfb")
            .args([
                display.as_str(),
                "-screen",
                "0",
                "1920x1200x24",
                "-nolisten",
                "tcp",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("Xvfb runs; scripts/setup installs it (Debian package xvfb)");
        let socket = PathBuf::from(format!("/tmp/.X11-unix/X{number}"));
        let start = Instant::now();
        while !socket.exists() {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "Xvfb did not start on {display}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        VirtualDisplay { server, display }
    }
}

impl Drop for VirtualDisplay {
    fn drop(&mut self) {
        let _ = self.server.kill();
        let _ = self.server.wait();
    }
}

/// Writes a small Rotten Tomatoes config with frequent snapshots.
fn write_config(root: &Path) {
    head_csv(&rotten_tomatoes("train"), &root.join("train.csv"), 96);
    head_csv(
        &rotten_tomatoes("validation"),
        &root.join("validation.csv"),
        96,
    );
    std::fs::write(
        root.join("config.toml"),
        "[model]\nname = \"sentence-transformers/all-MiniLM-L6-v2\"\nmax_length = 32\n\n\
         [data]\ntrain = \"train.csv\"\nvalidation = \"validation.csv\"\n\n\
         [objective]\nkind = \"acf\"\n\n\
         [train]\nbatch_size = 16\nmax_steps = 6\neval_every = 3\nlog_every = 1\n\
         snapshot_every = 3\nlearning_rate = 1e-4\n\n[device]\nbackend = \"cpu\"\n",
    )
    .unwrap();
}

fn gui(root: &Path, display: &VirtualDisplay, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_acf"))
        .arg("gui")
        .args(args)
        .current_dir(root)
        .env("DISPLAY", &display.display)
        .env_remove("WAYLAND_DISPLAY")
        .env("RUST_LOG", "warn")
        .output()
        .expect("acf gui runs")
}

/// Checks that `path` is a full window with curves and the map: many colours, and the
/// first two class colours (instances and label markers) cover a visible area.
fn assert_shows_run(path: &Path) {
    let image = image::open(path).expect("a PNG").to_rgb8();
    assert!(
        image.width() >= 1200 && image.height() >= 800,
        "{:?}",
        image.dimensions()
    );
    let mut colours = std::collections::HashSet::new();
    let near = |pixel: &image::Rgb<u8>, [r, g, b]: [u8; 3]| {
        pixel.0[0].abs_diff(r) <= 4 && pixel.0[1].abs_diff(g) <= 4 && pixel.0[2].abs_diff(b) <= 4
    };
    let (mut first_class, mut second_class) = (0usize, 0usize);
    for pixel in image.pixels() {
        colours.insert(pixel.0);
        first_class += near(pixel, [78, 121, 167]) as usize;
        second_class += near(pixel, [242, 142, 43]) as usize;
    }
    assert!(
        colours.len() > 200,
        "only {} colours: a blank frame",
        colours.len()
    );
    assert!(
        first_class > 300 && second_class > 300,
        "class colours cover {first_class} and {second_class} pixels"
    );
}

#[test]
fn screenshots_show_curves_and_map() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write_config(root);
    let display = VirtualDisplay::start();

    let output = acf(
        root,
        &["train", "--config", "config.toml", "--run-dir", "finished"],
    );
    assert!(output.status.success(), "train failed: {}", stderr(&output));
    let snapshots: Vec<_> = std::fs::read_dir(root.join("finished/snapshots"))
        .unwrap()
        .collect();
    assert_eq!(
        snapshots.len(),
        4,
        "sample.json and snapshots at steps 0, 3 and 6"
    );

    let output = gui(
        root,
        &display,
        &["--run", "finished", "--screenshot", "finished.png"],
    );
    assert!(output.status.success(), "gui failed: {}", stderr(&output));
    assert_shows_run(&root.join("finished.png"));

    let output = gui(
        root,
        &display,
        &[
            "--config",
            "config.toml",
            "--set",
            "output.run_dir=\"live\"",
            "--start",
            "--screenshot",
            "live.png",
        ],
    );
    assert!(
        output.status.success(),
        "gui --start failed: {}",
        stderr(&output)
    );
    assert_shows_run(&root.join("live.png"));
    assert!(
        root.join("live/summary.json").is_file(),
        "the live run finished and wrote its summary"
    );
    assert!(
        root.join("live/snapshots/step-0000006.safetensors")
            .is_file()
    );
}

/// Sets the stop flag once the trainer reports its second step, as closing the window does.
struct StopAfter {
    steps: usize,
    stop: Arc<AtomicBool>,
}

impl EventSink for StopAfter {
    fn handle(&mut self, event: &TrainEvent) -> anyhow::Result<()> {
        if let TrainEvent::Step(metrics) = event
            && metrics.step >= self.steps
        {
            self.stop.store(true, Ordering::Relaxed);
        }
        Ok(())
    }
}

#[test]
fn stopped_run_checkpoints_and_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write_config(root);
    let mut config = Config::load(Some(&root.join("config.toml")), &[]).unwrap();
    config.output.run_dir = root.join("run");
    config.train.snapshot_every = 0;
    config.train.eval_every = 100;

    let stop = Arc::new(AtomicBool::new(false));
    let mut sinks: Vec<Box<dyn EventSink>> = vec![
        Box::new(RunDirSink::new(RunDir::new(&config.output.run_dir))),
        Box::new(StopAfter {
            steps: 2,
            stop: stop.clone(),
        }),
    ];
    let summary = train_until(config, false, &mut sinks, &stop).unwrap();
    assert_eq!(summary["stopped"], true);
    assert_eq!(summary["steps"], 2);
    let latest = std::fs::read_to_string(root.join("run/checkpoints/latest")).unwrap();
    assert_eq!(latest.trim(), "step-0000002");

    let output = acf(root, &["train", "--resume", "run"]);
    assert!(
        output.status.success(),
        "resume failed: {}",
        stderr(&output)
    );
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("run/summary.json")).unwrap())
            .unwrap();
    assert_eq!(summary["steps"], 6);
    assert_eq!(summary["stopped"], false);
}

#[test]
fn snapshots_leave_training_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write_config(root);
    for (run, every) in [("without", "0"), ("with", "2")] {
        let set = format!("train.snapshot_every={every}");
        let output = acf(
            root,
            &[
                "train",
                "--config",
                "config.toml",
                "--run-dir",
                run,
                "--set",
                &set,
            ],
        );
        assert!(output.status.success(), "train failed: {}", stderr(&output));
    }
    let without = step_losses(&root.join("without"));
    assert_eq!(without.len(), 6);
    assert_eq!(
        without,
        step_losses(&root.join("with")),
        "same seed, same losses"
    );
}
