//! The DRF allocator: shuffled agent visiting order, agent and framework bookkeeping
//! across removals.

use std::time::Instant;

use mesos_master::allocator::{Allocator, AllocatorConfig};
use mesos_sdk::resources::Resources;

fn r(spec: &str) -> Resources {
    Resources::parse(spec).unwrap()
}

fn roles(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| (*s).to_owned()).collect()
}

/// 40 identical agents and one framework: each cycle offers every agent once, in the
/// order the cycle visits them.
fn cluster(seed: u64) -> Allocator {
    let mut alloc = Allocator::with_config(AllocatorConfig::default().seed(seed));
    for i in 0..40 {
        alloc.add_agent(&format!("agent-{i:02}"), r("cpus:1;mem:128"));
    }
    alloc.add_framework("fw", &roles(&["r"]));
    alloc
}

/// Runs one cycle, returns every offer, and returns the agent ids in offer order.
fn cycle(alloc: &mut Allocator, now: Instant) -> Vec<String> {
    let offers = alloc.allocate(now);
    for o in &offers {
        alloc.recover(&o.framework_id, &o.agent_id, &o.resources, None, now);
    }
    offers.into_iter().map(|o| o.agent_id).collect()
}

#[test]
fn a_seed_makes_the_visiting_order_reproducible() {
    let now = Instant::now();
    let (mut a, mut b) = (cluster(42), cluster(42));
    for _ in 0..3 {
        assert_eq!(cycle(&mut a, now), cycle(&mut b, now));
    }
    let other = cycle(&mut cluster(43), now);
    assert_ne!(
        cycle(&mut cluster(42), now),
        other,
        "seeds 42 and 43 differ"
    );
}

#[test]
fn agents_are_visited_in_a_fresh_random_order_each_cycle() {
    let now = Instant::now();
    let mut alloc = cluster(7);
    let first = cycle(&mut alloc, now);
    let second = cycle(&mut alloc, now);
    let mut sorted = first.clone();
    sorted.sort();
    assert_eq!(sorted.len(), 40, "every agent offered once");
    sorted.dedup();
    assert_eq!(sorted.len(), 40, "no agent offered twice");
    assert_ne!(first, sorted, "not the order of agent ids");
    assert_ne!(first, second, "reshuffled between cycles");
    // Over several cycles, more than one agent is offered first.
    let firsts: std::collections::BTreeSet<String> =
        (0..10).map(|_| cycle(&mut alloc, now).remove(0)).collect();
    assert!(firsts.len() > 1, "{firsts:?}");
}

#[test]
fn removing_an_agent_keeps_the_others_addressable() {
    let now = Instant::now();
    let mut alloc = Allocator::with_config(AllocatorConfig::default().seed(1));
    for i in 1..=4 {
        alloc.add_agent(&format!("a{i}"), r(&format!("cpus:{i}")));
    }
    alloc.add_framework("f", &roles(&["r"]));
    assert_eq!(alloc.allocate(now).len(), 4);
    alloc.remove_agent("a2");
    assert!(alloc.available("a2").is_empty());
    assert_eq!(alloc.allocated("f").cpus(), 1.0 + 3.0 + 4.0);
    assert_eq!(alloc.allocated_on("f", "a4").cpus(), 4.0);
    alloc.recover("f", "a4", &r("cpus:4"), None, now);
    assert_eq!(alloc.available("a4"), r("cpus:4"));
    assert_eq!(alloc.available("a3"), Resources::new());
    alloc.add_agent("a2", r("cpus:2"));
    let offers = alloc.allocate(now);
    let mut agents: Vec<&str> = offers.iter().map(|o| o.agent_id.as_str()).collect();
    agents.sort();
    assert_eq!(agents, ["a2", "a4"]);
    assert_eq!(alloc.allocated("f").cpus(), 10.0);
    assert!((alloc.dominant_share("f") - 1.0).abs() < 1e-12);
}

#[test]
fn a_new_framework_does_not_inherit_a_removed_ones_holdings() {
    let now = Instant::now();
    let mut alloc = Allocator::new();
    alloc.add_agent("a1", r("cpus:2;mem:100"));
    alloc.add_agent("a2", r("cpus:2;mem:100"));
    alloc.add_framework("old", &roles(&["r"]));
    assert_eq!(alloc.allocate(now).len(), 2);
    alloc.remove_framework("old");
    alloc.add_framework("new", &roles(&["s"]));
    assert_eq!(alloc.dominant_share("new"), 0.0);
    assert!(alloc.allocated("new").is_empty());
    assert_eq!(alloc.dominant_share("old"), 0.0);
    assert_eq!(alloc.role_share("r"), 0.0);
    let offers = alloc.allocate(now);
    assert_eq!(offers.len(), 2);
    assert!(
        offers
            .iter()
            .all(|o| o.framework_id == "new" && o.role == "s")
    );
    assert!(alloc.allocated("old").is_empty());
    // Recovering for the removed framework is ignored.
    alloc.recover("old", "a1", &r("cpus:2;mem:100"), None, now);
    assert!(alloc.available("a1").is_empty());
    assert!((alloc.role_share("s") - 1.0).abs() < 1e-12);
}

#[test]
fn holdings_in_two_roles_on_one_agent_are_kept_and_recovered_per_role() {
    let now = Instant::now();
    let mut alloc = Allocator::new();
    alloc.add_agent("a1", r("cpus:2;mem(y):10"));
    alloc.add_framework("f", &roles(&["x", "y"]));
    let offers = alloc.allocate(now);
    assert_eq!(offers.len(), 2, "{offers:?}");
    let x = offers.iter().find(|o| o.role == "x").unwrap();
    let y = offers.iter().find(|o| o.role == "y").unwrap();
    assert_eq!(x.resources, r("cpus:2").allocate("x"));
    assert_eq!(y.resources, r("mem(y):10").allocate("y"));
    assert_eq!(
        alloc.allocated_on("f", "a1"),
        r("cpus:2").allocate("x") + r("mem(y):10").allocate("y")
    );
    // Unallocated resources go back to the first role (by name) holding them.
    alloc.recover("f", "a1", &r("cpus:1"), None, now);
    assert_eq!(alloc.available("a1"), r("cpus:1"));
    // Tagged resources go back to their role only.
    alloc.recover("f", "a1", &r("mem(y):4").allocate("x"), None, now);
    assert_eq!(alloc.available("a1"), r("cpus:1"), "x holds no mem(y)");
    alloc.recover("f", "a1", &r("mem(y):4").allocate("y"), None, now);
    assert_eq!(alloc.available("a1"), r("cpus:1;mem(y):4"));
    assert_eq!(
        alloc.allocated("f"),
        r("cpus:1").allocate("x") + r("mem(y):6").allocate("y")
    );
    assert!((alloc.role_share("x") - 1.0 / 2.0).abs() < 1e-12);
    assert!((alloc.role_share("y") - 6.0 / 10.0).abs() < 1e-12);
}
