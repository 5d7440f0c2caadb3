//! Messages between the master and its agents.
//!
//! In a local cluster they travel over in-process channels; remote agents carry the
//! same messages over HTTP (see [`super::remote`] and `docs/agent-protocol.md`) as JSON
//! objects: `"type"` names the variant in upper snake case (`"RUN_TASK"`), protobuf fields
//! are in Mesos's JSON shape, and `bytes` fields are base64.
//!
//! ```
//! use mesos_master::agent::protocol::ToAgent;
//! use mesos_sdk::v1;
//!
//! let kill = ToAgent::KillTask {
//!     framework_id: v1::FrameworkId { value: "f1".into() },
//!     task_id: v1::TaskId { value: "t1".into() },
//!     kill_policy: None,
//! };
//! let json = serde_json::to_value(&kill)?;
//! assert_eq!(json["type"], "KILL_TASK");
//! assert_eq!(json["task_id"]["value"], "t1");
//! assert_eq!(serde_json::from_value::<ToAgent>(json)?, kill);
//! # Ok::<(), serde_json::Error>(())
//! ```

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use super::json_fields::{base64_bytes, list, message, optional};
use mesos_sdk::v1;

/// What the master asks an agent to do.
// Messages are moved through channels once each; boxing the large variants would
// only add indirection.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ToAgent {
    /// Run one task: with the built-in command executor when `task.command` is set,
    /// or inside the custom executor `task.executor` (started if not yet running).
    RunTask {
        /// The framework that owns the task.
        #[serde(with = "message")]
        framework: v1::FrameworkInfo,
        /// The task, with `agent_id` set to this agent.
        #[serde(with = "message")]
        task: v1::TaskInfo,
    },
    /// Run a task group inside one custom executor (LAUNCH_GROUP).
    RunTaskGroup {
        /// The framework that owns the tasks.
        #[serde(with = "message")]
        framework: v1::FrameworkInfo,
        /// The executor that runs the group.
        #[serde(with = "message")]
        executor: v1::ExecutorInfo,
        /// The tasks, launched together.
        #[serde(with = "message")]
        task_group: v1::TaskGroupInfo,
    },
    /// Kill a task: SIGTERM, then SIGKILL after the grace period.
    KillTask {
        /// Owner of the task.
        #[serde(with = "message")]
        framework_id: v1::FrameworkId,
        /// The task to kill.
        #[serde(with = "message")]
        task_id: v1::TaskId,
        /// Overrides the task's own kill policy when set.
        #[serde(default, with = "optional")]
        kill_policy: Option<v1::KillPolicy>,
    },
    /// Shut an executor down, killing its tasks.
    ShutdownExecutor {
        /// Owner of the executor.
        #[serde(with = "message")]
        framework_id: v1::FrameworkId,
        /// The executor to shut down.
        #[serde(with = "message")]
        executor_id: v1::ExecutorId,
    },
    /// Kill every task and executor of a framework (teardown or failover timeout).
    ShutdownFramework {
        /// The framework being removed.
        #[serde(with = "message")]
        framework_id: v1::FrameworkId,
    },
    /// A scheduler's MESSAGE for one of its executors.
    FrameworkMessage {
        /// Sender framework.
        #[serde(with = "message")]
        framework_id: v1::FrameworkId,
        /// Destination executor.
        #[serde(with = "message")]
        executor_id: v1::ExecutorId,
        /// Opaque payload.
        #[serde(with = "base64_bytes")]
        data: Bytes,
    },
    /// The scheduler acknowledged the status update with this uuid.
    Acknowledge {
        /// Owner of the task.
        #[serde(with = "message")]
        framework_id: v1::FrameworkId,
        /// The task the update was about.
        #[serde(with = "message")]
        task_id: v1::TaskId,
        /// The update's `status.uuid`.
        #[serde(with = "base64_bytes")]
        uuid: Bytes,
    },
    /// Stop the agent: kill every task and executor, then exit.
    Shutdown,
}

/// What an agent reports to the master.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum FromAgent {
    /// A task's status changed. `status.uuid` is set, and the agent sends the same
    /// update again until it receives [`ToAgent::Acknowledge`] for that uuid; updates of
    /// one task are delivered in order, one in flight at a time.
    StatusUpdate {
        /// Owner of the task.
        #[serde(with = "message")]
        framework_id: v1::FrameworkId,
        /// The update, with `agent_id`, `uuid` and (for executor tasks) `executor_id`.
        #[serde(with = "message")]
        status: v1::TaskStatus,
    },
    /// An executor's MESSAGE for its scheduler.
    ExecutorMessage {
        /// Owner of the executor.
        #[serde(with = "message")]
        framework_id: v1::FrameworkId,
        /// The sending executor.
        #[serde(with = "message")]
        executor_id: v1::ExecutorId,
        /// Opaque payload.
        #[serde(with = "base64_bytes")]
        data: Bytes,
    },
    /// An executor process exited (its unfinished tasks are reported as failed first).
    ExecutorTerminated {
        /// Owner of the executor.
        #[serde(with = "message")]
        framework_id: v1::FrameworkId,
        /// The executor that exited.
        #[serde(with = "message")]
        executor_id: v1::ExecutorId,
        /// Its wait status (exit code, or `None` when killed by a signal; -1, as in
        /// Mesos, for an executor that never started because its sandbox could not be
        /// prepared).
        #[serde(default)]
        status: Option<i32>,
    },
}

/// What an agent runs, reported when it (re-)registers, as Mesos agents report it in
/// their re-registration: the frameworks they run tasks for, their executors, and their
/// tasks with each one's latest state. A newly elected master rebuilds its books from
/// these reports.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AgentReport {
    /// The frameworks with tasks or executors on the agent.
    #[serde(default, with = "list")]
    pub frameworks: Vec<v1::FrameworkInfo>,
    /// The running custom executors (`framework_id` set).
    #[serde(default, with = "list")]
    pub executors: Vec<v1::ExecutorInfo>,
    /// The tasks, with `state` their latest and `agent_id` the agent.
    #[serde(default, with = "list")]
    pub tasks: Vec<v1::Task>,
}
