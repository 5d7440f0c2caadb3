//! Messages between the master and its agents.
//!
//! In a local cluster they travel over in-process channels; remote agents carry the
//! same messages over HTTP (see `docs/agent-protocol.md`).

use bytes::Bytes;

use crate::v1;

/// What the master asks an agent to do.
// Messages are moved through channels once each; boxing the large variants would
// only add indirection.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum ToAgent {
    /// Run one task: with the built-in command executor when `task.command` is set,
    /// or inside the custom executor `task.executor` (started if not yet running).
    RunTask {
        /// The framework that owns the task.
        framework: v1::FrameworkInfo,
        /// The task, with `agent_id` set to this agent.
        task: v1::TaskInfo,
    },
    /// Run a task group inside one custom executor (LAUNCH_GROUP).
    RunTaskGroup {
        /// The framework that owns the tasks.
        framework: v1::FrameworkInfo,
        /// The executor that runs the group.
        executor: v1::ExecutorInfo,
        /// The tasks, launched together.
        task_group: v1::TaskGroupInfo,
    },
    /// Kill a task: SIGTERM, then SIGKILL after the grace period.
    KillTask {
        /// Owner of the task.
        framework_id: v1::FrameworkId,
        /// The task to kill.
        task_id: v1::TaskId,
        /// Overrides the task's own kill policy when set.
        kill_policy: Option<v1::KillPolicy>,
    },
    /// Shut an executor down, killing its tasks.
    ShutdownExecutor {
        /// Owner of the executor.
        framework_id: v1::FrameworkId,
        /// The executor to shut down.
        executor_id: v1::ExecutorId,
    },
    /// Kill every task and executor of a framework (teardown or failover timeout).
    ShutdownFramework {
        /// The framework being removed.
        framework_id: v1::FrameworkId,
    },
    /// A scheduler's MESSAGE for one of its executors.
    FrameworkMessage {
        /// Sender framework.
        framework_id: v1::FrameworkId,
        /// Destination executor.
        executor_id: v1::ExecutorId,
        /// Opaque payload.
        data: Bytes,
    },
    /// The scheduler acknowledged the status update with this uuid.
    Acknowledge {
        /// Owner of the task.
        framework_id: v1::FrameworkId,
        /// The task the update was about.
        task_id: v1::TaskId,
        /// The update's `status.uuid`.
        uuid: Bytes,
    },
    /// Stop the agent: kill every task and executor, then exit.
    Shutdown,
}

/// What an agent reports to the master.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum FromAgent {
    /// A task's status changed. `status.uuid` is set, and the agent sends the same
    /// update again until it receives [`ToAgent::Acknowledge`] for that uuid; updates of
    /// one task are delivered in order, one in flight at a time.
    StatusUpdate {
        /// Owner of the task.
        framework_id: v1::FrameworkId,
        /// The update, with `agent_id`, `uuid` and (for executor tasks) `executor_id`.
        status: v1::TaskStatus,
    },
    /// An executor's MESSAGE for its scheduler.
    ExecutorMessage {
        /// Owner of the executor.
        framework_id: v1::FrameworkId,
        /// The sending executor.
        executor_id: v1::ExecutorId,
        /// Opaque payload.
        data: Bytes,
    },
    /// An executor process exited (its unfinished tasks are reported as failed first).
    ExecutorTerminated {
        /// Owner of the executor.
        framework_id: v1::FrameworkId,
        /// The executor that exited.
        executor_id: v1::ExecutorId,
        /// Its wait status (exit code, or `None` when killed by a signal).
        status: Option<i32>,
    },
}
