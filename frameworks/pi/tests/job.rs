//! Whole jobs on the embedded cluster through the library: exact accounting and
//! determinism.

use std::time::Duration;

use mesos_pi::job::{JobConfig, run};
use mesos_pi::plan::JobPlan;
use mesos_pi::scheduler::Progress;
use tokio::sync::watch;

fn config(samples: u64, tasks: u64, seed: u64) -> JobConfig {
    JobConfig {
        samples,
        tasks,
        seed,
        agent_cpus: 2,
        executor_path: Some(env!("CARGO_BIN_EXE_pi").into()),
        ..JobConfig::default()
    }
}

/// The estimate the job must give: every planned task's samples, exactly once.
fn exact(samples: u64, tasks: u64, seed: u64) -> f64 {
    JobPlan::new(samples, tasks, seed).unwrap().exact_estimate()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_counts_every_planned_sample_exactly_once_and_is_deterministic() {
    let (samples, tasks, seed) = (3_000_001, 5, 99);
    let cfg = config(samples, tasks, seed);
    let (tx, _rx) = watch::channel(Progress::default());
    let first = tokio::time::timeout(Duration::from_secs(60), run(&cfg, tx))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(first.samples, samples);
    assert_eq!(first.tasks, tasks);
    let expected = exact(samples, tasks, seed);
    assert_eq!(first.pi, expected);
    assert!(first.error < 5.0 * first.std_error, "{first:?}");

    let (tx, _rx) = watch::channel(Progress::default());
    let second = tokio::time::timeout(Duration::from_secs(60), run(&cfg, tx))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(second.pi, first.pi, "same seed and split, same estimate");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_parameters_fail_before_starting_anything() {
    let (tx, _rx) = watch::channel(Progress::default());
    let err = run(&config(3, 4, 0), tx).await.unwrap_err();
    assert!(err.to_string().contains("--tasks"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_whose_tasks_keep_failing_names_a_task_its_state_and_the_cause() {
    // The agents cannot start this executor: every attempt of every task fails.
    let cfg = JobConfig {
        executor_path: Some("/nonexistent/pi-executor".into()),
        max_retries: 1,
        ..config(1_000, 2, 1)
    };
    let (tx, _rx) = watch::channel(Progress::default());
    let err = tokio::time::timeout(Duration::from_secs(60), run(&cfg, tx))
        .await
        .expect("the job gives up in time")
        .expect_err("no task can succeed");
    let message = err.to_string();
    assert!(
        message.contains("tasks failed on every retry; the first to give up: task pi-")
            && message.contains("ended TASK_FAILED")
            && message.contains("/nonexistent/pi-executor"),
        "{message}"
    );
}
