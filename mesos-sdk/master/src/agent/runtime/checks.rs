//! Health checks and checks of command tasks: started when the task runs, their
//! results reported as TASK_RUNNING updates (each carrying the latest of the other, as
//! Mesos's command executor does not shadow one with the other).

use std::time::Duration;

use super::command::command_executor_id;
use super::{Internal, Runtime};
use crate::agent::health::{self, HealthUpdate};
use crate::agent::status;
use mesos_sdk::v1;
use mesos_sdk::v1::task_status::{Reason, Source};

impl Runtime {
    /// Starts a running command task's health checks; their updates come back to the
    /// event loop as [`Internal::Health`].
    pub(super) fn start_health_checks(&mut self, fid: &str, tid: &str, check: &v1::HealthCheck) {
        let (internal, client) = (self.internal.clone(), self.health_client.clone());
        let Some(command) = self.command_mut(fid, tid) else {
            return;
        };
        let (framework, task) = (fid.to_owned(), tid.to_owned());
        command.health = health::start(check, command.sandbox.clone(), client, move |update| {
            let _ = internal.send(Internal::Health {
                framework: framework.clone(),
                task: task.clone(),
                update,
            });
        });
        if command.health.is_none() {
            tracing::warn!(task = %tid, "the health check names nothing to probe; not checked");
        }
    }

    /// A health change: TASK_RUNNING with `healthy` (Mesos's
    /// `REASON_TASK_HEALTH_CHECK_STATUS_UPDATED`); after the consecutive failures the
    /// task is killed and its TASK_KILLED says `healthy=false`.
    pub(super) fn command_health(&mut self, fid: &str, tid: &str, update: HealthUpdate) {
        let grace = self.config.kill_grace_period;
        let Some(command) = self.command_mut(fid, tid) else {
            return;
        };
        if command.stopping {
            return;
        }
        let task = command.task.clone();
        if update.kill {
            tracing::warn!(task = %tid, "killing the task: its health checks failed");
            command.stop_checking();
            command.killed_by_health_check = true;
            let grace = task
                .kill_policy
                .as_ref()
                .and_then(|p| p.grace_period.as_ref())
                .map(status::duration)
                .unwrap_or(grace);
            command.process.stop(Duration::ZERO, grace);
        }
        command.healthy = Some(update.healthy);
        let check_status = command.check_status;
        let executor_id = command_executor_id(&task);
        let mut running = self.agent_status(
            &task.task_id,
            &executor_id,
            v1::TaskState::TaskRunning,
            Source::Executor,
            Some(Reason::TaskHealthCheckStatusUpdated),
            if update.healthy {
                "Task is healthy".into()
            } else {
                "Task is unhealthy".into()
            },
        );
        running.healthy = Some(update.healthy);
        // The last check result is not shadowed.
        running.check_status = check_status;
        let framework_id = v1::FrameworkId {
            value: fid.to_owned(),
        };
        self.update(&framework_id, running);
    }

    /// Starts a running command task's check; its results come back to the event loop
    /// as [`Internal::Check`].
    pub(super) fn start_check(&mut self, fid: &str, tid: &str, check: &v1::CheckInfo) {
        let (internal, client) = (self.internal.clone(), self.health_client.clone());
        let Some(command) = self.command_mut(fid, tid) else {
            return;
        };
        let (framework, task) = (fid.to_owned(), tid.to_owned());
        command.check =
            health::start_check(check, command.sandbox.clone(), client, move |status| {
                let _ = internal.send(Internal::Check {
                    framework: framework.clone(),
                    task: task.clone(),
                    status,
                });
            });
        if command.check.is_none() {
            tracing::warn!(task = %tid, "the check names nothing to probe; not checked");
        }
    }

    /// A check result changed: TASK_RUNNING with `check_status` (Mesos's
    /// `REASON_TASK_CHECK_STATUS_UPDATED`) and the latest health. The task keeps
    /// running whatever the result.
    pub(super) fn command_check(&mut self, fid: &str, tid: &str, check: v1::CheckStatusInfo) {
        let Some(command) = self.command_mut(fid, tid) else {
            return;
        };
        if command.stopping {
            return;
        }
        command.check_status = Some(check);
        let healthy = command.healthy;
        let task = command.task.clone();
        let executor_id = command_executor_id(&task);
        let mut running = self.agent_status(
            &task.task_id,
            &executor_id,
            v1::TaskState::TaskRunning,
            Source::Executor,
            Some(Reason::TaskCheckStatusUpdated),
            "Task check status updated".into(),
        );
        running.check_status = Some(check);
        running.healthy = healthy;
        let framework_id = v1::FrameworkId {
            value: fid.to_owned(),
        };
        self.update(&framework_id, running);
    }
}
