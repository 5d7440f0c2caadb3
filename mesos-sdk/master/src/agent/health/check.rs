//! Checks (`TaskInfo.check`, Mesos's `CheckInfo`): the timings with Mesos's defaults
//! and how a probe's outcome becomes a `CheckStatusInfo`. A check is never
//! interpreted: its result is reported as it is, and an update is due only when the
//! result differs from the last one. Pure.

use std::time::Duration;

use mesos_sdk::v1;
use mesos_sdk::v1::check_info::Type;

use super::probe::Outcome;

/// A `CheckInfo`'s timings with Mesos's defaults filled in.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Timing {
    /// Wait before the first check (`delay_seconds`, 15 s).
    pub delay: Duration,
    /// Time between checks (`interval_seconds`, 10 s).
    pub interval: Duration,
    /// Longest a check may take; then its result is empty (`timeout_seconds`, 20 s).
    pub timeout: Duration,
}

impl Timing {
    /// The timings of `check` (negative or invalid durations count as zero).
    pub(crate) fn of(check: &v1::CheckInfo) -> Self {
        let secs = |value: Option<f64>, default: f64| {
            Duration::try_from_secs_f64(value.unwrap_or(default)).unwrap_or(Duration::ZERO)
        };
        Timing {
            delay: secs(check.delay_seconds, 15.0),
            interval: secs(check.interval_seconds, 10.0),
            timeout: secs(check.timeout_seconds, 20.0),
        }
    }
}

/// The status of a check of type `kind` with no result (not run yet, timed out or
/// failed to run): the type and an empty result of that type, as Mesos's
/// `createEmptyCheckStatusInfo`.
pub(crate) fn empty_status(kind: Type) -> v1::CheckStatusInfo {
    use v1::check_status_info::{Command, Http, Tcp};
    let mut status = v1::CheckStatusInfo {
        r#type: Some(kind as i32),
        ..Default::default()
    };
    match kind {
        Type::Command => status.command = Some(Command::default()),
        Type::Http => status.http = Some(Http::default()),
        Type::Tcp => status.tcp = Some(Tcp::default()),
        Type::Unknown => {}
    }
    status
}

/// The status a probe's result gives a check of type `kind`: the exit code, the HTTP
/// status code or whether the connection opened; empty when the probe could not run.
pub(crate) fn status(kind: Type, result: Result<Outcome, String>) -> v1::CheckStatusInfo {
    use v1::check_status_info::{Command, Http, Tcp};
    let mut status = empty_status(kind);
    match (kind, result) {
        (Type::Command, Ok(Outcome::Exited(code))) => {
            status.command = Some(Command {
                exit_code: Some(code),
            });
        }
        (Type::Http, Ok(Outcome::Status(code))) => {
            status.http = Some(Http {
                status_code: Some(u32::from(code)),
            });
        }
        (Type::Tcp, Ok(Outcome::Connected(succeeded))) => {
            status.tcp = Some(Tcp {
                succeeded: Some(succeeded),
            });
        }
        (_, Err(why)) => tracing::warn!(check = kind.as_str_name(), %why, "check failed"),
        (_, Ok(other)) => {
            tracing::warn!(
                check = kind.as_str_name(),
                ?other,
                "check result of another type"
            )
        }
    }
    status
}

/// The check statuses of one task: an update is due when a result changes.
#[derive(Debug)]
pub(crate) struct Tracker {
    kind: Type,
    last: v1::CheckStatusInfo,
}

impl Tracker {
    /// A check of type `kind` with no result yet.
    pub(crate) fn new(kind: Type) -> Self {
        Tracker {
            kind,
            last: empty_status(kind),
        }
    }

    /// A probe's result; the status to report when it differs from the last one.
    pub(crate) fn result(
        &mut self,
        result: Result<Outcome, String>,
    ) -> Option<v1::CheckStatusInfo> {
        let status = status(self.kind, result);
        (status != self.last).then(|| {
            self.last = status;
            status
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_mesos() {
        let t = Timing::of(&v1::CheckInfo::default());
        assert_eq!(t.delay, Duration::from_secs(15));
        assert_eq!(t.interval, Duration::from_secs(10));
        assert_eq!(t.timeout, Duration::from_secs(20));
    }

    #[test]
    fn only_changes_are_reported_and_failures_are_empty_results() {
        let mut t = Tracker::new(Type::Command);
        let first = t.result(Ok(Outcome::Exited(1))).unwrap();
        assert_eq!(first.command.unwrap().exit_code, Some(1));
        assert_eq!(t.result(Ok(Outcome::Exited(1))), None);
        assert_eq!(
            t.result(Ok(Outcome::Exited(0)))
                .unwrap()
                .command
                .unwrap()
                .exit_code,
            Some(0)
        );
        // A timeout empties the result (reported once).
        assert_eq!(
            t.result(Err("timed out".into())),
            Some(empty_status(Type::Command))
        );
        assert_eq!(t.result(Err("timed out".into())), None);
    }

    #[test]
    fn http_and_tcp_results() {
        let http = status(Type::Http, Ok(Outcome::Status(503)));
        assert_eq!(http.r#type, Some(Type::Http as i32));
        assert_eq!(http.http.unwrap().status_code, Some(503));
        let tcp = status(Type::Tcp, Ok(Outcome::Connected(false)));
        assert_eq!(tcp.tcp.unwrap().succeeded, Some(false));
        // An empty TCP result is the sub-message without `succeeded`.
        assert_eq!(
            status(Type::Tcp, Err("x".into())).tcp,
            Some(v1::check_status_info::Tcp::default())
        );
    }
}
