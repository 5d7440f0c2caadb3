//! Agents leaving the cluster: their tasks are lost and schedulers get FAILURE.

mod support;

use mesos_master::LocalCluster;
use mesos_sdk::codec::Encoding;
use mesos_sdk::v1;
use mesos_sdk::v1::TaskState;
use mesos_sdk::v1::scheduler::event;
use support::scheduler::*;
use support::*;

#[tokio::test]
async fn a_removed_agent_loses_its_tasks_and_is_reported_as_failure() {
    let c = LocalCluster::builder()
        .agents(2)
        .resources("cpus:1;mem:256")
        .start()
        .await
        .unwrap();
    let mut s = subscribe(&c.url(), Encoding::Json, framework_info("lost")).await;
    let offer = s.offers().await.remove(0);
    s.launch(&offer, vec![command_task("t", &offer, "sleep 30")])
        .await;
    s.until_state("t", TaskState::TaskRunning).await;
    c.master().remove_agent(&offer.agent_id.value);
    let lost = s.update("t").await;
    assert_eq!(lost.state, TaskState::TaskLost as i32);
    assert_eq!(
        lost.reason,
        Some(v1::task_status::Reason::AgentRemoved as i32)
    );
    let failure = s
        .expect("FAILURE", |e| e.r#type == Some(event::Type::Failure as i32))
        .await;
    let failure = failure.failure.unwrap();
    assert_eq!(failure.agent_id.unwrap(), offer.agent_id);
    assert!(failure.executor_id.is_none());
    let state = c.state();
    assert_eq!(state.slaves.len(), 1);
    assert!(
        state
            .framework(&s.framework_id.value)
            .unwrap()
            .tasks
            .is_empty()
    );
    assert_eq!(c.metrics()["master/tasks_lost"], 1);
    c.shutdown().await;
}
