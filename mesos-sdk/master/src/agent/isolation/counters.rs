//! A cgroup's usage counters as Mesos's `ResourceStatistics`: cgroup v1 `cpuacct.stat`,
//! `cpu.stat`, `memory.usage_in_bytes`, `memory.limit_in_bytes` and `memory.stat`
//! (its `total_*` lines), as Mesos's `cgroups/cpu` and `cgroups/mem` isolators read
//! them; cgroup v2 `cpu.stat`, `memory.current`, `memory.max` and `memory.stat`.

use std::path::Path;

use mesos_sdk::v1;

use super::IsolationError;
use super::usage::{clock_ticks, empty_statistics};

const NANOS: f64 = 1e9;
const MICROS: f64 = 1e6;

/// The usage of a v1 container whose cgroups are `cpu`, `cpuacct` (the cpu one when
/// they are co-mounted) and `memory`.
///
/// # Errors
/// [`IsolationError::Cgroup`] when `cpuacct.stat` or `memory.usage_in_bytes` cannot
/// be read (the cgroup is gone).
pub(super) fn v1(
    cpu: &Path,
    cpuacct: &Path,
    memory: &Path,
) -> Result<v1::ResourceStatistics, IsolationError> {
    let mut s = empty_statistics();
    let acct = read(&cpuacct.join("cpuacct.stat"))?;
    let ticks = clock_ticks();
    s.cpus_user_time_secs = value(&acct, "user").map(|t| t as f64 / ticks);
    s.cpus_system_time_secs = value(&acct, "system").map(|t| t as f64 / ticks);
    if let Ok(stat) = read(&cpu.join("cpu.stat")) {
        s.cpus_nr_periods = value(&stat, "nr_periods").map(saturate_u32);
        s.cpus_nr_throttled = value(&stat, "nr_throttled").map(saturate_u32);
        s.cpus_throttled_time_secs = value(&stat, "throttled_time").map(|n| n as f64 / NANOS);
    }
    s.mem_total_bytes = Some(number(&read(&memory.join("memory.usage_in_bytes"))?));
    s.mem_limit_bytes = read_number(&memory.join("memory.limit_in_bytes"));
    s.mem_soft_limit_bytes = read_number(&memory.join("memory.soft_limit_in_bytes"));
    if let Ok(stat) = read(&memory.join("memory.stat")) {
        s.mem_rss_bytes = value(&stat, "total_rss");
        s.mem_anon_bytes = value(&stat, "total_rss");
        s.mem_cache_bytes = value(&stat, "total_cache");
        s.mem_file_bytes = value(&stat, "total_cache");
        s.mem_mapped_file_bytes = value(&stat, "total_mapped_file");
        s.mem_swap_bytes = value(&stat, "total_swap");
        s.mem_unevictable_bytes = value(&stat, "total_unevictable");
    }
    s.processes = count_lines(&memory.join("cgroup.procs"));
    s.threads = count_lines(&memory.join("tasks"));
    Ok(s)
}

/// The usage of a v2 container whose cgroup is `dir`.
///
/// # Errors
/// [`IsolationError::Cgroup`] when `cpu.stat` or `memory.current` cannot be read.
pub(super) fn v2(dir: &Path) -> Result<v1::ResourceStatistics, IsolationError> {
    let mut s = empty_statistics();
    let stat = read(&dir.join("cpu.stat"))?;
    s.cpus_user_time_secs = value(&stat, "user_usec").map(|u| u as f64 / MICROS);
    s.cpus_system_time_secs = value(&stat, "system_usec").map(|u| u as f64 / MICROS);
    s.cpus_nr_periods = value(&stat, "nr_periods").map(saturate_u32);
    s.cpus_nr_throttled = value(&stat, "nr_throttled").map(saturate_u32);
    s.cpus_throttled_time_secs = value(&stat, "throttled_usec").map(|u| u as f64 / MICROS);
    s.mem_total_bytes = Some(number(&read(&dir.join("memory.current"))?));
    // `max` (no limit) is left out.
    s.mem_limit_bytes = read_number(&dir.join("memory.max"));
    if let Ok(stat) = read(&dir.join("memory.stat")) {
        s.mem_rss_bytes = value(&stat, "anon");
        s.mem_anon_bytes = value(&stat, "anon");
        s.mem_cache_bytes = value(&stat, "file");
        s.mem_file_bytes = value(&stat, "file");
        s.mem_mapped_file_bytes = value(&stat, "file_mapped");
        s.mem_unevictable_bytes = value(&stat, "unevictable");
    }
    s.mem_swap_bytes = read_number(&dir.join("memory.swap.current"));
    s.processes = count_lines(&dir.join("cgroup.procs"));
    s.threads = count_lines(&dir.join("cgroup.threads"));
    Ok(s)
}

fn read(path: &Path) -> Result<String, IsolationError> {
    std::fs::read_to_string(path).map_err(|e| IsolationError::cgroup(path, e))
}

fn number(text: &str) -> u64 {
    text.trim().parse().unwrap_or(0)
}

fn read_number(path: &Path) -> Option<u64> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// The value of `key` in a flat-keyed file (`key value` lines).
fn value(text: &str, key: &str) -> Option<u64> {
    text.lines().find_map(|line| {
        let (k, v) = line.split_once(' ')?;
        (k == key).then(|| v.trim().parse().ok()).flatten()
    })
}

fn count_lines(path: &Path) -> Option<u32> {
    let text = std::fs::read_to_string(path).ok()?;
    Some(saturate_u32(text.lines().count() as u64))
}

fn saturate_u32(n: u64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir_with(files: &[(&str, &str)]) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("counters-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        for (name, text) in files {
            std::fs::write(dir.join(name), text).unwrap();
        }
        dir
    }

    #[test]
    fn v1_counters_become_resource_statistics() {
        let dir = dir_with(&[
            ("cpuacct.stat", "user 250\nsystem 50\n"),
            (
                "cpu.stat",
                "nr_periods 10\nnr_throttled 4\nthrottled_time 1500000000\n",
            ),
            ("memory.usage_in_bytes", "4096000\n"),
            ("memory.limit_in_bytes", "100663296\n"),
            (
                "memory.stat",
                "cache 1\nrss 2\ntotal_cache 8192\ntotal_rss 4096\ntotal_mapped_file 0\n",
            ),
            ("cgroup.procs", "1\n2\n"),
            ("tasks", "1\n2\n3\n"),
        ]);
        let s = v1(&dir, &dir, &dir).unwrap();
        let ticks = clock_ticks();
        assert_eq!(s.cpus_user_time_secs, Some(250.0 / ticks));
        assert_eq!(s.cpus_system_time_secs, Some(50.0 / ticks));
        assert_eq!(s.cpus_nr_periods, Some(10));
        assert_eq!(s.cpus_nr_throttled, Some(4));
        assert_eq!(s.cpus_throttled_time_secs, Some(1.5));
        assert_eq!(s.mem_total_bytes, Some(4_096_000));
        assert_eq!(s.mem_limit_bytes, Some(96 * 1024 * 1024));
        assert_eq!(s.mem_rss_bytes, Some(4096));
        assert_eq!(s.mem_cache_bytes, Some(8192));
        assert_eq!((s.processes, s.threads), (Some(2), Some(3)));
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(matches!(
            v1(&dir, &dir, &dir),
            Err(IsolationError::Cgroup { .. })
        ));
    }

    #[test]
    fn v2_counters_become_resource_statistics() {
        let dir = dir_with(&[
            (
                "cpu.stat",
                "usage_usec 3000000\nuser_usec 2000000\nsystem_usec 1000000\nnr_periods 7\nnr_throttled 1\nthrottled_usec 250000\n",
            ),
            ("memory.current", "1048576\n"),
            ("memory.max", "max\n"),
            ("memory.stat", "anon 65536\nfile 4096\nfile_mapped 0\n"),
            ("cgroup.procs", "1\n"),
            ("cgroup.threads", "1\n2\n"),
        ]);
        let s = v2(&dir).unwrap();
        assert_eq!(s.cpus_user_time_secs, Some(2.0));
        assert_eq!(s.cpus_system_time_secs, Some(1.0));
        assert_eq!(s.cpus_throttled_time_secs, Some(0.25));
        assert_eq!(s.mem_total_bytes, Some(1_048_576));
        assert_eq!(s.mem_limit_bytes, None);
        assert_eq!(s.mem_rss_bytes, Some(65536));
        assert_eq!((s.processes, s.threads), (Some(1), Some(2)));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
