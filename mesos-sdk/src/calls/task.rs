use bytes::Bytes;

use crate::v1;

/// Starts a [`TaskInfoBuilder`] for task `id` named `name` on `agent_id`.
///
/// ```
/// use mesos_sdk::calls::task_info;
/// use mesos_sdk::v1::AgentId;
///
/// let task = task_info("t-1", "sleep", AgentId { value: "a-1".into() })
///     .shell("sleep 1")
///     .build();
/// assert_eq!(task.command.unwrap().value.as_deref(), Some("sleep 1"));
/// ```
pub fn task_info(
    id: impl Into<String>,
    name: impl Into<String>,
    agent_id: v1::AgentId,
) -> TaskInfoBuilder {
    TaskInfoBuilder {
        task: v1::TaskInfo {
            name: name.into(),
            task_id: v1::TaskId { value: id.into() },
            agent_id,
            ..Default::default()
        },
    }
}

/// Builds a [`v1::TaskInfo`]: a command task (run by the agent's command executor) or
/// a task for a custom executor.
#[derive(Debug, Clone)]
pub struct TaskInfoBuilder {
    task: v1::TaskInfo,
}

impl TaskInfoBuilder {
    /// The resources the task uses (and the agent reserves for it).
    pub fn resources(mut self, resources: impl IntoIterator<Item = v1::Resource>) -> Self {
        self.task.resources = resources.into_iter().collect();
        self
    }

    /// Runs `command` through `/bin/sh -c` with the built-in command executor.
    pub fn shell(mut self, command: impl Into<String>) -> Self {
        self.task.command = Some(v1::CommandInfo {
            shell: Some(true),
            value: Some(command.into()),
            ..Default::default()
        });
        self
    }

    /// Runs `program` with `args` directly (no shell) with the built-in command executor.
    pub fn argv<I, S>(mut self, program: impl Into<String>, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let program = program.into();
        let mut arguments = vec![program.clone()];
        arguments.extend(args.into_iter().map(Into::into));
        self.task.command = Some(v1::CommandInfo {
            shell: Some(false),
            value: Some(program),
            arguments,
            ..Default::default()
        });
        self
    }

    /// Sets an arbitrary command.
    pub fn command(mut self, command: v1::CommandInfo) -> Self {
        self.task.command = Some(command);
        self
    }

    /// Runs the task inside a custom executor (started by the agent if not running).
    ///
    /// Every task for one executor id must carry an identical `ExecutorInfo`, its
    /// resources included, even once the executor runs: Mesos refuses a different one
    /// with TASK_ERROR. Build it once and clone it for each task.
    pub fn executor(mut self, executor: v1::ExecutorInfo) -> Self {
        self.task.executor = Some(executor);
        self
    }

    /// Opaque data handed to the executor with the task.
    pub fn data(mut self, data: impl Into<Bytes>) -> Self {
        self.task.data = Some(data.into());
        self
    }

    /// How the agent kills the task: SIGTERM, then SIGKILL after `grace`.
    pub fn kill_grace_period(mut self, grace: std::time::Duration) -> Self {
        self.task.kill_policy = Some(v1::KillPolicy {
            grace_period: Some(duration_info(grace)),
        });
        self
    }

    /// Adds a label.
    pub fn label(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        let labels = self.task.labels.get_or_insert_with(Default::default);
        labels.labels.push(v1::Label {
            key: key.into(),
            value: Some(value.into()),
        });
        self
    }

    /// Returns the built message.
    pub fn build(self) -> v1::TaskInfo {
        self.task
    }
}

/// A [`v1::DurationInfo`] (nanoseconds) from a [`std::time::Duration`].
pub(crate) fn duration_info(duration: std::time::Duration) -> v1::DurationInfo {
    v1::DurationInfo {
        nanoseconds: i64::try_from(duration.as_nanos()).unwrap_or(i64::MAX),
    }
}
