//! The bodies of the runnable examples, as functions the example programs and the tests
//! both call. Each `[[example]]` beside this crate is a thin `main` around one module.
#![warn(missing_docs)]
#![deny(unsafe_code)]

pub mod hello_executor;
pub mod hello_scheduler;
pub mod operator_watch;

use mesos_sdk::v1;

/// Why an example did not run to the end.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExampleError {
    /// The scheduler runtime failed (check the master URL and that the master runs).
    #[error("scheduler failed: {0}")]
    Scheduler(#[from] mesos_sdk::scheduler::SchedulerError),
    /// The embedded cluster could not start.
    #[error("could not start the embedded cluster: {0}")]
    Cluster(#[from] mesos_master::ClusterError),
    /// This program's own path, needed as the executor command, is unknown.
    #[error("cannot find this program's path to use as the executor: {0}")]
    ExecutorPath(std::io::Error),
    /// The framework ended before its task reached a terminal state.
    #[error("the framework ended before the task finished; updates seen: {0:?}")]
    Unfinished(Vec<String>),
}

/// Whether the examples stop waiting for a task: a terminal state
/// ([`v1::TaskState::is_terminal`]), or TASK_UNKNOWN, which the examples also take as
/// the end (the master no longer knows the task, so no further update will come).
pub fn is_over(state: v1::TaskState) -> bool {
    state.is_terminal() || state == v1::TaskState::TaskUnknown
}

/// A status update's state; unknown numbers read as `TASK_UNKNOWN`.
pub fn state_of(status: &v1::TaskStatus) -> v1::TaskState {
    v1::TaskState::try_from(status.state).unwrap_or(v1::TaskState::TaskUnknown)
}

/// Whether an update is the master's answer to a reconciliation request rather than an
/// update from the task (no uuid, nothing to acknowledge). The SDK's driver reconciles
/// implicitly right after subscribing, so when that request reaches the master after the
/// first launch, the task's current state arrives once more this way.
pub fn is_reconciliation(status: &v1::TaskStatus) -> bool {
    status.reason == Some(v1::task_status::Reason::Reconciliation as i32)
        && status.uuid.as_deref().is_none_or(<[u8]>::is_empty)
}

/// One line for an update: `task: STATE`, with the data when it is text, and
/// `(reconciliation)` for the master's answers to reconciliation.
///
/// ```
/// use mesos_sdk::v1;
/// let status = v1::TaskStatus {
///     task_id: v1::TaskId { value: "t".into() },
///     state: v1::TaskState::TaskFinished as i32,
///     data: Some(bytes::Bytes::from_static(b"ok")),
///     ..Default::default()
/// };
/// assert_eq!(examples::describe(&status), "t: TASK_FINISHED ok");
/// ```
pub fn describe(status: &v1::TaskStatus) -> String {
    let mut line = format!(
        "{}: {}",
        status.task_id.value,
        state_of(status).as_str_name()
    );
    if let Some(data) = status.data.as_deref().filter(|d| !d.is_empty()) {
        line.push(' ');
        line.push_str(&String::from_utf8_lossy(data));
    }
    if is_reconciliation(status) {
        line.push_str(" (reconciliation)");
    }
    line
}

/// Checks that the last of `updates` is terminal; the error lists the states seen.
fn finished(updates: Vec<v1::TaskStatus>) -> Result<Vec<v1::TaskStatus>, ExampleError> {
    match updates.last() {
        Some(last) if is_over(state_of(last)) => Ok(updates),
        _ => Err(ExampleError::Unfinished(
            updates
                .iter()
                .map(|u| state_of(u).as_str_name().to_string())
                .collect(),
        )),
    }
}
