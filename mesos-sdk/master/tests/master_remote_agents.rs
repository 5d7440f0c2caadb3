//! Remote agents (separate processes in production; here, tasks of this test) register
//! with the master over HTTP, get offered, run tasks, and are removed when they stay
//! away past the re-registration timeout.

mod support;

use std::time::Duration;

use mesos_master::agent::{AgentConfig, remote};
use mesos_master::{LocalCluster, MasterConfig};
use mesos_sdk::codec::Encoding;
use mesos_sdk::resources::Resources;
use mesos_sdk::v1::TaskState;
use support::scheduler::*;
use support::*;
use tokio::sync::oneshot;

#[tokio::test]
async fn a_remote_agent_registers_runs_tasks_and_is_removed_when_gone() {
    let mut config = MasterConfig::default();
    config.allocation_interval = Duration::from_millis(50);
    config.agent_reregister_timeout = Duration::from_millis(300);
    let c = LocalCluster::builder()
        .agents(0)
        .master_config(config)
        .start()
        .await
        .unwrap();
    let work = std::env::temp_dir().join(format!("remote-agent-{}", uuid::Uuid::new_v4()));
    let mut agent_config = AgentConfig::new(
        "",
        Resources::parse("cpus:1;mem:256").unwrap(),
        work.clone(),
    );
    agent_config.kill_grace_period = Duration::from_millis(200);
    let (stop, stopped) = oneshot::channel::<()>();
    let url = c.url();
    let agent = tokio::spawn(async move {
        remote::run_remote_until(agent_config, &url, async {
            let _ = stopped.await;
        })
        .await
    });

    let mut s = subscribe(&c.url(), Encoding::Json, framework_info("remote")).await;
    let offer = s.offers().await.remove(0);
    assert_eq!(c.state().slaves.len(), 1);
    s.launch(&offer, vec![command_task("t", &offer, "sleep 30")])
        .await;
    s.until_state("t", TaskState::TaskRunning).await;

    // The agent goes away for good: its task is killed locally, and once the
    // re-registration timeout passes the master removes it.
    let _ = stop.send(());
    tokio::time::timeout(WAIT, agent)
        .await
        .expect("agent stops")
        .unwrap()
        .expect("agent ran");
    let failure = s
        .expect("FAILURE for the agent", |e| {
            e.failure.as_ref().is_some_and(|f| f.executor_id.is_none())
        })
        .await;
    assert_eq!(failure.failure.unwrap().agent_id.unwrap(), offer.agent_id);
    assert!(c.state().slaves.is_empty());
    let last = c.state();
    assert!(
        last.framework(&s.framework_id.value)
            .unwrap()
            .tasks
            .is_empty()
    );
    c.shutdown().await;
    let _ = std::fs::remove_dir_all(&work);
}
