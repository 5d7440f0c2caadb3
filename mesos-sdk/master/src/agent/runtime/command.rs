//! Command tasks: the built-in command executor, one process group per task.

use super::sandbox::Container;
use super::{CommandTask, ProcessKey, Runtime};
use crate::agent::health;
use crate::agent::isolation::{LimitationKind, Limits};
use crate::agent::process::{Exit, LaunchFailure};
use crate::agent::status;
use mesos_sdk::v1;
use mesos_sdk::v1::task_status::{Reason, Source};

impl Runtime {
    pub(super) fn run_command_task(&mut self, framework_id: &v1::FrameworkId, task: v1::TaskInfo) {
        let executor_id = command_executor_id(&task);
        let fid = framework_id.value.clone();
        let tid = task.task_id.value.clone();
        if self
            .frameworks
            .get(&fid)
            .is_some_and(|f| f.commands.contains_key(&tid))
        {
            tracing::warn!(task = %tid, "ignoring a duplicate launch of a running task");
            return;
        }
        // The command executor's id is the task's: it may not be a custom executor's
        // that still exists on the agent (Mesos's `Slave::__run`).
        let taken = self
            .frameworks
            .get(&fid)
            .is_some_and(|f| f.executors.contains_key(&executor_id.value));
        if taken {
            tracing::warn!(task = %tid, "a command task reuses an existing executor id; dropped");
            let dropped = self.agent_status(
                &task.task_id,
                &executor_id,
                self.dropped_state(framework_id),
                Source::Agent,
                Some(Reason::TaskInvalid),
                "Cannot reuse an already existing executor for a command task".into(),
            );
            self.update(framework_id, dropped);
            return;
        }
        let container_id = uuid::Uuid::new_v4().to_string();
        let sandbox = status::sandbox_dir(
            &self.config.work_dir,
            &self.config.agent_id,
            &fid,
            &executor_id.value,
            &container_id,
        );
        // The command executor runs as `TaskInfo.command.user`, else the framework's user.
        let run_as = match self.create_sandbox(&fid, task.command.as_ref(), &sandbox) {
            Ok(run_as) => run_as,
            Err(e) => {
                self.executor_not_added(
                    framework_id,
                    std::slice::from_ref(&task.task_id),
                    &executor_id,
                    &e,
                );
                return;
            }
        };
        let command = task.command.clone().unwrap_or_default();
        let env = vec![
            ("MESOS_FRAMEWORK_ID".into(), fid.clone()),
            ("MESOS_EXECUTOR_ID".into(), executor_id.value.clone()),
            ("MESOS_SANDBOX".into(), sandbox.display().to_string()),
            ("MESOS_DIRECTORY".into(), sandbox.display().to_string()),
        ];
        let key = ProcessKey::Command {
            framework: fid.clone(),
            task: tid.clone(),
        };
        // The URIs are fetched first; the task starts (and says so) after that.
        let limits = Limits::command_task(&task.resources, self.isolator.enable_cfs());
        let process = self.spawn_process(
            key,
            &command,
            env,
            &sandbox,
            run_as,
            Container {
                id: &container_id,
                limits,
            },
        );
        tracing::info!(task = %tid, sandbox = %sandbox.display(), uris = command.uris.len(), "launching command task");
        if let Some(framework) = self.frameworks.get_mut(&fid) {
            framework.commands.insert(
                tid,
                CommandTask {
                    task,
                    container_id,
                    pid: None,
                    process,
                    sandbox,
                    health: None,
                    check: None,
                    check_status: None,
                    healthy: None,
                    stopping: false,
                    killed_by_health_check: false,
                },
            );
        }
    }

    /// The command runs: TASK_STARTING, then TASK_RUNNING.
    pub(super) fn command_started(&mut self, fid: &str, tid: &str, pid: u32) {
        let Some(command) = self.command_mut(fid, tid) else {
            return;
        };
        command.pid = Some(pid);
        let task = command.task.clone();
        tracing::info!(task = %tid, pid, "command task started");
        let executor_id = command_executor_id(&task);
        let framework_id = v1::FrameworkId {
            value: fid.to_owned(),
        };
        // A task with a check says so from its first TASK_RUNNING: the check's type
        // with an empty result, as Mesos's command executor does.
        let check_status = task
            .check
            .as_deref()
            .and_then(health::check_kind)
            .map(health::empty_check_status);
        command.check_status = check_status;
        for (state, message) in [
            (v1::TaskState::TaskStarting, "Starting command".to_owned()),
            (
                v1::TaskState::TaskRunning,
                format!("Command running (pid {pid})"),
            ),
        ] {
            let mut status = self.agent_status(
                &task.task_id,
                &executor_id,
                state,
                Source::Executor,
                None,
                message,
            );
            if state == v1::TaskState::TaskRunning {
                status.check_status = check_status;
            }
            self.update(&framework_id, status);
        }
        if let Some(check) = &task.health_check {
            self.start_health_checks(fid, tid, check);
        }
        if let Some(check) = &task.check {
            self.start_check(fid, tid, check);
        }
    }

    /// The command never ran: its fetch failed (Mesos:
    /// `REASON_CONTAINER_LAUNCH_FAILED`, from the agent) or it could not be spawned.
    pub(super) fn command_not_started(&mut self, fid: &str, tid: &str, failure: LaunchFailure) {
        let Some(command) = self
            .frameworks
            .get_mut(fid)
            .and_then(|f| f.commands.remove(tid))
        else {
            return;
        };
        let executor_id = command_executor_id(&command.task);
        let (source, reason, message) = match failure {
            LaunchFailure::Prepare(cause) => (
                Source::Agent,
                Reason::ContainerLaunchFailed,
                format!("Failed to launch container: {cause}"),
            ),
            LaunchFailure::Spawn(e) => (
                Source::Executor,
                Reason::CommandExecutorFailed,
                format!("Failed to launch command: {e}"),
            ),
        };
        tracing::warn!(task = %tid, %message, "command task not started");
        let framework_id = v1::FrameworkId {
            value: fid.to_owned(),
        };
        if source == Source::Executor {
            // Mesos's command executor itself started (TASK_STARTING) and then failed
            // to run the command; a failed fetch happens before any executor runs.
            let starting = self.agent_status(
                &command.task.task_id,
                &executor_id,
                v1::TaskState::TaskStarting,
                Source::Executor,
                None,
                "Starting command".into(),
            );
            self.update(&framework_id, starting);
        }
        let status = self.agent_status(
            &command.task.task_id,
            &executor_id,
            v1::TaskState::TaskFailed,
            source,
            Some(reason),
            message,
        );
        self.update(&framework_id, status);
        self.maybe_forget_framework(fid);
    }

    pub(super) fn command_exited(&mut self, fid: &str, tid: &str, exit: Exit) {
        let Some(command) = self
            .frameworks
            .get_mut(fid)
            .and_then(|f| f.commands.remove(tid))
        else {
            return;
        };
        let mut source = Source::Executor;
        let mut message = format!("Command {}", exit.describe());
        let (state, reason) = if let Some(limitation) = &exit.limitation {
            // The container went over a limit and was ended (by the agent, in Mesos).
            source = Source::Agent;
            message.clone_from(&limitation.message);
            (
                v1::TaskState::TaskFailed,
                Some(limitation_reason(limitation.kind)),
            )
        } else if exit.stopped {
            (v1::TaskState::TaskKilled, None)
        } else if exit.code == Some(0) {
            (v1::TaskState::TaskFinished, None)
        } else {
            (
                v1::TaskState::TaskFailed,
                Some(Reason::CommandExecutorFailed),
            )
        };
        tracing::info!(task = %tid, status = %exit.describe(), "command task ended");
        let executor_id = command_executor_id(&command.task);
        let mut status = self.agent_status(
            &command.task.task_id,
            &executor_id,
            state,
            source,
            reason,
            message,
        );
        if exit.stopped && command.killed_by_health_check {
            status.healthy = Some(false);
        }
        let framework_id = v1::FrameworkId {
            value: fid.to_owned(),
        };
        self.update(&framework_id, status);
        self.maybe_forget_framework(fid);
    }
}

/// The reason of the tasks of a container that went over a limit.
pub(super) fn limitation_reason(kind: LimitationKind) -> Reason {
    match kind {
        LimitationKind::Memory => Reason::ContainerLimitationMemory,
    }
}

/// The command executor of a task is named after the task, as in Mesos.
pub(super) fn command_executor_id(task: &v1::TaskInfo) -> v1::ExecutorId {
    task.executor
        .as_ref()
        .map(|e| e.executor_id.clone())
        .unwrap_or_else(|| v1::ExecutorId {
            value: task.task_id.value.clone(),
        })
}
