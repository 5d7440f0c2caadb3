//! `hello_executor` end to end: the scheduler launches a task on a custom executor, which
//! is this test binary started again by the agent (as the example is its own executor),
//! and the executor's reply comes back in the data of TASK_FINISHED.

use std::time::Duration;

use examples::hello_executor::{Echo, GREETING, run};
use examples::{is_reconciliation, state_of};
use mesos_master::LocalCluster;
use mesos_sdk::v1;
use mesos_sdk::v1::TaskState;

/// The executor process: the agent starts this test binary as
/// `<binary> executor_process --exact --ignored`.
#[tokio::test]
#[ignore = "the executor of the hello_executor test; started by the agent"]
async fn executor_process() {
    if let Some(result) = mesos_sdk::executor::run_if_executor(|| Echo).await {
        result.expect("executor");
    }
}

fn this_test_binary_as_executor() -> v1::CommandInfo {
    let me = std::env::current_exe().unwrap().display().to_string();
    v1::CommandInfo {
        shell: Some(false),
        value: Some(me.clone()),
        arguments: ["executor_process", "--exact", "--ignored"]
            .into_iter()
            .fold(vec![me], |mut args, a| {
                args.push(a.to_string());
                args
            }),
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_custom_executor_answers_the_task_with_its_data_reversed() {
    let cluster = LocalCluster::builder().agents(1).start().await.unwrap();
    let result = tokio::time::timeout(
        Duration::from_secs(30),
        run(&cluster.url(), this_test_binary_as_executor()),
    )
    .await;
    cluster.shutdown().await;
    let updates = result.expect("the example ends within 30 s").unwrap();

    let from_task: Vec<TaskState> = updates
        .iter()
        .filter(|u| !is_reconciliation(u))
        .map(state_of)
        .collect();
    assert_eq!(
        from_task,
        [TaskState::TaskRunning, TaskState::TaskFinished],
        "{updates:?}"
    );
    let last = updates.last().unwrap();
    assert_eq!(state_of(last), TaskState::TaskFinished);
    let mut expected = GREETING.to_vec();
    expected.reverse();
    assert_eq!(last.data.as_deref(), Some(&expected[..]));
}
