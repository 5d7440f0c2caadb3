//! Processes an agent leaves behind when it dies without stopping them (`kill -9`):
//! each task or executor process group is recorded in its sandbox while it runs, and an
//! agent starting with the same id and work directory kills what an earlier run left
//! (as Mesos's agent cleans up after a restart without recovery). A record names the
//! process and its start time, so a recycled pid is never killed.

use std::path::{Path, PathBuf};

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

/// The record's file name, in the sandbox.
const RECORD: &str = ".mesos-rs-process";
/// How deep below the agent's directory sandboxes are
/// (`frameworks/<f>/executors/<e>/runs/<c>`).
const MAX_DEPTH: usize = 6;

/// The start time of `pid` (field 22 of `/proc/<pid>/stat`, in clock ticks since boot).
fn start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, rest) = stat.rsplit_once(')')?;
    rest.split_whitespace().nth(19)?.parse().ok()
}

/// Records that `pid` (a process group leader) runs in `sandbox`.
pub(crate) fn record(sandbox: &Path, pid: u32) {
    let Some(started) = start_time(pid) else {
        return;
    };
    if let Err(e) = std::fs::write(sandbox.join(RECORD), format!("{pid} {started}\n")) {
        tracing::warn!(sandbox = %sandbox.display(), error = %e, "cannot record a process for cleanup after an agent crash");
    }
}

/// Forgets the record of `sandbox` (its process group ended).
pub(crate) fn forget(sandbox: &Path) {
    let _ = std::fs::remove_file(sandbox.join(RECORD));
}

/// Kills every process group recorded under `dir` (an earlier run of this agent) that
/// still runs, and removes the records. Returns how many were killed.
pub(crate) fn reap(dir: &Path) -> usize {
    let mut records = Vec::new();
    find(dir, 0, &mut records);
    let mut killed = 0;
    for record in records {
        let text = std::fs::read_to_string(&record).unwrap_or_default();
        let mut fields = text.split_whitespace().map(str::parse::<u64>);
        if let (Some(Ok(pid)), Some(Ok(started))) = (fields.next(), fields.next())
            && let Ok(pid) = u32::try_from(pid)
            && start_time(pid) == Some(started)
            && let Ok(raw) = i32::try_from(pid)
        {
            tracing::warn!(pid, record = %record.display(), "killing a process group left by an earlier run of this agent");
            if killpg(Pid::from_raw(raw), Signal::SIGKILL).is_ok() {
                killed += 1;
            }
        }
        let _ = std::fs::remove_file(&record);
    }
    killed
}

fn find(dir: &Path, depth: usize, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() && depth < MAX_DEPTH {
            find(&path, depth + 1, out);
        } else if kind.is_file() && entry.file_name() == RECORD {
            out.push(path);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::process::CommandExt as _;

    use super::*;

    #[test]
    fn a_recorded_group_is_killed_and_a_stale_record_is_not_trusted() {
        let dir = std::env::temp_dir().join(format!("orphans-{}", std::process::id()));
        let sandbox = dir.join("frameworks/f/executors/e/runs/c");
        std::fs::create_dir_all(&sandbox).unwrap();
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .process_group(0)
            .spawn()
            .unwrap();
        record(&sandbox, child.id());
        // A record whose start time does not match (a recycled pid) is dropped unkilled.
        let other = dir.join("frameworks/f/executors/e/runs/d");
        std::fs::create_dir_all(&other).unwrap();
        std::fs::write(other.join(RECORD), format!("{} 1\n", std::process::id())).unwrap();
        assert_eq!(reap(&dir), 1);
        let status = child.wait().unwrap();
        assert_eq!(
            std::os::unix::process::ExitStatusExt::signal(&status),
            Some(9)
        );
        assert!(!sandbox.join(RECORD).exists() && !other.join(RECORD).exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
