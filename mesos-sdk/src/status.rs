//! Reading task status updates: which states end a task, and a one-line account of an
//! update that a framework can put in its error messages.
//!
//! ```
//! use mesos_sdk::v1;
//!
//! let status = v1::TaskStatus {
//!     task_id: v1::TaskId { value: "pi-3".into() },
//!     state: v1::TaskState::TaskError as i32,
//!     source: Some(v1::task_status::Source::Master as i32),
//!     reason: Some(v1::task_status::Reason::TaskInvalid as i32),
//!     message: Some("Task uses no resources".into()),
//!     ..Default::default()
//! };
//! assert!(v1::TaskState::TaskError.is_terminal());
//! assert_eq!(
//!     status.summary().to_string(),
//!     "task pi-3 ended TASK_ERROR (REASON_TASK_INVALID, from the master): Task uses no resources"
//! );
//! ```

use std::fmt;

use crate::v1;

impl v1::TaskState {
    /// Whether a task in this state will never change state again: TASK_FINISHED,
    /// TASK_FAILED, TASK_KILLED, TASK_LOST, TASK_ERROR, TASK_DROPPED, TASK_GONE and
    /// TASK_GONE_BY_OPERATOR, exactly Mesos's `isTerminalState`
    /// (`src/common/protobuf_utils.cpp`).
    ///
    /// TASK_UNREACHABLE and TASK_UNKNOWN are *not* terminal: an unreachable agent may
    /// come back with the task still running, and an unknown task may be reported again
    /// by a re-registering agent. A framework that gives up on such tasks decides so in
    /// its own code.
    pub const fn is_terminal(self) -> bool {
        use v1::TaskState as S;
        matches!(
            self,
            S::TaskFinished
                | S::TaskFailed
                | S::TaskKilled
                | S::TaskLost
                | S::TaskError
                | S::TaskDropped
                | S::TaskGone
                | S::TaskGoneByOperator
        )
    }
}

impl v1::TaskStatus {
    /// Whether the update reports a terminal state ([`v1::TaskState::is_terminal`]); an
    /// unknown state number is not terminal.
    pub fn is_terminal(&self) -> bool {
        v1::TaskState::try_from(self.state).is_ok_and(v1::TaskState::is_terminal)
    }

    /// A one-line account of the update: the task, its state, the reason and who
    /// reported it, and the message (`task t1 ended TASK_LOST (REASON_…, from the agent):
    /// …`). Use it where a framework tells its user why a task failed.
    pub fn summary(&self) -> StatusSummary<'_> {
        StatusSummary(self)
    }
}

/// The [`fmt::Display`] form of a [`v1::TaskStatus`]; see [`v1::TaskStatus::summary`].
#[derive(Debug, Clone, Copy)]
pub struct StatusSummary<'a>(&'a v1::TaskStatus);

impl fmt::Display for StatusSummary<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let status = self.0;
        let verb = if status.is_terminal() { "ended" } else { "is" };
        write!(f, "task {} {verb} ", status.task_id.value)?;
        match v1::TaskState::try_from(status.state) {
            Ok(state) => f.write_str(state.as_str_name())?,
            Err(_) => write!(f, "in unknown state {}", status.state)?,
        }
        let reason = status
            .reason
            .map(|r| match v1::task_status::Reason::try_from(r) {
                Ok(reason) => reason.as_str_name().to_string(),
                Err(_) => format!("reason {r}"),
            });
        let source = status
            .source
            .and_then(|s| v1::task_status::Source::try_from(s).ok())
            .map(|s| match s {
                v1::task_status::Source::Master => "from the master",
                v1::task_status::Source::Agent => "from the agent",
                v1::task_status::Source::Executor => "from the executor",
            });
        match (reason, source) {
            (Some(r), Some(s)) => write!(f, " ({r}, {s})")?,
            (Some(r), None) => write!(f, " ({r})")?,
            (None, Some(s)) => write!(f, " ({s})")?,
            (None, None) => {}
        }
        match status.message.as_deref().map(str::trim) {
            Some(m) if !m.is_empty() => write!(f, ": {m}"),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use v1::TaskState as S;

    #[test]
    fn terminal_states_are_exactly_mesos_is_terminal_state() {
        let terminal = [
            S::TaskFinished,
            S::TaskFailed,
            S::TaskKilled,
            S::TaskLost,
            S::TaskError,
            S::TaskDropped,
            S::TaskGone,
            S::TaskGoneByOperator,
        ];
        let live = [
            S::TaskStaging,
            S::TaskStarting,
            S::TaskRunning,
            S::TaskKilling,
            S::TaskUnreachable,
            S::TaskUnknown,
        ];
        assert!(terminal.iter().all(|s| s.is_terminal()));
        assert!(live.iter().all(|s| !s.is_terminal()));
        // Every state of the schema is in one of the two lists.
        let all = (0..32).filter(|n| S::try_from(*n).is_ok()).count();
        assert_eq!(all, terminal.len() + live.len());
    }

    #[test]
    fn summary_names_task_state_reason_source_and_message() {
        let mut status = v1::TaskStatus {
            task_id: v1::TaskId { value: "t1".into() },
            state: S::TaskLost as i32,
            source: Some(v1::task_status::Source::Agent as i32),
            reason: Some(v1::task_status::Reason::ExecutorTerminated as i32),
            message: Some(" No such user ''\n".into()),
            ..Default::default()
        };
        assert_eq!(
            status.summary().to_string(),
            "task t1 ended TASK_LOST (REASON_EXECUTOR_TERMINATED, from the agent): No such user ''"
        );
        status.state = S::TaskRunning as i32;
        status.reason = None;
        status.source = None;
        status.message = None;
        assert_eq!(status.summary().to_string(), "task t1 is TASK_RUNNING");
        status.state = 99;
        assert_eq!(
            status.summary().to_string(),
            "task t1 is in unknown state 99"
        );
        assert!(!status.is_terminal());
    }
}
