//! Scheduling against the reference master with the noop target: the parallelism
//! bound (checked by the coordinator and, independently, in the master's books),
//! retries, exact accounting of every query, and live per-query progress.

use std::time::Duration;

use clap::Parser as _;
use mesos_master::LocalCluster;
use throttler::config::Config;
use throttler::coordinator::TASK_FAILED_KIND;
use throttler::progress::Snapshot;
use throttler::report::Report;
use tokio::sync::{oneshot, watch};

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

/// What a sampler of the master's `/state` books saw during a run.
#[derive(Debug, Default)]
struct Sampled {
    /// Snapshots taken.
    samples: u64,
    /// Snapshots showing at least one non-terminal task of the framework.
    busy_samples: u64,
    /// Most non-terminal tasks of the framework in one snapshot.
    max_live_tasks: u64,
}

/// Non-terminal tasks of the Throttler framework in the master's books.
fn live_tasks(cluster: &LocalCluster) -> u64 {
    cluster
        .state()
        .frameworks
        .iter()
        .filter(|f| f.name == "throttler")
        .map(|f| f.tasks.len() as u64)
        .sum()
}

/// Runs `config` against its own embedded cluster while another future samples the
/// master's books every millisecond until the run has returned. The master adds a
/// task when it accepts the launch (after the coordinator counted it) and drops it
/// when the terminal update reaches it (before the scheduler sees it), so its count is
/// never above the coordinator's.
async fn run_sampled(mut config: Config) -> (Report, Sampled) {
    let cluster = throttler::app::local_cluster(&config)
        .start()
        .await
        .expect("the embedded cluster starts");
    config.mesos_master = Some(cluster.url());
    let (stop_tx, mut stop_rx) = oneshot::channel::<()>();
    let sampling = async {
        let mut sampled = Sampled::default();
        let mut every = tokio::time::interval(Duration::from_millis(1));
        loop {
            tokio::select! {
                _ = &mut stop_rx => break sampled,
                _ = every.tick() => {
                    let live = live_tasks(&cluster);
                    sampled.samples += 1;
                    sampled.busy_samples += u64::from(live > 0);
                    sampled.max_live_tasks = sampled.max_live_tasks.max(live);
                }
            }
        }
    };
    let running = async {
        let report = run(config).await;
        let _ = stop_tx.send(());
        report
    };
    let (sampled, report) = tokio::join!(sampling, running);
    throttler::app::shutdown_cluster(cluster).await;
    (report, sampled)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallelism_is_never_exceeded_and_every_query_counts_once() {
    // 12 tasks of 10 queries, 2 in flight of 5 ms each: about 25 ms per task, so the
    // master's books hold running tasks for many 1 ms samples.
    let (report, sampled) = run_sampled(config(&[
        "--total-queries",
        "120",
        "--queries-per-task",
        "10",
        "--parallelism",
        "3",
        "--concurrency",
        "2",
        "--noop-service-time",
        "5ms",
    ]))
    .await;
    // Independent evidence: the master never held more than 3 of our tasks.
    assert!(
        sampled.busy_samples > 0,
        "the sampler saw no task: {sampled:?}"
    );
    assert!(
        sampled.max_live_tasks <= 3,
        "the master held {} tasks at once",
        sampled.max_live_tasks
    );
    assert!(
        sampled.max_live_tasks <= report.max_running_tasks,
        "{sampled:?}"
    );
    // And the coordinator's own count, which sees every launch.
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
    let (report, sampled) = run_sampled(config(&[
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
    assert!(sampled.max_live_tasks <= 4, "{sampled:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn progress_moves_per_query_while_a_task_runs() {
    // One task of 40 queries, one at a time, 10 ms each (about 400 ms); its executor
    // reports every 20 ms.
    let config = config(&[
        "--total-queries",
        "40",
        "--queries-per-task",
        "40",
        "--parallelism",
        "1",
        "--concurrency",
        "1",
        "--noop-service-time",
        "10ms",
        "--progress-interval",
        "20ms",
    ]);
    let (tx, mut rx) = watch::channel(Snapshot::default());
    let running = tokio::spawn(throttler::app::run_with_progress(config, tx));
    let mut seen = Vec::new();
    let followed = tokio::time::timeout(Duration::from_secs(90), async {
        // Every snapshot until the scheduler (the sender) is gone.
        loop {
            seen.push(*rx.borrow_and_update());
            if rx.changed().await.is_err() {
                break;
            }
        }
    })
    .await;
    assert!(followed.is_ok(), "the run's progress never ended");
    let report = running
        .await
        .expect("the run task")
        .expect("the run succeeds");
    assert_eq!(report.succeeded, 40);

    // Mid-task positions: the bar moved before the task finished.
    let mid: Vec<u64> = seen
        .iter()
        .filter(|s| s.accounted == 0 && s.in_flight > 0)
        .map(Snapshot::position)
        .collect();
    assert!(
        !mid.is_empty(),
        "no progress before the task ended: {seen:?}"
    );
    assert!(mid.iter().any(|&p| p < 40), "only whole tasks: {mid:?}");
    assert!(
        mid.windows(2).all(|w| w[0] <= w[1]),
        "went backwards: {mid:?}"
    );
    let last = seen.last().expect("at least one snapshot");
    assert!(last.done, "{last:?}");
    assert_eq!(
        (last.accounted, last.in_flight, last.position()),
        (40, 0, 40)
    );
    assert!(last.messages >= 1, "{last:?}");
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
