//! The executor runtime: the `Executor` trait, environment configuration and its handle.
//!
//! An agent starts a custom executor with `MESOS_*` variables ([`ExecutorConfig`]);
//! [`ExecutorDriver`] subscribes to the agent and calls the [`Executor`] for each
//! event; [`ExecutorClient`] sends status updates and messages.
//! [`run_if_executor`] lets one binary act as scheduler and as its own executor.

mod client;
mod driver;
mod env;
mod error;

pub use client::ExecutorClient;
pub use driver::{
    DEFAULT_AGENT_HEARTBEAT_INTERVAL, DEFAULT_HEARTBEAT_MISSES, DEFAULT_MAX_EVENT_SIZE,
    ExecutorDriver, run_if_executor,
};
pub use env::{EnvError, ExecutorConfig, is_executor_env, parse_duration};
pub use error::ExecutorError;

use crate::v1;

/// A custom executor: one method per event of the Mesos executor API.
///
/// Methods run one at a time in event order; every one has a default that does
/// nothing (ERROR is logged). Report task progress with
/// [`ExecutorClient::send_status`] or [`ExecutorClient::update`].
#[async_trait::async_trait]
pub trait Executor: Send + 'static {
    /// The agent accepted the subscription (also after an agent restart).
    async fn subscribed(
        &mut self,
        client: &ExecutorClient,
        subscribed: v1::executor::event::Subscribed,
    ) {
        let _ = (client, subscribed);
    }

    /// Run a task.
    async fn launch(&mut self, client: &ExecutorClient, task: v1::TaskInfo) {
        let _ = (client, task);
    }

    /// Run a group of tasks together.
    async fn launch_group(&mut self, client: &ExecutorClient, task_group: v1::TaskGroupInfo) {
        let _ = (client, task_group);
    }

    /// Kill a task, then report a terminal state for it.
    async fn kill(
        &mut self,
        client: &ExecutorClient,
        task_id: v1::TaskId,
        kill_policy: Option<v1::KillPolicy>,
    ) {
        let _ = (client, task_id, kill_policy);
    }

    /// The agent acknowledged the update with this uuid (it reached the scheduler or
    /// the agent's checkpoint).
    async fn acknowledged(
        &mut self,
        client: &ExecutorClient,
        task_id: v1::TaskId,
        uuid: bytes::Bytes,
    ) {
        let _ = (client, task_id, uuid);
    }

    /// A message from the scheduler.
    async fn message(&mut self, client: &ExecutorClient, data: bytes::Bytes) {
        let _ = (client, data);
    }

    /// Kill all tasks and exit; the runtime returns after this method.
    async fn shutdown(&mut self, client: &ExecutorClient) {
        let _ = client;
    }

    /// The agent reported an error.
    async fn error(&mut self, client: &ExecutorClient, message: String) {
        let _ = client;
        tracing::error!(%message, "error from the agent");
    }
}
