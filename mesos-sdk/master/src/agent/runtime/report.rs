//! What the agent runs, reported when it re-registers: a newly elected master rebuilds
//! its books from it.

use std::collections::HashSet;

use tokio::time::Instant;

use super::{LaunchedTask, Runtime};
use crate::agent::protocol::{AgentReport, FromAgent};
use crate::agent::updates::task_key;
use mesos_sdk::v1;

impl Runtime {
    /// The frameworks, executors and tasks of this agent. Tasks that ended but whose
    /// last update is not acknowledged yet are reported too (with their latest state
    /// and no resources), so that the master can still reconcile them.
    pub(super) fn report(&self) -> AgentReport {
        let agent_id = v1::AgentId {
            value: self.config.agent_id.clone(),
        };
        let mut report = AgentReport::default();
        let mut reported = HashSet::new();
        for (fid, framework) in &self.frameworks {
            let framework_id = v1::FrameworkId { value: fid.clone() };
            let mut info = framework.info.clone();
            info.id = Some(framework_id.clone());
            report.frameworks.push(info);
            for command in framework.commands.values() {
                let launched = LaunchedTask::of(&command.task);
                let task = self.task(&framework_id, &agent_id, &launched, None);
                reported.insert(task_key(&framework_id, &task.task_id));
                report.tasks.push(task);
            }
            for executor in framework.executors.values() {
                let mut info = executor.info.clone();
                info.framework_id = Some(framework_id.clone());
                report.executors.push(info);
                for task in executor.tasks.values() {
                    let executor_id = Some(executor.info.executor_id.clone());
                    let task = self.task(&framework_id, &agent_id, &task.info, executor_id);
                    reported.insert(task_key(&framework_id, &task.task_id));
                    report.tasks.push(task);
                }
            }
        }
        for (framework_id, status) in self.updates.newest_pending() {
            if reported.contains(&task_key(framework_id, &status.task_id)) {
                continue;
            }
            report.tasks.push(v1::Task {
                name: String::new(),
                task_id: status.task_id.clone(),
                framework_id: framework_id.clone(),
                executor_id: status.executor_id.clone(),
                agent_id: agent_id.clone(),
                state: status.state,
                statuses: vec![status.clone()],
                ..Default::default()
            });
        }
        report
    }

    /// A launched task as the agent knows it: its latest state (staging before the
    /// first update).
    fn task(
        &self,
        framework_id: &v1::FrameworkId,
        agent_id: &v1::AgentId,
        info: &LaunchedTask,
        executor_id: Option<v1::ExecutorId>,
    ) -> v1::Task {
        let state = self
            .states
            .get(&task_key(framework_id, &info.task_id))
            .copied()
            .unwrap_or(v1::TaskState::TaskStaging as i32);
        v1::Task {
            name: info.name.clone(),
            task_id: info.task_id.clone(),
            framework_id: framework_id.clone(),
            executor_id,
            agent_id: agent_id.clone(),
            state,
            resources: info.resources.clone(),
            labels: info.labels.clone(),
            kill_policy: info.kill_policy,
            health_check: info.health_check.clone(),
            ..Default::default()
        }
    }

    /// Sends every unacknowledged update again now (after a re-registration).
    pub(super) fn resend_pending(&mut self) {
        for (framework_id, status) in self.updates.resend_all(Instant::now()) {
            self.emit(FromAgent::StatusUpdate {
                framework_id,
                status,
            });
        }
    }
}
