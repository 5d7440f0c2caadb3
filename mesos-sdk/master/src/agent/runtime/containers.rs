//! The agent's containers as the resource monitor sees them: each command task's
//! container (under Mesos's command executor `ExecutorInfo`) and each custom
//! executor's, with their leader's pid and what they were given.

use std::sync::Arc;

use super::{CommandTask, Runtime};
use crate::agent::isolation::Isolator;
use crate::agent::isolation::limits::{COMMAND_EXECUTOR_CPUS, COMMAND_EXECUTOR_MEM_MB};
use mesos_sdk::v1;

/// One container of the agent, for `/monitor/statistics`.
#[derive(Debug, Clone)]
pub(crate) struct ContainerSnapshot {
    /// The executor: a custom executor's `ExecutorInfo`, or the command executor's
    /// (`executor_id` and `source` are the task's id, `name` as Mesos's).
    pub executor: v1::ExecutorInfo,
    /// The framework it belongs to.
    pub framework_id: v1::FrameworkId,
    /// The container's id (its cgroup's name).
    pub container_id: String,
    /// Its leader's pid (also its process group), once it runs.
    pub pid: Option<u32>,
    /// The cpus it was given (executor and live tasks), when any.
    pub cpus: Option<f64>,
    /// The memory it was given, in MB, when any.
    pub mem_mb: Option<f64>,
}

/// The agent's containers now, and the isolator that measures them.
#[derive(Debug)]
pub(crate) struct Containers {
    /// Measures a container's usage.
    pub isolator: Arc<Isolator>,
    /// The containers.
    pub list: Vec<ContainerSnapshot>,
}

impl Runtime {
    /// Every container of the agent now.
    pub(super) fn containers(&self) -> Containers {
        Containers {
            isolator: self.isolator.clone(),
            list: self.container_list(),
        }
    }

    fn container_list(&self) -> Vec<ContainerSnapshot> {
        let mut all = Vec::new();
        for (fid, framework) in &self.frameworks {
            let framework_id = v1::FrameworkId { value: fid.clone() };
            for command in framework.commands.values() {
                let resources = &command.task.resources;
                all.push(ContainerSnapshot {
                    executor: command_executor_info(command, &framework_id),
                    framework_id: framework_id.clone(),
                    container_id: command.container_id.clone(),
                    pid: command.pid,
                    cpus: Some(scalar(resources, "cpus").unwrap_or(0.0) + COMMAND_EXECUTOR_CPUS),
                    mem_mb: Some(scalar(resources, "mem").unwrap_or(0.0) + COMMAND_EXECUTOR_MEM_MB),
                });
            }
            for executor in framework.executors.values() {
                let mut resources = executor.info.resources.clone();
                for task in executor.tasks.values().filter(|t| !t.is_terminal()) {
                    resources.extend(task.info.resources.iter().cloned());
                }
                let mut info = executor.info.clone();
                info.framework_id = Some(framework_id.clone());
                all.push(ContainerSnapshot {
                    executor: info,
                    framework_id: framework_id.clone(),
                    container_id: executor.container_id.clone(),
                    pid: executor.pid,
                    cpus: scalar(&resources, "cpus"),
                    mem_mb: scalar(&resources, "mem"),
                });
            }
        }
        all
    }
}

/// The `ExecutorInfo` Mesos gives a command task's executor: the task's id as id and
/// source, and a name saying which task and command it runs.
#[allow(deprecated)] // `source`: Mesos still fills it, and `/monitor/statistics` shows it.
fn command_executor_info(
    command: &CommandTask,
    framework_id: &v1::FrameworkId,
) -> v1::ExecutorInfo {
    let task = &command.task;
    let id = task.task_id.value.clone();
    let cmd = task.command.clone().unwrap_or_default();
    let shortened = |text: String| {
        if text.chars().count() > 15 {
            format!("{}...", text.chars().take(12).collect::<String>())
        } else {
            text
        }
    };
    let what = match (cmd.shell.unwrap_or(true), cmd.value) {
        (true, None) => "(Command: NO COMMAND)".to_owned(),
        (true, Some(value)) => format!("(Command: sh -c '{}')", shortened(value)),
        (false, None) => "(Command: NO EXECUTABLE)".to_owned(),
        (false, Some(value)) => {
            let args = std::iter::once(value)
                .chain(cmd.arguments)
                .collect::<Vec<_>>()
                .join(", ");
            format!("(Command: [{}])", shortened(args))
        }
    };
    v1::ExecutorInfo {
        executor_id: super::command::command_executor_id(task),
        framework_id: Some(framework_id.clone()),
        name: Some(format!("Command Executor (Task: {id}) {what}")),
        source: Some(id),
        ..Default::default()
    }
}

/// The sum of the scalar resources named `name`, when there is any.
fn scalar(resources: &[v1::Resource], name: &str) -> Option<f64> {
    resources
        .iter()
        .filter(|r| r.name == name)
        .filter_map(|r| r.scalar.as_ref().map(|s| s.value))
        .reduce(|a, b| a + b)
}
