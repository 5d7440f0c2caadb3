//! What the master crate's tests share. Each test binary includes it with `mod support;`
//! and uses the parts it needs, so a helper unused by one binary is not dead code.
//!
//! - this module: the bounded wait, framework and task builders, polling, processes;
//! - [`scheduler`]: a raw HTTP scheduler client ([`scheduler::Subscriber`]);
//! - [`driver`]: a framework run by the SDK's `SchedulerDriver` that records callbacks;
//! - [`agent`]: one agent in a scratch directory, driven as the master would;
//! - [`executor`]: this test binary re-run as an executor, and its event stream;
//! - [`ha`]: masters and agents as real processes around a real ZooKeeper.
#![allow(dead_code)]

pub mod agent;
pub mod driver;
pub mod executor;
pub mod files;
pub mod ha;
pub mod scheduler;

use std::path::{Path, PathBuf};
use std::time::Duration;

use mesos_sdk::v1;

/// Longest wait for any single expected event in these tests.
pub const WAIT: Duration = Duration::from_secs(10);

/// A framework named `name` that runs tasks as the current user.
pub fn framework_info(name: &str) -> v1::FrameworkInfo {
    v1::FrameworkInfo {
        user: mesos_sdk::calls::current_user(),
        name: name.into(),
        ..Default::default()
    }
}

pub fn scalar(name: &str, value: f64) -> v1::Resource {
    v1::Resource {
        name: name.into(),
        r#type: v1::value::Type::Scalar as i32,
        scalar: Some(v1::value::Scalar { value }),
        ..Default::default()
    }
}

/// A shell command task on `offer`'s agent with 0.1 cpus and 16 MB.
pub fn command_task(id: &str, offer: &v1::Offer, shell: &str) -> v1::TaskInfo {
    v1::TaskInfo {
        name: id.into(),
        task_id: v1::TaskId { value: id.into() },
        agent_id: offer.agent_id.clone(),
        resources: vec![scalar("cpus", 0.1), scalar("mem", 16.0)],
        command: Some(v1::CommandInfo {
            value: Some(shell.into()),
            shell: Some(true),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// Polls `cond` (every 10 ms) until it holds; panics after [`WAIT`].
pub async fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while !cond() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what} did not happen within {WAIT:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Every file named `name` under `dir`, recursively.
pub fn find_files(dir: &Path, name: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return found;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(find_files(&path, name));
        } else if path.file_name().is_some_and(|n| n == name) {
            found.push(path);
        }
    }
    found
}

/// Whether a process exists and is not a zombie.
pub fn alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state follows the parenthesised command name.
        Ok(stat) => stat
            .rsplit_once(')')
            .map(|(_, rest)| !rest.trim_start().starts_with(['Z', 'X']))
            .unwrap_or(false),
        Err(_) => false,
    }
}

/// Waits (bounded) for the OS to finish removing a process that was sent SIGKILL; there
/// is no event to wait on for a process that is not our child.
pub async fn wait_gone(pid: i32) {
    let gone = tokio::time::timeout(WAIT, async {
        while alive(pid) {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    assert!(gone.is_ok(), "process {pid} is still alive");
}

/// Waits (bounded) until a task has written a pid file somewhere under `dir` (its
/// sandbox), and reads it. The task runs concurrently and has no way to signal the test
/// otherwise.
pub async fn wait_pid(dir: &Path, file: &str) -> i32 {
    let read = || {
        let path = find_files(dir, file).pop()?;
        let text = std::fs::read_to_string(path).ok()?;
        // Complete only once the newline is written.
        text.strip_suffix('\n')?.parse().ok()
    };
    tokio::time::timeout(WAIT, async {
        loop {
            if let Some(pid) = read() {
                return pid;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("the task never wrote {file}"))
}
