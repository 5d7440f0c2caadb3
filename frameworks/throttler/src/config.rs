//! Command-line configuration of a Throttler run, and its validation.
//!
//! [`Config`] derives both `clap` (the flags) and `serde` (so every JSON report records
//! the settings it was produced with).

use std::time::Duration;

use clap::{Parser, ValueEnum};
use serde::{Deserialize, Serialize};

/// Default CQL contact point.
pub const DEFAULT_CASSANDRA_HOST: &str = "127.0.0.1:9042";

/// Flags of the `throttler` binary.
///
/// # Examples
///
/// ```
/// use clap::Parser;
/// use throttler::config::Config;
///
/// let config = Config::try_parse_from([
///     "throttler", "--target", "noop", "--total-queries", "100", "--queries-per-task", "10",
/// ]).unwrap();
/// config.validate().unwrap();
/// assert_eq!(config.parallelism, 4);
/// ```
#[derive(Debug, Clone, Parser, Serialize, Deserialize, PartialEq)]
#[command(
    name = "throttler",
    about = "Distributed Cassandra load tester on Apache Mesos",
    version
)]
pub struct Config {
    /// Mesos master URL (`http://host:5050`), or the ZooKeeper election
    /// `zk://host:2181/mesos` (also `--master`). Default: start an embedded reference
    /// master with local agents for this run.
    #[arg(long, visible_alias = "master")]
    pub mesos_master: Option<String>,

    /// Number of agents of the embedded master (ignored with --mesos-master).
    #[arg(long, default_value_t = 2)]
    pub local_agents: u32,

    /// Cassandra contact points: comma-separated `host[:port]` (port 9042 when omitted).
    #[arg(long, default_value = DEFAULT_CASSANDRA_HOST, value_delimiter = ',')]
    pub cassandra_host: Vec<String>,

    /// Keyspace holding the test table (created if absent, never dropped).
    #[arg(long, default_value = "throttler")]
    pub keyspace: String,

    /// Table the workload writes and reads (created if absent, never dropped).
    #[arg(long, default_value = "load")]
    pub table: String,

    /// Total number of queries of the run. Mutually exclusive with --duration.
    #[arg(long, conflicts_with = "duration")]
    pub total_queries: Option<u64>,

    /// Run for this long instead of a fixed query count (`30s`, `2m`, `500ms`).
    #[arg(long, value_parser = parse_duration)]
    #[serde(with = "duration_secs_opt")]
    pub duration: Option<Duration>,

    /// Queries executed by one Mesos task.
    #[arg(long, default_value_t = 1000)]
    pub queries_per_task: u64,

    /// Maximum number of tasks running at any moment.
    #[arg(long, default_value_t = 4)]
    pub parallelism: u32,

    /// Target queries per second for the whole run (0 = unlimited). Each running task
    /// gets rate / parallelism and follows a fixed schedule.
    #[arg(long, default_value_t = 0.0)]
    pub rate: f64,

    /// What the queries do.
    #[arg(long, value_enum, default_value_t = Workload::Write)]
    pub workload: Workload,

    /// Fraction of reads in the `mixed` workload, in [0, 1].
    #[arg(long, default_value_t = 0.5)]
    pub read_ratio: f64,

    /// Number of distinct partition keys the workload cycles through.
    #[arg(long, default_value_t = 1_000_000)]
    pub key_space_size: u64,

    /// Requests in flight per task.
    #[arg(long, default_value_t = 32)]
    pub concurrency: u32,

    /// CQL consistency level of every request.
    #[arg(long, value_enum, default_value_t = ConsistencyLevel::LocalQuorum)]
    pub consistency: ConsistencyLevel,

    /// Replication factor used when the keyspace is created (SimpleStrategy).
    #[arg(long, default_value_t = 1)]
    pub replication_factor: u32,

    /// CPUs of one task.
    #[arg(long, default_value_t = 0.5)]
    pub task_cpus: f64,

    /// Memory (MB) of one task.
    #[arg(long, default_value_t = 128.0)]
    pub task_mem: f64,

    /// Attempts per task before its queries are counted as failed.
    #[arg(long, default_value_t = 3)]
    pub max_task_attempts: u32,

    /// Timeout for connecting to Cassandra and for each request (`5s`).
    #[arg(long, default_value = "5s", value_parser = parse_duration)]
    #[serde(with = "duration_secs")]
    pub request_timeout: Duration,

    /// Print exactly one JSON object on stdout instead of the human report.
    #[arg(long)]
    pub json: bool,

    /// What the tasks query: `cql` (Cassandra/ScyllaDB) or `noop` (an in-process
    /// target that only waits --noop-service-time: for testing the framework itself,
    /// its numbers are not a database benchmark).
    #[arg(long, value_enum, default_value_t = TargetKind::Cql)]
    pub target: TargetKind,

    /// Simulated service time of one noop query (`0s`, `2ms`).
    #[arg(long, default_value = "0s", value_parser = parse_duration)]
    #[serde(with = "duration_secs")]
    pub noop_service_time: Duration,

    /// Testing: the noop target fails the first attempt of every task whose index is a
    /// multiple of N (0 = never).
    #[arg(long, default_value_t = 0, hide = true)]
    pub noop_fail_task_every: u64,

    /// Testing: the noop target fails every attempt of every task whose index is a
    /// multiple of N (0 = never).
    #[arg(long, default_value_t = 0, hide = true)]
    pub noop_fail_task_always_every: u64,

    /// Testing: the noop target answers an error to every query whose index in its task
    /// is a multiple of N (0 = never).
    #[arg(long, default_value_t = 0, hide = true)]
    pub noop_error_query_every: u64,

    /// How often executors report live progress to the scheduler (`250ms`; `0s` = never,
    /// the bar then moves when tasks finish).
    #[arg(long, default_value = "250ms", value_parser = parse_duration)]
    pub progress_interval: Duration,

    /// Executor program started on agents (default: this program).
    #[arg(long, hide = true)]
    pub executor_path: Option<std::path::PathBuf>,

    /// Where the agents fetch the executor from (like Spark's `spark.executor.uri`):
    /// http(s)://, file:// or a path on the agents; the program itself, or an archive
    /// (.tar.gz, .tgz, .zip, ...) with `throttler` at its top level. Without it and with
    /// --mesos-master, this process serves its own binary over HTTP for the agents.
    #[arg(long, value_name = "URL")]
    pub executor_uri: Option<String>,

    /// The address agents fetch the served executor from (default: this machine's
    /// address towards the master).
    #[arg(long, value_name = "IP")]
    pub advertise_ip: Option<std::net::IpAddr>,
}

/// Kinds of queries a run issues.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Workload {
    /// Only INSERTs.
    Write,
    /// Only SELECTs by partition key.
    Read,
    /// Reads with probability --read-ratio, writes otherwise.
    Mixed,
}

/// Where the queries go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TargetKind {
    /// Cassandra or ScyllaDB through the scylla driver.
    Cql,
    /// In-process simulated service (framework tests and demos only).
    Noop,
}

/// CQL consistency levels accepted by `--consistency`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[allow(missing_docs)]
pub enum ConsistencyLevel {
    Any,
    One,
    Two,
    Three,
    Quorum,
    All,
    LocalQuorum,
    EachQuorum,
    LocalOne,
}

/// A flag combination that cannot run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// Neither a query count nor a duration was given.
    #[error("give either --total-queries N or --duration D")]
    NoAmount,
    /// A count or size that must be positive is zero.
    #[error("{flag} must be greater than 0")]
    Zero {
        /// The offending flag.
        flag: &'static str,
    },
    /// A number outside its allowed range.
    #[error("{flag} = {value} is out of range ({expected})")]
    OutOfRange {
        /// The offending flag.
        flag: &'static str,
        /// The value given.
        value: String,
        /// What is accepted.
        expected: &'static str,
    },
    /// A contact point that is not `host[:port]`.
    #[error("--cassandra-host entry {0:?} is not host[:port]")]
    BadHost(String),
    /// A keyspace or table name that CQL would need quoting for.
    #[error("{flag} {value:?} must match [A-Za-z][A-Za-z0-9_]{{0,47}}")]
    BadIdentifier {
        /// The offending flag.
        flag: &'static str,
        /// The value given.
        value: String,
    },
}

impl Config {
    /// Checks the flags together; every run calls this before doing anything.
    ///
    /// # Errors
    ///
    /// The first [`ConfigError`] found.
    pub fn validate(&self) -> Result<(), ConfigError> {
        match (self.total_queries, self.duration) {
            (None, None) => return Err(ConfigError::NoAmount),
            (Some(0), _) => {
                return Err(ConfigError::Zero {
                    flag: "--total-queries",
                });
            }
            (_, Some(d)) if d.is_zero() => return Err(ConfigError::Zero { flag: "--duration" }),
            _ => {}
        }
        for (flag, v) in [
            ("--queries-per-task", self.queries_per_task),
            ("--parallelism", u64::from(self.parallelism)),
            ("--concurrency", u64::from(self.concurrency)),
            ("--replication-factor", u64::from(self.replication_factor)),
            ("--max-task-attempts", u64::from(self.max_task_attempts)),
            ("--key-space-size", self.key_space_size),
        ] {
            if v == 0 {
                return Err(ConfigError::Zero { flag });
            }
        }
        if self.mesos_master.is_none() && self.local_agents == 0 {
            return Err(ConfigError::Zero {
                flag: "--local-agents",
            });
        }
        if !(self.rate.is_finite() && self.rate >= 0.0) {
            return Err(out_of_range("--rate", self.rate, "a number >= 0"));
        }
        if !(0.0..=1.0).contains(&self.read_ratio) {
            return Err(out_of_range("--read-ratio", self.read_ratio, "0 to 1"));
        }
        if !(self.task_cpus.is_finite() && self.task_cpus > 0.0) {
            return Err(out_of_range("--task-cpus", self.task_cpus, "a number > 0"));
        }
        if !(self.task_mem.is_finite() && self.task_mem > 0.0) {
            return Err(out_of_range("--task-mem", self.task_mem, "a number > 0"));
        }
        if self.request_timeout.is_zero() {
            return Err(ConfigError::Zero {
                flag: "--request-timeout",
            });
        }
        check_identifier("--keyspace", &self.keyspace)?;
        check_identifier("--table", &self.table)?;
        if self.target == TargetKind::Cql {
            self.contact_points()?;
        }
        Ok(())
    }

    /// The contact points as `host:port` strings, port 9042 added where omitted.
    ///
    /// # Errors
    ///
    /// [`ConfigError::BadHost`] for an empty entry or a port that is not a number.
    pub fn contact_points(&self) -> Result<Vec<String>, ConfigError> {
        let mut out = Vec::new();
        for raw in &self.cassandra_host {
            let entry = raw.trim();
            if entry.is_empty() {
                return Err(ConfigError::BadHost(raw.clone()));
            }
            out.push(normalize_host(entry).ok_or_else(|| ConfigError::BadHost(raw.clone()))?);
        }
        if out.is_empty() {
            return Err(ConfigError::BadHost(String::new()));
        }
        Ok(out)
    }
}

fn normalize_host(entry: &str) -> Option<String> {
    // `[v6]:port`, `[v6]`, bare IPv6, `host:port`, `host`.
    if let Some(rest) = entry.strip_prefix('[') {
        let (addr, tail) = rest.split_once(']')?;
        return match tail.strip_prefix(':') {
            Some(port) => port.parse::<u16>().ok().map(|p| format!("[{addr}]:{p}")),
            None if tail.is_empty() => Some(format!("[{addr}]:9042")),
            None => None,
        };
    }
    match entry.matches(':').count() {
        0 => Some(format!("{entry}:9042")),
        1 => {
            let (host, port) = entry.split_once(':')?;
            let port = port.parse::<u16>().ok()?;
            (!host.is_empty()).then(|| format!("{host}:{port}"))
        }
        _ => Some(format!("[{entry}]:9042")),
    }
}

fn out_of_range(flag: &'static str, value: f64, expected: &'static str) -> ConfigError {
    ConfigError::OutOfRange {
        flag,
        value: value.to_string(),
        expected,
    }
}

fn check_identifier(flag: &'static str, value: &str) -> Result<(), ConfigError> {
    let mut chars = value.chars();
    let ok = value.len() <= 48
        && chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(ConfigError::BadIdentifier {
            flag,
            value: value.to_string(),
        })
    }
}

/// Parses `500ms`, `2s`, `1.5s`, `3m`, `1h`, or a bare number of seconds.
///
/// # Errors
///
/// A message naming the accepted units.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let value: f64 = num
        .parse()
        .map_err(|_| format!("{s:?} is not a duration such as 500ms, 10s, 2m or 1h"))?;
    let scale = match unit {
        "ns" => 1e-9,
        "us" => 1e-6,
        "ms" => 1e-3,
        "" | "s" => 1.0,
        "m" => 60.0,
        "h" => 3600.0,
        _ => {
            return Err(format!(
                "unknown unit {unit:?} in {s:?} (use ns, us, ms, s, m, h)"
            ));
        }
    };
    Duration::try_from_secs_f64(value * scale).map_err(|e| format!("{s:?}: {e}"))
}

mod duration_secs {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(d.as_secs_f64())
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let secs = f64::deserialize(d)?;
        Duration::try_from_secs_f64(secs).map_err(serde::de::Error::custom)
    }
}

mod duration_secs_opt {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;

    pub fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_some(&d.as_secs_f64()),
            None => s.serialize_none(),
        }
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        Option::<f64>::deserialize(d)?
            .map(|secs| Duration::try_from_secs_f64(secs).map_err(serde::de::Error::custom))
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Config {
        let mut all = vec!["throttler"];
        all.extend_from_slice(args);
        Config::try_parse_from(all).expect("flags parse")
    }

    #[test]
    fn original_flags_parse() {
        let c = parse(&[
            "--mesos-master",
            "http://m:5050",
            "--cassandra-host",
            "a,b:9043",
            "--keyspace",
            "demo_framework",
            "--total-queries",
            "100",
            "--queries-per-task",
            "5",
            "--parallelism",
            "5",
        ]);
        c.validate().unwrap();
        assert_eq!(c.contact_points().unwrap(), vec!["a:9042", "b:9043"]);
        assert_eq!(c.parallelism, 5);
    }

    #[test]
    fn bad_combinations_are_typed_errors() {
        assert_eq!(parse(&[]).validate(), Err(ConfigError::NoAmount));
        let c = parse(&["--total-queries", "10", "--parallelism", "0"]);
        assert_eq!(
            c.validate(),
            Err(ConfigError::Zero {
                flag: "--parallelism"
            })
        );
        let c = parse(&["--total-queries", "10", "--cassandra-host", "h:notaport"]);
        assert!(matches!(c.validate(), Err(ConfigError::BadHost(_))));
        let c = parse(&["--total-queries", "10", "--keyspace", "x; DROP"]);
        assert!(matches!(
            c.validate(),
            Err(ConfigError::BadIdentifier { .. })
        ));
        let c = parse(&["--total-queries", "10", "--read-ratio", "1.5"]);
        assert!(matches!(c.validate(), Err(ConfigError::OutOfRange { .. })));
        assert!(Config::try_parse_from(["t", "--total-queries", "1", "--duration", "1s"]).is_err());
    }

    #[test]
    fn durations_parse() {
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
        assert_eq!(parse_duration("1.5").unwrap(), Duration::from_millis(1500));
        assert!(parse_duration("3 fortnights").is_err());
        assert!(parse_duration("").is_err());
    }

    #[test]
    fn ipv6_contact_points() {
        assert_eq!(normalize_host("[::1]:9000").as_deref(), Some("[::1]:9000"));
        assert_eq!(normalize_host("::1").as_deref(), Some("[::1]:9042"));
        assert_eq!(normalize_host("[::1]x"), None);
    }

    #[test]
    fn config_round_trips_through_json() {
        let c = parse(&["--duration", "2s", "--target", "noop"]);
        let json = serde_json::to_string(&c).unwrap();
        let back: Config = serde_json::from_str(&json).unwrap();
        assert_eq!(back, c);
    }
}
