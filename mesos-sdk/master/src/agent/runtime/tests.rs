//! The event loop driven step by step, for what the executor API cannot make
//! deterministic: an executor whose connection broke.

use std::time::Duration;

use tokio::sync::mpsc;

use super::*;
use mesos_sdk::resources::Resources;
use mesos_sdk::v1::task_status::{Reason, Source};

fn executor() -> v1::ExecutorInfo {
    v1::ExecutorInfo {
        executor_id: v1::ExecutorId { value: "e".into() },
        command: Some(v1::CommandInfo {
            value: Some("exec sleep 60".into()),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn run(id: &str) -> ToAgent {
    ToAgent::RunTask {
        framework: v1::FrameworkInfo {
            user: mesos_sdk::calls::current_user(),
            name: "runtime-test".into(),
            id: Some(v1::FrameworkId { value: "f".into() }),
            ..Default::default()
        },
        task: v1::TaskInfo {
            name: id.into(),
            task_id: v1::TaskId { value: id.into() },
            executor: Some(executor()),
            ..Default::default()
        },
    }
}

fn kill(id: &str) -> ToAgent {
    ToAgent::KillTask {
        framework_id: v1::FrameworkId { value: "f".into() },
        task_id: v1::TaskId { value: id.into() },
        kill_policy: None,
    }
}

fn subscribe() -> v1::executor::Call {
    v1::executor::Call {
        framework_id: v1::FrameworkId { value: "f".into() },
        executor_id: v1::ExecutorId { value: "e".into() },
        r#type: Some(v1::executor::call::Type::Subscribe as i32),
        subscribe: Some(v1::executor::call::Subscribe::default()),
        ..Default::default()
    }
}

/// The events already on an executor stream, as (type, task id of LAUNCH/KILL).
fn drain(rx: &mut mpsc::UnboundedReceiver<Event>) -> Vec<(event::Type, Option<String>)> {
    let mut out = Vec::new();
    while let Ok(e) = rx.try_recv() {
        let task = e
            .launch
            .as_ref()
            .map(|l| l.task.task_id.value.clone())
            .or_else(|| e.kill.as_ref().map(|k| k.task_id.value.clone()));
        out.push((e.r#type(), task));
    }
    out
}

#[tokio::test]
async fn launches_and_kills_for_a_disconnected_executor_wait_for_it_to_subscribe_again() {
    let dir = std::env::temp_dir().join(format!("agent-runtime-{}", uuid::Uuid::new_v4()));
    let mut config = AgentConfig::new("a1", Resources::new(), dir.clone());
    config.kill_grace_period = Duration::from_millis(100);
    config.executor_shutdown_grace_period = Duration::from_millis(100);
    let (events_tx, mut events) = mpsc::unbounded_channel();
    let (internal_tx, mut internal) = mpsc::unbounded_channel();
    let endpoint = SocketAddr::from(([127, 0, 0, 1], 1));
    let mut rt = Runtime::new(
        config,
        v1::AgentInfo::default(),
        endpoint,
        events_tx,
        internal_tx,
    );

    rt.on_master(run("t1"));
    let mut first = rt.on_subscribe(subscribe()).expect("subscribed");
    assert_eq!(
        drain(&mut first),
        [
            (event::Type::Subscribed, None),
            (event::Type::Launch, Some("t1".into()))
        ]
    );
    drop(first); // the executor's connection breaks

    // A launch that cannot be delivered is queued, so a kill is answered by the agent.
    rt.on_master(run("t2"));
    rt.on_master(kill("t2"));
    let (_, FromAgent::StatusUpdate { status, .. }) = events.try_recv().expect("an update") else {
        panic!("expected a status update");
    };
    assert_eq!(status.task_id.value, "t2");
    assert_eq!(status.state, v1::TaskState::TaskKilled as i32);
    assert_eq!(status.source, Some(Source::Agent as i32));
    assert_eq!(status.reason, Some(Reason::TaskKilledDuringLaunch as i32));

    // A kill for a delivered task waits for the executor instead of being lost.
    rt.on_master(kill("t1"));
    assert!(events.try_recv().is_err(), "nothing to report yet");
    let mut second = rt.on_subscribe(subscribe()).expect("subscribed again");
    assert_eq!(
        drain(&mut second),
        [
            (event::Type::Subscribed, None),
            (event::Type::Kill, Some("t1".into()))
        ]
    );

    rt.shutdown_all();
    tokio::time::timeout(Duration::from_secs(10), async {
        while rt.live_processes() > 0 {
            let message = internal.recv().await.expect("runtime channel open");
            rt.on_internal(message);
        }
    })
    .await
    .expect("the executor process ended");
    let _ = std::fs::remove_dir_all(dir);
}
