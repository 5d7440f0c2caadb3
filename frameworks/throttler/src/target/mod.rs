//! What the tasks query: the [`QueryTarget`] trait and its implementations.
//!
//! - [`cql`]: Cassandra or ScyllaDB through the scylla driver (the real thing).
//! - [`noop`]: an in-process target that waits a configured service time and can fail
//!   on purpose. It exists to test and demonstrate the framework without a database;
//!   its numbers measure the framework, not any database.

pub mod cql;
pub mod noop;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::config::Workload;

/// One request of the workload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// Write `value` under partition key `key`.
    Write {
        /// Partition key.
        key: i64,
        /// Value written.
        value: i64,
    },
    /// Read the row under partition key `key`.
    Read {
        /// Partition key.
        key: i64,
    },
}

impl Op {
    /// The request for query number `query` of the run (deterministic, so a retried
    /// task repeats the same requests).
    ///
    /// Keys cycle through `key_space_size` keys in a scattered order; in a `mixed`
    /// workload a query is a read with probability `read_ratio`.
    pub fn for_query(query: u64, workload: Workload, read_ratio: f64, key_space_size: u64) -> Op {
        let mixed = splitmix64(query);
        let key = (mixed % key_space_size.max(1)) as i64;
        let read = match workload {
            Workload::Write => false,
            Workload::Read => true,
            Workload::Mixed => {
                ((splitmix64(mixed) >> 11) as f64 / (1u64 << 53) as f64) < read_ratio
            }
        };
        if read {
            Op::Read { key }
        } else {
            Op::Write {
                key,
                value: query as i64,
            }
        }
    }
}

fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A failed request, classified for the report's `errors` map.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind}: {message}")]
pub struct QueryError {
    /// Short stable class, such as `timeout`, `unavailable`, `overloaded`,
    /// `connection`, `simulated`.
    pub kind: String,
    /// Details for logs.
    pub message: String,
}

impl QueryError {
    /// An error of `kind` with `message`.
    pub fn new(kind: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            kind: kind.into(),
            message: message.into(),
        }
    }
}

/// Something that answers the workload's requests.
///
/// One target is shared by all tasks of an executor (for CQL: one driver session), so
/// it must be usable from many requests at once.
#[async_trait]
pub trait QueryTarget: Send + Sync + 'static {
    /// Runs request `op`, which is query number `query` of the run.
    async fn execute(&self, query: u64, op: Op) -> Result<(), QueryError>;
}

/// How an executor builds its target; sent to it inside each task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum TargetSpec {
    /// A CQL cluster.
    Cql(cql::CqlSettings),
    /// The simulated target.
    Noop(noop::NoopSettings),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ops_are_deterministic_and_follow_the_workload() {
        assert_eq!(
            Op::for_query(42, Workload::Mixed, 0.3, 1000),
            Op::for_query(42, Workload::Mixed, 0.3, 1000)
        );
        assert!(matches!(
            Op::for_query(1, Workload::Write, 1.0, 10),
            Op::Write { .. }
        ));
        assert!(matches!(
            Op::for_query(1, Workload::Read, 0.0, 10),
            Op::Read { .. }
        ));
        let reads = (0..10_000)
            .filter(|&q| {
                matches!(
                    Op::for_query(q, Workload::Mixed, 0.25, 100),
                    Op::Read { .. }
                )
            })
            .count();
        assert!((2300..2700).contains(&reads), "{reads} reads of 10000");
        for q in 0..1000 {
            let key = match Op::for_query(q, Workload::Mixed, 0.5, 7) {
                Op::Read { key } | Op::Write { key, .. } => key,
            };
            assert!((0..7).contains(&key));
        }
    }
}
