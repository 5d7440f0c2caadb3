//! The allocator's internal bookkeeping under a random mix of operations: each agent's
//! holdings (one of which may stand for the rest) add up to its total, and the cached
//! scalars and reservation flag match what they summarise.

use std::time::{Duration, Instant};

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use super::quantities::Quantities;
use super::{Allocation, Allocator, AllocatorConfig, has_reservations};
use mesos_sdk::resources::Resources;

fn r(spec: &str) -> Resources {
    Resources::parse(spec).unwrap()
}

const AGENTS: [&str; 4] = [
    "cpus:4;mem:4096;ports:[31000-31009]",
    "cpus:2;mem:2048;cpus(b):2;mem(b):512",
    "cpus:3;mem:1000;disk(a):50",
    "cpus:16;mem:65536;disk:1048576",
];
const ROLES: [&str; 3] = ["a", "b", "c"];

/// The scalars of `resources`, numbered as the book numbers them, as a delta.
fn scalars(alloc: &Allocator, resources: &Resources) -> Vec<(usize, i64)> {
    let mut names = alloc.book.names().clone();
    let mut delta = Vec::new();
    names.scalars(resources, 1, &mut delta);
    let mut q = Quantities::default();
    q.apply(&delta);
    q.delta(&mut delta);
    delta
}

/// Checks every agent's bookkeeping against a recomputation; returns how many agents
/// have a holding standing for the rest next to another holding.
fn check(alloc: &Allocator, step: usize) -> usize {
    let mut shared = 0;
    for agent in &alloc.agents {
        let lazy = agent.held.iter().filter(|h| h.resources.is_none()).count();
        assert!(lazy <= 1, "step {step}: {lazy} holdings stand for the rest");
        if lazy == 1 && agent.held.len() > 1 {
            shared += 1;
        }
        let mut sum = agent.available.clone();
        for h in &agent.held {
            let held = agent.resources_of(h);
            assert!(!held.is_empty(), "step {step}: empty holding");
            sum += &*held;
        }
        assert_eq!(sum, agent.total, "step {step}: agent {}", agent.id);
        let mut cached = Vec::new();
        agent.available_q.delta(&mut cached);
        assert_eq!(
            cached,
            scalars(alloc, &agent.available),
            "step {step}: available scalars of {}",
            agent.id
        );
        assert_eq!(
            agent.reserved,
            has_reservations(&agent.total),
            "step {step}"
        );
    }
    shared
}

#[test]
fn holdings_add_up_and_cached_scalars_stay_exact_under_random_operations() {
    let mut shared = 0;
    for seed in 0..20 {
        let mut rng = SmallRng::seed_from_u64(seed);
        let mut alloc = Allocator::with_config(AllocatorConfig::default().seed(seed));
        let now = Instant::now();
        for i in 0..6 {
            alloc.add_agent(&format!("a{i}"), r(AGENTS[i % AGENTS.len()]));
        }
        let fws = ["f0", "f1", "f2", "f3"];
        for (i, fw) in fws.iter().enumerate() {
            let roles = vec![ROLES[i % 3].to_owned(), ROLES[(i + 1) % 3].to_owned()];
            alloc.add_framework(fw, &roles);
        }
        let mut last: Vec<Allocation> = Vec::new();
        for step in 0..200 {
            match rng.random_range(0..8) {
                0..=2 => last.extend(alloc.allocate(now)),
                3 | 4 => {
                    // Keep a task out of some offers (the agent becomes partly used).
                    for a in std::mem::take(&mut last) {
                        let task = r("cpus:1;mem:100").allocate(&a.role);
                        let back = if rng.random_bool(0.5) {
                            a.resources.checked_sub(&task).unwrap_or_default()
                        } else {
                            a.resources.clone()
                        };
                        alloc.recover(&a.framework_id, &a.agent_id, &back, None, now);
                    }
                }
                5 => {
                    let fw = fws[rng.random_range(0..fws.len())];
                    let agent = format!("a{}", rng.random_range(0..6));
                    let role = ROLES[rng.random_range(0..3)];
                    alloc.add_used(fw, &agent, &r("cpus:1;mem:10").allocate(role));
                }
                6 => {
                    let agent = format!("a{}", rng.random_range(0..6));
                    let _ = alloc.update_available(&agent, &r("cpus:1"), &r("cpus(c):1"));
                    if let Some(a) = last.first() {
                        let from = r("mem:1").allocate(&a.role);
                        let to = r("mem(x):1").allocate(&a.role);
                        if alloc
                            .update_allocation(&a.framework_id, &a.agent_id, &from, &to)
                            .is_ok()
                        {
                            last.remove(0);
                        }
                    }
                }
                _ => {
                    let fw = fws[rng.random_range(0..fws.len())];
                    alloc.recover(
                        fw,
                        &format!("a{}", rng.random_range(0..6)),
                        &alloc.allocated(fw),
                        Some(Duration::from_secs(1)),
                        now,
                    );
                    last.retain(|a| a.framework_id != fw);
                }
            }
            shared += check(&alloc, step);
        }
    }
    assert!(
        shared > 0,
        "the rest was never held next to another holding"
    );
}
