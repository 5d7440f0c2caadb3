//! The simulated target: waits a fixed service time, fails where told to.
//!
//! For testing and demonstrating the framework without a database. Its throughput and
//! latencies describe the framework's own overhead, never a database.

use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::{Op, QueryError, QueryTarget};

/// Behaviour of a [`NoopTarget`] and of the tasks that use it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NoopSettings {
    /// Time each request takes (0 = answer at once, after a yield).
    pub service_time_us: u64,
    /// Tasks whose index is a multiple of this fail their first attempt (0 = never).
    pub fail_task_every: u64,
    /// Tasks whose index is a multiple of this fail every attempt (0 = never).
    pub fail_task_always_every: u64,
    /// Queries whose run-wide number is a multiple of this fail (0 = never).
    pub error_query_every: u64,
}

impl NoopSettings {
    /// Whether attempt `attempt` (from 1) of task `index` should fail as a whole.
    pub fn task_fails(&self, index: u64, attempt: u32) -> bool {
        let every = |n: u64| n != 0 && index % n == 0;
        every(self.fail_task_always_every) || (attempt == 1 && every(self.fail_task_every))
    }

    /// Whether query number `query` (run-wide, from 0) answers an error.
    pub fn query_fails(&self, query: u64) -> bool {
        self.error_query_every != 0 && query % self.error_query_every == 0
    }

    /// The simulated service time.
    pub fn service_time(&self) -> Duration {
        Duration::from_micros(self.service_time_us)
    }
}

/// The simulated target.
///
/// # Examples
///
/// ```
/// # tokio_test_block_on(async {
/// use throttler::target::{Op, QueryTarget, noop::{NoopSettings, NoopTarget}};
///
/// let target = NoopTarget::new(NoopSettings { error_query_every: 2, ..Default::default() });
/// assert!(target.execute(1, Op::Read { key: 1 }).await.is_ok());
/// assert_eq!(target.execute(2, Op::Read { key: 2 }).await.unwrap_err().kind, "simulated");
/// # });
/// # fn tokio_test_block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(f)
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct NoopTarget {
    settings: NoopSettings,
}

impl NoopTarget {
    /// A target behaving as `settings` say.
    pub fn new(settings: NoopSettings) -> Self {
        Self { settings }
    }
}

#[async_trait]
impl QueryTarget for NoopTarget {
    async fn execute(&self, query: u64, _op: Op) -> Result<(), QueryError> {
        let service_time = self.settings.service_time();
        if service_time.is_zero() {
            tokio::task::yield_now().await;
        } else {
            tokio::time::sleep(service_time).await;
        }
        if self.settings.query_fails(query) {
            return Err(QueryError::new(
                "simulated",
                format!("query {query} failed on purpose"),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failure_injection_is_deterministic() {
        let s = NoopSettings {
            fail_task_every: 3,
            fail_task_always_every: 5,
            error_query_every: 4,
            ..NoopSettings::default()
        };
        assert!(s.task_fails(3, 1) && !s.task_fails(3, 2));
        assert!(s.task_fails(5, 1) && s.task_fails(5, 7));
        assert!(!s.task_fails(7, 1));
        assert!(s.query_fails(0) && s.query_fails(8) && !s.query_fails(9));
        assert!(!NoopSettings::default().query_fails(0));
    }

    #[tokio::test(start_paused = true)]
    async fn takes_the_service_time() {
        let t = NoopTarget::new(NoopSettings {
            service_time_us: 7000,
            ..NoopSettings::default()
        });
        let start = tokio::time::Instant::now();
        t.execute(1, Op::Read { key: 0 }).await.unwrap();
        assert_eq!(start.elapsed(), Duration::from_millis(7));
    }
}
