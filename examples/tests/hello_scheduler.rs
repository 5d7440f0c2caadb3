//! `hello_scheduler` end to end: its framework, on an embedded master with one agent,
//! runs a real shell task to TASK_FINISHED and ends.

use std::time::Duration;

use examples::{is_reconciliation, state_of};
use mesos_master::LocalCluster;
use mesos_sdk::v1::TaskState;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shell_task_runs_to_finished_and_the_framework_ends() {
    let cluster = LocalCluster::builder().agents(1).start().await.unwrap();
    let result = tokio::time::timeout(
        Duration::from_secs(30),
        examples::hello_scheduler::run(&cluster.url()),
    )
    .await;
    cluster.shutdown().await;
    let updates = result.expect("the example ends within 30 s").unwrap();

    assert!(
        updates
            .iter()
            .all(|u| u.task_id.value == examples::hello_scheduler::TASK_ID),
        "{updates:?}"
    );
    // Each state once from the task itself; the master may also answer the driver's
    // implicit reconciliation with the task's state at that moment.
    let from_task: Vec<TaskState> = updates
        .iter()
        .filter(|u| !is_reconciliation(u))
        .map(state_of)
        .collect();
    assert_eq!(
        from_task,
        [
            TaskState::TaskStarting,
            TaskState::TaskRunning,
            TaskState::TaskFinished
        ],
        "{updates:?}"
    );
    assert_eq!(updates.last().map(state_of), Some(TaskState::TaskFinished));
}
