//! The CQL path against a real Cassandra or ScyllaDB. Runs only when
//! `THROTTLER_TEST_CQL=host:port` names one; otherwise each test says why it skips.

use std::time::Duration;

use clap::Parser as _;
use throttler::config::Config;

fn server() -> Option<String> {
    match std::env::var("THROTTLER_TEST_CQL") {
        Ok(s) if !s.trim().is_empty() => Some(s),
        _ => {
            eprintln!(
                "skipped: set THROTTLER_TEST_CQL=host:port to run the CQL tests against a real server"
            );
            None
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_then_reads_against_a_real_server() {
    let Some(host) = server() else { return };
    for workload in ["write", "read", "mixed"] {
        let config = Config::try_parse_from([
            "throttler",
            "--cassandra-host",
            &host,
            "--keyspace",
            "throttler_test",
            "--workload",
            workload,
            "--key-space-size",
            "100",
            "--consistency",
            "one",
            "--total-queries",
            "200",
            "--queries-per-task",
            "50",
            "--parallelism",
            "2",
            "--task-cpus",
            "0.1",
            "--task-mem",
            "16",
            "--executor-path",
            env!("CARGO_BIN_EXE_throttler"),
        ])
        .unwrap();
        let report = tokio::time::timeout(Duration::from_secs(120), throttler::app::run(config))
            .await
            .expect("bounded")
            .expect("run succeeds");
        assert_eq!(report.total_queries, 200, "{workload}");
        assert_eq!(report.succeeded, 200, "{workload}: {:?}", report.errors);
        assert!(report.max_running_tasks <= 2);
    }
}
