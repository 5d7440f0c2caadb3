//! Fitting tasks into offers.

use mesos_sdk::resources::{Resources, fit};
use mesos_sdk::v1;

fn r(spec: &str) -> Resources {
    Resources::parse(spec).unwrap()
}

fn offer(id: &str, res: Resources) -> v1::Offer {
    v1::Offer {
        id: v1::OfferId { value: id.into() },
        framework_id: v1::FrameworkId { value: "f".into() },
        agent_id: v1::AgentId { value: "a".into() },
        hostname: "h".into(),
        resources: res.into_vec(),
        ..Default::default()
    }
}

#[test]
fn first_fit_keeps_offer_roles_and_picks_ports() {
    let available = r("cpus:4;mem:1024;ports:[31000-31001,31005-31010]").allocate("web");
    let taken = fit::first_fit(&available, &r("cpus:1.5;mem:100;ports:3")).unwrap();
    assert_eq!(
        taken,
        r("cpus:1.5;mem:100;ports:[31000-31001,31005-31005]").allocate("web")
    );
    assert!(
        available.contains(&taken),
        "taken resources are usable in a launch"
    );
    // Exact ports must be free.
    assert!(fit::first_fit(&available, &r("ports:[31003-31003]")).is_none());
    assert!(fit::first_fit(&available, &r("ports:[31006-31007]")).is_some());
    assert!(fit::first_fit(&available, &r("cpus:4.001")).is_none());
    assert!(fit::first_fit(&available, &r("gpus:1")).is_none());
}

#[test]
fn first_fit_uses_reserved_resources_first_and_spans_roles() {
    let available = r("cpus:4;cpus(web):1").allocate("web");
    let taken = fit::first_fit(&available, &r("cpus:2")).unwrap();
    assert_eq!(taken, r("cpus(web):1;cpus:1").allocate("web"));
    // A reserved request must match the reservation.
    assert!(fit::first_fit(&available, &r("cpus(web):2").allocate("web")).is_none());
    assert!(fit::first_fit(&available, &r("cpus(web):1")).is_some());
}

#[test]
fn pack_bin_packs_copies_of_a_task() {
    let available = r("cpus:4;mem:1000;ports:[1-5]");
    let tasks = fit::pack(&available, &r("cpus:1;mem:300;ports:1"), 10);
    assert_eq!(tasks.len(), 3, "memory limits to three");
    let ports: Vec<_> = tasks.iter().map(|t| t.ports()).collect();
    assert_eq!(ports, vec![vec![(1, 1)], vec![(2, 2)], vec![(3, 3)]]);
    assert_eq!(fit::pack(&available, &r("cpus:1"), 2).len(), 2);
    assert!(fit::pack(&available, &Resources::new(), 5).is_empty());
}

#[test]
fn assign_places_tasks_first_fit_across_offers() {
    let offers = vec![
        offer("o1", r("cpus:2;mem:512")),
        offer("o2", r("cpus:8;mem:8192")),
    ];
    let tasks = vec![
        r("cpus:1;mem:256"),
        r("cpus:4;mem:1024"),
        r("cpus:1;mem:256"),
        r("cpus:1;mem:256"),
        r("cpus:16"),
    ];
    assert_eq!(
        fit::assign(&offers, &tasks),
        vec![Some(0), Some(1), Some(0), Some(1), None]
    );
    let placed = fit::assign_resources(&offers, &tasks);
    assert_eq!(placed[1].as_ref().unwrap().1, r("cpus:4;mem:1024"));
}
