//! What the runtime refuses from executors: calls ([`Rejection`]) and status updates
//! ([`validate_status`]). The executor API answers them with the status table's codes.

use mesos_sdk::v1;
use mesos_sdk::v1::task_status::Source;

/// Why the agent refuses an executor's call (the executor API answers each with its
/// status; the messages are Mesos's agent's).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum Rejection {
    /// The call names a framework the agent does not know.
    #[error("Framework cannot be found")]
    UnknownFramework,
    /// The call names an executor the agent does not run for the framework.
    #[error("Executor cannot be found")]
    UnknownExecutor,
    /// The executor has not subscribed (or its connection is gone).
    #[error("Executor is not subscribed")]
    NotSubscribed,
}

/// Checks an executor's status update as Mesos's agent does.
pub(crate) fn validate_status(
    status: &v1::TaskStatus,
    executor_id: &v1::ExecutorId,
) -> Result<(), String> {
    match status.uuid.as_deref() {
        None => return Err("Expecting 'uuid' to be present".into()),
        Some(uuid) if uuid.len() != 16 => {
            return Err(format!("'uuid' must be 16 bytes, got {}", uuid.len()));
        }
        Some(_) => {}
    }
    if let Some(id) = &status.executor_id
        && id.value != executor_id.value
    {
        return Err(format!(
            "ExecutorID in Call: {} does not match ExecutorID in TaskStatus: {}",
            executor_id.value, id.value
        ));
    }
    if status.source != Some(Source::Executor as i32) {
        return Err("invalid source, expecting 'SOURCE_EXECUTOR'".into());
    }
    if status.state == v1::TaskState::TaskStaging as i32 {
        return Err("TASK_STAGING is not allowed from an executor".into());
    }
    Ok(())
}
