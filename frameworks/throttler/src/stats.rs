//! Latency histograms and counters of a task, their wire form, and merging.
//!
//! Each task records two HDR histograms in microseconds: *response time* (from the
//! request's intended start under a rate, see [`crate::rate`]) and *service time* (from
//! when the request was actually sent). Without a rate both are the same. A finished
//! task ships its [`TaskStats`] to the scheduler in `TaskStatus.data` as JSON with the
//! histograms V2-serialized and base64-encoded ([`TaskStats::to_bytes`]); the scheduler
//! merges them by adding.

use std::collections::BTreeMap;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hdrhistogram::Histogram;
use hdrhistogram::serialization::{Deserializer, Serializer as _, V2Serializer};
use serde::{Deserialize, Serialize};

/// Highest latency a histogram records exactly (one hour, in microseconds); larger
/// values are clamped to it.
pub const MAX_TRACKABLE_US: u64 = 3_600_000_000;

/// Largest `TaskStatus.data` a scheduler accepts from an executor.
pub const MAX_ENCODED_BYTES: usize = 1 << 20;

/// What one task measured.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskStats {
    /// Queries that succeeded.
    pub succeeded: u64,
    /// Queries that returned an error.
    pub failed: u64,
    /// Failed queries by error kind (see [`crate::target::QueryError::kind`]).
    pub errors: BTreeMap<String, u64>,
    /// Response time (from the intended start), microseconds.
    pub response_us: Histogram<u64>,
    /// Service time (from the actual send), microseconds.
    pub service_us: Histogram<u64>,
    /// Wall time of the task.
    pub elapsed: Duration,
}

/// Why [`TaskStats::from_bytes`] refused its input.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StatsDecodeError {
    /// The payload is larger than [`MAX_ENCODED_BYTES`].
    #[error("task result is {0} bytes, more than the {MAX_ENCODED_BYTES} accepted")]
    TooLarge(usize),
    /// Not the JSON document an executor sends.
    #[error("task result is not valid JSON of the expected shape: {0}")]
    Json(#[from] serde_json::Error),
    /// A histogram field is not base64.
    #[error("task result histogram is not base64: {0}")]
    Base64(#[from] base64::DecodeError),
    /// A histogram field is not a V2 HDR histogram.
    #[error("task result histogram does not decode: {0}")]
    Histogram(String),
    /// Counts that contradict the histograms.
    #[error("task result says {claimed} queries but its histogram holds {recorded}")]
    Inconsistent {
        /// succeeded + failed.
        claimed: u64,
        /// Samples in the service-time histogram.
        recorded: u64,
    },
}

#[derive(Serialize, Deserialize)]
struct Wire {
    succeeded: u64,
    failed: u64,
    #[serde(default)]
    errors: BTreeMap<String, u64>,
    elapsed_us: u64,
    response_hdr: String,
    service_hdr: String,
}

/// A histogram for microsecond latencies.
pub fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_TRACKABLE_US, 3).expect("static bounds are valid")
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX).max(1)
}

impl Default for TaskStats {
    fn default() -> Self {
        Self {
            succeeded: 0,
            failed: 0,
            errors: BTreeMap::new(),
            response_us: new_histogram(),
            service_us: new_histogram(),
            elapsed: Duration::ZERO,
        }
    }
}

impl TaskStats {
    /// Records one query: its outcome, service time and response time.
    pub fn record(&mut self, outcome: Result<(), &str>, service: Duration, response: Duration) {
        match outcome {
            Ok(()) => self.succeeded += 1,
            Err(kind) => {
                self.failed += 1;
                *self.errors.entry(kind.to_string()).or_default() += 1;
            }
        }
        self.service_us.saturating_record(micros(service));
        self.response_us
            .saturating_record(micros(response.max(service)));
    }

    /// Queries recorded (succeeded + failed).
    pub fn total(&self) -> u64 {
        self.succeeded + self.failed
    }

    /// Counts `queries` as failed with error `kind` without a latency (a task that gave
    /// up: its queries are accounted, but they have no measured time).
    pub fn add_unmeasured_failures(&mut self, kind: &str, queries: u64) {
        if queries > 0 {
            self.failed += queries;
            *self.errors.entry(kind.to_string()).or_default() += queries;
        }
    }

    /// Adds `other` into `self` (counts and histograms; elapsed takes the maximum).
    pub fn merge(&mut self, other: &TaskStats) {
        self.succeeded += other.succeeded;
        self.failed += other.failed;
        for (k, v) in &other.errors {
            *self.errors.entry(k.clone()).or_default() += v;
        }
        // Same bounds on both sides, so adding cannot fail; clamp defensively anyway.
        if self.response_us.add(&other.response_us).is_err() {
            for v in other.response_us.iter_recorded() {
                self.response_us
                    .saturating_record_n(v.value_iterated_to(), v.count_at_value());
            }
        }
        if self.service_us.add(&other.service_us).is_err() {
            for v in other.service_us.iter_recorded() {
                self.service_us
                    .saturating_record_n(v.value_iterated_to(), v.count_at_value());
            }
        }
        self.elapsed = self.elapsed.max(other.elapsed);
    }

    /// The wire form sent in `TaskStatus.data`.
    pub fn to_bytes(&self) -> Vec<u8> {
        let wire = Wire {
            succeeded: self.succeeded,
            failed: self.failed,
            errors: self.errors.clone(),
            elapsed_us: micros(self.elapsed),
            response_hdr: encode_histogram(&self.response_us),
            service_hdr: encode_histogram(&self.service_us),
        };
        serde_json::to_vec(&wire).expect("plain data serializes")
    }

    /// Parses [`TaskStats::to_bytes`] output from an executor.
    ///
    /// # Errors
    ///
    /// [`StatsDecodeError`] when the payload is too large, malformed, or inconsistent.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, StatsDecodeError> {
        if bytes.len() > MAX_ENCODED_BYTES {
            return Err(StatsDecodeError::TooLarge(bytes.len()));
        }
        let wire: Wire = serde_json::from_slice(bytes)?;
        let response_us = decode_histogram(&wire.response_hdr)?;
        let service_us = decode_histogram(&wire.service_hdr)?;
        let claimed = wire.succeeded.saturating_add(wire.failed);
        // Unmeasured failures (see add_unmeasured_failures) are never shipped by an
        // executor, so every query it counted has a service-time sample.
        if service_us.len() != claimed || response_us.len() != claimed {
            return Err(StatsDecodeError::Inconsistent {
                claimed,
                recorded: service_us.len(),
            });
        }
        Ok(Self {
            succeeded: wire.succeeded,
            failed: wire.failed,
            errors: wire.errors,
            response_us,
            service_us,
            elapsed: Duration::from_micros(wire.elapsed_us),
        })
    }
}

fn encode_histogram(h: &Histogram<u64>) -> String {
    let mut buf = Vec::new();
    V2Serializer::new()
        .serialize(h, &mut buf)
        .expect("writing to a Vec cannot fail");
    STANDARD.encode(buf)
}

fn decode_histogram(s: &str) -> Result<Histogram<u64>, StatsDecodeError> {
    let raw = STANDARD.decode(s)?;
    let mut h: Histogram<u64> = Deserializer::new()
        .deserialize(&mut raw.as_slice())
        .map_err(|e| StatsDecodeError::Histogram(format!("{e:?}")))?;
    h.auto(true);
    // Normalise to our bounds so later merges add like with like.
    let mut out = new_histogram();
    for v in h.iter_recorded() {
        out.saturating_record_n(v.value_iterated_to(), v.count_at_value());
    }
    Ok(out)
}

/// Percentiles of a histogram in milliseconds, as reported.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Percentiles {
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
    /// 99.9th percentile.
    pub p999: f64,
    /// Largest value.
    pub max: f64,
    /// Arithmetic mean.
    pub mean: f64,
}

impl Percentiles {
    /// Percentiles of a microsecond histogram, in milliseconds (all 0 when empty).
    pub fn of(h: &Histogram<u64>) -> Self {
        if h.is_empty() {
            return Self {
                p50: 0.0,
                p90: 0.0,
                p99: 0.0,
                p999: 0.0,
                max: 0.0,
                mean: 0.0,
            };
        }
        let ms = |us: u64| us as f64 / 1000.0;
        Self {
            p50: ms(h.value_at_quantile(0.5)),
            p90: ms(h.value_at_quantile(0.9)),
            p99: ms(h.value_at_quantile(0.99)),
            p999: ms(h.value_at_quantile(0.999)),
            max: ms(h.max()),
            mean: h.mean() / 1000.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> TaskStats {
        let mut s = TaskStats::default();
        for i in 1..=100u64 {
            let service = Duration::from_micros(i * 10);
            s.record(Ok(()), service, service + Duration::from_micros(5));
        }
        s.record(
            Err("timeout"),
            Duration::from_millis(5),
            Duration::from_millis(9),
        );
        s.elapsed = Duration::from_millis(1234);
        s
    }

    #[test]
    fn wire_round_trip_keeps_everything() {
        let s = sample();
        let back = TaskStats::from_bytes(&s.to_bytes()).unwrap();
        assert_eq!(back, s);
    }

    #[test]
    fn merge_adds_counts_and_samples() {
        let mut a = sample();
        a.merge(&sample());
        assert_eq!((a.succeeded, a.failed), (200, 2));
        assert_eq!(a.errors["timeout"], 2);
        assert_eq!(a.service_us.len(), 202);
        // HDR keeps 3 significant digits: the top of 5 ms's bucket.
        assert!((Percentiles::of(&a.service_us).max - 5.0).abs() <= 0.005);
    }

    #[test]
    fn response_never_below_service() {
        let mut s = TaskStats::default();
        s.record(Ok(()), Duration::from_millis(3), Duration::from_millis(1));
        assert_eq!(s.response_us.max(), s.service_us.max());
    }

    #[test]
    fn hostile_payloads_are_rejected() {
        assert!(matches!(
            TaskStats::from_bytes(&vec![b' '; MAX_ENCODED_BYTES + 1]),
            Err(StatsDecodeError::TooLarge(_))
        ));
        assert!(TaskStats::from_bytes(b"{}").is_err());
        let mut v: serde_json::Value = serde_json::from_slice(&sample().to_bytes()).unwrap();
        v["service_hdr"] = "!!".into();
        assert!(matches!(
            TaskStats::from_bytes(&serde_json::to_vec(&v).unwrap()),
            Err(StatsDecodeError::Base64(_))
        ));
        let mut v: serde_json::Value = serde_json::from_slice(&sample().to_bytes()).unwrap();
        v["succeeded"] = 5000.into();
        assert!(matches!(
            TaskStats::from_bytes(&serde_json::to_vec(&v).unwrap()),
            Err(StatsDecodeError::Inconsistent { .. })
        ));
    }

    #[test]
    fn percentiles_in_milliseconds() {
        let p = Percentiles::of(&sample().service_us);
        // 101 samples: 10, 20, ..., 1000 us and 5 ms; the 51st is 510 us.
        assert!((p.p50 - 0.51).abs() < 0.001, "{p:?}");
        assert!((p.p90 - 0.91).abs() < 0.001, "{p:?}");
        assert_eq!(Percentiles::of(&new_histogram()).p99, 0.0);
    }
}
