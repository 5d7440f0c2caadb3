//! The scheduler's bookkeeping, free of I/O: which task runs next, the parallelism
//! bound, retries, and exact accounting of every query.
//!
//! Rules:
//! - A task counts as running from the moment [`Coordinator::next_launch`] hands it out
//!   until its terminal update; `next_launch` refuses once `parallelism` are running.
//! - Every attempt has its own task id (`throttler-<index>-<attempt>`); updates for ids
//!   that are not running (duplicates, late updates of an old attempt) are ignored, so a
//!   task's result is counted at most once.
//! - A failed attempt's partial results are **discarded** and the whole task is run
//!   again, up to `max_attempts`. When attempts run out, all its queries are counted as
//!   failed with error kind `task_failed` (count-bounded runs). In a `--duration` run a
//!   task that fails after the deadline is not retried and adds no queries.

use std::collections::{BTreeMap, VecDeque};

use serde::Serialize;

use crate::plan::{Plan, TaskSpec};
use crate::stats::{Percentiles, TaskStats};

/// Error kind under which a task's queries are counted when every attempt failed.
pub const TASK_FAILED_KIND: &str = "task_failed";

/// A task handed out for launching.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Launch {
    /// The Mesos task id of this attempt.
    pub task_id: String,
    /// The work.
    pub spec: TaskSpec,
    /// Attempt number, from 1.
    pub attempt: u32,
}

/// How an attempt ended.
#[derive(Debug)]
pub enum Outcome {
    /// TASK_FINISHED with its decoded result.
    Finished(Box<TaskStats>),
    /// Any other terminal state, or a result that did not decode.
    Failed(String),
}

/// What the coordinator did with an update.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// The task's result was counted.
    Counted,
    /// The attempt failed and the task was queued again.
    Retrying,
    /// The attempt failed and the task was given up; its queries counted as failed.
    GaveUp,
    /// The id is not running (duplicate or stale update): nothing changed.
    Ignored,
}

/// One row of the per-task table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TaskRow {
    /// Position in the plan.
    pub index: u64,
    /// Task id of the last attempt.
    pub task_id: String,
    /// Attempts made.
    pub attempts: u32,
    /// `finished` or `failed`.
    pub state: String,
    /// Queries that succeeded.
    pub succeeded: u64,
    /// Queries that failed.
    pub failed: u64,
    /// Task wall time, seconds.
    pub seconds: f64,
    /// Response-time percentiles, milliseconds.
    pub latency_ms: Percentiles,
}

#[derive(Debug)]
struct Running {
    spec: TaskSpec,
    attempt: u32,
}

/// The scheduler's bookkeeping.
///
/// # Examples
///
/// ```
/// use throttler::coordinator::{Coordinator, Outcome};
/// use throttler::plan::{Amount, Plan};
/// use throttler::stats::TaskStats;
///
/// let mut c = Coordinator::new(Plan::new(Amount::Queries(10), 5), 1, 3);
/// let first = c.next_launch().unwrap();
/// assert!(c.next_launch().is_none(), "parallelism 1");
/// let mut stats = TaskStats::default();
/// for _ in 0..5 { stats.record(Ok(()), Default::default(), Default::default()); }
/// c.on_terminal(&first.task_id, Outcome::Finished(Box::new(stats)));
/// assert!(c.next_launch().is_some());
/// ```
#[derive(Debug)]
pub struct Coordinator {
    plan: Plan,
    plan_open: bool,
    parallelism: usize,
    max_attempts: u32,
    retries: VecDeque<(TaskSpec, u32)>,
    running: BTreeMap<String, Running>,
    max_running: usize,
    totals: TaskStats,
    rows: Vec<TaskRow>,
    launched: u64,
    failed_attempts: u64,
    gave_up: u64,
    /// Why the first task that was given up failed its last attempt.
    first_give_up: Option<String>,
}

impl Coordinator {
    /// Bookkeeping for `plan`, at most `parallelism` tasks at once, `max_attempts`
    /// attempts per task (both treated as at least 1).
    pub fn new(plan: Plan, parallelism: u32, max_attempts: u32) -> Self {
        Self {
            plan,
            plan_open: true,
            parallelism: parallelism.max(1) as usize,
            max_attempts: max_attempts.max(1),
            retries: VecDeque::new(),
            running: BTreeMap::new(),
            max_running: 0,
            totals: TaskStats::default(),
            rows: Vec::new(),
            launched: 0,
            failed_attempts: 0,
            gave_up: 0,
            first_give_up: None,
        }
    }

    /// The next task to launch, counted as running from now; `None` when `parallelism`
    /// tasks are running or nothing is left to launch.
    pub fn next_launch(&mut self) -> Option<Launch> {
        if self.running.len() >= self.parallelism {
            return None;
        }
        let (spec, attempt) = match self.retries.pop_front() {
            Some(retry) => retry,
            None if self.plan_open => match self.plan.next_task() {
                Some(spec) => (spec, 1),
                None => {
                    self.plan_open = false;
                    return None;
                }
            },
            None => return None,
        };
        let task_id = format!("throttler-{}-{}", spec.index, attempt);
        self.running
            .insert(task_id.clone(), Running { spec, attempt });
        self.max_running = self.max_running.max(self.running.len());
        self.launched += 1;
        Some(Launch {
            task_id,
            spec,
            attempt,
        })
    }

    /// Takes back a launch that never reached Mesos (the ACCEPT call failed): the task
    /// stops counting as running and is handed out again, same attempt.
    pub fn launch_not_sent(&mut self, task_id: &str) {
        if let Some(r) = self.running.remove(task_id) {
            self.launched -= 1;
            self.retries.push_front((r.spec, r.attempt));
        }
    }

    /// Stops handing out new plan tasks (the `--duration` deadline passed); retries of
    /// failed tasks are dropped as well.
    pub fn close_plan(&mut self) {
        self.plan_open = false;
        for (spec, attempt) in std::mem::take(&mut self.retries) {
            self.push_row(spec, attempt, "failed", &TaskStats::default());
        }
    }

    /// Applies a terminal update of `task_id`.
    pub fn on_terminal(&mut self, task_id: &str, outcome: Outcome) -> Applied {
        let Some(Running { spec, attempt }) = self.running.remove(task_id) else {
            return Applied::Ignored;
        };
        match outcome {
            Outcome::Finished(stats) => {
                self.totals.merge(&stats);
                self.push_row(spec, attempt, "finished", &stats);
                Applied::Counted
            }
            Outcome::Failed(reason) => {
                self.failed_attempts += 1;
                tracing::warn!(task_id, attempt, %reason, "task attempt failed");
                if attempt < self.max_attempts && self.plan_accepts_retries() {
                    self.retries.push_back((spec, attempt + 1));
                    Applied::Retrying
                } else {
                    let mut lost = TaskStats::default();
                    if self.plan.total_queries().is_some() {
                        lost.add_unmeasured_failures(TASK_FAILED_KIND, spec.queries);
                        self.totals.merge(&lost);
                    }
                    self.push_row(spec, attempt, "failed", &lost);
                    self.gave_up += 1;
                    self.first_give_up.get_or_insert(reason);
                    Applied::GaveUp
                }
            }
        }
    }

    fn plan_accepts_retries(&self) -> bool {
        // A count-bounded plan always retries; a time-bounded one only before its deadline.
        self.plan.total_queries().is_some() || self.plan_open
    }

    fn push_row(&mut self, spec: TaskSpec, attempt: u32, state: &str, stats: &TaskStats) {
        self.rows.push(TaskRow {
            index: spec.index,
            task_id: format!("throttler-{}-{}", spec.index, attempt),
            attempts: attempt,
            state: state.to_string(),
            succeeded: stats.succeeded,
            failed: stats.failed,
            seconds: stats.elapsed.as_secs_f64(),
            latency_ms: Percentiles::of(&stats.response_us),
        });
    }

    /// Whether offers are useful now: something to launch and a free slot.
    pub fn wants_offers(&self) -> bool {
        self.running.len() < self.parallelism && self.has_pending()
    }

    fn has_pending(&self) -> bool {
        // Peeking on a copy: the plan is a few integers.
        !self.retries.is_empty() || (self.plan_open && self.plan.clone().next_task().is_some())
    }

    /// Whether every task reached a final state (the run is over).
    pub fn is_done(&self) -> bool {
        self.running.is_empty() && !self.has_pending()
    }

    /// Tasks running now.
    pub fn running(&self) -> usize {
        self.running.len()
    }

    /// Task ids running now.
    pub fn running_ids(&self) -> impl Iterator<Item = &str> {
        self.running.keys().map(String::as_str)
    }

    /// The number of queries of running task `task_id` (`None` when it is not running).
    pub fn running_queries(&self, task_id: &str) -> Option<u64> {
        self.running.get(task_id).map(|r| r.spec.queries)
    }

    /// Most tasks ever running at once.
    pub fn max_running(&self) -> usize {
        self.max_running
    }

    /// Attempts launched (first attempts and retries).
    pub fn launched(&self) -> u64 {
        self.launched
    }

    /// Attempts that failed.
    pub fn failed_attempts(&self) -> u64 {
        self.failed_attempts
    }

    /// Tasks whose every allowed attempt failed (their queries did not run), and why
    /// the first of them failed its last attempt.
    pub fn given_up(&self) -> (u64, Option<&str>) {
        (self.gave_up, self.first_give_up.as_deref())
    }

    /// Merged results so far.
    pub fn totals(&self) -> &TaskStats {
        &self.totals
    }

    /// One row per task that reached a final state, in completion order.
    pub fn rows(&self) -> &[TaskRow] {
        &self.rows
    }

    /// The plan's total queries (`None` for a time-bounded run).
    pub fn total_queries(&self) -> Option<u64> {
        self.plan.total_queries()
    }

    /// The plan's task count (`None` for a time-bounded run).
    pub fn task_count(&self) -> Option<u64> {
        self.plan.task_count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Amount;

    fn finished(spec: &TaskSpec) -> Outcome {
        let mut s = TaskStats::default();
        for _ in 0..spec.queries {
            s.record(Ok(()), Default::default(), Default::default());
        }
        Outcome::Finished(Box::new(s))
    }

    #[test]
    fn never_more_than_parallelism_and_every_query_once() {
        let mut c = Coordinator::new(Plan::new(Amount::Queries(103), 10), 3, 2);
        let mut live: Vec<Launch> = Vec::new();
        let mut step = 0u64;
        while !c.is_done() {
            while let Some(l) = c.next_launch() {
                live.push(l);
            }
            assert!(c.running() <= 3);
            // Complete tasks in a scrambled order; fail each task's first attempt when
            // its index is a multiple of 4.
            let pick = (step as usize * 7) % live.len();
            let l = live.swap_remove(pick);
            let outcome = if l.spec.index % 4 == 0 && l.attempt == 1 {
                Outcome::Failed("boom".into())
            } else {
                finished(&l.spec)
            };
            c.on_terminal(&l.task_id, outcome);
            step += 1;
        }
        assert_eq!(c.max_running(), 3);
        assert_eq!(c.totals().succeeded, 103);
        assert_eq!(c.totals().failed, 0);
        assert_eq!(c.rows().len(), 11);
        assert_eq!(c.failed_attempts(), 3); // tasks 0, 4, 8
        assert_eq!(c.launched(), 14);
    }

    #[test]
    fn duplicate_and_stale_updates_are_ignored() {
        let mut c = Coordinator::new(Plan::new(Amount::Queries(5), 5), 1, 3);
        let l = c.next_launch().unwrap();
        assert_eq!(
            c.on_terminal(&l.task_id, Outcome::Failed("x".into())),
            Applied::Retrying
        );
        assert_eq!(
            c.on_terminal(&l.task_id, finished(&l.spec)),
            Applied::Ignored
        );
        let retry = c.next_launch().unwrap();
        assert_eq!(retry.attempt, 2);
        assert_ne!(retry.task_id, l.task_id);
        assert_eq!(
            c.on_terminal(&retry.task_id, finished(&retry.spec)),
            Applied::Counted
        );
        assert_eq!(
            c.on_terminal(&retry.task_id, finished(&retry.spec)),
            Applied::Ignored
        );
        assert_eq!(c.totals().succeeded, 5);
        assert!(c.is_done());
    }

    #[test]
    fn exhausted_attempts_count_queries_as_failed() {
        let mut c = Coordinator::new(Plan::new(Amount::Queries(12), 6), 2, 2);
        let launches = [c.next_launch().unwrap(), c.next_launch().unwrap()];
        for a in launches {
            let outcome = if a.spec.index == 0 {
                Outcome::Failed("always".into())
            } else {
                finished(&a.spec)
            };
            c.on_terminal(&a.task_id, outcome);
        }
        let again = c.next_launch().unwrap();
        assert_eq!((again.spec.index, again.attempt), (0, 2));
        assert_eq!(
            c.on_terminal(&again.task_id, Outcome::Failed("always".into())),
            Applied::GaveUp
        );
        assert!(c.is_done());
        assert_eq!((c.totals().succeeded, c.totals().failed), (6, 6));
        assert_eq!(c.totals().errors[TASK_FAILED_KIND], 6);
        assert_eq!(
            c.given_up(),
            (1, Some("always")),
            "the run's error names the cause"
        );
    }

    #[test]
    fn unsent_launches_are_handed_out_again() {
        let mut c = Coordinator::new(Plan::new(Amount::Queries(5), 5), 1, 1);
        let l = c.next_launch().unwrap();
        c.launch_not_sent(&l.task_id);
        assert_eq!(c.running(), 0);
        assert_eq!(c.next_launch().unwrap(), l);
    }

    #[test]
    fn time_bounded_plans_end_when_closed() {
        let mut c = Coordinator::new(Plan::new(Amount::UntilDeadline, 5), 2, 3);
        let a = c.next_launch().unwrap();
        let b = c.next_launch().unwrap();
        c.close_plan();
        assert!(!c.wants_offers());
        assert_eq!(
            c.on_terminal(&a.task_id, finished(&a.spec)),
            Applied::Counted
        );
        assert_eq!(
            c.on_terminal(&b.task_id, Outcome::Failed("late".into())),
            Applied::GaveUp
        );
        assert!(c.is_done());
        assert_eq!((c.totals().succeeded, c.totals().failed), (5, 0));
    }
}
