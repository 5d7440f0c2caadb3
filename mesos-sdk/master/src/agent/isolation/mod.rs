//! Resource isolation of containers (a command task's process, or a custom executor's
//! process, with everything they start): Mesos's `--isolation`.
//!
//! - [`IsolationKind::Posix`] (the default) enforces nothing.
//! - [`IsolationKind::Cgroups`] gives every container its own cgroup under
//!   `<cgroups_root>/<agent id>/<container id>`, holding its cpu shares (1024 per cpu,
//!   at least 2), optionally a CFS quota ([`IsolationConfig::cgroups_enable_cfs`]), and
//!   its memory limit (at least 32 MB). The process joins its cgroup before it execs.
//!   A container the kernel OOM-kills in is ended and its tasks fail with
//!   `REASON_CONTAINER_LIMITATION_MEMORY`. cgroup v1 is used when the `cpu` and
//!   `memory` hierarchies are mounted under `/sys/fs/cgroup`, cgroup v2 otherwise.
//!   When neither can be used (not root, nothing mounted), the agent logs why and
//!   stays on posix.
//!
//! Both measure what each container uses ([`MeasureUsage`], served on the agent's
//! `/monitor/statistics`): under posix the cpu times, resident memory, processes and
//! threads of the container's process group ([`ProcessGroup`], from `/proc`); under
//! cgroups the cgroup's counters (cpu times and CFS throttling, memory usage, limit
//! and `memory.stat` breakdown, processes and threads).

mod cgroup;
mod counters;
pub mod hierarchy;
pub mod limits;
mod usage;

use std::path::{Path, PathBuf};

pub use cgroup::{Cgroup, Limitation, LimitationKind};
pub use hierarchy::Hierarchy;
pub use limits::Limits;
pub use usage::{MeasureUsage, ProcessGroup, empty_statistics};

use mesos_sdk::v1;

/// Mesos's `--isolation`: what the agent enforces on its containers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum IsolationKind {
    /// Nothing is enforced (Mesos's `posix/cpu,posix/mem`).
    #[default]
    Posix,
    /// cpu and memory limits in a cgroup per container (Mesos's
    /// `cgroups/cpu,cgroups/mem`).
    Cgroups,
}

/// How an agent isolates its containers.
///
/// ```
/// use mesos_master::agent::isolation::{IsolationConfig, IsolationKind};
///
/// let config = IsolationConfig::default();
/// assert_eq!(config.kind, IsolationKind::Posix);
/// assert_eq!(config.cgroups_root, "mesos-rs");
/// assert!(!config.cgroups_enable_cfs);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct IsolationConfig {
    /// posix or cgroups.
    pub kind: IsolationKind,
    /// Mesos's `--cgroups_enable_cfs`: a hard CFS quota of the container's cpus on top
    /// of its shares.
    pub cgroups_enable_cfs: bool,
    /// Mesos's `--cgroups_root`: the cgroup (relative to the agent's own in each v1
    /// hierarchy, to the root in v2) under which each agent keeps its containers.
    pub cgroups_root: String,
}

impl Default for IsolationConfig {
    fn default() -> Self {
        IsolationConfig {
            kind: IsolationKind::Posix,
            cgroups_enable_cfs: false,
            cgroups_root: "mesos-rs".to_owned(),
        }
    }
}

/// Why a container could not be isolated.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IsolationError {
    /// No usable cgroup hierarchy.
    #[error(
        "cgroups are not available: {0} (cgroups isolation needs the cpu and memory controllers mounted under /sys/fs/cgroup and root)"
    )]
    Unavailable(String),
    /// `/proc` could not be read (posix usage).
    #[error("reading /proc: {0}")]
    Proc(#[source] std::io::Error),
    /// A cgroup file or directory could not be read or written.
    #[error("cgroup {path}: {source}")]
    Cgroup {
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

impl IsolationError {
    fn cgroup(path: &Path, source: std::io::Error) -> Self {
        IsolationError::Cgroup {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// Whether cgroups isolation can work here: a hierarchy is found and the agent may
/// create cgroups in it. The error says what is missing.
///
/// # Errors
/// [`IsolationError`] saying what is missing.
pub fn cgroups_available(cgroups_root: &str) -> Result<Hierarchy, IsolationError> {
    let hierarchy = Hierarchy::of_this_process()?;
    for dir in hierarchy.dirs(Path::new(cgroups_root)) {
        std::fs::create_dir_all(&dir).map_err(|e| IsolationError::cgroup(&dir, e))?;
    }
    Ok(hierarchy)
}

/// The agent's isolator: makes each container's cgroup, or nothing under posix.
#[derive(Debug)]
pub(crate) struct Isolator {
    /// The hierarchy, under cgroups isolation.
    hierarchy: Option<Hierarchy>,
    /// `<cgroups_root>/<agent id>`, relative to the hierarchy.
    base: PathBuf,
    enable_cfs: bool,
}

impl Isolator {
    /// The isolator of agent `agent_id`. Under cgroups, what a crashed earlier run of
    /// this agent left in its cgroups is killed and removed; when cgroups cannot be
    /// used the agent says why and stays on posix.
    pub(crate) fn new(config: &IsolationConfig, agent_id: &str) -> Isolator {
        let agent = if agent_id.is_empty() {
            "agent"
        } else {
            agent_id
        };
        let base = Path::new(&config.cgroups_root).join(agent);
        let hierarchy = match config.kind {
            IsolationKind::Posix => None,
            IsolationKind::Cgroups => match cgroups_available(&config.cgroups_root) {
                Ok(hierarchy) => {
                    tracing::info!(agent = %agent_id, ?hierarchy, cfs = config.cgroups_enable_cfs, "cgroups isolation");
                    Some(hierarchy)
                }
                Err(e) => {
                    tracing::error!(agent = %agent_id, error = %e, "cgroups isolation is not possible; staying on posix isolation (nothing is enforced)");
                    None
                }
            },
        };
        let isolator = Isolator {
            hierarchy,
            base,
            enable_cfs: config.cgroups_enable_cfs,
        };
        isolator.clean_up_leftovers();
        isolator
    }

    /// Whether containers get a CFS quota.
    pub(crate) fn enable_cfs(&self) -> bool {
        self.enable_cfs
    }

    /// The cgroup of container `container_id` with `limits`; `None` under posix.
    ///
    /// # Errors
    /// [`IsolationError`] when the cgroup cannot be created.
    pub(crate) fn container(
        &self,
        container_id: &str,
        limits: Limits,
    ) -> Result<Option<Cgroup>, IsolationError> {
        let Some(hierarchy) = &self.hierarchy else {
            return Ok(None);
        };
        Cgroup::create(hierarchy, &self.base.join(container_id), limits).map(Some)
    }

    /// Sets the limits of the running container `container_id` to `limits` (a custom
    /// executor's container grows with the tasks launched on it). Nothing under posix or
    /// when the container has no cgroup (yet, or any more).
    ///
    /// # Errors
    /// [`IsolationError`] when a limit cannot be written.
    /// Whether containers' limits are enforced (cgroups isolation): without it,
    /// [`Isolator::update`] does nothing and callers need not compute limits at all.
    pub(crate) fn enforces_limits(&self) -> bool {
        self.hierarchy.is_some()
    }

    pub(crate) fn update(&self, container_id: &str, limits: Limits) -> Result<(), IsolationError> {
        let Some(hierarchy) = &self.hierarchy else {
            return Ok(());
        };
        let cgroup = Cgroup::at(hierarchy, &self.base.join(container_id));
        if cgroup.dirs().iter().all(|d| d.is_dir()) {
            cgroup.update(limits)?;
        }
        Ok(())
    }

    /// What container `container_id`, whose leader (and process group) is `pid`, uses
    /// now: its cgroup's counters under cgroups isolation, else its process group's.
    ///
    /// # Errors
    /// [`IsolationError`] when neither can be read.
    pub(crate) fn usage(
        &self,
        container_id: &str,
        pid: Option<u32>,
    ) -> Result<v1::ResourceStatistics, IsolationError> {
        if let Some(hierarchy) = &self.hierarchy {
            let cgroup = Cgroup::at(hierarchy, &self.base.join(container_id));
            if cgroup.dirs().iter().all(|d| d.is_dir()) {
                return cgroup.usage();
            }
        }
        match pid {
            Some(pgid) => ProcessGroup { pgid }.usage(),
            // Not started yet (its URIs are being fetched): nothing used.
            None => Ok(empty_statistics()),
        }
    }

    /// Removes the agent's own cgroup (best effort; its containers are gone by then).
    pub(crate) fn shut_down(&self) {
        if let Some(hierarchy) = &self.hierarchy {
            cgroup::remove_empty(&hierarchy.dirs(&self.base));
            if let Some(root) = self.base.parent() {
                // Other agents may still use the root.
                let _ = cgroup::remove_empty(&hierarchy.dirs(root));
            }
        }
    }

    /// Kills and removes the containers an earlier run of this agent left.
    fn clean_up_leftovers(&self) {
        let Some(hierarchy) = &self.hierarchy else {
            return;
        };
        let mut leftovers = Vec::new();
        for dir in hierarchy.dirs(&self.base) {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            leftovers.extend(
                entries
                    .flatten()
                    .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
                    .map(|e| e.path()),
            );
        }
        if leftovers.is_empty() {
            return;
        }
        tracing::info!(
            count = leftovers.len(),
            "removing the cgroups an earlier run of this agent left"
        );
        // Bounded: processes SIGKILLed leave their cgroup quickly.
        for _ in 0..500 {
            if cgroup::kill_all(&leftovers) == 0 && cgroup::remove_empty(&leftovers) {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        tracing::warn!(cgroups = ?leftovers, "could not remove the cgroups an earlier run left");
    }
}
