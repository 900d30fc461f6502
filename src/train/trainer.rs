//! The training loop: data -> encoder -> losses -> AdamW, with evaluation, checkpoints and
//! events. A custom loop rather than burn-train's `Learner`, because the ACF loss needs
//! the pooled representations and the classifier rows together.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use burn::module::Module;
use burn::optim::GradientsParams;
use burn::prelude::*;
use serde_json::json;

use super::checkpoint::{
    MODEL_FILE, OPTIMIZER_FILE, latest_checkpoint, read_state, write_checkpoint,
};
use super::evaluate::{Evaluation, evaluate};
use super::events::{EvaluationMetrics, EventSink, StepMetrics, TrainEvent};
use super::optimizer::AdamW;
use super::schedule::linear_warmup_decay;
use super::setup::{ImageSetup, ModelSetup, TextSetup};
use super::snapshot::{Snapshotter, choose_sample};
use crate::config::Config;
use crate::data::{Batch, Dataset, DatasetSplits, LabelSet, shuffled_batches};
use crate::device::{SelectedDevice, select_device};
use crate::loss::objective_loss;
use crate::model::{Classifier, ModelKind};
use crate::run::{RunDir, write_atomic};

/// Everything a training run needs, prepared before the first step.
struct Session<S: ModelSetup> {
    config: Config,
    run: RunDir,
    selected: SelectedDevice,
    setup: S,
    labels: LabelSet,
    train: S::Data,
    validation: Option<S::Data>,
    test: Option<S::Data>,
    skipped_images: usize,
}

/// Accumulates step losses between two logged steps.
#[derive(Default)]
struct StepAccumulator {
    steps: usize,
    examples: usize,
    seconds: f64,
    loss: f64,
    loss_ce: f64,
    loss_contrastive: f64,
    loss_correlation: f64,
    grad_norm: f64,
}

/// Trains with `config`, emitting events to `sinks`, and returns `summary.json`'s
/// contents. With `resume`, continues the run in `config.output.run_dir` from its latest
/// checkpoint; without it, an existing run there is an error and stays untouched.
pub fn train(
    config: Config,
    resume: bool,
    sinks: &mut [Box<dyn EventSink>],
) -> Result<serde_json::Value> {
    train_until(config, resume, sinks, &AtomicBool::new(false))
}

/// [`train`] that ends early, after the current step and with a checkpoint, once `stop` is
/// set. A stopped run continues with `acf train --resume`.
pub fn train_until(
    config: Config,
    resume: bool,
    sinks: &mut [Box<dyn EventSink>],
    stop: &AtomicBool,
) -> Result<serde_json::Value> {
    let wall_start = Instant::now();
    let run = RunDir::new(&config.output.run_dir);
    let known_labels = check_run_dir(&run, resume)?;
    match ModelKind::of(&config.model.name) {
        ModelKind::Text => {
            let (setup, splits) = TextSetup::prepare(&config, known_labels)?;
            let session = Session::new(config, run, setup, splits)?;
            run_session(session, resume, sinks, stop, wall_start)
        }
        ModelKind::Image => {
            let (setup, splits) = ImageSetup::prepare(&config, known_labels)?;
            let session = Session::new(config, run, setup, splits)?;
            run_session(session, resume, sinks, stop, wall_start)
        }
    }
}

fn run_session<S: ModelSetup>(
    session: Session<S>,
    resume: bool,
    sinks: &mut [Box<dyn EventSink>],
    stop: &AtomicBool,
    wall_start: Instant,
) -> Result<serde_json::Value> {
    let config = &session.config;
    let device = session.selected.device.clone().autodiff();
    device.seed(config.train.seed);

    let (mut model, mut optimizer, start_step) = initial_state(&session, &device, resume)?;
    if !resume {
        write_atomic(&session.run.config(), config.to_toml()?.as_bytes())?;
        session.labels.save(&session.run.labels())?;
    }

    let batch_size = config.train.batch_size;
    let contrastive = config.objective.kind.is_contrastive();
    let steps_per_epoch = shuffled_batches(session.train.len(), batch_size, 0, contrastive).len();
    if steps_per_epoch == 0 {
        bail!("the training set has too few examples for one batch of two");
    }
    let total_steps = config
        .train
        .max_steps
        .unwrap_or(config.train.epochs * steps_per_epoch);
    let warmup_steps = (config.train.warmup_fraction * total_steps as f64).ceil() as usize;
    if start_step >= total_steps {
        bail!(
            "{}: the run already completed {start_step} of {total_steps} steps; raise train.epochs or train.max_steps with --set to train further",
            session.run.root.display()
        );
    }

    emit(
        sinks,
        &TrainEvent::Started {
            total_steps,
            start_step,
            backend: session.selected.backend.clone(),
            adapter: session.selected.adapter.clone(),
        },
    )?;
    tracing::info!(
        run_dir = %session.run.root.display(),
        start_step,
        total_steps,
        train_examples = session.train.len(),
        "training started"
    );

    let mut snapshots = if config.train.snapshot_every > 0 {
        let (dataset, split) = match &session.validation {
            Some(validation) => (validation, "validation"),
            None => (&session.train, "train"),
        };
        let sample = choose_sample(
            dataset,
            split,
            &session.labels.names,
            config.train.snapshot_size,
            config.train.seed,
        );
        let snapshotter = Snapshotter::new(sample, config.eval_batch_size());
        emit(
            sinks,
            &TrainEvent::SnapshotSample(snapshotter.sample.clone()),
        )?;
        Some((snapshotter, dataset))
    } else {
        None
    };
    let mut take_snapshot =
        |model: &S::Model, step: usize, sinks: &mut [Box<dyn EventSink>]| -> Result<()> {
            if let Some((snapshotter, dataset)) = &mut snapshots {
                let snapshot =
                    snapshotter.take(&model.valid(), *dataset, &session.selected.device, step)?;
                emit(sinks, &TrainEvent::Snapshot(snapshot))?;
            }
            Ok(())
        };
    if start_step == 0 {
        take_snapshot(&model, 0, sinks)?;
    }

    let mut accumulator = StepAccumulator::default();
    let mut completed = start_step;
    let mut stopped = false;
    let mut train_seconds = 0.0;
    let mut train_examples = 0usize;
    let mut last_validation: Option<(usize, Evaluation)> = None;
    let mut last_checkpoint: Option<(usize, PathBuf)> =
        latest_checkpoint(&session.run)?.map(|dir| (start_step, dir));
    let mut epoch_batches: Option<(usize, Vec<Vec<usize>>)> = None;

    for step in start_step..total_steps {
        if stop.load(Ordering::Relaxed) {
            stopped = true;
            break;
        }
        let epoch = step / steps_per_epoch;
        if epoch_batches
            .as_ref()
            .is_none_or(|(cached, _)| *cached != epoch)
        {
            let seed = config.train.seed.wrapping_add(epoch as u64);
            epoch_batches = Some((
                epoch,
                shuffled_batches(session.train.len(), batch_size, seed, contrastive),
            ));
        }
        let indices =
            &epoch_batches.as_ref().expect("batches of this epoch").1[step % steps_per_epoch];

        let step_start = Instant::now();
        let augment_seed = config.train.seed.wrapping_add(step as u64);
        let batch = session
            .train
            .batch(indices, Some(augment_seed), &device)
            .with_context(|| format!("step {}: cannot build the batch", step + 1))?;
        let labels = batch.labels().context("training batches carry labels")?;
        let output = model.forward(&batch);
        let losses = objective_loss(
            &config.objective,
            output.pooled,
            output.logits,
            model.label_embeddings(),
            labels,
        );

        let loss = losses.total.clone().into_scalar::<f32>() as f64;
        if !loss.is_finite() {
            let checkpoint_status = last_checkpoint
                .as_ref()
                .map(|(_, path)| format!("the last good checkpoint is {}", path.display()))
                .unwrap_or_else(|| "no checkpoint was written yet".into());
            bail!(
                "step {}: the loss is {loss}; training stopped and {checkpoint_status}. Lower train.learning_rate or raise objective.temperature",
                step + 1
            );
        }

        let gradients = GradientsParams::from_grads(losses.total.backward(), &model);
        let learning_rate =
            linear_warmup_decay(config.train.learning_rate, step, warmup_steps, total_steps);
        let (updated, report) = optimizer
            .step(model, gradients, learning_rate, config.train.max_grad_norm)
            .with_context(|| format!("step {}: optimiser update failed", step + 1))?;
        model = updated;

        let seconds = step_start.elapsed().as_secs_f64();
        train_seconds += seconds;
        train_examples += indices.len();
        accumulator.steps += 1;
        accumulator.examples += indices.len();
        accumulator.seconds += seconds;
        accumulator.loss += loss;
        accumulator.loss_ce += losses.cross_entropy.into_scalar::<f32>() as f64;
        accumulator.loss_contrastive += losses.contrastive.into_scalar::<f32>() as f64;
        accumulator.loss_correlation += losses.correlation.into_scalar::<f32>() as f64;
        accumulator.grad_norm += report.grad_norm;

        completed = step + 1;
        let epoch_progress = completed as f64 / steps_per_epoch as f64;
        if completed % config.train.log_every == 0 || completed == total_steps {
            let steps = accumulator.steps as f64;
            emit(
                sinks,
                &TrainEvent::Step(StepMetrics {
                    step: completed,
                    epoch: epoch_progress,
                    lr: learning_rate,
                    loss: accumulator.loss / steps,
                    loss_ce: accumulator.loss_ce / steps,
                    loss_contrastive: accumulator.loss_contrastive / steps,
                    loss_correlation: accumulator.loss_correlation / steps,
                    grad_norm: accumulator.grad_norm / steps,
                    examples_per_second: accumulator.examples as f64
                        / accumulator.seconds.max(1e-9),
                }),
            )?;
            accumulator = StepAccumulator::default();
        }

        let end_of_epoch = completed % steps_per_epoch == 0;
        let evaluate_now = if config.train.eval_every > 0 {
            completed % config.train.eval_every == 0
        } else {
            end_of_epoch
        } || completed == total_steps;
        if evaluate_now && let Some(validation) = &session.validation {
            let evaluation = run_evaluation(
                &session,
                &model,
                validation,
                "validation",
                completed,
                epoch_progress,
                sinks,
            )?;
            last_validation = Some((completed, evaluation));
        }

        let checkpoint_now = if config.train.checkpoint_every > 0 {
            completed % config.train.checkpoint_every == 0
        } else {
            evaluate_now
        } || completed == total_steps;
        if checkpoint_now {
            last_checkpoint = Some(checkpoint(&session, &model, &optimizer, completed, sinks)?);
        }

        let snapshot_every = config.train.snapshot_every;
        if snapshot_every > 0 && (completed % snapshot_every == 0 || completed == total_steps) {
            take_snapshot(&model, completed, sinks)?;
        }
    }

    if stopped
        && completed > start_step
        && last_checkpoint
            .as_ref()
            .is_none_or(|(step, _)| *step != completed)
    {
        last_checkpoint = Some(checkpoint(&session, &model, &optimizer, completed, sinks)?);
    }
    tracing::info!(step = completed, stopped, "training loop ended");

    let test = match &session.test {
        Some(test) if !stopped => Some(run_evaluation(
            &session,
            &model,
            test,
            "test",
            total_steps,
            total_steps as f64 / steps_per_epoch as f64,
            sinks,
        )?),
        _ => None,
    };

    let wall_seconds = wall_start.elapsed().as_secs_f64();
    emit(
        sinks,
        &TrainEvent::Finished {
            step: completed,
            wall_seconds,
            stopped,
        },
    )?;

    let split_summary = |evaluation: &Evaluation| {
        let mut value = serde_json::to_value(&evaluation.metrics).expect("metrics serialise");
        let losses = serde_json::to_value(&evaluation.losses).expect("losses serialise");
        if let (Some(object), Some(losses)) = (value.as_object_mut(), losses.as_object()) {
            object.extend(losses.clone());
            object.insert("examples".into(), json!(evaluation.examples));
        }
        value
    };
    let summary = json!({
        "model": config.model.name,
        "objective": config.objective.kind,
        "steps": completed,
        "total_steps": total_steps,
        "stopped": stopped,
        "validation": last_validation.as_ref().map(|(_, evaluation)| split_summary(evaluation)),
        "test": test.as_ref().map(split_summary),
        "train": {
            "examples": train_examples,
            "seconds": train_seconds,
            "examples_per_second": train_examples as f64 / train_seconds.max(1e-9),
        },
        "skipped_images": session.skipped_images,
        "backend": session.selected.backend,
        "adapter": session.selected.adapter,
        "wall_seconds": wall_seconds,
        "checkpoint": last_checkpoint.map(|(_, path)| path),
    });
    write_atomic(
        &session.run.summary(),
        serde_json::to_string_pretty(&summary)?.as_bytes(),
    )?;
    tracing::info!(run_dir = %session.run.root.display(), wall_seconds, "training finished");
    Ok(summary)
}

/// Writes a checkpoint of step `completed` and announces it.
fn checkpoint<S: ModelSetup>(
    session: &Session<S>,
    model: &S::Model,
    optimizer: &AdamW,
    completed: usize,
    sinks: &mut [Box<dyn EventSink>],
) -> Result<(usize, PathBuf)> {
    let state = session.setup.state(model, completed, &session.labels);
    let path = write_checkpoint(&session.run, model, optimizer, &state)?;
    emit(
        sinks,
        &TrainEvent::Checkpoint {
            step: completed,
            path: path.clone(),
        },
    )?;
    Ok((completed, path))
}

fn emit(sinks: &mut [Box<dyn EventSink>], event: &TrainEvent) -> Result<()> {
    for sink in sinks.iter_mut() {
        sink.handle(event)?;
    }
    Ok(())
}

fn run_evaluation<S: ModelSetup>(
    session: &Session<S>,
    model: &S::Model,
    dataset: &S::Data,
    split: &str,
    step: usize,
    epoch: f64,
    sinks: &mut [Box<dyn EventSink>],
) -> Result<Evaluation> {
    let evaluation = evaluate(
        &model.valid(),
        dataset,
        &session.config.objective,
        session.config.eval_batch_size(),
        &session.selected.device,
    )?;
    emit(
        sinks,
        &TrainEvent::Evaluation(EvaluationMetrics {
            step,
            epoch,
            split: split.to_string(),
            examples: evaluation.examples,
            losses: evaluation.losses.clone(),
            metrics: evaluation.metrics.clone(),
        }),
    )?;
    Ok(evaluation)
}

/// Checks that `run` may be started (or resumed) and returns the labels of a resumed run.
fn check_run_dir(run: &RunDir, resume: bool) -> Result<Option<LabelSet>> {
    if resume {
        if !run.config().is_file() {
            bail!(
                "--resume {}: no config.toml there, so it is not a run directory",
                run.root.display()
            );
        }
        return Ok(Some(LabelSet::load(&run.labels())?));
    }
    if run.has_run() {
        bail!(
            "{} already contains a run; continue it with `acf train --resume {}` or choose another --run-dir (nothing was changed)",
            run.root.display(),
            run.root.display()
        );
    }
    Ok(None)
}

impl<S: ModelSetup> Session<S> {
    fn new(config: Config, run: RunDir, setup: S, splits: DatasetSplits<S::Data>) -> Result<Self> {
        let selected = select_device(config.device.backend)?;
        Ok(Session {
            config,
            run,
            selected,
            setup,
            labels: splits.labels,
            train: splits.train,
            validation: splits.validation,
            test: splits.test,
            skipped_images: splits.skipped_images,
        })
    }
}

/// Builds a fresh model and optimiser, or restores both from the latest checkpoint.
fn initial_state<S: ModelSetup>(
    session: &Session<S>,
    device: &Device,
    resume: bool,
) -> Result<(S::Model, AdamW, usize)> {
    let config = &session.config;
    let checkpoint = if resume {
        latest_checkpoint(&session.run)?
    } else {
        None
    };

    let Some(dir) = checkpoint else {
        let model = session.setup.new_model(session.labels.len(), device)?;
        return Ok((model, AdamW::new(config.train.weight_decay), 0));
    };

    let state = read_state(&dir)?;
    if state.model_name != config.model.name {
        bail!(
            "--resume {}: checkpoint {} was trained from model {:?}, but model.name is {:?}; resume with the run's own model.name or start a new run",
            session.run.root.display(),
            dir.display(),
            state.model_name,
            config.model.name
        );
    }
    if !session.setup.matches(&state) {
        bail!(
            "--resume {}: checkpoint {} contains a {:?} model that does not match model {:?} as it is now (its config.json changed); restore the model files or start a new run",
            session.run.root.display(),
            dir.display(),
            state.kind,
            config.model.name
        );
    }
    if state.labels != session.labels.names {
        bail!(
            "--resume {}: checkpoint labels [{}] differ from labels.json [{}]",
            session.run.root.display(),
            state.labels.join(", "),
            session.labels.names.join(", ")
        );
    }
    let model = session
        .setup
        .load_model(&dir.join(MODEL_FILE), &state, session.labels.len(), device)
        .with_context(|| {
            format!(
                "--resume {}: cannot load checkpoint {}",
                session.run.root.display(),
                dir.display()
            )
        })?;
    let optimizer = AdamW::load(
        &dir.join(OPTIMIZER_FILE),
        config.train.weight_decay,
        &device.clone().inner(),
    )?;
    tracing::info!(checkpoint = %dir.display(), step = state.step, "resuming");
    Ok((model, optimizer, state.step))
}
