//! How health check results become health updates (Mesos's health checker): failures
//! in the grace period are ignored until the first success; each other failure is an
//! unhealthy update, the `consecutive_failures`-th asks for a kill; the first success,
//! and the first after failures, is a healthy update. Pure: time is passed in.

use std::time::Duration;

use tokio::time::Instant;

use mesos_sdk::v1;

/// A `HealthCheck`'s timings with Mesos's defaults filled in.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Policy {
    /// Wait before the first check (`delay_seconds`, 15 s).
    pub delay: Duration,
    /// Time between checks (`interval_seconds`, 10 s).
    pub interval: Duration,
    /// Longest a check may take before it counts as failed (`timeout_seconds`, 20 s).
    pub timeout: Duration,
    /// Failures in a row that kill the task (`consecutive_failures`, 3).
    pub consecutive_failures: u32,
    /// Time after the start in which failures are ignored until a success
    /// (`grace_period_seconds`, 10 s, counted from the start, `delay` included).
    pub grace_period: Duration,
}

impl Policy {
    /// The policy of `check` (negative or invalid durations count as zero).
    pub(crate) fn of(check: &v1::HealthCheck) -> Self {
        let secs = |value: Option<f64>, default: f64| {
            Duration::try_from_secs_f64(value.unwrap_or(default)).unwrap_or(Duration::ZERO)
        };
        Policy {
            delay: secs(check.delay_seconds, 15.0),
            interval: secs(check.interval_seconds, 10.0),
            timeout: secs(check.timeout_seconds, 20.0),
            consecutive_failures: check.consecutive_failures.unwrap_or(3),
            grace_period: secs(check.grace_period_seconds, 10.0),
        }
    }
}

/// What one check result changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct HealthUpdate {
    /// The task's health now.
    pub healthy: bool,
    /// Whether the task must be killed (enough consecutive failures).
    pub kill: bool,
}

/// The health state of one task.
#[derive(Debug)]
pub(crate) struct Tracker {
    policy: Policy,
    started: Instant,
    initializing: bool,
    failures: u32,
}

impl Tracker {
    /// A task that started at `started`.
    pub(crate) fn new(policy: Policy, started: Instant) -> Self {
        Tracker {
            policy,
            started,
            initializing: true,
            failures: 0,
        }
    }

    /// A check's result at `now`; the update to report, if any.
    pub(crate) fn result(&mut self, ok: bool, now: Instant) -> Option<HealthUpdate> {
        if ok {
            let report = self.initializing || self.failures > 0;
            self.initializing = false;
            self.failures = 0;
            return report.then_some(HealthUpdate {
                healthy: true,
                kill: false,
            });
        }
        let grace = self.policy.grace_period;
        if self.initializing && !grace.is_zero() && now.duration_since(self.started) <= grace {
            return None;
        }
        self.failures = self.failures.saturating_add(1);
        Some(HealthUpdate {
            healthy: false,
            kill: self.failures >= self.policy.consecutive_failures,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(consecutive_failures: u32, grace: u64) -> Policy {
        Policy {
            delay: Duration::ZERO,
            interval: Duration::from_secs(1),
            timeout: Duration::from_secs(1),
            consecutive_failures,
            grace_period: Duration::from_secs(grace),
        }
    }

    #[test]
    fn defaults_are_mesos() {
        let p = Policy::of(&v1::HealthCheck::default());
        assert_eq!(p.delay, Duration::from_secs(15));
        assert_eq!(p.interval, Duration::from_secs(10));
        assert_eq!(p.timeout, Duration::from_secs(20));
        assert_eq!(p.consecutive_failures, 3);
        assert_eq!(p.grace_period, Duration::from_secs(10));
        let negative = v1::HealthCheck {
            delay_seconds: Some(-1.0),
            interval_seconds: Some(0.5),
            ..Default::default()
        };
        let p = Policy::of(&negative);
        assert_eq!(p.delay, Duration::ZERO);
        assert_eq!(p.interval, Duration::from_millis(500));
    }

    #[test]
    fn failures_in_the_grace_period_are_ignored_until_a_success() {
        let t0 = Instant::now();
        let mut t = Tracker::new(policy(2, 10), t0);
        assert_eq!(t.result(false, t0 + Duration::from_secs(5)), None);
        assert_eq!(t.result(false, t0 + Duration::from_secs(10)), None);
        let unhealthy = t.result(false, t0 + Duration::from_secs(11));
        assert_eq!(
            unhealthy,
            Some(HealthUpdate {
                healthy: false,
                kill: false
            })
        );
        // After a success the grace period no longer applies.
        let mut t = Tracker::new(policy(2, 10), t0);
        assert_eq!(
            t.result(true, t0 + Duration::from_secs(1)),
            Some(HealthUpdate {
                healthy: true,
                kill: false
            })
        );
        assert_eq!(
            t.result(false, t0 + Duration::from_secs(2)),
            Some(HealthUpdate {
                healthy: false,
                kill: false
            })
        );
    }

    #[test]
    fn consecutive_failures_kill_and_a_success_resets_them() {
        let t0 = Instant::now();
        let mut t = Tracker::new(policy(3, 0), t0);
        let fail = |t: &mut Tracker| t.result(false, t0).unwrap();
        assert!(!fail(&mut t).kill);
        assert!(!fail(&mut t).kill);
        assert!(t.result(true, t0).unwrap().healthy);
        // Only the first success after failures is reported.
        assert_eq!(t.result(true, t0), None);
        assert!(!fail(&mut t).kill);
        assert!(!fail(&mut t).kill);
        let third = fail(&mut t);
        assert!(!third.healthy && third.kill);
    }
}
