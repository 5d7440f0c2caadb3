//! The fixed request schedule of a rate-limited task.
//!
//! Under `--rate R` with `--parallelism P`, each running task issues requests at
//! `R / P'` per second, where `P' = min(P, number of tasks)` is how many tasks can run
//! at once. Request `i` of a task is *intended* to start at `t0 + i / rate`. Latency is
//! measured from that intended start, not from when the request was actually sent: a
//! stalled server delays the requests queued behind it, and that delay is part of what
//! a user would see (the "coordinated omission" correction).

use std::time::Duration;

/// A task's schedule: intended start offsets of its requests.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use throttler::rate::RateSchedule;
///
/// let s = RateSchedule::new(200.0).unwrap();
/// assert_eq!(s.offset(0), Duration::ZERO);
/// assert_eq!(s.offset(3), Duration::from_millis(15));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateSchedule {
    per_second: f64,
}

impl RateSchedule {
    /// A schedule of `per_second` requests per second; `None` for unlimited (0, negative
    /// or not finite).
    pub fn new(per_second: f64) -> Option<Self> {
        (per_second.is_finite() && per_second > 0.0).then_some(Self { per_second })
    }

    /// Requests per second.
    pub fn per_second(&self) -> f64 {
        self.per_second
    }

    /// Intended start of request `i`, relative to the task's start.
    pub fn offset(&self, i: u64) -> Duration {
        // Computed from `i` each time (never by accumulating intervals) so that rounding
        // cannot drift over millions of requests.
        Duration::from_secs_f64(i as f64 / self.per_second)
    }
}

/// The rate of one task: the run's `rate` shared among the tasks that can run at once.
///
/// `tasks` is the plan's task count when known (a run of 2 tasks with parallelism 8
/// still reaches the requested total rate). Returns `None` for an unlimited rate.
///
/// # Examples
///
/// ```
/// use throttler::rate::task_rate;
///
/// assert_eq!(task_rate(1000.0, 4, Some(100)), Some(250.0));
/// assert_eq!(task_rate(1000.0, 4, Some(2)), Some(500.0));
/// assert_eq!(task_rate(0.0, 4, None), None);
/// ```
pub fn task_rate(rate: f64, parallelism: u32, tasks: Option<u64>) -> Option<f64> {
    if !(rate.is_finite() && rate > 0.0) {
        return None;
    }
    let mut share = u64::from(parallelism.max(1));
    if let Some(tasks) = tasks {
        share = share.min(tasks.max(1));
    }
    Some(rate / share as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule_is_linear_without_drift() {
        let s = RateSchedule::new(3.0).unwrap();
        assert_eq!(s.offset(3), Duration::from_secs(1));
        assert_eq!(s.offset(3_000_000), Duration::from_secs(1_000_000));
        let s = RateSchedule::new(1_000_000.0).unwrap();
        assert_eq!(s.offset(1), Duration::from_micros(1));
        assert_eq!(s.offset(10_000_000), Duration::from_secs(10));
    }

    #[test]
    fn unlimited_rates_have_no_schedule() {
        assert_eq!(RateSchedule::new(0.0), None);
        assert_eq!(RateSchedule::new(-1.0), None);
        assert_eq!(RateSchedule::new(f64::NAN), None);
        assert_eq!(RateSchedule::new(f64::INFINITY), None);
    }

    #[test]
    fn shares_add_up_to_the_run_rate() {
        for (rate, p, tasks) in [(1000.0, 4, Some(10)), (90.0, 3, None), (50.0, 8, Some(5))] {
            let per_task = task_rate(rate, p, tasks).unwrap();
            let concurrent = tasks.map_or(p as u64, |t| t.min(p as u64));
            assert!((per_task * concurrent as f64 - rate).abs() < 1e-9);
        }
    }
}
