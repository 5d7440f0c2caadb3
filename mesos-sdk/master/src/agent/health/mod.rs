//! Health checks of command tasks (`TaskInfo.health_check`), as Mesos's command
//! executor runs them: COMMAND, HTTP and TCP checks with Mesos's defaults (delay 15 s,
//! interval 10 s, timeout 20 s, 3 consecutive failures, grace period 10 s). Each result
//! that changes the task's health becomes a [`HealthUpdate`]; the runtime reports it as
//! TASK_RUNNING with `healthy` and kills the task after the consecutive failures.
//!
//! Files: `policy` (defaults and the result → update rules, pure), `probe` (one check)
//! ← this module (the loop).

mod policy;
mod probe;

use std::path::PathBuf;

use tokio::time::Instant;

use mesos_sdk::v1;

pub(crate) use policy::HealthUpdate;
use policy::{Policy, Tracker};
use probe::Probe;

/// The checks of one task, running until dropped.
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
