//! Job planning and exact accounting.
//!
//! A [`JobPlan`] splits the requested samples over tasks; a [`Ledger`] tracks every task
//! through launches, retries and results so that the final tally covers exactly the
//! requested samples, each task counted once however many of its results arrive.
//!
//! Task `i` always samples stream `i` under the job seed, so a retried task reproduces the
//! very samples the failed attempt would have drawn and the estimate stays deterministic.
//!
//! ```
//! use mesos_pi::plan::{JobPlan, Ledger, Outcome};
//! use mesos_pi::wire::TaskOutput;
//!
//! let plan = JobPlan::new(10, 3, 42).unwrap();
//! assert_eq!(plan.tasks().iter().map(|t| t.samples).collect::<Vec<_>>(), [4, 3, 3]);
//! let mut ledger = Ledger::new(plan, 2);
//! let launch = ledger.next_launch().unwrap();
//! let out = TaskOutput { stream: 0, samples: 4, hits: 3 };
//! assert_eq!(ledger.finished(&launch.task_id, &out.encode()), Outcome::Counted);
//! assert_eq!(ledger.finished(&launch.task_id, &out.encode()), Outcome::Duplicate);
//! assert_eq!(ledger.tally().samples, 4);
//! ```

use std::collections::VecDeque;

use crate::tally::Tally;
use crate::wire::{TaskInput, TaskOutput};

/// The most tasks a job may have.
pub const MAX_TASKS: u64 = 1 << 20;

/// The job parameters are unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PlanError {
    /// `--samples` was zero.
    #[error("the job needs at least one sample (--samples)")]
    NoSamples,
    /// `--tasks` was zero or above [`MAX_TASKS`].
    #[error("--tasks must be between 1 and {MAX_TASKS}, got {0}")]
    TaskCount(u64),
    /// More tasks than samples would leave tasks with nothing to do.
    #[error("--tasks ({tasks}) is larger than --samples ({samples}); use fewer tasks")]
    MoreTasksThanSamples {
        /// Requested tasks.
        tasks: u64,
        /// Requested samples.
        samples: u64,
    },
}

/// The samples of a job split over tasks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobPlan {
    samples: u64,
    tasks: Vec<TaskInput>,
}

impl JobPlan {
    /// Splits `samples` over `tasks` as evenly as possible; the first `samples % tasks`
    /// tasks take one sample more. Task `i` samples stream `i` of `seed`.
    ///
    /// # Errors
    /// [`PlanError`] when there are no samples, no tasks, too many tasks, or more tasks
    /// than samples.
    pub fn new(samples: u64, tasks: u64, seed: u64) -> Result<Self, PlanError> {
        if samples == 0 {
            return Err(PlanError::NoSamples);
        }
        if tasks == 0 || tasks > MAX_TASKS {
            return Err(PlanError::TaskCount(tasks));
        }
        if tasks > samples {
            return Err(PlanError::MoreTasksThanSamples { tasks, samples });
        }
        let (each, extra) = (samples / tasks, samples % tasks);
        let tasks = (0..tasks)
            .map(|i| TaskInput {
                seed,
                stream: i,
                samples: each + u64::from(i < extra),
            })
            .collect();
        Ok(Self { samples, tasks })
    }

    /// The total samples requested.
    pub fn samples(&self) -> u64 {
        self.samples
    }

    /// The tasks, in index order.
    pub fn tasks(&self) -> &[TaskInput] {
        &self.tasks
    }

    /// The estimate the job must give: every planned sample counted exactly once
    /// (`4 × hits / samples`), computed here without running the job. Deterministic
    /// for a seed and split, so a run can be checked against it exactly.
    ///
    /// ```
    /// use mesos_pi::plan::JobPlan;
    ///
    /// let plan = JobPlan::new(1_000, 2, 7).unwrap();
    /// assert!((plan.exact_estimate() - 3.14).abs() < 0.2);
    /// ```
    pub fn exact_estimate(&self) -> f64 {
        let hits: u64 = self
            .tasks
            .iter()
            .map(|t| crate::kernel::count_hits(t.seed, t.stream, t.samples))
            .sum();
        4.0 * hits as f64 / self.samples as f64
    }
}

/// A task attempt ready to be launched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Launch {
    /// The Mesos task id, `pi-<index>-<attempt>`.
    pub task_id: String,
    /// What the task computes (for `TaskInfo.data`).
    pub input: TaskInput,
}

/// What the ledger made of a status update.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// A result was counted.
    Counted,
    /// The task had already been counted; this result was ignored.
    Duplicate,
    /// The attempt failed and the task was queued again.
    Requeued,
    /// The attempt failed and the task has no retries left: the job cannot complete.
    Exhausted,
    /// The update is about an attempt that is no longer current, or about a task this job
    /// does not know; it was ignored.
    Ignored,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Pending,
    Running { attempt: u32 },
    Done,
    Exhausted,
}

#[derive(Debug, Clone)]
struct Slot {
    input: TaskInput,
    /// Attempts launched so far.
    launched: u32,
    state: State,
}

/// Tracks every task of a job to completion with bounded retries.
#[derive(Debug, Clone)]
pub struct Ledger {
    slots: Vec<Slot>,
    queue: VecDeque<usize>,
    max_retries: u32,
    tally: Tally,
    samples: u64,
    done: usize,
    exhausted: usize,
    running: usize,
    /// Why the first task to run out of retries failed its last attempt.
    cause: Option<String>,
}

impl Ledger {
    /// A ledger for `plan`, allowing each task `max_retries` retries after its first try.
    pub fn new(plan: JobPlan, max_retries: u32) -> Self {
        let slots: Vec<Slot> = plan
            .tasks
            .into_iter()
            .map(|input| Slot {
                input,
                launched: 0,
                state: State::Pending,
            })
            .collect();
        Self {
            queue: (0..slots.len()).collect(),
            slots,
            max_retries,
            tally: Tally::default(),
            samples: plan.samples,
            done: 0,
            exhausted: 0,
            running: 0,
            cause: None,
        }
    }

    /// The next task to launch, marking it running; `None` when nothing is waiting.
    pub fn next_launch(&mut self) -> Option<Launch> {
        let index = self.queue.pop_front()?;
        let slot = &mut self.slots[index];
        slot.launched += 1;
        slot.state = State::Running {
            attempt: slot.launched,
        };
        self.running += 1;
        Some(Launch {
            task_id: format!("pi-{index}-{}", slot.launched),
            input: slot.input,
        })
    }

    /// The tasks waiting to be launched.
    pub fn pending(&self) -> usize {
        self.queue.len()
    }

    /// A `TASK_FINISHED` update with its data. A result that does not match the task's
    /// planned samples counts as a failed attempt.
    pub fn finished(&mut self, task_id: &str, data: &[u8]) -> Outcome {
        let Some((index, _)) = self.lookup(task_id) else {
            return Outcome::Ignored;
        };
        let slot = &self.slots[index];
        if slot.state == State::Done {
            return Outcome::Duplicate;
        }
        match TaskOutput::decode(data) {
            Ok(out) if out.stream == slot.input.stream && out.samples == slot.input.samples => {
                if matches!(slot.state, State::Running { .. }) {
                    self.running -= 1;
                }
                if slot.state == State::Exhausted {
                    self.exhausted -= 1;
                }
                // A task queued for retry may still be finished by its earlier attempt:
                // the samples are the same, so take the result and drop the retry.
                self.queue.retain(|&i| i != index);
                self.slots[index].state = State::Done;
                self.tally
                    .merge(crate::tally::Tally::new(out.hits, out.samples));
                self.done += 1;
                Outcome::Counted
            }
            Ok(_) => {
                tracing::warn!(
                    task_id,
                    "result does not match the planned task; retrying it"
                );
                self.failed(task_id, || {
                    format!("task {task_id} returned a result that does not match its plan")
                })
            }
            Err(error) => {
                tracing::warn!(task_id, %error, "unreadable result; retrying the task");
                self.failed(task_id, || {
                    format!("task {task_id} returned an unreadable result: {error}")
                })
            }
        }
    }

    /// A terminal update other than `TASK_FINISHED` (failed, lost, killed, dropped, …);
    /// `cause` says why (the update's summary). The cause of the first task to run out
    /// of retries is kept for the job's error.
    pub fn failed(&mut self, task_id: &str, cause: impl FnOnce() -> String) -> Outcome {
        let outcome = match self.lookup(task_id) {
            Some((index, attempt)) => self.failed_attempt(index, attempt),
            None => Outcome::Ignored,
        };
        if outcome == Outcome::Exhausted && self.cause.is_none() {
            self.cause = Some(cause());
        }
        outcome
    }

    /// Why the first task that ran out of retries failed its last attempt.
    pub fn cause(&self) -> Option<&str> {
        self.cause.as_deref()
    }

    /// A launch that never reached the master (the call failed): the task is queued
    /// again without spending a retry.
    pub fn launch_failed(&mut self, task_id: &str) {
        if let Some((index, attempt)) = self.lookup(task_id) {
            let slot = &mut self.slots[index];
            if slot.state == (State::Running { attempt }) {
                slot.launched -= 1;
                slot.state = State::Pending;
                self.running -= 1;
                self.queue.push_front(index);
            }
        }
    }

    fn failed_attempt(&mut self, index: usize, attempt: u32) -> Outcome {
        let slot = &mut self.slots[index];
        match slot.state {
            State::Running { attempt: current } if current == attempt => {
                self.running -= 1;
                if slot.launched > self.max_retries {
                    slot.state = State::Exhausted;
                    self.exhausted += 1;
                    Outcome::Exhausted
                } else {
                    slot.state = State::Pending;
                    self.queue.push_back(index);
                    Outcome::Requeued
                }
            }
            State::Done => Outcome::Duplicate,
            _ => Outcome::Ignored,
        }
    }

    /// The task index and attempt named by a task id of this job.
    fn lookup(&self, task_id: &str) -> Option<(usize, u32)> {
        let rest = task_id.strip_prefix("pi-")?;
        let (index, attempt) = rest.split_once('-')?;
        let index: usize = index.parse().ok()?;
        let attempt: u32 = attempt.parse().ok()?;
        let slot = self.slots.get(index)?;
        (attempt >= 1 && attempt <= slot.launched).then_some((index, attempt))
    }

    /// The results counted so far.
    pub fn tally(&self) -> Tally {
        self.tally
    }

    /// The total samples of the job.
    pub fn samples(&self) -> u64 {
        self.samples
    }

    /// Tasks in the job.
    pub fn tasks(&self) -> usize {
        self.slots.len()
    }

    /// Tasks whose result is counted.
    pub fn done(&self) -> usize {
        self.done
    }

    /// Attempts launched and not yet ended.
    pub fn running(&self) -> usize {
        self.running
    }

    /// Attempts launched in total, retries included.
    pub fn attempts(&self) -> u64 {
        self.slots.iter().map(|s| u64::from(s.launched)).sum()
    }

    /// Whether every task has been counted.
    pub fn is_complete(&self) -> bool {
        self.done == self.slots.len()
    }

    /// Whether some task ran out of retries (the job cannot complete).
    pub fn is_exhausted(&self) -> bool {
        self.exhausted > 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn output(l: &Launch, hits: u64) -> bytes::Bytes {
        TaskOutput {
            stream: l.input.stream,
            samples: l.input.samples,
            hits,
        }
        .encode()
    }

    #[test]
    fn plan_covers_exactly_the_requested_samples() {
        for (samples, tasks) in [(1, 1), (10, 3), (1_000_003, 7), (u64::MAX, 1000)] {
            let plan = JobPlan::new(samples, tasks, 0).unwrap();
            let sum: u128 = plan.tasks().iter().map(|t| u128::from(t.samples)).sum();
            assert_eq!(sum, u128::from(samples));
            let (min, max) = plan.tasks().iter().fold((u64::MAX, 0), |(a, b), t| {
                (a.min(t.samples), b.max(t.samples))
            });
            assert!(max - min <= 1);
            assert!(
                plan.tasks()
                    .iter()
                    .enumerate()
                    .all(|(i, t)| t.stream == i as u64)
            );
        }
    }

    #[test]
    fn plan_rejects_bad_parameters() {
        assert_eq!(JobPlan::new(0, 1, 0), Err(PlanError::NoSamples));
        assert_eq!(JobPlan::new(5, 0, 0), Err(PlanError::TaskCount(0)));
        assert_eq!(
            JobPlan::new(5, 6, 0),
            Err(PlanError::MoreTasksThanSamples {
                tasks: 6,
                samples: 5
            })
        );
        assert_eq!(
            JobPlan::new(u64::MAX, MAX_TASKS + 1, 0),
            Err(PlanError::TaskCount(MAX_TASKS + 1))
        );
    }

    #[test]
    fn failed_tasks_are_retried_then_exhausted() {
        let mut ledger = Ledger::new(JobPlan::new(4, 2, 1).unwrap(), 1);
        let a = ledger.next_launch().unwrap();
        let b = ledger.next_launch().unwrap();
        assert_eq!(ledger.next_launch(), None);
        assert_eq!(ledger.failed(&a.task_id, String::new), Outcome::Requeued);
        // A second update for the same failed attempt changes nothing.
        assert_eq!(ledger.failed(&a.task_id, String::new), Outcome::Ignored);
        let a2 = ledger.next_launch().unwrap();
        assert_eq!(a2.task_id, "pi-0-2");
        assert_eq!(a2.input, a.input);
        assert_eq!(ledger.cause(), None);
        assert_eq!(
            ledger.failed(&a2.task_id, || "last".into()),
            Outcome::Exhausted
        );
        assert!(ledger.is_exhausted());
        assert_eq!(
            ledger.cause(),
            Some("last"),
            "the job's error names the cause"
        );
        assert_eq!(
            ledger.finished(&b.task_id, &output(&b, 1)),
            Outcome::Counted
        );
        assert!(!ledger.is_complete());
    }

    #[test]
    fn each_task_counts_once_whatever_arrives() {
        let mut ledger = Ledger::new(JobPlan::new(100, 3, 1).unwrap(), 3);
        let a = ledger.next_launch().unwrap();
        let b = ledger.next_launch().unwrap();
        let c = ledger.next_launch().unwrap();
        // a is lost, retried, and then the first attempt's result turns up after all.
        assert_eq!(ledger.failed(&a.task_id, String::new), Outcome::Requeued);
        assert_eq!(
            ledger.finished(&a.task_id, &output(&a, 30)),
            Outcome::Counted
        );
        assert_eq!(
            ledger.pending(),
            0,
            "the retry is dropped once the task is counted"
        );
        assert_eq!(
            ledger.finished(&b.task_id, &output(&b, 20)),
            Outcome::Counted
        );
        assert_eq!(
            ledger.finished(&b.task_id, &output(&b, 20)),
            Outcome::Duplicate
        );
        assert_eq!(ledger.failed(&b.task_id, String::new), Outcome::Duplicate);
        // A result with the wrong sample count is a failure, not a count.
        let wrong = TaskOutput {
            stream: c.input.stream,
            samples: 1,
            hits: 1,
        }
        .encode();
        assert_eq!(ledger.finished(&c.task_id, &wrong), Outcome::Requeued);
        let c2 = ledger.next_launch().unwrap();
        assert_eq!(
            ledger.finished(&c2.task_id, &output(&c2, 25)),
            Outcome::Counted
        );
        assert!(ledger.is_complete());
        assert_eq!(ledger.tally(), Tally::new(75, 100));
        assert_eq!(ledger.running(), 0);
    }

    #[test]
    fn unknown_and_future_task_ids_are_ignored() {
        let mut ledger = Ledger::new(JobPlan::new(10, 2, 1).unwrap(), 1);
        for id in [
            "", "pi-", "pi-0-0", "pi-0-1", "pi-9-1", "x-0-1", "pi-a-1", "pi-0-1-1",
        ] {
            assert_eq!(ledger.failed(id, String::new), Outcome::Ignored, "{id}");
        }
        assert_eq!(ledger.pending(), 2);
    }

    #[test]
    fn failed_launch_call_requeues_without_spending_a_retry() {
        let mut ledger = Ledger::new(JobPlan::new(10, 1, 1).unwrap(), 0);
        let a = ledger.next_launch().unwrap();
        ledger.launch_failed(&a.task_id);
        let again = ledger.next_launch().unwrap();
        assert_eq!(again.task_id, "pi-0-1");
        assert_eq!(
            ledger.finished(&again.task_id, &output(&again, 8)),
            Outcome::Counted
        );
        assert!(ledger.is_complete());
    }
}
