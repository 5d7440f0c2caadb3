//! Command tasks: the built-in command executor, one process group per task.

use super::{CommandTask, ProcessKey, Runtime};
use crate::agent::process::Exit;
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
        let starting = self.agent_status(
            &task.task_id,
            &executor_id,
            v1::TaskState::TaskStarting,
            Source::Executor,
            None,
            "Starting command".into(),
        );
        self.update(framework_id, starting);
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
        let launched = self.spawn_process(key, &command, env, &sandbox, run_as);
        match launched {
            Ok(process) => {
                tracing::info!(task = %tid, pid = process.pid, sandbox = %sandbox.display(), "command task started");
                let running = self.agent_status(
                    &task.task_id,
                    &executor_id,
                    v1::TaskState::TaskRunning,
                    Source::Executor,
                    None,
                    format!("Command running (pid {})", process.pid),
                );
                if let Some(framework) = self.frameworks.get_mut(&fid) {
                    framework
                        .commands
                        .insert(tid, CommandTask { task, process });
                }
                self.update(framework_id, running);
            }
            Err(e) => {
                let status = self.agent_status(
                    &task.task_id,
                    &executor_id,
                    v1::TaskState::TaskFailed,
                    Source::Executor,
                    Some(Reason::CommandExecutorFailed),
                    format!("Failed to launch command: {e}"),
                );
                self.update(framework_id, status);
            }
        }
    }

    pub(super) fn command_exited(&mut self, fid: &str, tid: &str, exit: Exit) {
        let Some(command) = self
            .frameworks
            .get_mut(fid)
            .and_then(|f| f.commands.remove(tid))
        else {
            return;
        };
        let (state, reason) = if exit.stopped {
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
        let status = self.agent_status(
            &command.task.task_id,
            &executor_id,
            state,
            Source::Executor,
            reason,
            format!("Command {}", exit.describe()),
        );
        let framework_id = v1::FrameworkId {
            value: fid.to_owned(),
        };
        self.update(&framework_id, status);
        self.maybe_forget_framework(fid);
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
