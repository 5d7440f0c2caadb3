//! Where the cgroup controllers are: cgroup v1 (`/sys/fs/cgroup/cpu` and
//! `/sys/fs/cgroup/memory` mounted as their own hierarchies) or the unified cgroup v2
//! hierarchy (`/sys/fs/cgroup` with `cgroup.controllers`).

use std::path::{Path, PathBuf};

use super::IsolationError;

/// The mount point of the cgroup file systems.
pub const CGROUP_MOUNT: &str = "/sys/fs/cgroup";

/// The hierarchies the agent puts its containers into.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hierarchy {
    /// cgroup v1: the `cpu` and `memory` controllers' hierarchies, each at the agent's
    /// own cgroup in it (containers nest under the agent, keeping its bounds), and the
    /// `cpuacct` one (cpu time accounting) when it is mounted on its own.
    V1 {
        /// `<mount>/cpu/<the agent's cpu cgroup>`.
        cpu: PathBuf,
        /// `<mount>/memory/<the agent's memory cgroup>`.
        memory: PathBuf,
        /// `<mount>/cpuacct/<the agent's cpuacct cgroup>`, when `cpuacct` is a hierarchy
        /// of its own (`None` when it is mounted with `cpu`, or not at all).
        cpuacct: Option<PathBuf>,
    },
    /// cgroup v2: the unified hierarchy's root (containers go under it, as a cgroup
    /// with processes may not have controllers enabled for its children).
    V2 {
        /// The mount point.
        root: PathBuf,
    },
}

impl Hierarchy {
    /// Finds the controllers under `mount` for the process whose `/proc/<pid>/cgroup`
    /// is `self_cgroup`: v1 when both `cpu` and `memory` are mounted there, else v2.
    ///
    /// # Errors
    /// [`IsolationError::Unavailable`] when neither is usable.
    pub fn detect(mount: &Path, self_cgroup: &str) -> Result<Hierarchy, IsolationError> {
        let v1 = |controller: &str, probe: &str| -> Option<PathBuf> {
            let dir = mount.join(controller);
            if !dir.join(probe).is_file() {
                return None;
            }
            let own = own_v1_path(self_cgroup, controller).unwrap_or_default();
            Some(dir.join(own.trim_start_matches('/')))
        };
        if let (Some(cpu), Some(memory)) = (
            v1("cpu", "cpu.shares"),
            v1("memory", "memory.limit_in_bytes"),
        ) {
            // Co-mounted with cpu (`cpu,cpuacct`), its files are in the cpu cgroup.
            let cpuacct = if cpu.join("cpuacct.stat").is_file() {
                None
            } else {
                v1("cpuacct", "cpuacct.stat")
            };
            return Ok(Hierarchy::V1 {
                cpu,
                memory,
                cpuacct,
            });
        }
        let controllers = std::fs::read_to_string(mount.join("cgroup.controllers"))
            .map_err(|e| IsolationError::Unavailable(format!(
                "neither cgroup v1 'cpu' and 'memory' hierarchies under {} nor cgroup v2 ({}/cgroup.controllers: {e})",
                mount.display(),
                mount.display()
            )))?;
        let has = |c: &str| controllers.split_whitespace().any(|x| x == c);
        if !has("cpu") || !has("memory") {
            return Err(IsolationError::Unavailable(format!(
                "the cgroup v2 hierarchy at {} lacks the cpu or memory controller (it has: {})",
                mount.display(),
                controllers.trim()
            )));
        }
        Ok(Hierarchy::V2 {
            root: mount.to_path_buf(),
        })
    }

    /// [`Hierarchy::detect`] for this process on this machine.
    pub fn of_this_process() -> Result<Hierarchy, IsolationError> {
        let own = std::fs::read_to_string("/proc/self/cgroup").unwrap_or_default();
        Hierarchy::detect(Path::new(CGROUP_MOUNT), &own)
    }

    /// The directories that hold the agent's cgroups named `relative` (one per
    /// controller hierarchy).
    pub fn dirs(&self, relative: &Path) -> Vec<PathBuf> {
        match self {
            Hierarchy::V1 {
                cpu,
                memory,
                cpuacct,
            } => std::iter::once(cpu)
                .chain(std::iter::once(memory))
                .chain(cpuacct)
                .map(|dir| dir.join(relative))
                .collect(),
            Hierarchy::V2 { root } => vec![root.join(relative)],
        }
    }
}

/// The agent's own path in the v1 hierarchy of `controller`, from `/proc/self/cgroup`
/// lines such as `4:memory:/some/path` or `2:cpu,cpuacct:/`.
fn own_v1_path(self_cgroup: &str, controller: &str) -> Option<String> {
    self_cgroup.lines().find_map(|line| {
        let mut parts = line.splitn(3, ':');
        let (_, controllers, path) = (parts.next()?, parts.next()?, parts.next()?);
        controllers
            .split(',')
            .any(|c| c == controller)
            .then(|| path.to_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_paths_come_from_the_controller_lines() {
        let text = "4:memory:/process_api/abc\n2:cpu,cpuacct:/\n0::/\n";
        assert_eq!(
            own_v1_path(text, "memory").as_deref(),
            Some("/process_api/abc")
        );
        assert_eq!(own_v1_path(text, "cpu").as_deref(), Some("/"));
        assert_eq!(own_v1_path(text, "pids"), None);
    }

    #[test]
    fn v1_is_preferred_and_v2_detected_otherwise() {
        let dir = std::env::temp_dir().join(format!("hierarchy-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(dir.join("cpu")).unwrap();
        std::fs::create_dir_all(dir.join("memory/a")).unwrap();
        std::fs::write(
            dir.join("cgroup.controllers"),
            "cpuset cpu io memory pids\n",
        )
        .unwrap();
        assert_eq!(
            Hierarchy::detect(&dir, "").unwrap(),
            Hierarchy::V2 { root: dir.clone() }
        );
        std::fs::write(dir.join("cpu/cpu.shares"), "1024").unwrap();
        std::fs::write(dir.join("memory/memory.limit_in_bytes"), "1").unwrap();
        assert_eq!(
            Hierarchy::detect(&dir, "4:memory:/a\n").unwrap(),
            Hierarchy::V1 {
                cpu: dir.join("cpu"),
                memory: dir.join("memory/a"),
                cpuacct: None,
            }
        );
        std::fs::create_dir_all(dir.join("cpuacct/b")).unwrap();
        std::fs::write(dir.join("cpuacct/cpuacct.stat"), "user 1\nsystem 1\n").unwrap();
        assert_eq!(
            Hierarchy::detect(&dir, "4:memory:/a\n2:cpuacct:/b\n").unwrap(),
            Hierarchy::V1 {
                cpu: dir.join("cpu"),
                memory: dir.join("memory/a"),
                cpuacct: Some(dir.join("cpuacct/b")),
            }
        );
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(matches!(
            Hierarchy::detect(&dir, ""),
            Err(IsolationError::Unavailable(_))
        ));
    }
}
