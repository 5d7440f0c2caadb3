//! Running one task's queries against a target, with bounded concurrency and an
//! optional fixed-rate schedule.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt as _;
use tokio::time::Instant;

use crate::assignment::Assignment;
use crate::progress::Counters;
use crate::rate::RateSchedule;
use crate::stats::TaskStats;
use crate::target::{Op, QueryTarget};

/// Why a task stopped without a result.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RunError {
    /// The noop target was told to fail this attempt (tests of the retry logic).
    #[error("simulated task failure after {after} queries (noop failure injection)")]
    Injected {
        /// Queries completed before failing.
        after: u64,
    },
}

/// Runs `assignment`'s queries on `target`.
///
/// At most `assignment.concurrency` requests are in flight. Under a rate, request `i`
/// is intended to start at `t0 + i / rate` and its response time is measured from that
/// instant (see [`crate::rate`]). With a deadline, no request is started after it.
/// `fail_after` makes the task fail once that many queries completed (failure
/// injection for the noop target). Every completed query is also counted in
/// `counters`, which the executor reports as live progress.
///
/// # Errors
///
/// [`RunError::Injected`] when `fail_after` is reached.
pub async fn run_task(
    target: Arc<dyn QueryTarget>,
    assignment: &Assignment,
    fail_after: Option<u64>,
    counters: &Counters,
) -> Result<TaskStats, RunError> {
    let t0 = Instant::now();
    let rate = assignment.rate_per_task.and_then(RateSchedule::new);
    let deadline = assignment
        .deadline_ms
        .map(|ms| t0 + Duration::from_millis(ms));
    let first = assignment.spec.first_query;
    let (workload, read_ratio, keys) = (
        assignment.workload,
        assignment.read_ratio,
        assignment.key_space_size,
    );

    let requests = futures::stream::iter(0..assignment.spec.queries)
        .take_while(move |&i| {
            let start = rate.map_or_else(Instant::now, |r| t0 + r.offset(i));
            std::future::ready(deadline.is_none_or(|d| start < d))
        })
        .map(|i| {
            let target = Arc::clone(&target);
            async move {
                let intended = match rate {
                    Some(r) => {
                        let at = t0 + r.offset(i);
                        tokio::time::sleep_until(at).await;
                        at
                    }
                    None => Instant::now(),
                };
                let sent = Instant::now();
                let query = first + i;
                let outcome = target
                    .execute(query, Op::for_query(query, workload, read_ratio, keys))
                    .await;
                let done = Instant::now();
                (outcome, done - sent, done - intended)
            }
        })
        .buffer_unordered(assignment.concurrency.max(1) as usize);
    futures::pin_mut!(requests);

    let mut stats = TaskStats::default();
    while let Some((outcome, service, response)) = requests.next().await {
        if let Err(e) = &outcome {
            tracing::trace!(error = %e, "query failed");
        }
        counters.record(outcome.is_ok());
        stats.record(
            outcome.as_ref().map(drop).map_err(|e| e.kind.as_str()),
            service,
            response,
        );
        if fail_after.is_some_and(|n| stats.total() >= n) {
            return Err(RunError::Injected {
                after: stats.total(),
            });
        }
    }
    stats.elapsed = t0.elapsed();
    Ok(stats)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Workload;
    use crate::plan::TaskSpec;
    use crate::target::TargetSpec;
    use crate::target::noop::{NoopSettings, NoopTarget};

    fn assignment(queries: u64, concurrency: u32, rate: Option<f64>) -> Assignment {
        Assignment {
            spec: TaskSpec {
                index: 0,
                first_query: 100,
                queries,
            },
            attempt: 1,
            concurrency,
            rate_per_task: rate,
            deadline_ms: None,
            workload: Workload::Write,
            read_ratio: 0.0,
            key_space_size: 10,
            target: TargetSpec::Noop(NoopSettings::default()),
            progress_interval_ms: 0,
        }
    }

    fn noop(service_us: u64, error_every: u64) -> Arc<dyn QueryTarget> {
        Arc::new(NoopTarget::new(NoopSettings {
            service_time_us: service_us,
            error_query_every: error_every,
            ..NoopSettings::default()
        }))
    }

    #[tokio::test(start_paused = true)]
    async fn concurrency_overlaps_requests() {
        // 100 requests of 10 ms, 10 in flight: 100 ms of (paused) time, not 1 s.
        let stats = run_task(
            noop(10_000, 0),
            &assignment(100, 10, None),
            None,
            &Counters::default(),
        )
        .await
        .unwrap();
        assert_eq!(stats.succeeded, 100);
        assert_eq!(stats.elapsed, Duration::from_millis(100));
        assert_eq!(stats.service_us.max() / 1000, 10);
    }

    #[tokio::test(start_paused = true)]
    async fn rate_schedule_paces_requests() {
        // 50 requests at 100/s: the last is intended at 490 ms.
        let stats = run_task(
            noop(1_000, 0),
            &assignment(50, 4, Some(100.0)),
            None,
            &Counters::default(),
        )
        .await
        .unwrap();
        assert_eq!(stats.total(), 50);
        assert_eq!(stats.elapsed, Duration::from_millis(491));
        // Server keeps up: response time equals service time.
        assert_eq!(stats.response_us.max(), stats.service_us.max());
    }

    #[tokio::test(start_paused = true)]
    async fn coordinated_omission_is_corrected() {
        // Service 100 ms, one in flight, intended every 10 ms: request i waits behind
        // i earlier ones, so its response time grows while its service time stays 100 ms.
        let stats = run_task(
            noop(100_000, 0),
            &assignment(10, 1, Some(100.0)),
            None,
            &Counters::default(),
        )
        .await
        .unwrap();
        assert_eq!(stats.service_us.max() / 1000, 100);
        // Last request: intended at 90 ms, done at 1000 ms.
        let max_ms = stats.response_us.max() as f64 / 1000.0;
        assert!((909.0..=911.0).contains(&max_ms), "{max_ms}");
    }

    #[tokio::test(start_paused = true)]
    async fn errors_are_counted_by_kind() {
        // Queries 100..110; every 5th run-wide query fails: 100 and 105.
        let counters = Counters::default();
        let stats = run_task(noop(0, 5), &assignment(10, 3, None), None, &counters)
            .await
            .unwrap();
        assert_eq!((stats.succeeded, stats.failed), (8, 2));
        assert_eq!(
            counters.get(),
            (10, 2),
            "live counters agree with the result"
        );
        assert_eq!(stats.errors["simulated"], 2);
    }

    #[tokio::test(start_paused = true)]
    async fn deadline_stops_new_requests() {
        let mut a = assignment(1_000_000, 2, None);
        a.deadline_ms = Some(50);
        let stats = run_task(noop(10_000, 0), &a, None, &Counters::default())
            .await
            .unwrap();
        // 2 in flight, 10 ms each, starts before 50 ms: 5 rounds.
        assert_eq!(stats.total(), 10);
    }

    #[tokio::test(start_paused = true)]
    async fn injected_failure_stops_the_task() {
        let err = run_task(
            noop(0, 0),
            &assignment(10, 1, None),
            Some(4),
            &Counters::default(),
        )
        .await
        .unwrap_err();
        assert_eq!(err, RunError::Injected { after: 4 });
    }
}
