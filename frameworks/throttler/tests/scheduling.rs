//! Scheduling against the reference master with the noop target: the parallelism
//! bound, retries, and exact accounting of every query.

use std::time::Duration;

use clap::Parser as _;
use throttler::config::Config;
use throttler::coordinator::TASK_FAILED_KIND;
use throttler::report::Report;

/// A noop run on an embedded cluster with the real executor binary.
fn config(extra: &[&str]) -> Config {
    // RUST_LOG=throttler=debug shows the scheduler's decisions.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    let exe = env!("CARGO_BIN_EXE_throttler");
    let mut args = vec![
        "throttler",
        "--target",
        "noop",
        "--local-agents",
        "2",
        "--executor-path",
        exe,
        "--task-cpus",
        "0.1",
        "--task-mem",
        "16",
    ];
    args.extend_from_slice(extra);
    Config::try_parse_from(args).expect("test flags parse")
}

async fn run(config: Config) -> Report {
    tokio::time::timeout(Duration::from_secs(90), throttler::app::run(config))
        .await
        .expect("the run ends")
        .expect("the run succeeds")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallelism_is_never_exceeded_and_every_query_counts_once() {
    let report = run(config(&[
        "--total-queries",
        "120",
        "--queries-per-task",
        "10",
        "--parallelism",
        "3",
        "--concurrency",
        "4",
        "--noop-service-time",
        "1ms",
    ]))
    .await;
    assert!(
        report.max_running_tasks <= 3,
        "{} tasks ran at once",
        report.max_running_tasks
    );
    assert!(report.max_running_tasks >= 1);
    assert_eq!(report.total_queries, 120);
    assert_eq!(report.succeeded, 120);
    assert_eq!(report.failed, 0);
    assert_eq!(report.tasks, 12);
    assert_eq!(report.task_attempts, 12);
    let mut indices: Vec<u64> = report.per_task.iter().map(|r| r.index).collect();
    indices.dedup();
    assert_eq!(indices, (0..12).collect::<Vec<_>>());
    assert!(report.latency_ms.p50 >= 1.0, "{:?}", report.latency_ms);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_tasks_are_retried_without_double_counting() {
    // Tasks 0, 3, 6, 9 fail their first attempt half-way; task 5 fails every attempt.
    let report = run(config(&[
        "--total-queries",
        "100",
        "--queries-per-task",
        "10",
        "--parallelism",
        "4",
        "--max-task-attempts",
        "2",
        "--noop-fail-task-every",
        "3",
        "--noop-fail-task-always-every",
        "5",
    ]))
    .await;
    // Task 0 is a multiple of 5 too: it fails always. Always-failing: 0 and 5.
    assert_eq!(report.total_queries, 100);
    assert_eq!(report.failed, 20, "{:?}", report.errors);
    assert_eq!(report.errors.get(TASK_FAILED_KIND), Some(&20));
    assert_eq!(report.succeeded, 80);
    assert_eq!(report.tasks, 10);
    // 10 first attempts + retries of 0, 3, 5, 6, 9.
    assert_eq!(report.task_attempts, 15);
    assert_eq!(report.failed_attempts, 7);
    assert!(report.max_running_tasks <= 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn query_errors_are_counted_by_kind() {
    let report = run(config(&[
        "--total-queries",
        "60",
        "--queries-per-task",
        "20",
        "--parallelism",
        "2",
        "--noop-error-query-every",
        "7",
    ]))
    .await;
    // Multiples of 7 in 0..60: 0, 7, ..., 56.
    assert_eq!((report.succeeded, report.failed), (51, 9));
    assert_eq!(report.errors.get("simulated"), Some(&9));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duration_runs_end_at_the_deadline() {
    let report = run(config(&[
        "--duration",
        "1s",
        "--queries-per-task",
        "50",
        "--parallelism",
        "2",
        "--rate",
        "400",
        "--concurrency",
        "2",
    ]))
    .await;
    // 400/s for 1 s, shared by two tasks: about 400 queries, never more than the
    // schedule allows.
    assert!(report.total_queries <= 402, "{}", report.total_queries);
    assert!(report.total_queries > 0);
    assert_eq!(report.failed, 0);
    assert!(report.max_running_tasks <= 2);
}
