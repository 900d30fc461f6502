//! A training run started from the explorer: the trainer on its own thread, its events
//! over a channel. The UI only drains the channel, so it never blocks a step.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::thread::JoinHandle;

use anyhow::Result;
use serde_json::Value;

use super::state::{RunState, RunStatus};
use crate::config::Config;
use crate::run::{RunDir, RunDirSink, event_record};
use crate::snapshot::{SharedSample, SharedSnapshot};
use crate::train::{EventSink, TrainEvent, train_until};

enum LiveMessage {
    Record(Value),
    Sample(SharedSample),
    Snapshot(SharedSnapshot),
    Ended(Result<Value, String>),
}

/// Forwards events to the UI thread and wakes it.
struct ChannelSink {
    sender: Sender<LiveMessage>,
    wake: Arc<dyn Fn() + Send + Sync>,
}

impl EventSink for ChannelSink {
    fn handle(&mut self, event: &TrainEvent) -> Result<()> {
        // A closed window drops the receiver; training goes on to its checkpoint.
        let _ = self.sender.send(LiveMessage::Record(event_record(event)?));
        match event {
            TrainEvent::SnapshotSample(sample) => {
                let _ = self.sender.send(LiveMessage::Sample(sample.clone()));
            }
            TrainEvent::Snapshot(snapshot) => {
                let _ = self.sender.send(LiveMessage::Snapshot(snapshot.clone()));
            }
            _ => {}
        }
        (self.wake)();
        Ok(())
    }
}

/// Lowers the calling thread's scheduling priority by 10 nice steps. The CPU backend's
/// worker threads, created later by this thread, inherit it. So the window's threads,
/// and a software renderer's, get the CPU first when they need it, while an idle window
/// costs training nothing.
#[cfg(target_os = "linux")]
fn lower_thread_priority() {
    // SAFETY: gettid and setpriority take no pointers; PRIO_PROCESS with a thread id
    // changes that thread's nice value only.
    let result = unsafe {
        let thread = libc::syscall(libc::SYS_gettid) as libc::id_t;
        libc::setpriority(libc::PRIO_PROCESS, thread, 10)
    };
    if result != 0 {
        tracing::warn!(
            "cannot lower the training thread's priority: {}",
            std::io::Error::last_os_error()
        );
    }
}

#[cfg(not(target_os = "linux"))]
fn lower_thread_priority() {}

pub struct LiveRun {
    pub run_dir: PathBuf,
    stop: Arc<AtomicBool>,
    receiver: Receiver<LiveMessage>,
    handle: Option<JoinHandle<()>>,
    ended: bool,
}

impl LiveRun {
    /// Starts training `config` on a new thread; events also go to the run directory, as
    /// in `acf train`. `wake` requests a UI frame.
    pub fn start(config: Config, wake: Arc<dyn Fn() + Send + Sync>) -> Result<LiveRun> {
        let run_dir = config.output.run_dir.clone();
        let stop = Arc::new(AtomicBool::new(false));
        let (sender, receiver) = channel();
        let thread_stop = stop.clone();
        let handle = std::thread::Builder::new()
            .name("acf-train".into())
            .spawn(move || {
                lower_thread_priority();
                let mut sinks: Vec<Box<dyn EventSink>> = vec![
                    Box::new(RunDirSink::new(RunDir::new(&config.output.run_dir))),
                    Box::new(ChannelSink {
                        sender: sender.clone(),
                        wake: wake.clone(),
                    }),
                ];
                let result = train_until(config, false, &mut sinks, &thread_stop)
                    .map_err(|err| format!("{err:#}"));
                if let Err(message) = &result {
                    tracing::error!("training failed: {message}");
                }
                let _ = sender.send(LiveMessage::Ended(result));
                wake();
            })?;
        tracing::info!(run_dir = %run_dir.display(), "training started from the explorer");
        Ok(LiveRun {
            run_dir,
            stop,
            receiver,
            handle: Some(handle),
            ended: false,
        })
    }

    /// Asks the trainer to stop after its current step; it writes a checkpoint first.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }

    pub fn stopping(&self) -> bool {
        self.stop.load(Ordering::Relaxed) && !self.ended
    }

    pub fn ended(&self) -> bool {
        self.ended
    }

    /// Applies everything the trainer sent since the last call.
    pub fn drain(&mut self, state: &mut RunState) {
        // Checked before draining: a thread that has ended has sent all it will send.
        let thread_ended = self.handle.as_ref().is_some_and(JoinHandle::is_finished);
        while let Ok(message) = self.receiver.try_recv() {
            match message {
                LiveMessage::Record(record) => {
                    if let Err(problem) = state.apply_record(&record) {
                        state.report(format!("skipped a training event: {problem}"));
                    }
                }
                LiveMessage::Sample(sample) => state.set_sample(sample),
                LiveMessage::Snapshot(snapshot) => state.add_snapshot(snapshot),
                LiveMessage::Ended(result) => {
                    self.ended = true;
                    if let Err(message) = result {
                        state.status = RunStatus::Failed(message.clone());
                        state.report(format!("training failed: {message}"));
                    }
                    if let Some(handle) = self.handle.take()
                        && handle.join().is_err()
                    {
                        state.report("the training thread panicked; see the log");
                    }
                }
            }
        }
        if thread_ended && !self.ended {
            // The thread ended without its last message: it panicked.
            self.ended = true;
            self.handle = None;
            state.status = RunStatus::Failed("the training thread panicked".into());
            state.report("the training thread panicked; see the log");
        }
    }
}
