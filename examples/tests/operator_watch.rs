//! The operator example end to end: on an embedded cluster, it prints the state, then
//! follows a real task's life through the operator event stream.

use std::time::Duration;

use mesos_master::LocalCluster;
use mesos_sdk::operator::OperatorClient;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn it_prints_the_state_then_a_task_life_live() {
    let cluster = LocalCluster::builder().agents(1).start().await.unwrap();
    let client = OperatorClient::new(&cluster.url()).unwrap();
    let url = cluster.url();
    // The framework starts once the watcher has subscribed, so its whole life is seen
    // as events.
    let (subscribed, start) = tokio::sync::oneshot::channel::<()>();
    let mut subscribed = Some(subscribed);
    let framework = tokio::spawn(async move {
        start.await.ok()?;
        examples::hello_scheduler::run(&url).await.ok()
    });
    let mut lines = Vec::new();
    let watched = tokio::time::timeout(
        Duration::from_secs(30),
        examples::operator_watch::watch(&client, |line| {
            let done = line.contains("TASK_FINISHED");
            if line.starts_with("SUBSCRIBED") {
                subscribed.take().map(|s| s.send(()));
            }
            lines.push(line);
            !done
        }),
    )
    .await;
    let ran = framework.await;
    cluster.shutdown().await;
    assert!(matches!(ran, Ok(Some(_))), "the framework ran");
    watched.expect("the task finishes within 30 s").unwrap();
    assert!(lines[0].ends_with("framework(s)"), "{lines:?}");
    assert!(lines.iter().any(|l| l == "1 agent(s)"), "{lines:?}");
    assert!(
        lines.iter().any(|l| l.starts_with("SUBSCRIBED")),
        "{lines:?}"
    );
    let task = examples::hello_scheduler::TASK_ID;
    let life: Vec<&String> = lines
        .iter()
        .filter(|l| l.starts_with("TASK_") && l.contains(task))
        .collect();
    assert!(
        life.first().is_some_and(|l| l.starts_with("TASK_ADDED")),
        "{lines:?}"
    );
    assert!(
        life.last().is_some_and(|l| l.ends_with("TASK_FINISHED")),
        "{lines:?}"
    );
}
