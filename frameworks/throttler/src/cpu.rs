//! CPU time used by this process and its reaped children (`getrusage`).

use std::time::Duration;

use nix::sys::resource::{UsageWho, getrusage};

/// User + system CPU time of this process plus that of its terminated, waited-for
/// children (with the embedded cluster: the executors). Zero if unavailable.
pub fn process_cpu_time() -> Duration {
    [UsageWho::RUSAGE_SELF, UsageWho::RUSAGE_CHILDREN]
        .into_iter()
        .filter_map(|who| getrusage(who).ok())
        .map(|u| {
            let t = |tv: nix::sys::time::TimeVal| {
                Duration::new(
                    tv.tv_sec().max(0) as u64,
                    (tv.tv_usec().max(0) as u32) * 1000,
                )
            };
            t(u.user_time()) + t(u.system_time())
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_time_grows_with_work() {
        let before = process_cpu_time();
        let wall = std::time::Instant::now();
        let mut x = 0u64;
        while process_cpu_time() == before && wall.elapsed() < Duration::from_secs(5) {
            for i in 0..100_000u64 {
                x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(i));
            }
        }
        std::hint::black_box(x);
        assert!(process_cpu_time() > before, "busy loop used no CPU time?");
    }
}
