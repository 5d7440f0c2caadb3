//! DRF end to end: real offers from the embedded master, real `sleep` processes on
//! its agents (one hour long, so none finishes during a test), and the allocation
//! read back from the master's `/state`.

use std::time::Duration;

use drf_demo::demo::{DemoOptions, run_scenario};
use drf_demo::report::Report;
use drf_demo::scenario::Scenario;

fn options() -> DemoOptions {
    DemoOptions {
        sample_interval: Duration::from_millis(50),
        stable_samples: 3,
        // A deadline, not a pace: the run ends as soon as the allocation is steady.
        max_duration: Duration::from_secs(20),
        refuse_seconds: 0.1,
        remainder_refuse_seconds: 0.0,
        offer_delay: Duration::ZERO,
        allocation_interval: Duration::from_millis(50),
    }
}

async fn run(scenario: Scenario) -> Report {
    let outer = options().max_duration + Duration::from_secs(10);
    tokio::time::timeout(outer, run_scenario(&scenario, &options(), |_| {}))
        .await
        .expect("the demo ends within its own deadline")
        .expect("the demo runs")
}

fn tasks_and_share(report: &Report, name: &str) -> (u64, f64) {
    let f = report
        .frameworks
        .iter()
        .find(|f| f.name == name)
        .unwrap_or_else(|| panic!("{name} missing from {:?}", report.frameworks));
    (f.tasks, f.dominant_share)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paper_example_ends_with_three_a_tasks_and_two_b_tasks() {
    let report = run(Scenario::paper()).await;
    assert!(report.steady, "not steady: {:?}", report.frameworks);
    let (a_tasks, a_share) = tasks_and_share(&report, "A");
    let (b_tasks, b_share) = tasks_and_share(&report, "B");
    assert_eq!((a_tasks, b_tasks), (3, 2), "{:?}", report.frameworks);
    assert!((a_share - 2.0 / 3.0).abs() < 1e-6, "A share {a_share}");
    assert!((b_share - 2.0 / 3.0).abs() < 1e-6, "B share {b_share}");
    // Progressive filling: the shares grew in steps, not in one jump.
    assert!(report.timeline.len() > 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_role_with_weight_two_gets_twice_the_dominant_share() {
    let report = run(Scenario::weighted()).await;
    assert!(report.steady, "not steady: {:?}", report.frameworks);
    let (heavy_tasks, heavy) = tasks_and_share(&report, "Heavy");
    let (light_tasks, light) = tasks_and_share(&report, "Light");
    assert_eq!(heavy_tasks + light_tasks, 9, "the agent is full");
    // Within one task of 2:1 (a task is 1/9 of the cluster's CPUs); on 9 slots
    // that leaves only 6 + 3.
    let one_task = 1.0 / 9.0;
    assert!(
        (heavy - 2.0 * light).abs() <= 2.0 * one_task + 1e-6,
        "heavy {heavy} ({heavy_tasks} tasks), light {light} ({light_tasks} tasks)"
    );
    assert!(heavy > light);
}
