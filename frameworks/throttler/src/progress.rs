//! Live progress while tasks run.
//!
//! Executors count each task's completed queries ([`Counters`]) and, every
//! `--progress-interval`, send the scheduler a Mesos framework message (executor
//! MESSAGE call → scheduler MESSAGE event) carrying a small JSON [`TaskProgress`]. The
//! scheduler folds them into a [`Tracker`] and publishes a [`Snapshot`] on a watch
//! channel, which the terminal bar ([`crate::bar`]) follows.
//!
//! Progress is advisory: Mesos does not retry framework messages, and a message may
//! arrive after its task's terminal update. The [`Tracker`] therefore ignores tasks that
//! are not running, never lets a task's count go down, and caps it at the task's size.
//! The report's numbers come from the terminal updates only.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

/// Largest progress message the scheduler parses.
pub const MAX_PROGRESS_BYTES: usize = 1024;

/// One task's progress, as an executor sends it.
///
/// ```
/// use throttler::progress::TaskProgress;
///
/// let p = TaskProgress { task_id: "throttler-3-1".into(), done: 120, failed: 2 };
/// assert_eq!(TaskProgress::from_bytes(&p.to_bytes()).unwrap(), p);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskProgress {
    /// The attempt's Mesos task id.
    pub task_id: String,
    /// Queries completed so far (succeeded or failed).
    pub done: u64,
    /// Of those, queries that failed.
    pub failed: u64,
}

/// Why a framework message is not a [`TaskProgress`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProgressError {
    /// Larger than [`MAX_PROGRESS_BYTES`].
    #[error("progress message is {0} bytes, more than the {MAX_PROGRESS_BYTES} accepted")]
    TooLarge(usize),
    /// Not a progress message (an executor of another version?).
    #[error(
        "framework message is not Throttler progress: {0} (are scheduler and executor the same version?)"
    )]
    Json(#[from] serde_json::Error),
}

impl TaskProgress {
    /// JSON bytes for the MESSAGE call.
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("plain data serializes")
    }

    /// Parses a MESSAGE event's data.
    ///
    /// # Errors
    ///
    /// [`ProgressError`] for oversized or malformed data.
    pub fn from_bytes(data: &[u8]) -> Result<Self, ProgressError> {
        if data.len() > MAX_PROGRESS_BYTES {
            return Err(ProgressError::TooLarge(data.len()));
        }
        Ok(serde_json::from_slice(data)?)
    }
}

#[derive(Debug, Default)]
struct CountersInner {
    done: AtomicU64,
    failed: AtomicU64,
}

/// Per-query counters of one running task, shared between its runner and the
/// executor's progress reporter (clones share the counts).
#[derive(Debug, Clone, Default)]
pub struct Counters(Arc<CountersInner>);

impl Counters {
    /// Counts one completed query.
    pub fn record(&self, ok: bool) {
        self.0.done.fetch_add(1, Ordering::Relaxed);
        if !ok {
            self.0.failed.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// `(done, failed)` so far.
    pub fn get(&self) -> (u64, u64) {
        (
            self.0.done.load(Ordering::Relaxed),
            self.0.failed.load(Ordering::Relaxed),
        )
    }
}

/// What the scheduler knows of a run's progress at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Snapshot {
    /// Queries of tasks that reached a final state (what the report will count).
    pub accounted: u64,
    /// Queries completed by running tasks, as last reported by their executors.
    pub in_flight: u64,
    /// Tasks running.
    pub running: usize,
    /// Progress messages taken into account so far.
    pub messages: u64,
    /// Every query is accounted for.
    pub done: bool,
}

impl Snapshot {
    /// Queries completed so far: accounted plus in flight. It can go down when a failed
    /// attempt's partial work is discarded (the task is run again).
    pub fn position(&self) -> u64 {
        self.accounted + self.in_flight
    }
}

/// The scheduler's view of running tasks' progress.
///
/// ```
/// use throttler::progress::{TaskProgress, Tracker};
///
/// let mut t = Tracker::default();
/// let p = |done| TaskProgress { task_id: "t".into(), done, failed: 0 };
/// assert!(t.observe(&p(5), Some(10)));
/// assert!(!t.observe(&p(3), Some(10)), "late, smaller counts are ignored");
/// assert!(!t.observe(&p(7), None), "the task is not running");
/// assert_eq!(t.in_flight(), 5);
/// t.forget("t");
/// assert_eq!(t.in_flight(), 0);
/// ```
#[derive(Debug, Default)]
pub struct Tracker {
    done: HashMap<String, u64>,
    messages: u64,
}

impl Tracker {
    /// Takes `progress` into account when its task is running with `queries` queries
    /// (`None`: not running, the message is stale). Returns whether anything changed.
    pub fn observe(&mut self, progress: &TaskProgress, queries: Option<u64>) -> bool {
        let Some(queries) = queries else {
            return false;
        };
        let done = progress.done.min(queries);
        let slot = self.done.entry(progress.task_id.clone()).or_default();
        if done <= *slot {
            return false;
        }
        *slot = done;
        self.messages += 1;
        true
    }

    /// Drops a task that reached a terminal state (its result is accounted instead).
    pub fn forget(&mut self, task_id: &str) {
        self.done.remove(task_id);
    }

    /// Queries completed by running tasks.
    pub fn in_flight(&self) -> u64 {
        self.done.values().sum()
    }

    /// Progress messages that changed a count.
    pub fn messages(&self) -> u64 {
        self.messages
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_and_oversized_messages_are_typed_errors() {
        assert!(matches!(
            TaskProgress::from_bytes(b"pong"),
            Err(ProgressError::Json(_))
        ));
        assert!(matches!(
            TaskProgress::from_bytes(&[b' '; MAX_PROGRESS_BYTES + 1]),
            Err(ProgressError::TooLarge(_))
        ));
    }

    #[test]
    fn counts_are_capped_and_summed_over_tasks() {
        let mut t = Tracker::default();
        let p = |id: &str, done| TaskProgress {
            task_id: id.into(),
            done,
            failed: 0,
        };
        assert!(t.observe(&p("a", 50), Some(10)));
        assert!(t.observe(&p("b", 4), Some(10)));
        assert_eq!(t.in_flight(), 14);
        assert!(!t.observe(&p("a", 60), Some(10)), "already at the cap");
        assert_eq!(t.messages(), 2);
    }

    #[test]
    fn counters_are_shared_by_clones() {
        let c = Counters::default();
        let reporter = c.clone();
        c.record(true);
        c.record(false);
        assert_eq!(reporter.get(), (2, 1));
    }
}
