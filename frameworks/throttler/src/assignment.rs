//! The work order a scheduler puts in `TaskInfo.data` for the executor.

use serde::{Deserialize, Serialize};

use crate::config::Workload;
use crate::plan::TaskSpec;
use crate::target::TargetSpec;

/// Largest `TaskInfo.data` an executor accepts.
pub const MAX_ASSIGNMENT_BYTES: usize = 64 * 1024;

/// Everything an executor needs to run one task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Assignment {
    /// Which queries.
    pub spec: TaskSpec,
    /// Attempt number, from 1.
    pub attempt: u32,
    /// Requests in flight.
    pub concurrency: u32,
    /// This task's share of the run's rate, per second (`None` = unlimited).
    pub rate_per_task: Option<f64>,
    /// Time left in a `--duration` run when the task was launched, milliseconds.
    pub deadline_ms: Option<u64>,
    /// Query mix.
    pub workload: Workload,
    /// Read fraction of a mixed workload.
    pub read_ratio: f64,
    /// Distinct partition keys.
    pub key_space_size: u64,
    /// What to query.
    pub target: TargetSpec,
    /// How often the executor reports this task's progress, milliseconds (0 = never).
    #[serde(default = "default_progress_interval_ms")]
    pub progress_interval_ms: u64,
}

fn default_progress_interval_ms() -> u64 {
    250
}

/// Why `TaskInfo.data` is not an assignment.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AssignmentError {
    /// The task carried no data.
    #[error("task has no data: it was not launched by the Throttler scheduler")]
    Missing,
    /// Larger than [`MAX_ASSIGNMENT_BYTES`].
    #[error("task data is {0} bytes, more than the {MAX_ASSIGNMENT_BYTES} accepted")]
    TooLarge(usize),
    /// Not an assignment (a scheduler of another version?).
    #[error(
        "task data is not a Throttler assignment: {0} (are scheduler and executor the same version?)"
    )]
    Json(#[from] serde_json::Error),
}

impl Assignment {
    /// JSON bytes for `TaskInfo.data`.
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("plain data serializes")
    }

    /// Parses `TaskInfo.data`.
    ///
    /// # Errors
    ///
    /// [`AssignmentError`] for absent, oversized or malformed data.
    pub fn from_bytes(data: Option<&[u8]>) -> Result<Self, AssignmentError> {
        let data = data.ok_or(AssignmentError::Missing)?;
        if data.len() > MAX_ASSIGNMENT_BYTES {
            return Err(AssignmentError::TooLarge(data.len()));
        }
        Ok(serde_json::from_slice(data)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::target::noop::NoopSettings;

    #[test]
    fn round_trip_and_rejections() {
        let a = Assignment {
            spec: TaskSpec {
                index: 3,
                first_query: 30,
                queries: 10,
            },
            attempt: 2,
            concurrency: 8,
            rate_per_task: Some(12.5),
            deadline_ms: None,
            workload: Workload::Mixed,
            read_ratio: 0.5,
            key_space_size: 99,
            target: TargetSpec::Noop(NoopSettings::default()),
            progress_interval_ms: 250,
        };
        assert_eq!(Assignment::from_bytes(Some(&a.to_bytes())).unwrap(), a);
        assert!(matches!(
            Assignment::from_bytes(None),
            Err(AssignmentError::Missing)
        ));
        assert!(matches!(
            Assignment::from_bytes(Some(b"[1]")),
            Err(AssignmentError::Json(_))
        ));
        assert!(matches!(
            Assignment::from_bytes(Some(&vec![b' '; MAX_ASSIGNMENT_BYTES + 1])),
            Err(AssignmentError::TooLarge(_))
        ));
    }
}
