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
use mesos_testkit::{ChildProcess, Scratch};
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

/// `mesos-agent` with a fixed id and work directory, its output in `log`.
fn agent_process(master: &str, work: &std::path::Path, log: &std::path::Path) -> ChildProcess {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_mesos-agent"));
    command
        .args(["--master", master, "--agent-id", "crashing-agent"])
        .args(["--resources", "cpus:1;mem:256", "--hostname", "127.0.0.1"])
        .arg("--work-dir")
        .arg(work);
    ChildProcess::spawn("mesos-agent", command, log)
}

#[tokio::test]
async fn an_agent_restarted_after_kill_9_cleans_up_and_its_tasks_are_lost() {
    let c = LocalCluster::builder().agents(0).start().await.unwrap();
    let scratch = Scratch::new("agent-crash");
    let work = scratch.path().join("work");
    let log = scratch.path().join("agent.log");
    let mut agent = agent_process(&c.url(), &work, &log);

    let mut s = subscribe(&c.url(), Encoding::Json, framework_info("crash")).await;
    let offer = s.offers().await.remove(0);
    s.launch(
        &offer,
        vec![command_task("t", &offer, "echo $$ > pid; exec sleep 600")],
    )
    .await;
    s.until_state("t", TaskState::TaskRunning).await;
    let pid = wait_pid(&work, "pid").await;

    // The agent dies without stopping its task, which keeps running, orphaned.
    agent.kill9();
    assert!(alive(pid), "the task outlives its agent");

    // Restarted with the same id and work directory, the agent kills what its earlier
    // run left, and re-registers without the task: the master declares it lost.
    let mut agent = agent_process(&c.url(), &work, &log);
    let lost = s.update("t").await;
    assert_eq!(lost.state, TaskState::TaskLost as i32, "{lost:?}");
    assert_eq!(
        lost.message.as_deref(),
        Some("Task is unknown to the agent")
    );
    wait_gone(pid).await;
    s.acknowledge(&lost).await;
    assert!(agent.terminate(WAIT), "the agent stops on SIGTERM");
    c.shutdown().await;
}

/// Waits (bounded) until `process` has exited; it has no other way to tell the test.
async fn wait_exited(process: &mut ChildProcess) {
    let exited = tokio::time::timeout(WAIT, async {
        while process.running() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    assert!(
        exited.is_ok(),
        "{} still runs; its log:\n{}",
        process.name(),
        process.log()
    );
}

#[tokio::test]
async fn an_agent_marked_gone_is_shut_down_and_refused_when_it_comes_back() {
    let c = LocalCluster::builder().agents(0).start().await.unwrap();
    let scratch = Scratch::new("agent-gone");
    let work = scratch.path().join("work");
    let mut agent = agent_process(&c.url(), &work, &scratch.path().join("agent.log"));
    let mut s = subscribe(&c.url(), Encoding::Json, framework_info("gone")).await;
    let offer = s.offers().await.remove(0);
    s.launch(&offer, vec![command_task("t", &offer, "sleep 600")])
        .await;
    s.until_state("t", TaskState::TaskRunning).await;

    // The operator marks it gone: its task is gone too, and the agent is shut down.
    let operator = mesos_sdk::operator::OperatorClient::builder(&c.url())
        .build()
        .unwrap();
    operator
        .mark_agent_gone(offer.agent_id.clone())
        .await
        .unwrap();
    let gone = s.update("t").await;
    assert_eq!(gone.state, TaskState::TaskGoneByOperator as i32, "{gone:?}");
    wait_exited(&mut agent).await;

    // Started again with the same id, it is refused for good, as Mesos refuses it.
    let log = scratch.path().join("again.log");
    let mut again = agent_process(&c.url(), &work, &log);
    wait_exited(&mut again).await;
    assert!(
        again.log().contains("has been marked gone"),
        "the refusal is logged: {}",
        again.log()
    );
    assert!(c.state().slaves.is_empty());
    c.shutdown().await;
}
