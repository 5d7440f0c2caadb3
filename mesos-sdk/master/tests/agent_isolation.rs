//! Isolation on real processes and real cgroups: a command task's container gets a
//! cgroup with its cpu shares, CFS quota and memory limit; a task over its memory limit
//! fails with REASON_CONTAINER_LIMITATION_MEMORY; the cgroup is gone when the task ends
//! and leftovers of a crashed run are removed; posix enforces nothing.
//!
//! These tests need root and the cgroup controllers (as on this project's CI); without
//! them they fail and say so.

mod support;

use std::path::{Path, PathBuf};

use mesos_master::agent::isolation::{
    Hierarchy, IsolationConfig, IsolationKind, cgroups_available,
};
use mesos_master::agent::protocol::ToAgent;
use mesos_sdk::v1;
use mesos_sdk::v1::TaskState;
use mesos_sdk::v1::task_status::{Reason, Source};
use support::agent::*;
use support::*;

const MB: u64 = 1024 * 1024;

/// A cgroups configuration with a root of its own (tests run side by side).
fn cgroups(enable_cfs: bool) -> IsolationConfig {
    let mut config = IsolationConfig::default();
    config.kind = IsolationKind::Cgroups;
    config.cgroups_enable_cfs = enable_cfs;
    config.cgroups_root = format!("mesos-rs-test-{}", uuid::Uuid::new_v4());
    config
}

/// The hierarchy, or a failure that says what these tests need.
fn hierarchy(config: &IsolationConfig) -> Hierarchy {
    match cgroups_available(&config.cgroups_root) {
        Ok(hierarchy) => hierarchy,
        Err(e) => panic!(
            "the isolation tests need root and the cgroup cpu and memory controllers \
             (v1 under /sys/fs/cgroup/{{cpu,memory}}, or v2): {e}"
        ),
    }
}

/// The agent's container cgroups (one directory per container in each hierarchy).
fn containers(hierarchy: &Hierarchy, config: &IsolationConfig) -> Vec<PathBuf> {
    let agent = Path::new(&config.cgroups_root).join("agent-1");
    let mut found: Vec<PathBuf> = hierarchy
        .dirs(&agent)
        .into_iter()
        .flat_map(|dir| std::fs::read_dir(dir).into_iter().flatten().flatten())
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| e.path())
        .collect();
    found.sort();
    found
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
        .trim()
        .to_owned()
}

fn task(id: &str, command: &str, cpus: f64, mem: f64) -> v1::TaskInfo {
    let mut task = shell_task(id, command);
    task.resources = vec![scalar("cpus", cpus), scalar("mem", mem)];
    task
}

/// TASK_STARTING then TASK_RUNNING; the pid of the command.
async fn running(h: &mut Harness) -> i32 {
    assert_eq!(state(&h.next_acked().await), TaskState::TaskStarting);
    let status = h.next_acked().await;
    assert_eq!(state(&status), TaskState::TaskRunning, "{status:?}");
    let message = status.message.unwrap_or_default();
    message
        .trim_start_matches("Command running (pid ")
        .trim_end_matches(')')
        .parse()
        .unwrap_or_else(|_| panic!("no pid in '{message}'"))
}

/// A cgroup v1 directory of `controller` among `dirs` (the test machines run v1).
fn v1_dir<'a>(dirs: &'a [PathBuf], hierarchy: &Hierarchy, controller: &str) -> &'a Path {
    let Hierarchy::V1 { cpu, memory, .. } = hierarchy else {
        panic!("these checks read cgroup v1 files; this machine runs cgroup v2");
    };
    let root = if controller == "cpu" { cpu } else { memory };
    dirs.iter()
        .find(|d| d.starts_with(root))
        .unwrap_or_else(|| panic!("no {controller} cgroup among {dirs:?}"))
}

#[tokio::test]
async fn a_task_over_its_memory_limit_fails_with_the_memory_reason() {
    let isolation = cgroups(false);
    let hierarchy = hierarchy(&isolation);
    let config = isolation.clone();
    let mut h = Harness::start_with(move |c| c.isolation = config).await;
    // 32 MB plus the command executor's 32 MB: `tail` keeps all of a line that never
    // ends, so it grows past 64 MB and the kernel kills it.
    h.run_task(task(
        "hog",
        "head -c 400M /dev/zero | tail > /dev/null",
        0.1,
        32.0,
    ));
    running(&mut h).await;
    let failed = h.next_acked().await;
    assert_eq!(state(&failed), TaskState::TaskFailed, "{failed:?}");
    assert_eq!(
        failed.reason,
        Some(Reason::ContainerLimitationMemory as i32),
        "{failed:?}"
    );
    assert_eq!(failed.source, Some(Source::Agent as i32));
    let message = failed.message.unwrap_or_default();
    assert!(
        message.starts_with("Memory limit exceeded: limit 64 MB"),
        "{message}"
    );
    assert!(
        containers(&hierarchy, &isolation).is_empty(),
        "the cgroup is gone"
    );
    h.shutdown().await;
}

#[tokio::test]
async fn a_running_task_has_its_limits_and_its_cgroup_goes_with_it() {
    let isolation = cgroups(true);
    let hierarchy = hierarchy(&isolation);
    let config = isolation.clone();
    let mut h = Harness::start_with(move |c| c.isolation = config).await;
    h.run_task(task("sleeper", "sleep 60", 0.5, 64.0));
    let pid = running(&mut h).await;

    let dirs = containers(&hierarchy, &isolation);
    assert_eq!(
        dirs.len(),
        hierarchy.dirs(Path::new("")).len(),
        "a cpu and a memory cgroup (and a cpuacct one, when mounted on its own): {dirs:?}"
    );
    let cpu = v1_dir(&dirs, &hierarchy, "cpu");
    let memory = v1_dir(&dirs, &hierarchy, "memory");
    // (0.5 + the command executor's 0.1) cpus, (64 + 32) MB.
    assert_eq!(read(&cpu.join("cpu.shares")), "614");
    assert_eq!(read(&cpu.join("cpu.cfs_period_us")), "100000");
    assert_eq!(read(&cpu.join("cpu.cfs_quota_us")), "60000");
    assert_eq!(
        read(&memory.join("memory.limit_in_bytes")),
        (96 * MB).to_string()
    );
    for dir in [cpu, memory] {
        let procs = read(&dir.join("cgroup.procs"));
        assert!(
            procs.lines().any(|p| p == pid.to_string()),
            "the task's process {pid} is in {}: {procs:?}",
            dir.display()
        );
    }

    h.to_agent
        .send(ToAgent::KillTask {
            framework_id: v1::FrameworkId { value: "f1".into() },
            task_id: v1::TaskId {
                value: "sleeper".into(),
            },
            kill_policy: None,
        })
        .unwrap();
    assert_eq!(state(&h.next_acked().await), TaskState::TaskKilled);
    assert!(
        containers(&hierarchy, &isolation).is_empty(),
        "the cgroup is gone"
    );
    h.shutdown().await;
    for dir in hierarchy.dirs(Path::new(&isolation.cgroups_root)) {
        assert!(!dir.exists(), "{} removed with the agent", dir.display());
    }
}

#[tokio::test]
async fn a_cpu_hog_with_a_quota_is_throttled() {
    let isolation = cgroups(true);
    let hierarchy = hierarchy(&isolation);
    let config = isolation.clone();
    let mut h = Harness::start_with(move |c| c.isolation = config).await;
    h.run_task(task("spinner", "while :; do :; done", 0.1, 32.0));
    running(&mut h).await;
    let dirs = containers(&hierarchy, &isolation);
    let stat = v1_dir(&dirs, &hierarchy, "cpu").join("cpu.stat");
    let throttled = || {
        std::fs::read_to_string(&stat)
            .unwrap_or_default()
            .lines()
            .find_map(|l| l.strip_prefix("nr_throttled ")?.trim().parse::<u64>().ok())
            .unwrap_or(0)
    };
    eventually("the CFS quota throttles the hog", || throttled() > 0).await;
    h.to_agent
        .send(ToAgent::KillTask {
            framework_id: v1::FrameworkId { value: "f1".into() },
            task_id: v1::TaskId {
                value: "spinner".into(),
            },
            kill_policy: None,
        })
        .unwrap();
    assert_eq!(state(&h.next_acked().await), TaskState::TaskKilled);
    h.shutdown().await;
}

#[tokio::test]
async fn posix_isolation_enforces_nothing() {
    let isolation = cgroups(false);
    let hierarchy = hierarchy(&isolation);
    let mut h = Harness::start().await; // posix, the default
    h.run_task(task(
        "big",
        "head -c 200M /dev/zero | tail > /dev/null",
        0.1,
        32.0,
    ));
    running(&mut h).await;
    let finished = h.next_acked().await;
    assert_eq!(state(&finished), TaskState::TaskFinished, "{finished:?}");
    h.shutdown().await;
    // No cgroup was made for it (under the default root or any other).
    assert!(containers(&hierarchy, &IsolationConfig::default()).is_empty());
    for dir in hierarchy.dirs(Path::new(&isolation.cgroups_root)) {
        let _ = std::fs::remove_dir(dir);
    }
}

#[tokio::test]
async fn a_restarted_agent_removes_the_cgroups_of_its_crashed_run() {
    let isolation = cgroups(false);
    let hierarchy = hierarchy(&isolation);
    // What a crashed run left: a container cgroup with a process in it.
    let stale = Path::new(&isolation.cgroups_root)
        .join("agent-1")
        .join("stale");
    let dirs = hierarchy.dirs(&stale);
    for dir in &dirs {
        std::fs::create_dir_all(dir).unwrap();
    }
    let mut child = std::process::Command::new("sleep")
        .arg("60")
        .spawn()
        .unwrap();
    for dir in &dirs {
        std::fs::write(dir.join("cgroup.procs"), child.id().to_string()).unwrap();
    }
    let config = isolation.clone();
    let mut h = Harness::start_with(move |c| c.isolation = config).await;
    for dir in &dirs {
        assert!(!dir.exists(), "{} removed on start", dir.display());
    }
    let status = child.wait().unwrap();
    assert!(!status.success(), "the leftover process was killed");
    h.shutdown().await;
}

#[tokio::test]
async fn a_container_whose_child_is_oom_killed_is_ended_while_its_leader_lives() {
    let isolation = cgroups(false);
    let hierarchy = hierarchy(&isolation);
    let config = isolation.clone();
    let mut h = Harness::start_with(move |c| c.isolation = config).await;
    // The shell survives its pipeline's OOM kill: the agent must end the container.
    h.run_task(task(
        "hog",
        "head -c 400M /dev/zero | tail > /dev/null; sleep 60",
        0.1,
        32.0,
    ));
    running(&mut h).await;
    let failed = h.next_acked().await;
    assert_eq!(state(&failed), TaskState::TaskFailed, "{failed:?}");
    assert_eq!(
        failed.reason,
        Some(Reason::ContainerLimitationMemory as i32),
        "{failed:?}"
    );
    assert!(
        containers(&hierarchy, &isolation).is_empty(),
        "the cgroup is gone"
    );
    h.shutdown().await;
}

#[tokio::test]
async fn a_task_run_as_another_user_joins_its_cgroup() {
    let isolation = cgroups(false);
    let hierarchy = hierarchy(&isolation);
    let config = isolation.clone();
    let mut h = Harness::start_with(move |c| c.isolation = config).await;
    let mut sleeper = task("nobody-sleeps", "sleep 60", 0.1, 32.0);
    sleeper.command.as_mut().unwrap().user = Some("nobody".into());
    h.run_task(sleeper);
    let pid = running(&mut h).await;
    let dirs = containers(&hierarchy, &isolation);
    assert!(!dirs.is_empty());
    for dir in &dirs {
        let procs = read(&dir.join("cgroup.procs"));
        assert!(
            procs.lines().any(|p| p == pid.to_string()),
            "{pid} in {}: {procs:?}",
            dir.display()
        );
    }
    h.to_agent
        .send(ToAgent::KillTask {
            framework_id: v1::FrameworkId { value: "f1".into() },
            task_id: v1::TaskId {
                value: "nobody-sleeps".into(),
            },
            kill_policy: None,
        })
        .unwrap();
    assert_eq!(state(&h.next_acked().await), TaskState::TaskKilled);
    h.shutdown().await;
}

/// The cgroup counters of `executor` from `/monitor/statistics`, which must be
/// reported.
async fn cgroup_statistics(h: &Harness, executor: &str) -> serde_json::Value {
    let entry = h
        .executor_statistics(executor)
        .await
        .unwrap_or_else(|| panic!("no statistics for {executor}"));
    entry["statistics"].clone()
}

#[tokio::test]
async fn statistics_read_the_container_cgroup_counters() {
    let isolation = cgroups(true);
    let _ = hierarchy(&isolation);
    let config = isolation.clone();
    let mut h = Harness::start_with(move |c| c.isolation = config).await;
    h.run_task(task("burner", "while :; do :; done", 0.5, 64.0));
    running(&mut h).await;

    let cpu = |s: &serde_json::Value| {
        s["cpus_user_time_secs"].as_f64().unwrap_or(0.0)
            + s["cpus_system_time_secs"].as_f64().unwrap_or(0.0)
    };
    let deadline = tokio::time::Instant::now() + WAIT;
    let mut first = None;
    let s = loop {
        let s = cgroup_statistics(&h, "burner").await;
        match first {
            None if cpu(&s) > 0.0 => first = Some(cpu(&s)),
            Some(f) if cpu(&s) > f && s["cpus_nr_periods"].as_u64() > Some(0) => break s,
            _ => {}
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the cgroup's cpu time and CFS periods did not grow: {s}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    // Read from the cgroup: its memory limit, usage and processes.
    assert_eq!(s["mem_limit_bytes"].as_u64(), Some(96 * MB), "{s}");
    assert!(s["mem_total_bytes"].as_u64().unwrap_or(0) > 0, "{s}");
    assert!(s["processes"].as_u64().unwrap_or(0) >= 1, "{s}");
    assert!(s.get("cpus_nr_throttled").is_some(), "{s}");
    // CFS is on: the cpus are a hard limit too.
    assert!(
        (s["cpus_limit"].as_f64().unwrap_or(0.0) - 0.6).abs() < 1e-9,
        "{s}"
    );

    h.to_agent
        .send(ToAgent::KillTask {
            framework_id: v1::FrameworkId { value: "f1".into() },
            task_id: v1::TaskId {
                value: "burner".into(),
            },
            kill_policy: None,
        })
        .unwrap();
    assert_eq!(state(&h.next_acked().await), TaskState::TaskKilled);
    h.shutdown().await;
}
