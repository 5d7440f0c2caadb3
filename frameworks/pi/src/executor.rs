//! The Pi executor: runs each task's sampling on a blocking thread, several at once, and
//! reports the result in the data of `TASK_FINISHED`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use mesos_sdk::executor::{Executor, ExecutorClient};
use mesos_sdk::v1;

use crate::kernel::Sampler;
use crate::wire::{TaskInput, TaskOutput};

/// Samples drawn between checks for a kill (a few milliseconds of work).
const SLICE: u64 = 1 << 24;

/// Cancellation flags of the tasks being computed, by task id.
type Running = Arc<Mutex<HashMap<String, Arc<AtomicBool>>>>;

/// The executor side of the framework. One instance serves every task the scheduler
/// sends to this agent; each task runs on its own blocking thread.
#[derive(Debug, Default)]
pub struct PiExecutor {
    running: Running,
    shutting_down: bool,
}

impl PiExecutor {
    /// A new executor with no tasks.
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait::async_trait]
impl Executor for PiExecutor {
    async fn launch(&mut self, client: &ExecutorClient, task: v1::TaskInfo) {
        let task_id = task.task_id.clone();
        let input = match TaskInput::decode(task.data.as_deref().unwrap_or_default()) {
            Ok(input) => input,
            Err(error) => {
                tracing::warn!(task = %task_id.value, %error, "rejecting task");
                send(
                    client,
                    task_id,
                    v1::TaskState::TaskFailed,
                    None,
                    Some(error.to_string()),
                )
                .await;
                return;
            }
        };
        let cancel = Arc::new(AtomicBool::new(false));
        lock(&self.running).insert(task_id.value.clone(), cancel.clone());
        send(
            client,
            task_id.clone(),
            v1::TaskState::TaskRunning,
            None,
            None,
        )
        .await;
        let client = client.clone();
        let running = self.running.clone();
        tokio::spawn(async move {
            let work = tokio::task::spawn_blocking(move || sample(input, &cancel));
            let result = work.await;
            lock(&running).remove(&task_id.value);
            match result {
                Ok(Some(hits)) => {
                    let out = TaskOutput {
                        stream: input.stream,
                        samples: input.samples,
                        hits,
                    };
                    send(
                        &client,
                        task_id,
                        v1::TaskState::TaskFinished,
                        Some(out.encode()),
                        None,
                    )
                    .await;
                }
                Ok(None) => {
                    send(&client, task_id, v1::TaskState::TaskKilled, None, None).await;
                }
                Err(error) => {
                    let message = format!("sampling thread failed: {error}");
                    send(
                        &client,
                        task_id,
                        v1::TaskState::TaskFailed,
                        None,
                        Some(message),
                    )
                    .await;
                }
            }
        });
    }

    async fn kill(
        &mut self,
        _client: &ExecutorClient,
        task_id: v1::TaskId,
        _kill_policy: Option<v1::KillPolicy>,
    ) {
        if self.shutting_down {
            tracing::warn!(task = %task_id.value, "ignoring kill: the executor is shutting down");
            return;
        }
        match lock(&self.running).get(&task_id.value) {
            // The sampling thread notices within one slice and reports TASK_KILLED.
            Some(cancel) => cancel.store(true, Ordering::Relaxed),
            // As Mesos's default executor does: a task that is no longer active (it
            // finished, or never reached this executor) already had, or will get, its
            // terminal update from elsewhere; the agent answers kills of tasks it does
            // not know itself, so nothing is sent here.
            None => {
                tracing::warn!(task = %task_id.value, "ignoring kill: the task is no longer active");
            }
        }
    }

    async fn shutdown(&mut self, _client: &ExecutorClient) {
        self.shutting_down = true;
        for cancel in lock(&self.running).values() {
            cancel.store(true, Ordering::Relaxed);
        }
    }
}

/// Draws the task's samples in slices; `None` if cancelled first.
fn sample(input: TaskInput, cancel: &AtomicBool) -> Option<u64> {
    let mut sampler = Sampler::new(input.seed, input.stream, input.samples);
    while !sampler.is_done() {
        if cancel.load(Ordering::Relaxed) {
            return None;
        }
        sampler.advance(SLICE);
    }
    Some(sampler.hits())
}

fn lock(running: &Running) -> std::sync::MutexGuard<'_, HashMap<String, Arc<AtomicBool>>> {
    running.lock().unwrap_or_else(PoisonError::into_inner)
}

async fn send(
    client: &ExecutorClient,
    task_id: v1::TaskId,
    state: v1::TaskState,
    data: Option<bytes::Bytes>,
    message: Option<String>,
) {
    let id = task_id.value.clone();
    if let Err(error) = client.send_status(task_id, state, data, message).await {
        tracing::warn!(task = %id, ?state, %error, "could not send status update");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sampling_matches_the_kernel_and_stops_on_cancel() {
        let input = TaskInput {
            seed: 3,
            stream: 1,
            samples: 100_003,
        };
        let hits = sample(input, &AtomicBool::new(false));
        assert_eq!(hits, Some(crate::kernel::count_hits(3, 1, 100_003)));
        assert_eq!(sample(input, &AtomicBool::new(true)), None);
    }
}
