//! Splitting a run into Mesos tasks.
//!
//! A count-bounded run (`--total-queries`) is cut into tasks of `--queries-per-task`
//! queries (the last one takes the remainder). A time-bounded run (`--duration`) keeps
//! producing tasks of `--queries-per-task` queries until its deadline; each task also
//! stops at the deadline.

use serde::{Deserialize, Serialize};

/// One unit of work handed to an executor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskSpec {
    /// Position of the task in the plan, from 0.
    pub index: u64,
    /// Index of the task's first query in the whole run (keys are derived from it).
    pub first_query: u64,
    /// Number of queries the task runs (at most, in a time-bounded run).
    pub queries: u64,
}

/// How much work a run does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Amount {
    /// Exactly this many queries.
    Queries(u64),
    /// Until the run's deadline.
    UntilDeadline,
}

/// The task generator of a run.
///
/// # Examples
///
/// ```
/// use throttler::plan::{Amount, Plan};
///
/// let mut plan = Plan::new(Amount::Queries(25), 10);
/// let sizes: Vec<u64> = std::iter::from_fn(|| plan.next_task()).map(|t| t.queries).collect();
/// assert_eq!(sizes, [10, 10, 5]);
/// ```
#[derive(Debug, Clone)]
pub struct Plan {
    amount: Amount,
    queries_per_task: u64,
    next_index: u64,
    next_query: u64,
}

impl Plan {
    /// A plan of `amount` in tasks of `queries_per_task` (treated as 1 if 0).
    pub fn new(amount: Amount, queries_per_task: u64) -> Self {
        Self {
            amount,
            queries_per_task: queries_per_task.max(1),
            next_index: 0,
            next_query: 0,
        }
    }

    /// The next task, or `None` when a count-bounded plan is exhausted (a time-bounded
    /// plan never ends by itself: its owner stops asking at the deadline).
    pub fn next_task(&mut self) -> Option<TaskSpec> {
        let queries = match self.amount {
            Amount::Queries(total) => {
                let left = total.saturating_sub(self.next_query);
                if left == 0 {
                    return None;
                }
                left.min(self.queries_per_task)
            }
            Amount::UntilDeadline => self.queries_per_task,
        };
        let task = TaskSpec {
            index: self.next_index,
            first_query: self.next_query,
            queries,
        };
        self.next_index += 1;
        self.next_query += queries;
        Some(task)
    }

    /// Number of tasks a count-bounded plan produces in total (`None` when time-bounded).
    pub fn task_count(&self) -> Option<u64> {
        match self.amount {
            Amount::Queries(total) => Some(total.div_ceil(self.queries_per_task)),
            Amount::UntilDeadline => None,
        }
    }

    /// Total queries of a count-bounded plan (`None` when time-bounded).
    pub fn total_queries(&self) -> Option<u64> {
        match self.amount {
            Amount::Queries(total) => Some(total),
            Amount::UntilDeadline => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tasks_cover_every_query_exactly_once() {
        for (total, per) in [(1, 1), (100, 5), (101, 5), (7, 100), (1000, 333)] {
            let mut plan = Plan::new(Amount::Queries(total), per);
            let expected = plan.task_count().unwrap();
            let tasks: Vec<_> = std::iter::from_fn(|| plan.next_task()).collect();
            assert_eq!(tasks.len() as u64, expected);
            let mut next = 0;
            for (i, t) in tasks.iter().enumerate() {
                assert_eq!(t.index, i as u64);
                assert_eq!(t.first_query, next);
                assert!(t.queries > 0 && t.queries <= per);
                next += t.queries;
            }
            assert_eq!(next, total);
        }
    }

    #[test]
    fn time_bounded_plans_keep_going() {
        let mut plan = Plan::new(Amount::UntilDeadline, 50);
        for i in 0..1000 {
            let t = plan.next_task().unwrap();
            assert_eq!((t.index, t.first_query, t.queries), (i, i * 50, 50));
        }
        assert_eq!(plan.task_count(), None);
    }
}
