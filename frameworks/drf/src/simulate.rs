//! What DRF predicts for a scenario: progressive filling computed on paper, one task
//! at a time, to compare with what the master actually does.

use crate::scenario::Scenario;

/// One framework's predicted steady state.
#[derive(Debug, Clone, PartialEq)]
pub struct Prediction {
    /// Framework name.
    pub name: String,
    /// Tasks it ends with.
    pub tasks: u64,
    /// Its dominant share then.
    pub dominant_share: f64,
}

/// Progressive filling: repeatedly give one task to the framework with the lowest
/// dominant share divided by its role's weight (ties: fewer tasks, then scenario
/// order) among those that still have a task to launch and room for it on some agent,
/// placing the task on the first agent with room. Stops when no framework can
/// grow. Task durations are ignored (every task is assumed to outlive the run).
///
/// Exact for one agent when every framework has a role of its own. With several
/// agents the master offers whole agents and may place tasks differently; and when
/// frameworks share a role the master first compares roles (their summed shares),
/// which this framework-level model does not.
///
/// ```
/// use drf_demo::scenario::Scenario;
/// use drf_demo::simulate::progressive_filling;
/// let p = progressive_filling(&Scenario::paper());
/// assert_eq!((p[0].tasks, p[1].tasks), (3, 2));
/// ```
pub fn progressive_filling(scenario: &Scenario) -> Vec<Prediction> {
    let agent = scenario.agent_size().unwrap_or_default();
    let total = scenario.cluster_total();
    let mut free = vec![agent; scenario.cluster.agents];
    let mut tasks = vec![0_u64; scenario.frameworks.len()];
    loop {
        let next = scenario
            .frameworks
            .iter()
            .enumerate()
            .filter(|(i, f)| f.max_tasks.is_none_or(|max| tasks[*i] < max))
            .filter(|(_, f)| free.iter().any(|a| f.task_size().fits_in(a)))
            .map(|(i, f)| {
                let held = f.task_size().times(tasks[i] as f64);
                (
                    held.dominant_share(&total) / scenario.weight(&f.role),
                    tasks[i],
                    i,
                )
            })
            .min_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
        let Some((_, _, i)) = next else { break };
        let size = scenario.frameworks[i].task_size();
        if let Some(slot) = free.iter_mut().find(|a| size.fits_in(a)) {
            *slot = slot.saturating_minus(&size);
        }
        tasks[i] += 1;
    }
    scenario
        .frameworks
        .iter()
        .zip(tasks)
        .map(|(f, n)| Prediction {
            name: f.name.clone(),
            tasks: n,
            dominant_share: f.task_size().times(n as f64).dominant_share(&total),
        })
        .collect()
}

/// A one-line summary such as `A: 3 tasks (0.667), B: 2 tasks (0.667)`.
pub fn summary(predictions: &[Prediction]) -> String {
    predictions
        .iter()
        .map(|p| format!("{}: {} tasks ({:.3})", p.name, p.tasks, p.dominant_share))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::share::Amount;

    fn tasks(s: &Scenario) -> Vec<u64> {
        progressive_filling(s).iter().map(|p| p.tasks).collect()
    }

    #[test]
    fn paper_and_weighted_match_the_theory() {
        let p = progressive_filling(&Scenario::paper());
        assert_eq!(tasks(&Scenario::paper()), vec![3, 2]);
        assert!((p[0].dominant_share - 2.0 / 3.0).abs() < 1e-9);
        assert_eq!(tasks(&Scenario::weighted()), vec![6, 3]);
    }

    #[test]
    fn max_tasks_leaves_room_for_others() {
        let mut s = Scenario::paper();
        s.frameworks[0].max_tasks = Some(1);
        // A stops at 1 task (1 CPU); B takes the remaining 8 CPUs in 3-CPU steps.
        assert_eq!(tasks(&s), vec![1, 2]);
        s.frameworks[1].task_cpus = 2.0;
        assert_eq!(tasks(&s), vec![1, 4]);
    }

    #[test]
    fn workshop_shares_all_three_agents() {
        let s = Scenario::workshop();
        let p = progressive_filling(&s);
        // Worked by hand: A1, B1, C1 fill agent 1; C2-C4, A2, C5 agent 2; B2 and
        // C6-C8 agent 3. Then A (2 CPU) and B (2500 MB) fit nowhere, nor does C.
        assert_eq!(tasks(&s), vec![2, 2, 8], "{}", summary(&p));
        let used = s
            .frameworks
            .iter()
            .zip(&p)
            .fold(Amount::default(), |acc, (f, p)| {
                acc.plus(&f.task_size().times(p.tasks as f64))
            });
        assert!(used.fits_in(&s.cluster_total()));
    }
}
