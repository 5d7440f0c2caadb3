//! The Throttler's Mesos executor: one per agent, one target (one CQL session) shared by
//! all its tasks, each task run on its own tokio task.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use mesos_sdk::executor::{Executor, ExecutorClient};
use mesos_sdk::v1;
use tokio::sync::Mutex;
use tokio::task::{AbortHandle, JoinHandle};

use crate::assignment::Assignment;
use crate::progress::{Counters, TaskProgress};
use crate::runner::run_task;
use crate::target::cql::CqlTarget;
use crate::target::noop::NoopTarget;
use crate::target::{QueryTarget, TargetSpec};

type SharedTarget = Arc<Mutex<Option<(TargetSpec, Arc<dyn QueryTarget>)>>>;

/// The Throttler executor.
#[derive(Default)]
pub struct ThrottlerExecutor {
    target: SharedTarget,
    tasks: Arc<std::sync::Mutex<HashMap<String, AbortHandle>>>,
}

impl ThrottlerExecutor {
    /// An executor with no target yet (created by its first task).
    pub fn new() -> Self {
        Self::default()
    }
}

/// The executor's target for `spec`: the existing one when the spec is unchanged, so
/// that all tasks share one driver session; a new one otherwise.
async fn target_for(
    shared: &SharedTarget,
    spec: &TargetSpec,
) -> Result<Arc<dyn QueryTarget>, String> {
    let mut slot = shared.lock().await;
    if let Some((current, target)) = slot.as_ref() {
        if current == spec {
            return Ok(Arc::clone(target));
        }
    }
    let target: Arc<dyn QueryTarget> = match spec {
        TargetSpec::Noop(settings) => Arc::new(NoopTarget::new(settings.clone())),
        TargetSpec::Cql(settings) => Arc::new(
            CqlTarget::connect(settings)
                .await
                .map_err(|e| e.to_string())?,
        ),
    };
    *slot = Some((spec.clone(), Arc::clone(&target)));
    Ok(target)
}

async fn send(
    client: &ExecutorClient,
    task_id: &v1::TaskId,
    state: v1::TaskState,
    data: Option<Vec<u8>>,
    message: Option<String>,
) {
    if let Err(e) = client
        .send_status(task_id.clone(), state, data.map(Into::into), message)
        .await
    {
        tracing::error!(task_id = %task_id.value, error = %e, "cannot send a status update");
    }
}

/// Aborts the progress reporter when the task ends, is killed, or is aborted.
struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Sends `task_id`'s progress every `every`, when it changed, as a framework message.
fn report_progress(
    client: ExecutorClient,
    task_id: String,
    counters: Counters,
    every: Duration,
) -> AbortOnDrop {
    AbortOnDrop(tokio::spawn(async move {
        let mut ticker = tokio::time::interval(every);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut sent = (0, 0);
        loop {
            ticker.tick().await;
            let now = counters.get();
            if now == sent {
                continue;
            }
            sent = now;
            let progress = TaskProgress {
                task_id: task_id.clone(),
                done: now.0,
                failed: now.1,
            };
            // Best effort, as Mesos treats framework messages: the next tick resends.
            if let Err(e) = client.message(progress.to_bytes().into()).await {
                tracing::debug!(%task_id, error = %e, "progress message not sent");
                sent = (0, 0);
            }
        }
    }))
}

#[async_trait]
impl Executor for ThrottlerExecutor {
    async fn launch(&mut self, client: &ExecutorClient, task: v1::TaskInfo) {
        let task_id = task.task_id.clone();
        let assignment = match Assignment::from_bytes(task.data.as_deref()) {
            Ok(a) => a,
            Err(e) => {
                send(
                    client,
                    &task_id,
                    v1::TaskState::TaskFailed,
                    None,
                    Some(e.to_string()),
                )
                .await;
                return;
            }
        };
        send(client, &task_id, v1::TaskState::TaskRunning, None, None).await;
        let (client, shared, tasks) = (
            client.clone(),
            Arc::clone(&self.target),
            Arc::clone(&self.tasks),
        );
        let id = task_id.value.clone();
        let handle = tokio::spawn(async move {
            let fail_after = match &assignment.target {
                TargetSpec::Noop(s) if s.task_fails(assignment.spec.index, assignment.attempt) => {
                    Some(assignment.spec.queries / 2)
                }
                _ => None,
            };
            let counters = Counters::default();
            let reporter = (assignment.progress_interval_ms > 0).then(|| {
                report_progress(
                    client.clone(),
                    task_id.value.clone(),
                    counters.clone(),
                    Duration::from_millis(assignment.progress_interval_ms),
                )
            });
            let result = match target_for(&shared, &assignment.target).await {
                Ok(target) => run_task(target, &assignment, fail_after, &counters)
                    .await
                    .map_err(|e| e.to_string()),
                Err(e) => Err(e),
            };
            drop(reporter);
            match result {
                Ok(stats) => {
                    send(
                        &client,
                        &task_id,
                        v1::TaskState::TaskFinished,
                        Some(stats.to_bytes()),
                        None,
                    )
                    .await
                }
                Err(message) => {
                    send(
                        &client,
                        &task_id,
                        v1::TaskState::TaskFailed,
                        None,
                        Some(message),
                    )
                    .await
                }
            }
            tasks
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .remove(&task_id.value);
        });
        self.tasks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id, handle.abort_handle());
    }

    async fn kill(
        &mut self,
        client: &ExecutorClient,
        task_id: v1::TaskId,
        _kill_policy: Option<v1::KillPolicy>,
    ) {
        let handle = self
            .tasks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&task_id.value);
        if let Some(handle) = handle {
            handle.abort();
            send(
                client,
                &task_id,
                v1::TaskState::TaskKilled,
                None,
                Some("killed by the scheduler".into()),
            )
            .await;
        }
    }

    async fn shutdown(&mut self, client: &ExecutorClient) {
        let handles: Vec<_> = self
            .tasks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .drain()
            .collect();
        for (id, handle) in handles {
            handle.abort();
            let task_id = v1::TaskId { value: id };
            send(
                client,
                &task_id,
                v1::TaskState::TaskKilled,
                None,
                Some("executor shut down".into()),
            )
            .await;
        }
        client.stop();
    }
}
