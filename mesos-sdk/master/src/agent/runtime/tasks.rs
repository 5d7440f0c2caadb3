//! Launches from the master: a task runs under the command executor or its own
//! executor, a task group under its executor; a launch that cannot run is refused.

use super::command::command_executor_id;
use super::{Launch, Runtime};
use mesos_sdk::v1;
use mesos_sdk::v1::task_status::{Reason, Source};

impl Runtime {
    pub(super) fn run_task(&mut self, framework: v1::FrameworkInfo, task: v1::TaskInfo) {
        let framework_id = framework.id.clone().unwrap_or_default();
        if self.shutting_down || self.framework_entry(framework).is_none() {
            let executor_id = command_executor_id(&task);
            self.refuse_task(
                &framework_id,
                &task,
                &executor_id,
                Reason::ExecutorTerminated,
                "the agent or framework is shutting down".into(),
            );
            return;
        }
        if let Some(executor) = &task.executor {
            let eid = executor.executor_id.value.clone();
            if self.prepare_executor(&framework_id, executor, &[&task]) {
                self.launch_on_executor(&framework_id, &eid, Launch::Task(Box::new(task)));
            }
        } else if task.command.is_some() {
            self.run_command_task(&framework_id, task);
        } else {
            let executor_id = command_executor_id(&task);
            self.refuse_task(
                &framework_id,
                &task,
                &executor_id,
                Reason::CommandExecutorFailed,
                "the task has neither a command nor an executor".into(),
            );
        }
    }

    pub(super) fn run_group(
        &mut self,
        framework: v1::FrameworkInfo,
        executor: v1::ExecutorInfo,
        group: v1::TaskGroupInfo,
    ) {
        let framework_id = framework.id.clone().unwrap_or_default();
        if self.shutting_down || self.framework_entry(framework).is_none() {
            for task in &group.tasks {
                self.refuse_task(
                    &framework_id,
                    task,
                    &executor.executor_id,
                    Reason::ExecutorTerminated,
                    "the agent or framework is shutting down".into(),
                );
            }
            return;
        }
        let tasks: Vec<&v1::TaskInfo> = group.tasks.iter().collect();
        if self.prepare_executor(&framework_id, &executor, &tasks) {
            let eid = &executor.executor_id.value;
            self.launch_on_executor(&framework_id, eid, Launch::Group(group));
        }
    }

    /// A task that cannot run: report it failed from the agent.
    fn refuse_task(
        &mut self,
        framework_id: &v1::FrameworkId,
        task: &v1::TaskInfo,
        executor_id: &v1::ExecutorId,
        reason: Reason,
        message: String,
    ) {
        tracing::warn!(task = %task.task_id.value, %message, "task not started");
        let status = self.agent_status(
            &task.task_id,
            executor_id,
            v1::TaskState::TaskFailed,
            Source::Agent,
            Some(reason),
            message,
        );
        self.update(framework_id, status);
    }
}
