//! Health checks (`TaskInfo.health_check`) and checks (`TaskInfo.check`) of command
//! tasks, as Mesos's command executor runs them: COMMAND, HTTP and TCP probes with
//! Mesos's defaults (delay 15 s, interval 10 s, timeout 20 s; for health checks also 3
//! consecutive failures and a grace period of 10 s).
//!
//! - A health check's result that changes the task's health becomes a
//!   [`HealthUpdate`]; the runtime reports it as TASK_RUNNING with `healthy` and kills
//!   the task after the consecutive failures.
//! - A check's result (exit code, HTTP status code, whether a TCP connection opened)
//!   that differs from the last one becomes a `CheckStatusInfo`; the runtime reports it
//!   as TASK_RUNNING with `check_status`, and never kills the task.
//!
//! Files: `policy` (health check defaults and the result → update rules, pure),
//! `check` (check defaults and the result → status rules, pure), `probe` (one probe,
//! shared) ← this module (the loops).

mod check;
mod policy;
mod probe;

use std::path::PathBuf;

use tokio::time::Instant;

use mesos_sdk::v1;

pub(crate) use check::empty_status as empty_check_status;
pub(crate) use policy::HealthUpdate;
use policy::{Policy, Tracker};
use probe::Probe;

/// The health checks, or the checks, of one task, running until dropped.
#[derive(Debug)]
pub(crate) struct Checker {
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Checker {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Starts checking a task that just started in `sandbox`: after the delay, a check
/// every interval; `on_update` hears each [`HealthUpdate`]. Checking stops after an
/// update that asks for a kill. `None` when the check names nothing to probe.
pub(crate) fn start(
    check: &v1::HealthCheck,
    sandbox: PathBuf,
    client: reqwest::Client,
    on_update: impl Fn(HealthUpdate) + Send + 'static,
) -> Option<Checker> {
    let probe = Probe::of(check, sandbox)?;
    let policy = Policy::of(check);
    let started = Instant::now();
    let task = tokio::spawn(async move {
        let mut tracker = Tracker::new(policy, started);
        tokio::time::sleep(policy.delay).await;
        loop {
            let result = probe.run(&client, policy.timeout).await;
            if let Err(why) = &result {
                tracing::debug!(%why, "health check failed");
            }
            if let Some(update) = tracker.result(result.is_ok(), Instant::now()) {
                on_update(update);
                if update.kill {
                    return;
                }
            }
            tokio::time::sleep(policy.interval).await;
        }
    });
    Some(Checker { task })
}

/// Starts the check of a task that just started in `sandbox`: after the delay, a probe
/// every interval; `on_update` hears each `CheckStatusInfo` that differs from the last
/// one (the first being the empty status of the check's type). `None` when the check
/// names nothing to probe.
pub(crate) fn start_check(
    info: &v1::CheckInfo,
    sandbox: PathBuf,
    client: reqwest::Client,
    on_update: impl Fn(v1::CheckStatusInfo) + Send + 'static,
) -> Option<Checker> {
    let kind = check_kind(info)?;
    let probe = Probe::of_check(info, sandbox)?;
    let timing = check::Timing::of(info);
    let task = tokio::spawn(async move {
        let mut tracker = check::Tracker::new(kind);
        tokio::time::sleep(timing.delay).await;
        loop {
            let result = probe.observe(&client, timing.timeout).await;
            if let Some(status) = tracker.result(result) {
                on_update(status);
            }
            tokio::time::sleep(timing.interval).await;
        }
    });
    Some(Checker { task })
}

/// The type of a check, when it is a known one.
pub(crate) fn check_kind(info: &v1::CheckInfo) -> Option<v1::check_info::Type> {
    info.r#type
        .and_then(|t| v1::check_info::Type::try_from(t).ok())
        .filter(|t| *t != v1::check_info::Type::Unknown)
}
