//! The explorer's state without a window: a scripted event stream in, curves, snapshots
//! and hover details out; and run directories that are partial or damaged.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use acf::gui::{RunState, RunStatus, RunWatcher, smooth};
use acf::run::{RunDir, RunDirSink, event_record};
use acf::snapshot::{
    EmbeddingSnapshot, SampleInstance, SnapshotSample, alignment_readouts, export_projector,
};
use acf::train::events::StepMetrics;
use acf::train::{EventSink, TrainEvent};

const LABELS: [&str; 2] = ["negative", "positive"];

fn sample() -> SnapshotSample {
    SnapshotSample {
        split: "validation".into(),
        label_names: LABELS.iter().map(|name| name.to_string()).collect(),
        instances: vec![
            SampleInstance {
                index: 0,
                line: 2,
                text: "a dull, lifeless film".into(),
                label: 0,
            },
            SampleInstance {
                index: 3,
                line: 5,
                text: "a joy from start to finish".into(),
                label: 1,
            },
            SampleInstance {
                index: 7,
                line: 9,
                text: "not bad\tat all".into(),
                label: 1,
            },
        ],
        thumbnail_size: None,
        sprite: None,
    }
}

/// Three 2-d instances and two label embeddings on the axes; instance 2 is predicted wrong.
fn snapshot(step: usize) -> EmbeddingSnapshot {
    let instances = vec![1.0, 0.1, 0.1, 1.0, 0.8, 0.6];
    let label_embeddings = vec![2.0, 0.0, 0.0, 2.0];
    let labels = vec![0, 1, 1];
    EmbeddingSnapshot {
        step,
        dim: 2,
        readouts: alignment_readouts(&instances, &labels, &label_embeddings, 2),
        instances,
        label_embeddings,
        labels,
        predictions: vec![0, 1, 0],
        projection: vec![
            [0.5, -0.4],
            [-0.4, 0.5],
            [0.3, 0.0],
            [1.0, -1.0],
            [-1.0, 1.0],
        ],
        basis: vec![0.6, -0.8, 0.8, 0.6],
        explained_variance: [0.8, 0.15],
    }
}

fn step(step: usize, loss: f64) -> TrainEvent {
    TrainEvent::Step(StepMetrics {
        step,
        epoch: step as f64 / 10.0,
        lr: 1e-4,
        loss,
        loss_ce: loss / 2.0,
        loss_contrastive: loss / 2.0,
        loss_correlation: 0.01,
        grad_norm: 1.0,
        examples_per_second: 50.0,
    })
}

fn scripted_events() -> Vec<TrainEvent> {
    vec![
        TrainEvent::Started {
            total_steps: 20,
            start_step: 0,
            backend: "cpu".into(),
            adapter: "test adapter".into(),
        },
        TrainEvent::SnapshotSample(Arc::new(sample())),
        TrainEvent::Snapshot(Arc::new(snapshot(0))),
        step(10, 2.0),
        TrainEvent::Snapshot(Arc::new(snapshot(10))),
        step(20, 1.0),
        TrainEvent::Snapshot(Arc::new(snapshot(20))),
        TrainEvent::Finished {
            step: 20,
            wall_seconds: 3.0,
            stopped: false,
        },
    ]
}

/// Feeds events to the state the way a live run does: the record, then the data.
fn feed(state: &mut RunState, events: &[TrainEvent]) {
    for event in events {
        state.apply_record(&event_record(event).unwrap()).unwrap();
        match event {
            TrainEvent::SnapshotSample(sample) => state.set_sample(sample.clone()),
            TrainEvent::Snapshot(snapshot) => state.add_snapshot(snapshot.clone()),
            _ => {}
        }
    }
}

#[test]
fn scripted_events_fill_curves_snapshots_and_hover_details() {
    let mut state = RunState::default();
    feed(&mut state, &scripted_events());

    assert_eq!(state.curves["train/loss"], vec![[10.0, 2.0], [20.0, 1.0]]);
    assert_eq!(
        state.curves["train/loss_ce"],
        vec![[10.0, 1.0], [20.0, 0.5]]
    );
    assert_eq!(state.curves["alignment/own_label_cosine"].len(), 3);
    assert_eq!(state.snapshots.len(), 3);
    assert_eq!(
        state.status,
        RunStatus::Finished {
            step: 20,
            stopped: false
        }
    );

    let loaded = state.snapshot(2).expect("live snapshots carry their data");
    let details = state.instance_details(&loaded, 2);
    assert_eq!(details.text, "not bad\tat all");
    assert_eq!(details.line, Some(9));
    assert_eq!(
        (details.label.as_str(), details.predicted.as_str()),
        ("positive", "negative")
    );
    assert_eq!(details.label_cosines[0].0, "negative");
    assert!((details.label_cosines[0].1 - 0.8).abs() < 1e-6);
    assert!((details.label_cosines[1].1 - 0.6).abs() < 1e-6);
    assert!(state.messages.is_empty(), "{:?}", state.messages);
}

#[test]
fn resumed_runs_replace_repeated_steps() {
    let mut state = RunState::default();
    feed(
        &mut state,
        &[step(10, 2.0), step(20, 1.5), step(10, 1.8), step(20, 1.2)],
    );
    assert_eq!(state.curves["train/loss"], vec![[10.0, 1.8], [20.0, 1.2]]);
}

#[test]
fn smoothing_follows_tensorboard() {
    let points = [[1.0, 1.0], [2.0, 0.0]];
    assert_eq!(smooth(&points, 0.0), points.to_vec());
    // Debiased EMA with weight 0.5: the first value stays, the second is 1/3.
    let smoothed = smooth(&points, 0.5);
    assert!((smoothed[0][1] - 1.0).abs() < 1e-12);
    assert!((smoothed[1][1] - 1.0 / 3.0).abs() < 1e-12);
}

/// Writes the scripted run through the real run-directory sink.
fn write_run(root: &Path) {
    let mut sink = RunDirSink::new(RunDir::new(root));
    for event in scripted_events() {
        sink.handle(&event).unwrap();
    }
    std::fs::write(
        root.join("labels.json"),
        r#"{"names":["negative","positive"]}"#,
    )
    .unwrap();
}

#[test]
fn run_directory_replays_like_live_run() {
    let dir = tempfile::tempdir().unwrap();
    write_run(dir.path());

    let mut state = RunState::default();
    RunWatcher::open(dir.path(), &mut state).unwrap();
    assert_eq!(state.snapshots.len(), 3);
    assert_eq!(state.curves["train/loss"].len(), 2);
    let loaded = state.snapshot(1).expect("the snapshot file reads back");
    assert_eq!(*loaded, snapshot(10));
    assert_eq!(
        state.instance_details(&loaded, 0).text,
        "a dull, lifeless film"
    );
    assert!(state.messages.is_empty(), "{:?}", state.messages);
}

#[test]
fn damaged_run_directories_open_with_messages() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write_run(root);

    // A snapshot deleted, one overwritten with garbage, an invalid line in the middle and
    // a last line cut off mid-write.
    std::fs::remove_file(root.join("snapshots/step-0000010.safetensors")).unwrap();
    std::fs::write(
        root.join("snapshots/step-0000020.safetensors"),
        b"not a tensor file",
    )
    .unwrap();
    let metrics = std::fs::read_to_string(root.join("metrics.jsonl")).unwrap();
    let mut lines: Vec<&str> = metrics.lines().collect();
    lines.insert(3, "{\"event\": \"step\", \"step\"");
    let mut damaged = lines.join("\n");
    damaged.push_str("\n{\"event\": \"step\", \"step\": 30, \"lo");
    std::fs::write(root.join("metrics.jsonl"), damaged).unwrap();

    let mut state = RunState::default();
    let mut watcher = RunWatcher::open(root, &mut state).unwrap();
    assert_eq!(
        state.curves["train/loss"].len(),
        2,
        "readable lines still load"
    );
    assert_eq!(state.snapshots.len(), 3);
    assert!(state.snapshot(0).is_some());
    assert!(state.snapshot(1).is_none());
    assert!(state.snapshot(2).is_none());

    let has = |state: &RunState, needle: &str| state.messages.iter().any(|m| m.contains(needle));
    assert!(
        has(&state, "metrics.jsonl:4: skipped line: invalid JSON"),
        "{:?}",
        state.messages
    );
    assert!(
        has(&state, "the last line is incomplete"),
        "{:?}",
        state.messages
    );
    assert!(has(
        &state,
        "step-0000010.safetensors: snapshot of step 10 is missing"
    ));
    assert!(has(
        &state,
        "step-0000020.safetensors: not a safetensors file"
    ));

    // The writer finishes the line: it loads and its message goes away.
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(root.join("metrics.jsonl"))
        .unwrap();
    writeln!(file, "ss\": 0.5}}").unwrap();
    watcher.poll(&mut state);
    assert_eq!(state.curves["train/loss"].last(), Some(&[30.0, 0.5]));
    assert!(
        !has(&state, "the last line is incomplete"),
        "{:?}",
        state.messages
    );
}

#[test]
fn watcher_rejects_non_run_folder() {
    let dir = tempfile::tempdir().unwrap();
    let error = RunWatcher::open(dir.path(), &mut RunState::default()).unwrap_err();
    assert!(
        format!("{error:#}").contains("not a run directory"),
        "{error:#}"
    );
}

#[test]
fn projector_export_flags_label_embeddings() {
    let dir = tempfile::tempdir().unwrap();
    write_run(dir.path());
    let out = dir.path().join("projector");

    let export = export_projector(dir.path(), None, &out).unwrap();
    assert_eq!(export.step, 20);
    let vectors = std::fs::read_to_string(&export.vectors).unwrap();
    let metadata = std::fs::read_to_string(&export.metadata).unwrap();
    assert_eq!(vectors.lines().count(), 5);
    assert_eq!(vectors.lines().next().unwrap(), "1\t0.1");
    let rows: Vec<&str> = metadata.lines().collect();
    assert_eq!(rows.len(), 6, "a header and one row per vector");
    assert_eq!(rows[0], "kind\tlabel\tpredicted\tcorrect\ttext");
    assert_eq!(
        rows[3],
        "instance\tpositive\tnegative\tfalse\tnot bad at all"
    );
    assert_eq!(
        rows[5],
        "label_embedding\tpositive\tpositive\ttrue\t[label] positive"
    );

    let missing = export_projector(dir.path(), Some(7), &out).unwrap_err();
    assert!(
        format!("{missing:#}").contains("no snapshot at step 7"),
        "{missing:#}"
    );
}

#[test]
fn swapped_snapshot_files_are_not_shown() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write_run(root);
    let snapshots = root.join("snapshots");
    std::fs::rename(
        snapshots.join("step-0000010.safetensors"),
        snapshots.join("swap"),
    )
    .unwrap();
    std::fs::rename(
        snapshots.join("step-0000020.safetensors"),
        snapshots.join("step-0000010.safetensors"),
    )
    .unwrap();
    std::fs::rename(
        snapshots.join("swap"),
        snapshots.join("step-0000020.safetensors"),
    )
    .unwrap();

    let mut state = RunState::default();
    RunWatcher::open(root, &mut state).unwrap();
    assert!(state.snapshot(1).is_none());
    assert!(
        state
            .messages
            .iter()
            .any(|m| m.contains("contains the snapshot of step 20")),
        "{:?}",
        state.messages
    );
    let export = export_projector(root, Some(10), &root.join("projector"));
    assert!(format!("{:#}", export.unwrap_err()).contains("contains the snapshot of step 20"));
}

#[test]
fn sample_of_another_run_gives_no_texts() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write_run(root);
    let mut other = sample();
    other.instances.truncate(1);
    std::fs::write(
        root.join("snapshots/sample.json"),
        serde_json::to_string(&other).unwrap(),
    )
    .unwrap();

    let mut state = RunState::default();
    RunWatcher::open(root, &mut state).unwrap();
    let loaded = state.snapshot(0).unwrap();
    assert!(
        state
            .instance_details(&loaded, 0)
            .text
            .starts_with("(text unavailable")
    );
    assert!(
        state
            .messages
            .iter()
            .any(|m| m.contains("lists 1 instances")),
        "{:?}",
        state.messages
    );
}

#[test]
fn many_invalid_lines_are_summed_up() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write_run(root);
    let garbage: String = (0..50).map(|i| format!("not json {i}\n")).collect();
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(root.join("metrics.jsonl"))
        .unwrap();
    file.write_all(garbage.as_bytes()).unwrap();

    let mut state = RunState::default();
    RunWatcher::open(root, &mut state).unwrap();
    assert_eq!(state.messages.len(), 11, "{:?}", state.messages);
    assert!(state.messages[10].contains("skipped 40 more invalid lines"));
}
