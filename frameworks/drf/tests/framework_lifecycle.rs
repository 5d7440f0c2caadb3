//! One DRF demo framework on the embedded master: it replaces finished tasks and,
//! with a task limit, stops by itself once its last task has ended.

use std::time::Duration;

use drf_demo::policy::FrameworkConfig;
use drf_demo::scheduler::DrfScheduler;
use drf_demo::share::Amount;
use drf_demo::state::fetch_state;
use mesos_master::LocalCluster;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_limited_framework_runs_its_tasks_to_the_end_and_stops() {
    let cluster = LocalCluster::builder()
        .agents(1)
        .resources("cpus:2;mem:1024")
        .allocation_interval(Duration::from_millis(50))
        .start()
        .await
        .unwrap();
    let mut config = FrameworkConfig::new("Short", "*", Amount::new(1.0, 256.0));
    config.task_duration = Duration::from_millis(100);
    config.max_tasks = Some(4);
    config.refuse_seconds = 0.05;
    let scheduler = DrfScheduler::new(config, Some(Amount::new(2.0, 1024.0)));
    let driver = scheduler.driver(&cluster.url()).unwrap();
    let progress = scheduler.progress();

    // 4 tasks, at most 2 at a time, each sleeping 0.1 s: the driver returns once
    // the fourth has finished.
    tokio::time::timeout(Duration::from_secs(20), driver.run(scheduler))
        .await
        .expect("the framework stops after its last task")
        .expect("the driver ends cleanly");

    let done = progress.borrow().clone();
    assert_eq!(
        (done.launched, done.active, done.finished, done.failed),
        (4, 0, 4, 0),
        "every launched task ran to completion: {done:?}"
    );
    let state = fetch_state(&reqwest::Client::new(), &cluster.url())
        .await
        .unwrap();
    assert!(
        state.frameworks.iter().all(|f| f.tasks == 0),
        "no task left running: {:?}",
        state.frameworks
    );
    cluster.shutdown().await;
}
