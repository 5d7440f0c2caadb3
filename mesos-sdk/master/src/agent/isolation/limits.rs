//! What a container's resources allow it, in the units of the cgroup files (Mesos's
//! rules: 1024 cpu shares per cpu and at least 2, a CFS period of 100 ms and a quota of
//! at least 1 ms, at least 32 MB of memory).

use mesos_sdk::v1;

/// cpu shares per cpu (`cpu.shares`).
pub const CPU_SHARES_PER_CPU: f64 = 1024.0;
/// The fewest cpu shares a container gets.
pub const MIN_CPU_SHARES: u64 = 2;
/// The CFS period, in microseconds (`cpu.cfs_period_us`).
pub const CFS_PERIOD_US: u64 = 100_000;
/// The smallest CFS quota, in microseconds.
pub const MIN_CFS_QUOTA_US: u64 = 1_000;
/// The smallest memory limit, in bytes (32 MB).
pub const MIN_MEMORY_BYTES: u64 = 32 * 1024 * 1024;

/// The allowance the command executor gets on top of its task's resources, as in
/// Mesos: 0.1 cpus and 32 MB.
pub const COMMAND_EXECUTOR_CPUS: f64 = 0.1;
/// See [`COMMAND_EXECUTOR_CPUS`].
pub const COMMAND_EXECUTOR_MEM_MB: f64 = 32.0;

/// The limits of one container.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// `cpu.shares` (v1), when the container has cpus.
    pub cpu_shares: Option<u64>,
    /// The CFS quota per [`CFS_PERIOD_US`], when CFS is enabled and there are cpus.
    pub cfs_quota_us: Option<u64>,
    /// The memory limit in bytes, when the container has memory.
    pub memory_bytes: Option<u64>,
}

impl Limits {
    /// The limits of `cpus` and `mem_mb` (absent: not limited); `enable_cfs` adds a
    /// hard CFS quota to the shares.
    pub fn new(cpus: Option<f64>, mem_mb: Option<f64>, enable_cfs: bool) -> Self {
        let cpus = cpus.filter(|c| c.is_finite() && *c > 0.0);
        let mem_mb = mem_mb.filter(|m| m.is_finite() && *m > 0.0);
        Limits {
            cpu_shares: cpus.map(|c| (saturating_u64(c * CPU_SHARES_PER_CPU)).max(MIN_CPU_SHARES)),
            cfs_quota_us: cpus
                .filter(|_| enable_cfs)
                .map(|c| saturating_u64(c * CFS_PERIOD_US as f64).max(MIN_CFS_QUOTA_US)),
            memory_bytes: mem_mb.map(|m| saturating_u64(m * 1024.0 * 1024.0).max(MIN_MEMORY_BYTES)),
        }
    }

    /// The limits of a container holding `resources` (cpus and mem, summed).
    pub fn of(resources: &[v1::Resource], enable_cfs: bool) -> Self {
        Limits::of_all(resources, enable_cfs)
    }

    /// The limits of a container holding every resource of `resources` (cpus and mem,
    /// summed), read in one pass without collecting them first.
    pub fn of_all<'a>(
        resources: impl IntoIterator<Item = &'a v1::Resource>,
        enable_cfs: bool,
    ) -> Self {
        let (mut cpus, mut mem) = (None, None);
        for resource in resources {
            let Some(value) = resource.scalar.as_ref().map(|s| s.value) else {
                continue;
            };
            match resource.name.as_str() {
                "cpus" => *cpus.get_or_insert(0.0) += value,
                "mem" => *mem.get_or_insert(0.0) += value,
                _ => {}
            }
        }
        Limits::new(cpus, mem, enable_cfs)
    }

    /// The limits of a command task's container: its resources plus the command
    /// executor's allowance.
    pub fn command_task(resources: &[v1::Resource], enable_cfs: bool) -> Self {
        Limits::new(
            Some(scalar(resources, "cpus").unwrap_or(0.0) + COMMAND_EXECUTOR_CPUS),
            Some(scalar(resources, "mem").unwrap_or(0.0) + COMMAND_EXECUTOR_MEM_MB),
            enable_cfs,
        )
    }

    /// `cpu.weight` (cgroup v2, 1..=10000) for the shares, with the usual mapping of
    /// v1's 2..=262144 onto it.
    pub fn cpu_weight(&self) -> Option<u64> {
        self.cpu_shares
            .map(|s| 1 + (s.clamp(2, 262_144) - 2) * 9_999 / 262_142)
    }
}

/// The sum of the scalar resources named `name`, when there is any.
fn scalar(resources: &[v1::Resource], name: &str) -> Option<f64> {
    let values: Vec<f64> = resources
        .iter()
        .filter(|r| r.name == name)
        .filter_map(|r| r.scalar.as_ref().map(|s| s.value))
        .collect();
    (!values.is_empty()).then(|| values.iter().sum())
}

fn saturating_u64(value: f64) -> u64 {
    // `as` saturates and maps NaN to 0.
    value as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    const MB: u64 = 1024 * 1024;

    #[test]
    fn an_executor_and_its_tasks_are_summed_in_one_pass() {
        use mesos_sdk::resources::scalar as r;
        let executor = [r("cpus", 0.1), r("mem", 32.0)];
        let tasks = [vec![r("cpus", 0.5), r("disk", 10.0)], vec![r("mem", 64.0)]];
        let all: Vec<v1::Resource> = executor
            .iter()
            .chain(tasks.iter().flatten())
            .cloned()
            .collect();
        let summed = Limits::of_all(executor.iter().chain(tasks.iter().flatten()), true);
        assert_eq!(summed, Limits::of(&all, true));
        assert_eq!(summed, Limits::new(Some(0.6), Some(96.0), true));
        // No cpus at all: not limited, as before.
        assert_eq!(Limits::of_all(&tasks[1], false).cpu_shares, None);
    }

    #[test]
    fn shares_quota_and_memory_follow_the_resources() {
        let limits = Limits::new(Some(1.5), Some(256.0), true);
        assert_eq!(limits.cpu_shares, Some(1536));
        assert_eq!(limits.cfs_quota_us, Some(150_000));
        assert_eq!(limits.memory_bytes, Some(256 * MB));
        assert_eq!(Limits::new(Some(1.5), None, false).cfs_quota_us, None);
    }

    #[test]
    fn minimums_apply() {
        let limits = Limits::new(Some(0.001), Some(1.0), true);
        assert_eq!(limits.cpu_shares, Some(MIN_CPU_SHARES));
        assert_eq!(limits.cfs_quota_us, Some(MIN_CFS_QUOTA_US));
        assert_eq!(limits.memory_bytes, Some(MIN_MEMORY_BYTES));
    }

    #[test]
    fn missing_or_bad_values_are_not_limited() {
        let limits = Limits::new(None, Some(f64::NAN), true);
        assert_eq!(
            limits,
            Limits {
                cpu_shares: None,
                cfs_quota_us: None,
                memory_bytes: None
            }
        );
    }

    #[test]
    fn a_command_task_gets_the_executor_allowance() {
        let resources = vec![
            mesos_sdk::resources::scalar("cpus", 0.5),
            mesos_sdk::resources::scalar("mem", 64.0),
        ];
        let limits = Limits::command_task(&resources, false);
        assert_eq!(limits.cpu_shares, Some(614));
        assert_eq!(limits.memory_bytes, Some(96 * MB));
    }

    #[test]
    fn cpu_weight_maps_shares() {
        let weight = |shares| {
            Limits {
                cpu_shares: Some(shares),
                cfs_quota_us: None,
                memory_bytes: None,
            }
            .cpu_weight()
        };
        assert_eq!(weight(2), Some(1));
        assert_eq!(weight(1024), Some(39));
        assert_eq!(weight(262_144), Some(10_000));
    }
}
