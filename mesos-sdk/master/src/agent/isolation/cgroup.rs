//! One container's cgroup: created with its limits, joined by its process before that
//! process execs, watched for memory overruns, and removed (its processes killed) when
//! the container ends.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::Duration;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use mesos_sdk::v1;

use super::IsolationError;
use super::hierarchy::Hierarchy;
use super::limits::{CFS_PERIOD_US, Limits};
use super::usage::MeasureUsage;

/// How long removing a cgroup may wait for its processes to be gone.
const DESTROY_TIMEOUT: Duration = Duration::from_secs(10);
/// Between two looks at a cgroup that is being emptied.
const DESTROY_POLL: Duration = Duration::from_millis(10);

/// A container's cgroup(s): one per v1 controller hierarchy, or one v2 cgroup.
#[derive(Debug, Clone)]
pub struct Cgroup {
    layout: Layout,
}

#[derive(Debug, Clone)]
enum Layout {
    V1 {
        cpu: PathBuf,
        memory: PathBuf,
        /// The `cpuacct` cgroup when that controller is a hierarchy of its own.
        cpuacct: Option<PathBuf>,
    },
    V2 {
        dir: PathBuf,
    },
}

/// A limit a container went over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limitation {
    /// What went over.
    pub kind: LimitationKind,
    /// Mesos's style of message: `Memory limit exceeded: ...`.
    pub message: String,
}

/// The resource of a [`Limitation`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitationKind {
    /// The memory limit (the kernel's OOM killer ended a process of the container).
    Memory,
}

impl Cgroup {
    /// Creates the cgroup `relative` in `hierarchy` (and its parents) and writes
    /// `limits` into it.
    ///
    /// # Errors
    /// [`IsolationError::Cgroup`] naming the file or directory that could not be
    /// written.
    pub fn create(
        hierarchy: &Hierarchy,
        relative: &Path,
        limits: Limits,
    ) -> Result<Cgroup, IsolationError> {
        if let Hierarchy::V2 { root } = hierarchy {
            enable_v2_controllers(root, relative)?;
        }
        let cgroup = Cgroup::at(hierarchy, relative);
        for dir in cgroup.dirs() {
            std::fs::create_dir_all(&dir).map_err(|e| IsolationError::cgroup(&dir, e))?;
        }
        if let Err(e) = cgroup.update(limits) {
            cgroup.remove_dirs();
            return Err(e);
        }
        Ok(cgroup)
    }

    /// The cgroup `relative` in `hierarchy`, whether or not it exists.
    pub fn at(hierarchy: &Hierarchy, relative: &Path) -> Cgroup {
        let layout = match hierarchy {
            Hierarchy::V1 {
                cpu,
                memory,
                cpuacct,
            } => Layout::V1 {
                cpu: cpu.join(relative),
                memory: memory.join(relative),
                cpuacct: cpuacct.as_ref().map(|dir| dir.join(relative)),
            },
            Hierarchy::V2 { root } => Layout::V2 {
                dir: root.join(relative),
            },
        };
        Cgroup { layout }
    }

    /// Writes `limits` into the cgroup (limits left out are not changed).
    ///
    /// # Errors
    /// [`IsolationError::Cgroup`] naming the file that could not be written.
    pub fn update(&self, limits: Limits) -> Result<(), IsolationError> {
        match &self.layout {
            Layout::V1 { cpu, memory, .. } => {
                if let Some(shares) = limits.cpu_shares {
                    write(&cpu.join("cpu.shares"), &shares.to_string())?;
                }
                if let Some(quota) = limits.cfs_quota_us {
                    write(&cpu.join("cpu.cfs_period_us"), &CFS_PERIOD_US.to_string())?;
                    write(&cpu.join("cpu.cfs_quota_us"), &quota.to_string())?;
                }
                if let Some(bytes) = limits.memory_bytes {
                    // The kernel's OOM killer stays on: it ends what goes over.
                    write(&memory.join("memory.oom_control"), "0")?;
                    write(
                        &memory.join("memory.soft_limit_in_bytes"),
                        &bytes.to_string(),
                    )?;
                    write(&memory.join("memory.limit_in_bytes"), &bytes.to_string())?;
                }
            }
            Layout::V2 { dir } => {
                if let Some(weight) = limits.cpu_weight() {
                    write(&dir.join("cpu.weight"), &weight.to_string())?;
                }
                if let Some(quota) = limits.cfs_quota_us {
                    write(&dir.join("cpu.max"), &format!("{quota} {CFS_PERIOD_US}"))?;
                }
                if let Some(bytes) = limits.memory_bytes {
                    write(&dir.join("memory.max"), &bytes.to_string())?;
                }
            }
        }
        Ok(())
    }

    /// The cgroup directories (one per v1 hierarchy, or the v2 one).
    pub fn dirs(&self) -> Vec<PathBuf> {
        match &self.layout {
            Layout::V1 {
                cpu,
                memory,
                cpuacct,
            } => [cpu, memory].into_iter().chain(cpuacct).cloned().collect(),
            Layout::V2 { dir } => vec![dir.clone()],
        }
    }

    /// The `cgroup.procs` files, open for writing: a process joins the cgroup by
    /// writing `0` into each (see `process::spawn`).
    ///
    /// # Errors
    /// [`IsolationError::Cgroup`] naming the file that could not be opened.
    pub fn procs_files(&self) -> Result<Vec<File>, IsolationError> {
        self.dirs()
            .into_iter()
            .map(|dir| {
                let path = dir.join("cgroup.procs");
                File::options()
                    .write(true)
                    .open(&path)
                    .map_err(|e| IsolationError::cgroup(&path, e))
            })
            .collect()
    }

    /// The memory limitation, once the kernel has OOM-killed a process of the
    /// cgroup (v1 `memory.oom_control`, v2 `memory.events`: `oom_kill`).
    pub fn memory_limitation(&self) -> Option<Limitation> {
        let (events, limit, peak) = match &self.layout {
            Layout::V1 { memory, .. } => (
                memory.join("memory.oom_control"),
                memory.join("memory.limit_in_bytes"),
                memory.join("memory.max_usage_in_bytes"),
            ),
            Layout::V2 { dir } => (
                dir.join("memory.events"),
                dir.join("memory.max"),
                dir.join("memory.peak"),
            ),
        };
        let events = std::fs::read_to_string(events).ok()?;
        let kills = counter(&events, "oom_kill").unwrap_or(0);
        if kills == 0 {
            return None;
        }
        let megabytes = |path: &Path| {
            read_u64(path).map_or_else(
                || "unknown".to_owned(),
                |b| format!("{} MB", b / (1024 * 1024)),
            )
        };
        Some(Limitation {
            kind: LimitationKind::Memory,
            message: format!(
                "Memory limit exceeded: limit {}, peak usage {}; the kernel killed {kills} process{} of the container",
                megabytes(&limit),
                megabytes(&peak),
                if kills == 1 { "" } else { "es" }
            ),
        })
    }

    /// Kills every process left in the cgroup, waits (bounded) for them to be gone and
    /// removes the cgroup.
    pub async fn destroy(&self) {
        let deadline = tokio::time::Instant::now() + DESTROY_TIMEOUT;
        while kill_all(&self.dirs()) > 0 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(DESTROY_POLL).await;
        }
        while !self.remove_dirs() && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(DESTROY_POLL).await;
        }
        if self.dirs().iter().any(|d| d.exists()) {
            tracing::warn!(cgroup = ?self.dirs(), "could not remove a container's cgroup");
        }
    }

    /// Removes the cgroup directories; whether none is left.
    fn remove_dirs(&self) -> bool {
        remove_empty(&self.dirs())
    }
}

/// A cgroup's counters: cpu times and throttling, memory usage and limit, processes
/// and threads (see `counters`).
impl MeasureUsage for Cgroup {
    fn usage(&self) -> Result<v1::ResourceStatistics, IsolationError> {
        match &self.layout {
            Layout::V1 {
                cpu,
                memory,
                cpuacct,
            } => super::counters::v1(cpu, cpuacct.as_ref().unwrap_or(cpu), memory),
            Layout::V2 { dir } => super::counters::v2(dir),
        }
    }
}

/// Kills (SIGKILL) every process in the cgroups `dirs`; how many there were.
pub(super) fn kill_all(dirs: &[PathBuf]) -> usize {
    let mut found = 0;
    for dir in dirs {
        for pid in procs(dir) {
            found += 1;
            match kill(Pid::from_raw(pid), Signal::SIGKILL) {
                Ok(()) | Err(nix::errno::Errno::ESRCH) => {}
                Err(e) => tracing::warn!(pid, error = %e, "failed to kill a container's process"),
            }
        }
    }
    found
}

/// Removes the (empty) cgroup directories `dirs`; whether none is left.
pub(super) fn remove_empty(dirs: &[PathBuf]) -> bool {
    let mut gone = true;
    for dir in dirs {
        match std::fs::remove_dir(dir) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                tracing::debug!(cgroup = %dir.display(), error = %e, "cgroup not removed yet");
                gone = false;
            }
        }
    }
    gone
}

/// The pids in `dir/cgroup.procs`.
fn procs(dir: &Path) -> Vec<i32> {
    std::fs::read_to_string(dir.join("cgroup.procs"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect()
}

/// cgroup v2: the controllers are enabled for the children of every cgroup from the
/// root down to the container's parent.
fn enable_v2_controllers(root: &Path, relative: &Path) -> Result<(), IsolationError> {
    let mut dir = root.to_path_buf();
    let parents: Vec<_> = relative
        .parent()
        .into_iter()
        .flat_map(Path::components)
        .collect();
    for step in std::iter::once(None).chain(parents.into_iter().map(Some)) {
        if let Some(step) = step {
            dir.push(step);
            std::fs::create_dir_all(&dir).map_err(|e| IsolationError::cgroup(&dir, e))?;
        }
        write(&dir.join("cgroup.subtree_control"), "+cpu +memory")?;
    }
    Ok(())
}

fn write(path: &Path, value: &str) -> Result<(), IsolationError> {
    std::fs::write(path, value).map_err(|e| IsolationError::cgroup(path, e))
}

fn read_u64(path: &Path) -> Option<u64> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// The value of `name` in a flat-keyed file such as `memory.events`.
fn counter(text: &str, name: &str) -> Option<u64> {
    text.lines().find_map(|line| {
        let (key, value) = line.split_once(' ')?;
        (key == name).then(|| value.trim().parse().ok()).flatten()
    })
}

#[cfg(test)]
mod tests {
    use super::counter;

    #[test]
    fn counters_are_read_by_name() {
        let text = "oom_kill_disable 0\nunder_oom 0\noom_kill 3\n";
        assert_eq!(counter(text, "oom_kill"), Some(3));
        assert_eq!(counter(text, "under_oom"), Some(0));
        assert_eq!(counter(text, "max"), None);
    }
}
