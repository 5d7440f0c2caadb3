//! Killing the executor process in the middle of a job: its tasks are retried and the
//! estimate still covers exactly the requested samples. (Its own test binary, so that
//! the only executors that are children of this process belong to this job.)

use std::time::Duration;

use mesos_pi::job::{JobConfig, run};
use mesos_pi::plan::JobPlan;
use mesos_pi::scheduler::Progress;
use tokio::sync::watch;

/// Pids of this process's children that run `program`.
fn children_running(program: &str) -> Vec<u32> {
    let me = std::process::id();
    let mut pids = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // Field 4 (after the parenthesised command name) is the parent pid.
        let after = stat
            .rsplit_once(')')
            .map(|(_, rest)| rest)
            .unwrap_or_default();
        let ppid: u32 = after
            .split_whitespace()
            .nth(1)
            .and_then(|p| p.parse().ok())
            .unwrap_or(0);
        let exe = std::fs::read_link(format!("/proc/{pid}/exe")).unwrap_or_default();
        if ppid == me && exe == std::path::Path::new(program) {
            pids.push(pid);
        }
    }
    pids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_executor_still_yields_exactly_the_requested_samples() {
    let program = env!("CARGO_BIN_EXE_pi");
    // Tasks long enough (~0.1-0.5 s each at kernel speed) that the kill lands mid-job.
    let (samples, tasks, seed) = (1_600_000_000, 8, 5);
    let cfg = JobConfig {
        samples,
        tasks,
        seed,
        agent_cpus: 2,
        executor_path: Some(program.into()),
        ..JobConfig::default()
    };
    let (tx, mut rx) = watch::channel(Progress::default());
    let job = tokio::spawn(async move { run(&cfg, tx).await });

    // Once the first result is in and more tasks are running, kill the executor.
    let killed = tokio::time::timeout(Duration::from_secs(60), async {
        loop {
            let p = *rx.borrow_and_update();
            if p.done >= 1 && p.done < p.tasks {
                let pids = children_running(program);
                if !pids.is_empty() {
                    for pid in &pids {
                        let status = std::process::Command::new("kill")
                            .args(["-KILL", &pid.to_string()])
                            .status()
                            .unwrap();
                        assert!(status.success());
                    }
                    return p;
                }
            }
            if rx.changed().await.is_err() {
                panic!("the job ended before the executor could be killed");
            }
        }
    })
    .await
    .expect("the job made progress");
    assert!(killed.done < killed.tasks);

    let report = tokio::time::timeout(Duration::from_secs(120), job)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let last = *rx.borrow();
    assert!(last.attempts > tasks, "killed tasks were retried: {last:?}");
    assert_eq!(report.samples, samples);
    let plan = JobPlan::new(samples, tasks, seed).unwrap();
    assert_eq!(
        report.pi,
        plan.exact_estimate(),
        "each task counted exactly once"
    );
}
