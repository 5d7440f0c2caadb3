//! CPU time of this process and its reaped children, for the load-independent efficiency
//! figure (samples per CPU-second). Wall-clock rates on a shared machine say more about
//! the other tenants than about the framework; CPU time does not.
//!
//! ```
//! use mesos_pi::cputime::CpuTime;
//!
//! let start = CpuTime::now().unwrap();
//! let spent: u64 = (0..1_000_000u64).map(std::hint::black_box).sum();
//! assert!(spent > 0);
//! assert!(CpuTime::now().unwrap().seconds_since(&start) >= 0.0);
//! ```

use nix::sys::resource::{UsageWho, getrusage};
use nix::sys::time::TimeVal;

/// User + system CPU time consumed so far, split into this process and its children.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CpuTime {
    /// This process (all its threads), in seconds.
    pub own: f64,
    /// Children that have exited and been waited for, in seconds.
    pub children: f64,
}

impl CpuTime {
    /// The CPU time so far; `None` if `getrusage` fails (it does not on Linux).
    pub fn now() -> Option<Self> {
        let own = getrusage(UsageWho::RUSAGE_SELF).ok()?;
        let children = getrusage(UsageWho::RUSAGE_CHILDREN).ok()?;
        Some(Self {
            own: seconds(own.user_time()) + seconds(own.system_time()),
            children: seconds(children.user_time()) + seconds(children.system_time()),
        })
    }

    /// Seconds of CPU (self + children) between `earlier` and `self`.
    pub fn seconds_since(&self, earlier: &CpuTime) -> f64 {
        (self.own + self.children - earlier.own - earlier.children).max(0.0)
    }
}

fn seconds(t: TimeVal) -> f64 {
    t.tv_sec() as f64 + t.tv_usec() as f64 * 1e-6
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn busy_work_shows_up_as_cpu_time() {
        // Spin until 20 ms of CPU time are reported; a broken reading never gets there.
        let start = CpuTime::now().unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        let mut x = 0u64;
        let spent = loop {
            for _ in 0..100_000 {
                x = std::hint::black_box(x.wrapping_add(1));
            }
            let spent = CpuTime::now().unwrap().seconds_since(&start);
            if spent >= 0.02 || std::time::Instant::now() > deadline {
                break spent;
            }
        };
        assert!(
            spent >= 0.02,
            "only {spent} s of CPU time after 20 s of spinning"
        );
    }
}
