//! Allocation samples over time, and when to call the allocation steady.

use serde::{Deserialize, Serialize};

use crate::scenario::FrameworkSpec;
use crate::state::{ClusterState, FrameworkAllocation};

/// The allocation at one moment, `t` seconds after sampling began.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    /// Seconds since the first sample.
    pub t: f64,
    /// Every registered framework's allocation.
    pub frameworks: Vec<FrameworkAllocation>,
}

/// Decides when an allocation is steady.
///
/// A sample is *settled* when every expected framework is registered and each one
/// either has reached its `max_tasks` or cannot fit another task on any agent. The
/// allocation is *steady* once `stable_samples` consecutive samples are settled with
/// the same task counts. (Frameworks whose tasks keep finishing and being replaced
/// may never be steady; callers bound the wait.)
///
/// ```
/// use drf_demo::timeline::SteadyState;
/// let detector = SteadyState::new(3);
/// assert!(!detector.is_steady());
/// ```
#[derive(Debug, Clone)]
pub struct SteadyState {
    stable_samples: usize,
    run: usize,
    last: Option<Vec<(String, u64)>>,
}

impl SteadyState {
    /// A detector that wants `stable_samples` (at least 1) identical settled samples.
    pub fn new(stable_samples: usize) -> Self {
        Self {
            stable_samples: stable_samples.max(1),
            run: 0,
            last: None,
        }
    }

    /// Feeds one observation; returns whether the allocation is now steady.
    pub fn observe(&mut self, state: &ClusterState, expected: &[FrameworkSpec]) -> bool {
        if !settled(state, expected) {
            self.run = 0;
            self.last = None;
            return false;
        }
        let counts: Vec<(String, u64)> = state
            .frameworks
            .iter()
            .map(|f| (f.name.clone(), f.tasks))
            .collect();
        if self.last.as_ref() == Some(&counts) {
            self.run += 1;
        } else {
            self.run = 1;
            self.last = Some(counts);
        }
        self.is_steady()
    }

    /// Whether the last `stable_samples` observations were settled and identical.
    pub fn is_steady(&self) -> bool {
        self.run >= self.stable_samples
    }
}

/// Whether every expected framework is registered and can grow no further.
pub fn settled(state: &ClusterState, expected: &[FrameworkSpec]) -> bool {
    expected.iter().all(|spec| {
        state.framework(&spec.name).is_some_and(|f| {
            spec.max_tasks.is_some_and(|max| f.tasks >= max)
                || state.saturated_for(&spec.task_size())
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::share::Amount;
    use crate::state::AgentState;

    fn state(a_tasks: u64, free_cpus: f64) -> ClusterState {
        ClusterState {
            total: Amount::new(4.0, 4096.0),
            frameworks: vec![FrameworkAllocation {
                name: "A".into(),
                role: "*".into(),
                tasks: a_tasks,
                cpus: a_tasks as f64,
                mem: 0.0,
                dominant_share: a_tasks as f64 / 4.0,
            }],
            agents: vec![AgentState {
                id: "s".into(),
                total: Amount::new(4.0, 4096.0),
                used: Amount::new(4.0 - free_cpus, 0.0),
            }],
        }
    }

    #[test]
    fn steady_after_identical_saturated_samples() {
        let spec = [FrameworkSpec::new("A", "*", 1.0, 10.0)];
        let mut d = SteadyState::new(2);
        assert!(!d.observe(&state(3, 1.0), &spec), "room for one more task");
        assert!(!d.observe(&state(4, 0.0), &spec), "first saturated sample");
        assert!(d.observe(&state(4, 0.0), &spec));
        assert!(!d.observe(&state(3, 1.0), &spec), "a task finished");
    }

    #[test]
    fn max_tasks_settles_and_missing_frameworks_do_not() {
        let mut spec = [FrameworkSpec::new("A", "*", 1.0, 10.0)];
        spec[0].max_tasks = Some(2);
        let mut d = SteadyState::new(1);
        assert!(d.observe(&state(2, 2.0), &spec));
        let missing = [FrameworkSpec::new("B", "*", 1.0, 10.0)];
        assert!(!settled(&state(4, 0.0), &missing));
    }
}
