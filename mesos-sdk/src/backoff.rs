//! Capped exponential backoff with jitter.
//!
//! Pure arithmetic, no timers: [`Backoff::next_delay`] says how long to wait before the
//! next attempt; the caller sleeps. The delay before attempt `n` (counting from 0) is
//! `min(initial × multiplierⁿ, max)`, then scaled by a random factor in
//! `[1 - jitter, 1]` so that many clients do not retry in lockstep.
//!
//! ```
//! use std::time::Duration;
//! use mesos_sdk::backoff::{Backoff, BackoffConfig};
//!
//! let config = BackoffConfig {
//!     initial: Duration::from_millis(100),
//!     max: Duration::from_secs(1),
//!     multiplier: 2.0,
//!     jitter: 0.0,
//! };
//! let mut backoff = Backoff::new(config);
//! let delays: Vec<_> = (0..6).map(|_| backoff.next_delay()).collect();
//! assert_eq!(delays[0], Duration::from_millis(100));
//! assert_eq!(delays[3], Duration::from_millis(800));
//! assert_eq!(delays[5], Duration::from_secs(1)); // capped
//! backoff.reset();
//! assert_eq!(backoff.next_delay(), Duration::from_millis(100));
//! ```

use std::time::Duration;

/// Shape of a backoff schedule.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BackoffConfig {
    /// Delay before the first retry (before jitter).
    pub initial: Duration,
    /// Upper bound of any delay (before jitter).
    pub max: Duration,
    /// Growth factor per attempt; values below 1.0 are treated as 1.0.
    pub multiplier: f64,
    /// Fraction of the delay that is randomised, in `[0, 1]`: 0 means none, 0.5 means a
    /// delay anywhere between half and all of the computed value. Clamped to `[0, 1]`.
    pub jitter: f64,
}

impl Default for BackoffConfig {
    /// 1 s, doubling, capped at 30 s, with 50 % jitter.
    fn default() -> Self {
        BackoffConfig {
            initial: Duration::from_secs(1),
            max: Duration::from_secs(30),
            multiplier: 2.0,
            jitter: 0.5,
        }
    }
}

impl BackoffConfig {
    /// The delay before attempt `attempt` (0-based) given a uniform random sample
    /// `unit` in `[0, 1)`. Deterministic, so schedules can be tested exactly.
    ///
    /// ```
    /// use std::time::Duration;
    /// use mesos_sdk::backoff::BackoffConfig;
    /// let c = BackoffConfig { initial: Duration::from_secs(1), max: Duration::from_secs(10), multiplier: 2.0, jitter: 0.5 };
    /// assert_eq!(c.delay(2, 0.0), Duration::from_secs(2)); // 4 s scaled by 1 - 0.5
    /// assert_eq!(c.delay(9, 0.999_999_9).as_secs(), 9);    // capped at 10 s, nearly no jitter
    /// ```
    pub fn delay(&self, attempt: u32, unit: f64) -> Duration {
        let multiplier = if self.multiplier.is_finite() {
            self.multiplier.max(1.0)
        } else {
            1.0
        };
        let max = self.max.as_secs_f64();
        let exp = multiplier.powi(attempt.min(i32::MAX as u32) as i32);
        let base = (self.initial.as_secs_f64() * exp).min(max);
        let base = if base.is_finite() { base.max(0.0) } else { max };
        let jitter = if self.jitter.is_finite() {
            self.jitter.clamp(0.0, 1.0)
        } else {
            0.0
        };
        let unit = if unit.is_finite() {
            unit.clamp(0.0, 1.0)
        } else {
            0.0
        };
        let factor = 1.0 - jitter + jitter * unit;
        Duration::from_secs_f64((base * factor).max(0.0))
    }
}

/// A running backoff schedule: counts attempts and draws jitter.
#[derive(Debug, Clone)]
pub struct Backoff {
    config: BackoffConfig,
    attempt: u32,
}

impl Backoff {
    /// A schedule at its first attempt.
    pub fn new(config: BackoffConfig) -> Self {
        Backoff { config, attempt: 0 }
    }

    /// The delay to wait now, advancing the schedule by one attempt.
    pub fn next_delay(&mut self) -> Duration {
        let unit: f64 = rand::random();
        let delay = self.config.delay(self.attempt, unit);
        self.attempt = self.attempt.saturating_add(1);
        delay
    }

    /// How many delays have been handed out since the last reset.
    pub fn attempts(&self) -> u32 {
        self.attempt
    }

    /// Back to the first attempt (after a success).
    pub fn reset(&mut self) {
        self.attempt = 0;
    }

    /// The schedule's configuration.
    pub fn config(&self) -> &BackoffConfig {
        &self.config
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(jitter: f64) -> BackoffConfig {
        BackoffConfig {
            initial: Duration::from_millis(10),
            max: Duration::from_millis(100),
            multiplier: 3.0,
            jitter,
        }
    }

    #[test]
    fn grows_geometrically_then_caps() {
        let c = cfg(0.0);
        let got: Vec<u128> = (0..5).map(|a| c.delay(a, 0.7).as_millis()).collect();
        assert_eq!(got, vec![10, 30, 90, 100, 100]);
        assert_eq!(c.delay(u32::MAX, 0.5), Duration::from_millis(100));
    }

    #[test]
    fn jitter_stays_within_band() {
        let c = cfg(0.5);
        assert_eq!(c.delay(1, 0.0), Duration::from_millis(15));
        let mut b = Backoff::new(c);
        for _ in 0..200 {
            let d = b.next_delay();
            assert!(d <= Duration::from_millis(100), "{d:?}");
            assert!(d >= Duration::from_millis(5), "{d:?}");
        }
        assert_eq!(b.attempts(), 200);
    }

    #[test]
    fn doubling_with_half_jitter_stays_under_the_cap_and_resets() {
        // The remote agent's re-registration schedule: each delay in `[d/2, d]`.
        let mut backoff = Backoff::new(BackoffConfig {
            initial: Duration::from_millis(100),
            max: Duration::from_millis(400),
            multiplier: 2.0,
            jitter: 0.5,
        });
        let ceilings = [100, 200, 400, 400];
        for ceiling in ceilings {
            let d = backoff.next_delay();
            assert!(d >= Duration::from_millis(ceiling / 2) && d <= Duration::from_millis(ceiling));
        }
        backoff.reset();
        assert!(backoff.next_delay() <= Duration::from_millis(100));
    }

    #[test]
    fn odd_configs_do_not_panic() {
        let c = BackoffConfig {
            initial: Duration::from_secs(u64::MAX / 4),
            max: Duration::from_secs(5),
            multiplier: f64::NAN,
            jitter: 7.0,
        };
        assert!(c.delay(3, f64::INFINITY) <= Duration::from_secs(5));
        let shrink = BackoffConfig {
            multiplier: 0.1,
            ..cfg(0.0)
        };
        assert_eq!(shrink.delay(4, 0.0), Duration::from_millis(10));
    }
}
