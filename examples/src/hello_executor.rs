//! A custom executor and the scheduler that launches it, in one program: the scheduler
//! names a command that starts this very program as the executor, and when an agent
//! starts it, it runs [`Echo`] instead of the scheduler.
//!
//! ```no_run
//! # async fn demo() -> Result<(), examples::ExampleError> {
//! use examples::hello_executor::{Echo, run, this_program};
//!
//! // Started by an agent? Then be the executor and nothing else.
//! if let Some(result) = mesos_sdk::executor::run_if_executor(|| Echo).await {
//!     return Ok(result.expect("executor"));
//! }
//! let updates = run("http://127.0.0.1:5050", this_program()?).await?;
//! # Ok(()) }
//! ```

use std::sync::{Arc, Mutex, PoisonError};

use bytes::Bytes;
use mesos_sdk::calls::{framework_info, task_info};
use mesos_sdk::executor::{Executor, ExecutorClient};
use mesos_sdk::resources::{Resources, fit};
use mesos_sdk::scheduler::{Scheduler, SchedulerClient, SchedulerDriver};
use mesos_sdk::v1;

use crate::{ExampleError, finished, is_over, state_of};

/// The data sent with the task; the executor answers with it reversed.
pub const GREETING: &[u8] = b"hello, executor";

/// The executor: answers each task with its data reversed, in TASK_FINISHED.
#[derive(Debug, Clone, Copy, Default)]
pub struct Echo;

#[async_trait::async_trait]
impl Executor for Echo {
    async fn launch(&mut self, client: &ExecutorClient, task: v1::TaskInfo) {
        let id = task.task_id.clone();
        let _ = client
            .send_status(id.clone(), v1::TaskState::TaskRunning, None, None)
            .await;
        let mut reply = task.data.unwrap_or_default().to_vec();
        reply.reverse();
        let _ = client
            .send_status(
                id,
                v1::TaskState::TaskFinished,
                Some(Bytes::from(reply)),
                None,
            )
            .await;
    }
}

/// The command that starts this program directly (no shell), for [`run`].
///
/// # Errors
/// [`ExampleError::ExecutorPath`] if the path of this program is unknown.
pub fn this_program() -> Result<v1::CommandInfo, ExampleError> {
    let me = std::env::current_exe()
        .map_err(ExampleError::ExecutorPath)?
        .display()
        .to_string();
    Ok(v1::CommandInfo {
        shell: Some(false),
        value: Some(me.clone()),
        arguments: vec![me],
        ..Default::default()
    })
}

/// The scheduler: launches one task on the executor and keeps what comes back.
struct Launcher {
    executor: v1::CommandInfo,
    launched: bool,
    updates: Arc<Mutex<Vec<v1::TaskStatus>>>,
}

#[async_trait::async_trait]
impl Scheduler for Launcher {
    async fn offers(&mut self, client: &SchedulerClient, offers: Vec<v1::Offer>) {
        for offer in offers {
            let available = Resources::from(offer.resources.clone());
            // One slice for the task and one for the executor itself.
            let want = Resources::parse("cpus:0.1;mem:32").map(|r| r.allocate("*"));
            let task_res = want
                .as_ref()
                .ok()
                .and_then(|w| fit::first_fit(&available, w));
            let exec_res = match (&task_res, &want) {
                (Some(t), Ok(w)) => fit::first_fit(&(available.clone() - t), w),
                _ => None,
            };
            let (Some(task_res), Some(exec_res), false) = (task_res, exec_res, self.launched)
            else {
                let _ = client.decline(vec![offer.id], None).await;
                continue;
            };
            let executor = v1::ExecutorInfo {
                executor_id: v1::ExecutorId {
                    value: "echo".into(),
                },
                command: Some(self.executor.clone()),
                resources: exec_res.into_vec(),
                ..Default::default()
            };
            let task = task_info("echo-1", "echo", offer.agent_id.clone())
                .executor(executor)
                .resources(task_res.into_vec())
                .data(Bytes::from_static(GREETING))
                .build();
            if let Err(error) = client.launch(offer.id, vec![task]).await {
                tracing::warn!(%error, "launch failed; waiting for the next offer");
                continue;
            }
            self.launched = true;
        }
    }

    async fn update(&mut self, client: &SchedulerClient, status: v1::TaskStatus) {
        let terminal = is_over(state_of(&status));
        self.updates
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(status);
        if terminal && client.teardown().await.is_err() {
            client.stop();
        }
    }
}

/// Runs the framework against the master at `master`, with `executor` (normally
/// [`this_program`]) as the executor command, until its one task ends; returns the
/// task's status updates in order (the last one terminal, with the reply in `data`).
///
/// # Errors
/// [`ExampleError::Scheduler`] if the master cannot be used, [`ExampleError::Unfinished`]
/// if the framework ended before the task did.
pub async fn run(
    master: &str,
    executor: v1::CommandInfo,
) -> Result<Vec<v1::TaskStatus>, ExampleError> {
    let updates = Arc::new(Mutex::new(Vec::new()));
    let framework = framework_info("hello-executor", "").build();
    SchedulerDriver::builder(master, framework)
        .build()?
        .run(Launcher {
            executor,
            launched: false,
            updates: updates.clone(),
        })
        .await?;
    let updates = std::mem::take(&mut *updates.lock().unwrap_or_else(PoisonError::into_inner));
    finished(updates)
}
