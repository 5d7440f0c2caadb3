//! The end-of-run report: one JSON object (`--json`) or a human summary with a per-task
//! table.
//!
//! JSON fields: `total_queries`, `succeeded`, `failed`, `errors` (kind → count),
//! `ops_per_second` (accounted queries / wall time), `wall_seconds`, `latency_ms`
//! (**response time**, measured from each request's intended start under `--rate`),
//! `service_time_ms` (from the actual send), `tasks`, `task_attempts`,
//! `failed_attempts`, `max_running_tasks`, `parallelism`, `target`, `config`, and
//! `per_task` (rows of [`TaskRow`]).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use serde::Serialize;

use crate::config::{Config, TargetKind};
use crate::coordinator::{Coordinator, TaskRow};
use crate::stats::Percentiles;

/// The result of a run.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Queries accounted for (succeeded + failed).
    pub total_queries: u64,
    /// Queries that succeeded.
    pub succeeded: u64,
    /// Queries that failed.
    pub failed: u64,
    /// Failed queries by error kind.
    pub errors: BTreeMap<String, u64>,
    /// Accounted queries per second of wall time.
    pub ops_per_second: f64,
    /// From the first launch to the last terminal update, seconds.
    pub wall_seconds: f64,
    /// Response time percentiles (from the intended start), milliseconds.
    pub latency_ms: Percentiles,
    /// Service time percentiles (from the actual send), milliseconds.
    pub service_time_ms: Percentiles,
    /// Tasks that reached a final state.
    pub tasks: u64,
    /// Attempts launched, retries included.
    pub task_attempts: u64,
    /// Attempts that failed.
    pub failed_attempts: u64,
    /// Most tasks running at once (never above `parallelism`).
    pub max_running_tasks: u64,
    /// The `--parallelism` bound.
    pub parallelism: u32,
    /// CPU seconds used by this process and its reaped children during the run
    /// (`getrusage`). With the embedded cluster that is scheduler, master, agents and
    /// executors; with a remote master, the scheduler only.
    pub client_cpu_seconds: Option<f64>,
    /// `total_queries / client_cpu_seconds`.
    pub queries_per_client_cpu_second: Option<f64>,
    /// `cql` or `noop` (noop numbers measure the framework, not a database).
    pub target: TargetKind,
    /// The settings of the run.
    pub config: Config,
    /// One row per task.
    pub per_task: Vec<TaskRow>,
    /// Why the first task whose every attempt failed ended its last attempt (the
    /// task, its final state, reason and the master's or agent's message); `None`
    /// when no task was given up. Not part of the JSON: the rows say which tasks
    /// failed, and the command's error line and exit code say why.
    #[serde(skip)]
    pub task_failure: Option<String>,
}

impl Report {
    /// The report of a finished run.
    pub fn new(config: &Config, coordinator: &Coordinator, wall: Duration) -> Self {
        let totals = coordinator.totals();
        let wall_seconds = wall.as_secs_f64();
        let total = totals.total();
        let mut per_task = coordinator.rows().to_vec();
        per_task.sort_by_key(|r| r.index);
        Self {
            total_queries: total,
            succeeded: totals.succeeded,
            failed: totals.failed,
            errors: totals.errors.clone(),
            ops_per_second: if wall_seconds > 0.0 {
                total as f64 / wall_seconds
            } else {
                0.0
            },
            wall_seconds,
            latency_ms: Percentiles::of(&totals.response_us),
            service_time_ms: Percentiles::of(&totals.service_us),
            tasks: per_task.len() as u64,
            task_attempts: coordinator.launched(),
            failed_attempts: coordinator.failed_attempts(),
            max_running_tasks: coordinator.max_running() as u64,
            parallelism: config.parallelism,
            client_cpu_seconds: None,
            queries_per_client_cpu_second: None,
            target: config.target,
            config: config.clone(),
            per_task,
            task_failure: match coordinator.given_up() {
                (0, _) => None,
                (gave_up, cause) => Some(format!(
                    "{gave_up} task(s) failed on every attempt (--max-task-attempts); the first to give up: {}",
                    cause.unwrap_or("no reason was reported")
                )),
            },
        }
    }

    /// Records the CPU time the run cost.
    pub fn set_cpu_time(&mut self, cpu: Duration) {
        let secs = cpu.as_secs_f64();
        self.client_cpu_seconds = Some(secs);
        self.queries_per_client_cpu_second = (secs > 0.0).then(|| self.total_queries as f64 / secs);
    }

    /// Exactly one JSON object, no trailing newline.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("plain data serializes")
    }

    /// The human summary and per-task table.
    pub fn to_human(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "Throttler run against the {:?} target", self.target);
        if self.target == TargetKind::Noop {
            let _ = writeln!(
                out,
                "  (noop: simulated service; these numbers measure the framework, not a database)"
            );
        }
        let _ = writeln!(
            out,
            "  queries   {} total, {} succeeded, {} failed",
            self.total_queries, self.succeeded, self.failed
        );
        for (kind, n) in &self.errors {
            let _ = writeln!(out, "    {kind:<16} {n}");
        }
        let _ = writeln!(
            out,
            "  wall      {:.3} s, {:.1} queries/s",
            self.wall_seconds, self.ops_per_second
        );
        let _ = writeln!(
            out,
            "  tasks     {} ({} attempts, {} failed), at most {} running (parallelism {})",
            self.tasks,
            self.task_attempts,
            self.failed_attempts,
            self.max_running_tasks,
            self.parallelism
        );
        if let (Some(cpu), Some(per)) =
            (self.client_cpu_seconds, self.queries_per_client_cpu_second)
        {
            let _ = writeln!(
                out,
                "  cpu       {cpu:.3} s client CPU, {per:.0} queries per CPU-second"
            );
        }
        let _ = writeln!(
            out,
            "  latency (ms)     p50      p90      p99    p99.9      max"
        );
        for (name, p) in [
            ("response", &self.latency_ms),
            ("service", &self.service_time_ms),
        ] {
            let _ = writeln!(
                out,
                "  {name:<9} {:>9.3} {:>8.3} {:>8.3} {:>8.3} {:>8.3}",
                p.p50, p.p90, p.p99, p.p999, p.max
            );
        }
        let _ = writeln!(
            out,
            "\n  {:>5}  {:<22} {:>3} {:<8} {:>9} {:>7} {:>8} {:>9}",
            "task", "id", "try", "state", "ok", "failed", "secs", "p99 ms"
        );
        for r in &self.per_task {
            let _ = writeln!(
                out,
                "  {:>5}  {:<22} {:>3} {:<8} {:>9} {:>7} {:>8.4} {:>9.3}",
                r.index,
                r.task_id,
                r.attempts,
                r.state,
                r.succeeded,
                r.failed,
                r.seconds,
                r.latency_ms.p99
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::coordinator::Outcome;
    use crate::plan::{Amount, Plan};
    use crate::stats::TaskStats;
    use clap::Parser as _;

    #[test]
    fn json_has_the_documented_fields() {
        let config =
            Config::try_parse_from(["t", "--target", "noop", "--total-queries", "4"]).unwrap();
        let mut c = Coordinator::new(Plan::new(Amount::Queries(4), 2), 2, 1);
        let launches = [c.next_launch().unwrap(), c.next_launch().unwrap()];
        for l in launches {
            let mut s = TaskStats::default();
            s.record(Ok(()), Duration::from_millis(1), Duration::from_millis(2));
            s.record(
                Err("timeout"),
                Duration::from_millis(3),
                Duration::from_millis(4),
            );
            c.on_terminal(&l.task_id, Outcome::Finished(Box::new(s)));
        }
        let report = Report::new(&config, &c, Duration::from_secs(2));
        let v: serde_json::Value = serde_json::from_str(&report.to_json()).unwrap();
        assert_eq!(v["total_queries"], 4);
        assert_eq!(v["succeeded"], 2);
        assert_eq!(v["failed"], 2);
        assert_eq!(v["errors"]["timeout"], 2);
        assert_eq!(v["ops_per_second"], 2.0);
        assert_eq!(v["tasks"], 2);
        assert_eq!(v["max_running_tasks"], 2);
        for key in ["p50", "p90", "p99", "p999", "max"] {
            assert!(v["latency_ms"][key].is_number(), "latency_ms.{key}");
            assert!(
                v["service_time_ms"][key].is_number(),
                "service_time_ms.{key}"
            );
        }
        // HDR reports the top of the value's bucket (3 significant digits).
        let close =
            |v: &serde_json::Value, want: f64| (v.as_f64().unwrap() - want).abs() <= want * 1e-3;
        assert!(close(&v["latency_ms"]["max"], 4.0), "{}", v["latency_ms"]);
        assert!(
            close(&v["service_time_ms"]["max"], 3.0),
            "{}",
            v["service_time_ms"]
        );
        let human = report.to_human();
        assert!(human.contains("not a database"), "{human}");
        assert!(human.contains("throttler-1-1"));
    }
}
