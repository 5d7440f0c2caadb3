//! Kills and executor shutdowns: a command task is signalled, a delivered task is
//! killed by its executor, a task not yet delivered by the agent.

use std::time::Duration;

use super::{Launch, Runtime};
use crate::agent::status;
use mesos_sdk::v1;
use mesos_sdk::v1::executor::{Event, event};
use mesos_sdk::v1::task_status::{Reason, Source};

impl Runtime {
    fn kill_grace(&self, task: Option<&v1::TaskInfo>, policy: Option<&v1::KillPolicy>) -> Duration {
        policy
            .and_then(|p| p.grace_period.as_ref())
            .or_else(|| task.and_then(|t| t.kill_policy.as_ref()?.grace_period.as_ref()))
            .map(status::duration)
            .unwrap_or(self.config.kill_grace_period)
    }

    pub(super) fn kill_task(
        &mut self,
        framework_id: &v1::FrameworkId,
        task_id: &v1::TaskId,
        kill_policy: Option<v1::KillPolicy>,
    ) {
        let fid = &framework_id.value;
        let tid = &task_id.value;
        let Some(framework) = self.frameworks.get(fid) else {
            tracing::warn!(framework = %fid, task = %tid, "kill for an unknown framework");
            return;
        };
        if framework.commands.contains_key(tid) {
            let task = framework.commands.get(tid).map(|c| c.task.clone());
            let grace = self.kill_grace(task.as_ref(), kill_policy.as_ref());
            tracing::info!(task = %tid, ?grace, "killing command task");
            if let Some(command) = self.command_mut(fid, tid) {
                command.stop_checking();
                command.process.stop(Duration::ZERO, grace);
            }
            return;
        }
        let Some((eid, queued)) = framework
            .executors
            .iter()
            .find_map(|(eid, e)| e.tasks.get(tid).map(|t| (eid.clone(), !t.launched)))
        else {
            tracing::warn!(framework = %fid, task = %tid, "kill for an unknown task");
            return;
        };
        let Some(executor) = self
            .frameworks
            .get_mut(fid)
            .and_then(|f| f.executors.get_mut(&eid))
        else {
            return;
        };
        if queued {
            // As in Mesos: a task not yet delivered is killed by the agent, together
            // with the rest of its task group.
            let killed = remove_queued(&mut executor.queued, tid);
            for id in &killed {
                executor.tasks.remove(id);
            }
            let executor_id = executor.info.executor_id.clone();
            // An executor that never received a task and has none left would idle forever.
            let idle = !executor.ever_sent && executor.queued.is_empty();
            for id in killed {
                let status = self.agent_status(
                    &v1::TaskId { value: id },
                    &executor_id,
                    v1::TaskState::TaskKilled,
                    Source::Agent,
                    Some(Reason::TaskKilledDuringLaunch),
                    "Killed before delivery to the executor".into(),
                );
                self.update(framework_id, status);
            }
            if idle {
                tracing::info!(executor = %eid, "shutting down an executor whose every task was killed before delivery");
                self.shutdown_executor(fid, &eid);
            }
        } else {
            let event = Event {
                r#type: Some(event::Type::Kill as i32),
                kill: Some(event::Kill {
                    task_id: task_id.clone(),
                    kill_policy,
                }),
                ..Default::default()
            };
            if !executor.send(event.clone()) {
                tracing::info!(task = %tid, "executor disconnected; the kill waits for it to subscribe again");
                if let Some(kill) = event.kill {
                    executor.pending_kills.push(kill);
                }
            }
        }
    }

    pub(super) fn shutdown_executor(&mut self, fid: &str, eid: &str) {
        let kill_after = self.config.kill_grace_period;
        let default_grace = self.config.executor_shutdown_grace_period;
        let Some(executor) = self
            .frameworks
            .get_mut(fid)
            .and_then(|f| f.executors.get_mut(eid))
        else {
            return;
        };
        if executor.shutting_down {
            return;
        }
        executor.shutting_down = true;
        let grace = executor
            .info
            .shutdown_grace_period
            .as_ref()
            .map(status::duration)
            .unwrap_or(default_grace);
        let shutdown = Event {
            r#type: Some(event::Type::Shutdown as i32),
            ..Default::default()
        };
        if executor.send(shutdown) {
            tracing::info!(executor = %eid, ?grace, "shutting executor down");
            executor.process.stop(grace, kill_after);
        } else {
            executor.process.stop(Duration::ZERO, kill_after);
        }
    }
}

/// Removes the queued launch holding `task_id` (a whole task group when it is in one);
/// returns the ids of the tasks removed.
fn remove_queued(queued: &mut Vec<Launch>, task_id: &str) -> Vec<String> {
    let holds = |launch: &Launch| match launch {
        Launch::Task(task) => task.task_id.value == task_id,
        Launch::Group(group) => group.tasks.iter().any(|t| t.task_id.value == task_id),
    };
    let Some(index) = queued.iter().position(holds) else {
        return vec![task_id.to_owned()];
    };
    match queued.remove(index) {
        Launch::Task(task) => vec![task.task_id.value],
        Launch::Group(group) => group.tasks.into_iter().map(|t| t.task_id.value).collect(),
    }
}
