//! What a container uses: Mesos's `ResourceStatistics`, measured from the processes of
//! its process group (posix isolation, as Mesos's `posix/cpu` and `posix/mem` isolators
//! do with the process tree) or read from its cgroup's counters (cgroups isolation).
//!
//! [`MeasureUsage`] is what both implement; [`ProcessGroup`] is the posix one, the
//! cgroup one is in `cgroup` ([`super::Cgroup`]).

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use mesos_sdk::v1;

use super::IsolationError;

/// Something that can say what a container uses now.
pub trait MeasureUsage {
    /// The container's usage now (`timestamp` is set; fields that cannot be measured
    /// are left out).
    ///
    /// # Errors
    /// [`IsolationError`] when the counters cannot be read at all.
    fn usage(&self) -> Result<v1::ResourceStatistics, IsolationError>;
}

/// The processes of one process group (a container's leader is its group's leader),
/// measured from `/proc/<pid>/stat`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcessGroup {
    /// The process group id (the container leader's pid).
    pub pgid: u32,
}

impl MeasureUsage for ProcessGroup {
    fn usage(&self) -> Result<v1::ResourceStatistics, IsolationError> {
        let ticks = clock_ticks();
        let page = page_size();
        let mut totals = ProcTotals::default();
        let entries = std::fs::read_dir("/proc").map_err(IsolationError::Proc)?;
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(pid) = name.to_str().and_then(|n| n.parse::<u32>().ok()) else {
                continue;
            };
            // A process may end between the listing and the read.
            let Ok(text) =
                std::fs::read_to_string(Path::new("/proc").join(pid.to_string()).join("stat"))
            else {
                continue;
            };
            if let Some(stat) = ProcStat::parse(&text)
                && stat.pgrp == self.pgid
            {
                totals.add(&stat);
            }
        }
        let mut statistics = empty_statistics();
        statistics.processes = Some(totals.processes);
        statistics.threads = Some(totals.threads);
        statistics.cpus_user_time_secs = Some(totals.utime as f64 / ticks);
        statistics.cpus_system_time_secs = Some(totals.stime as f64 / ticks);
        statistics.mem_rss_bytes = Some(totals.rss_pages.saturating_mul(page));
        Ok(statistics)
    }
}

/// `ResourceStatistics` with only its timestamp (seconds since the Epoch) set.
pub fn empty_statistics() -> v1::ResourceStatistics {
    v1::ResourceStatistics {
        timestamp: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64()),
        ..Default::default()
    }
}

/// The fields of `/proc/<pid>/stat` that usage needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ProcStat {
    pgrp: u32,
    utime: u64,
    stime: u64,
    threads: u32,
    rss_pages: u64,
}

impl ProcStat {
    /// Parses a `stat` line; the command name (field 2) may hold spaces and
    /// parentheses, so fields are counted from its last `)`.
    fn parse(text: &str) -> Option<ProcStat> {
        let rest = &text[text.rfind(')')? + 1..];
        let fields: Vec<&str> = rest.split_whitespace().collect();
        // `fields[0]` is field 3 (state): field n is `fields[n - 3]`.
        let field = |n: usize| fields.get(n - 3).copied();
        Some(ProcStat {
            pgrp: field(5)?.parse().ok()?,
            utime: field(14)?.parse().ok()?,
            stime: field(15)?.parse().ok()?,
            threads: field(20)?.parse().ok()?,
            rss_pages: field(24)?.parse().ok()?,
        })
    }
}

#[derive(Debug, Default)]
struct ProcTotals {
    processes: u32,
    threads: u32,
    utime: u64,
    stime: u64,
    rss_pages: u64,
}

impl ProcTotals {
    fn add(&mut self, stat: &ProcStat) {
        self.processes += 1;
        self.threads = self.threads.saturating_add(stat.threads);
        self.utime = self.utime.saturating_add(stat.utime);
        self.stime = self.stime.saturating_add(stat.stime);
        self.rss_pages = self.rss_pages.saturating_add(stat.rss_pages);
    }
}

/// Clock ticks per second (`USER_HZ`, the unit of `/proc/<pid>/stat` and
/// `cpuacct.stat` times).
pub(super) fn clock_ticks() -> f64 {
    use nix::unistd::{SysconfVar, sysconf};
    match sysconf(SysconfVar::CLK_TCK) {
        Ok(Some(ticks)) if ticks > 0 => ticks as f64,
        _ => 100.0,
    }
}

fn page_size() -> u64 {
    use nix::unistd::{SysconfVar, sysconf};
    match sysconf(SysconfVar::PAGE_SIZE) {
        Ok(Some(size)) if size > 0 => u64::try_from(size).unwrap_or(4096),
        _ => 4096,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_are_counted_from_the_last_parenthesis() {
        let line = "4242 (a (weird) name) R 1 4240 4240 0 -1 4194304 100 0 0 0 250 75 0 0 20 0 3 0 12345 1000000 512 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n";
        assert_eq!(
            ProcStat::parse(line),
            Some(ProcStat {
                pgrp: 4240,
                utime: 250,
                stime: 75,
                threads: 3,
                rss_pages: 512,
            })
        );
        assert_eq!(ProcStat::parse("12 (short) R 1"), None);
    }

    #[test]
    fn this_process_group_uses_memory_and_has_a_thread() {
        let pgid = nix::unistd::getpgrp().as_raw().unsigned_abs();
        let usage = ProcessGroup { pgid }.usage().unwrap();
        assert!(usage.processes.unwrap() >= 1);
        assert!(usage.threads.unwrap() >= 1);
        assert!(usage.mem_rss_bytes.unwrap() > 0);
        assert!(usage.timestamp > 0.0);
    }
}
