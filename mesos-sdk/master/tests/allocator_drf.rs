//! The DRF allocator: fairness, weights, filters, suppression, framework lifecycle.

use std::time::{Duration, Instant};

use mesos_master::allocator::{Allocation, Allocator};
use mesos_sdk::resources::{Resources, fit};

fn r(spec: &str) -> Resources {
    Resources::parse(spec).unwrap()
}

fn roles(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| (*s).to_owned()).collect()
}

/// Each framework launches at most one task from its offer and returns the rest with
/// the given refuse filter. Runs until two cycles launch nothing; returns task counts.
fn run_one_task_per_offer(
    alloc: &mut Allocator,
    tasks: &[(&str, Resources)],
    refuse: Option<Duration>,
    max_cycles: usize,
) -> Vec<usize> {
    let mut launched = vec![0; tasks.len()];
    let mut idle = 0;
    let now = Instant::now();
    for _ in 0..max_cycles {
        let offers = alloc.allocate(now);
        let mut any = false;
        for Allocation {
            framework_id,
            agent_id,
            resources,
            ..
        } in offers
        {
            let i = tasks
                .iter()
                .position(|(id, _)| *id == framework_id)
                .unwrap();
            let rest = match fit::first_fit(&resources, &tasks[i].1) {
                Some(used) => {
                    launched[i] += 1;
                    any = true;
                    &resources - &used
                }
                None => resources,
            };
            alloc.recover(&framework_id, &agent_id, &rest, refuse, now);
        }
        idle = if any { 0 } else { idle + 1 };
        if idle == 2 {
            return launched;
        }
    }
    panic!("allocation did not settle in {max_cycles} cycles: {launched:?}");
}

#[test]
fn drf_paper_example() {
    let mut alloc = Allocator::new();
    alloc.add_agent("agent", r("cpus:9;mem:18432"));
    alloc.add_framework("A", &roles(&["a"]));
    alloc.add_framework("B", &roles(&["b"]));
    let tasks = [("A", r("cpus:1;mem:4096")), ("B", r("cpus:3;mem:1024"))];
    let launched = run_one_task_per_offer(&mut alloc, &tasks, Some(Duration::ZERO), 50);
    assert_eq!(launched, vec![3, 2]);
    assert!((alloc.dominant_share("A") - 2.0 / 3.0).abs() < 1e-9);
    assert!((alloc.dominant_share("B") - 2.0 / 3.0).abs() < 1e-9);
    assert_eq!(alloc.allocated("A").unallocate(), r("cpus:3;mem:12288"));
    assert_eq!(alloc.allocated("B").unallocate(), r("cpus:6;mem:2048"));
    assert_eq!(alloc.available("agent"), r("mem:4096"));
}

#[test]
fn frameworks_in_one_role_share_by_drf_too() {
    let mut alloc = Allocator::new();
    alloc.add_agent("agent", r("cpus:9;mem:18432"));
    alloc.add_framework("A", &roles(&["*"]));
    alloc.add_framework("B", &roles(&["*"]));
    let tasks = [("A", r("cpus:1;mem:4096")), ("B", r("cpus:3;mem:1024"))];
    let launched = run_one_task_per_offer(&mut alloc, &tasks, None, 50);
    assert_eq!(launched, vec![3, 2]);
    assert!(
        (alloc.role_share("*") - 1.0).abs() < 1e-9,
        "all cpus are in role *"
    );
}

#[test]
fn weight_two_role_gets_twice_the_share() {
    let mut alloc = Allocator::new();
    alloc.add_agent("agent", r("cpus:90;mem:90000"));
    alloc.add_framework("light", &roles(&["light"]));
    alloc.add_framework("heavy", &roles(&["heavy"]));
    alloc.set_weight("heavy", 2.0);
    let task = r("cpus:1;mem:1000");
    let tasks = [("light", task.clone()), ("heavy", task)];
    let launched = run_one_task_per_offer(&mut alloc, &tasks, None, 500);
    assert_eq!(launched.iter().sum::<usize>(), 90);
    let (light, heavy) = (alloc.role_share("light"), alloc.role_share("heavy"));
    let one_task = 1.0 / 90.0;
    assert!(
        (heavy - 2.0 * light).abs() <= 2.0 * one_task,
        "heavy {heavy} light {light}"
    );
    assert_eq!(launched, vec![30, 60]);
}

#[test]
fn decline_filters_hold_until_they_expire() {
    let now = Instant::now();
    let mut alloc = Allocator::new();
    alloc.add_agent("a1", r("cpus:4;mem:4096"));
    alloc.add_framework("f", &roles(&["r"]));
    let offers = alloc.allocate(now);
    assert_eq!(offers.len(), 1);
    let offered = offers[0].resources.clone();
    alloc.recover("f", "a1", &offered, Some(Duration::from_secs(5)), now);
    assert_eq!(
        alloc.dominant_share("f"),
        0.0,
        "declined resources stop counting"
    );
    assert!(alloc.allocate(now + Duration::from_secs(4)).is_empty());
    // A second framework is not affected by f's filter.
    alloc.add_framework("g", &roles(&["r"]));
    let offers = alloc.allocate(now + Duration::from_secs(4));
    assert_eq!(offers.len(), 1);
    assert_eq!(offers[0].framework_id, "g");
    alloc.remove_framework("g");
    let offers = alloc.allocate(now + Duration::from_secs(5));
    assert_eq!(offers.len(), 1, "filter expired");
    assert_eq!(offers[0].framework_id, "f");
}

#[test]
fn decline_filter_lasts_at_least_one_interval_and_more_resources_lift_it() {
    let now = Instant::now();
    let mut alloc = Allocator::new();
    alloc.add_agent("a1", r("cpus:4;mem:4096"));
    alloc.add_framework("f", &roles(&["r"]));
    let offered = alloc.allocate(now).remove(0).resources;
    // Keep one cpu as a running task; decline the rest for 1 ms.
    let task = r("cpus:1").allocate("r");
    alloc.recover(
        "f",
        "a1",
        &(&offered - &task),
        Some(Duration::from_millis(1)),
        now,
    );
    assert!(alloc.allocate(now + Duration::from_millis(500)).is_empty());
    // The task ends: more than was declined is available, so the filter does not apply.
    alloc.recover("f", "a1", &task, None, now + Duration::from_millis(600));
    let offers = alloc.allocate(now + Duration::from_millis(600));
    assert_eq!(offers.len(), 1);
    assert_eq!(
        offers[0].resources.clone().unallocate(),
        r("cpus:4;mem:4096")
    );
}

#[test]
fn suppress_and_revive() {
    let now = Instant::now();
    let mut alloc = Allocator::new();
    alloc.add_agent("a1", r("cpus:1"));
    alloc.add_framework("f", &roles(&["x", "y"]));
    alloc.suppress("f", None);
    assert!(alloc.allocate(now).is_empty());
    alloc.revive("f", Some(&roles(&["y"])));
    let offers = alloc.allocate(now);
    assert_eq!(offers.len(), 1);
    assert_eq!(offers[0].role, "y");
    // Revive clears decline filters.
    alloc.recover(
        "f",
        "a1",
        &offers[0].resources,
        Some(Duration::from_secs(3600)),
        now,
    );
    assert!(alloc.allocate(now).is_empty());
    alloc.revive("f", None);
    assert_eq!(alloc.allocate(now).len(), 1);
}

#[test]
fn deactivated_frameworks_get_nothing_but_keep_allocations() {
    let now = Instant::now();
    let mut alloc = Allocator::new();
    alloc.add_agent("a1", r("cpus:2"));
    alloc.add_agent("a2", r("cpus:2"));
    alloc.add_framework("f", &roles(&["r"]));
    let first = alloc.allocate(now);
    assert_eq!(first.len(), 2);
    alloc.recover("f", "a2", &first[1].resources, None, now);
    alloc.deactivate_framework("f");
    assert!(alloc.allocate(now).is_empty());
    assert_eq!(alloc.allocated("f").cpus(), 2.0);
    assert_eq!(alloc.dominant_share("f"), 0.5);
    alloc.activate_framework("f");
    let again = alloc.allocate(now);
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].agent_id, "a2");
}

#[test]
fn removing_a_framework_frees_its_resources() {
    let now = Instant::now();
    let mut alloc = Allocator::new();
    alloc.add_agent("a1", r("cpus:2;mem:100"));
    alloc.add_framework("f", &roles(&["r"]));
    alloc.add_framework("g", &roles(&["r"]));
    let offers = alloc.allocate(now);
    assert_eq!(offers.len(), 1);
    assert_eq!(offers[0].framework_id, "f");
    assert!(alloc.available("a1").is_empty());
    alloc.remove_framework("f");
    assert_eq!(alloc.available("a1"), r("cpus:2;mem:100"));
    assert_eq!(alloc.role_share("r"), 0.0);
    let offers = alloc.allocate(now);
    assert_eq!(offers[0].framework_id, "g");
}

#[test]
fn reservations_go_to_their_role_only() {
    let now = Instant::now();
    let mut alloc = Allocator::new();
    alloc.add_agent("a1", r("cpus:2;cpus(db):1;mem(db):10"));
    // Role "app" sorts before "db" at equal shares, so it picks first and must leave
    // the db reservation behind.
    alloc.add_framework("web", &roles(&["app"]));
    alloc.add_framework("db", &roles(&["db"]));
    let offers = alloc.allocate(now);
    assert_eq!(offers.len(), 2, "{offers:?}");
    let db = offers.iter().find(|o| o.framework_id == "db").unwrap();
    let web = offers.iter().find(|o| o.framework_id == "web").unwrap();
    assert_eq!(db.resources, r("cpus(db):1;mem(db):10").allocate("db"));
    assert_eq!(web.resources, r("cpus:2").allocate("app"));
    assert!(alloc.available("a1").is_empty());
}

#[test]
fn removing_an_agent_drops_its_allocations() {
    let now = Instant::now();
    let mut alloc = Allocator::new();
    alloc.add_agent("a1", r("cpus:2"));
    alloc.add_agent("a2", r("cpus:2"));
    alloc.add_framework("f", &roles(&["r"]));
    assert_eq!(alloc.allocate(now).len(), 2);
    alloc.remove_agent("a1");
    assert_eq!(alloc.allocated("f").cpus(), 2.0);
    assert_eq!(alloc.dominant_share("f"), 1.0);
    assert!(alloc.available("a1").is_empty());
}

#[test]
fn recover_ignores_what_is_not_held() {
    let now = Instant::now();
    let mut alloc = Allocator::new();
    alloc.add_agent("a1", r("cpus:2"));
    alloc.add_framework("f", &roles(&["r"]));
    alloc.allocate(now);
    alloc.recover("f", "a1", &r("cpus:5"), None, now);
    assert_eq!(alloc.available("a1"), r("cpus:2"));
    alloc.recover("f", "a1", &r("cpus:5"), None, now);
    assert_eq!(alloc.available("a1"), r("cpus:2"), "no double counting");
    alloc.recover("nobody", "a1", &r("cpus:1"), None, now);
    alloc.recover("f", "nowhere", &r("cpus:1"), None, now);
    assert_eq!(alloc.available("a1"), r("cpus:2"));
}

#[test]
fn identical_agents_are_spread_evenly_across_frameworks_and_roles() {
    let now = Instant::now();
    let mut alloc = Allocator::new();
    for i in 0..120 {
        alloc.add_agent(
            &format!("agent-{i:03}"),
            r("cpus:4;mem:1024;ports:[31000-31099]"),
        );
    }
    for j in 0..12 {
        let role = ["a", "b", "c"][j % 3];
        alloc.add_framework(&format!("fw-{j:02}"), &roles(&[role]));
    }
    let offers = alloc.allocate(now);
    assert_eq!(offers.len(), 120, "one offer per agent");
    for j in 0..12 {
        let id = format!("fw-{j:02}");
        assert_eq!(
            offers.iter().filter(|o| o.framework_id == id).count(),
            10,
            "{id}"
        );
        assert!((alloc.dominant_share(&id) - 1.0 / 12.0).abs() < 1e-9);
    }
    for role in ["a", "b", "c"] {
        assert!((alloc.role_share(role) - 1.0 / 3.0).abs() < 1e-9);
    }
    assert!(alloc.allocate(now).is_empty(), "nothing left to offer");
}
