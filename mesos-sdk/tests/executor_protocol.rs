//! The executor runtime against a scripted agent: status updates, resending
//! unacknowledged work after an agent restart, and losing the agent.

mod support;

use std::collections::HashMap;

use bytes::Bytes;
use mesos_sdk::codec::Encoding;
use mesos_sdk::executor::{
    Executor, ExecutorClient, ExecutorConfig, ExecutorDriver, ExecutorError,
};
use mesos_sdk::v1;
use mesos_sdk::v1::executor::{Call, Event, call, event};
use support::{Recorded, Reply, ScriptedServer, WAIT};
use tokio::sync::mpsc;

fn config(agent: &ScriptedServer, checkpoint: bool, recovery: &str) -> ExecutorConfig {
    let env: HashMap<&str, String> = [
        ("MESOS_FRAMEWORK_ID", "fw-1".to_string()),
        ("MESOS_EXECUTOR_ID", "exec-1".into()),
        ("MESOS_AGENT_ENDPOINT", agent.addr.to_string()),
        ("MESOS_DIRECTORY", "/tmp".into()),
        (
            "MESOS_CHECKPOINT",
            if checkpoint { "1" } else { "0" }.into(),
        ),
        ("MESOS_RECOVERY_TIMEOUT", recovery.into()),
        ("MESOS_SUBSCRIPTION_BACKOFF_MAX", "20ms".into()),
        ("MESOS_EXECUTOR_AUTHENTICATION_TOKEN", "secret-token".into()),
    ]
    .into_iter()
    .collect();
    ExecutorConfig::from_vars(|k| env.get(k).cloned()).unwrap()
}

/// SUBSCRIBE opens a stream; everything else is accepted.
fn agent_script() -> impl FnMut(&Recorded) -> Reply + Send + 'static {
    |r| {
        if r.decode::<Call>().r#type == Some(call::Type::Subscribe as i32) {
            Reply::Stream { headers: vec![] }
        } else {
            Reply::accepted()
        }
    }
}

fn subscribed() -> Event {
    Event {
        r#type: Some(event::Type::Subscribed as i32),
        subscribed: Some(event::Subscribed::default()),
        ..Default::default()
    }
}

fn launch(task: &str) -> Event {
    Event {
        r#type: Some(event::Type::Launch as i32),
        launch: Some(event::Launch {
            task: v1::TaskInfo {
                name: task.into(),
                task_id: v1::TaskId { value: task.into() },
                agent_id: v1::AgentId {
                    value: "agent-1".into(),
                },
                ..Default::default()
            },
        }),
        ..Default::default()
    }
}

fn acknowledged(task: &str, uuid: Bytes) -> Event {
    Event {
        r#type: Some(event::Type::Acknowledged as i32),
        acknowledged: Some(event::Acknowledged {
            task_id: v1::TaskId { value: task.into() },
            uuid,
        }),
        ..Default::default()
    }
}

fn shutdown() -> Event {
    Event {
        r#type: Some(event::Type::Shutdown as i32),
        ..Default::default()
    }
}

/// Reports what happened; on launch, tries TASK_STAGING (refused) then TASK_RUNNING.
struct Runner {
    seen: mpsc::UnboundedSender<String>,
}

#[async_trait::async_trait]
impl Executor for Runner {
    async fn subscribed(&mut self, _c: &ExecutorClient, _s: event::Subscribed) {
        let _ = self.seen.send("subscribed".into());
    }
    async fn launch(&mut self, client: &ExecutorClient, task: v1::TaskInfo) {
        let staging = client
            .send_status(task.task_id.clone(), v1::TaskState::TaskStaging, None, None)
            .await;
        if let Err(ExecutorError::InvalidUpdate(_)) = staging {
            let _ = self.seen.send("staging refused".into());
        }
        let running = client
            .send_status(
                task.task_id,
                v1::TaskState::TaskRunning,
                None,
                Some("up".into()),
            )
            .await;
        let _ = self.seen.send(format!("running sent: {}", running.is_ok()));
    }
    async fn acknowledged(&mut self, _c: &ExecutorClient, task_id: v1::TaskId, _uuid: Bytes) {
        let _ = self.seen.send(format!("acknowledged {}", task_id.value));
    }
    async fn shutdown(&mut self, _c: &ExecutorClient) {
        let _ = self.seen.send("shutdown".into());
    }
}

async fn expect(rx: &mut mpsc::UnboundedReceiver<String>, want: &str) {
    loop {
        let got = tokio::time::timeout(WAIT, rx.recv())
            .await
            .unwrap_or_else(|_| panic!("timed out waiting for {want:?}"))
            .expect("executor gone");
        if got == want {
            return;
        }
    }
}

#[tokio::test]
async fn resends_unacknowledged_tasks_and_updates_after_the_agent_restarts() {
    let mut agent = ScriptedServer::start(agent_script()).await;
    let (seen, mut rx) = mpsc::unbounded_channel();
    let driver = ExecutorDriver::new(config(&agent, true, "10secs"));
    let run = tokio::spawn(driver.run(Runner { seen }));

    let first = agent.next_stream().await;
    assert_eq!(first.request.path, "/api/v1/executor");
    assert_eq!(
        first.request.header("authorization").as_deref(),
        Some("Bearer secret-token")
    );
    let sub = first.request.decode::<Call>();
    assert_eq!(
        (
            sub.framework_id.value.as_str(),
            sub.executor_id.value.as_str()
        ),
        ("fw-1", "exec-1")
    );
    let s = sub.subscribe.unwrap();
    assert!(s.unacknowledged_tasks.is_empty() && s.unacknowledged_updates.is_empty());
    first.send(Encoding::Protobuf, &subscribed());
    first.send(Encoding::Protobuf, &launch("t1"));
    expect(&mut rx, "staging refused").await;

    let update = agent
        .next_matching(|r| r.decode::<Call>().r#type == Some(call::Type::Update as i32))
        .await;
    assert!(update.header("mesos-stream-id").is_none());
    let status = update.decode::<Call>().update.unwrap().status;
    assert_eq!(status.state, v1::TaskState::TaskRunning as i32);
    assert_eq!(
        status.source,
        Some(v1::task_status::Source::Executor as i32)
    );
    assert_eq!(status.executor_id.as_ref().unwrap().value, "exec-1");
    assert!(status.timestamp.unwrap() > 1.0e9);
    let uuid = status.uuid.clone().unwrap();
    assert_eq!(uuid.len(), 16);
    expect(&mut rx, "running sent: true").await;

    // The agent restarts: the stream drops before it acknowledged anything.
    drop(first);
    let second = agent.next_stream().await;
    let s = second.request.decode::<Call>().subscribe.unwrap();
    assert_eq!(s.unacknowledged_tasks.len(), 1);
    assert_eq!(s.unacknowledged_tasks[0].task_id.value, "t1");
    assert_eq!(
        s.unacknowledged_tasks[0],
        launch("t1").launch.unwrap().task,
        "the task exactly as launched"
    );
    assert_eq!(s.unacknowledged_updates.len(), 1);
    assert_eq!(s.unacknowledged_updates[0].status, status);
    second.send(Encoding::Protobuf, &subscribed());
    second.send(Encoding::Protobuf, &acknowledged("t1", uuid));
    expect(&mut rx, "acknowledged t1").await;

    // Restarts again: nothing is left to resend.
    drop(second);
    let third = agent.next_stream().await;
    let s = third.request.decode::<Call>().subscribe.unwrap();
    assert!(s.unacknowledged_tasks.is_empty() && s.unacknowledged_updates.is_empty());
    third.send(Encoding::Protobuf, &subscribed());
    third.send(Encoding::Protobuf, &shutdown());
    expect(&mut rx, "shutdown").await;
    tokio::time::timeout(WAIT, run)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn without_checkpointing_losing_the_agent_ends_the_executor() {
    let mut agent = ScriptedServer::start(agent_script()).await;
    let (seen, mut rx) = mpsc::unbounded_channel();
    let run =
        tokio::spawn(ExecutorDriver::new(config(&agent, false, "10secs")).run(Runner { seen }));
    let stream = agent.next_stream().await;
    stream.send(Encoding::Protobuf, &subscribed());
    expect(&mut rx, "subscribed").await;
    drop(stream);
    let err = tokio::time::timeout(WAIT, run)
        .await
        .unwrap()
        .unwrap()
        .unwrap_err();
    assert!(matches!(err, ExecutorError::Disconnected(_)), "{err}");
}

#[tokio::test]
async fn gives_up_when_the_agent_does_not_return_within_the_recovery_timeout() {
    let mut first = true;
    let mut agent = ScriptedServer::start(move |_| {
        if std::mem::take(&mut first) {
            Reply::Stream { headers: vec![] }
        } else {
            Reply::status(503, "Agent has not finished recovery")
        }
    })
    .await;
    let (seen, mut rx) = mpsc::unbounded_channel();
    let run = tokio::spawn(ExecutorDriver::new(config(&agent, true, "200ms")).run(Runner { seen }));
    let stream = agent.next_stream().await;
    stream.send(Encoding::Protobuf, &subscribed());
    expect(&mut rx, "subscribed").await;
    drop(stream);
    let err = tokio::time::timeout(WAIT, run)
        .await
        .unwrap()
        .unwrap()
        .unwrap_err();
    assert!(
        matches!(err, ExecutorError::RecoveryTimeout(d) if d.as_millis() == 200),
        "{err}"
    );
    // It did retry in between: the first SUBSCRIBE, then at least one more.
    agent.next_request().await;
    agent.next_request().await;
}

#[tokio::test]
async fn a_refused_subscription_is_reported_with_the_agents_message() {
    let agent = ScriptedServer::start(|_| Reply::status(401, "invalid token")).await;
    let (seen, _rx) = mpsc::unbounded_channel();
    let err = tokio::time::timeout(
        WAIT,
        ExecutorDriver::new(config(&agent, true, "10secs")).run(Runner { seen }),
    )
    .await
    .unwrap()
    .unwrap_err();
    let api = err.api().expect("the agent's answer");
    assert_eq!((api.status, api.message.as_str()), (401, "invalid token"));
}

/// Stops itself from `subscribed`.
struct Stopper;

#[async_trait::async_trait]
impl Executor for Stopper {
    async fn subscribed(&mut self, client: &ExecutorClient, _s: event::Subscribed) {
        client.stop();
    }
}

#[tokio::test]
async fn stop_ends_the_run_cleanly() {
    let mut agent = ScriptedServer::start(agent_script()).await;
    let run = tokio::spawn(ExecutorDriver::new(config(&agent, true, "10secs")).run(Stopper));
    let stream = agent.next_stream().await;
    stream.send(Encoding::Protobuf, &subscribed());
    tokio::time::timeout(WAIT, run)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
}

fn message(data: &str) -> Event {
    Event {
        r#type: Some(event::Type::Message as i32),
        message: Some(event::Message {
            data: Bytes::copy_from_slice(data.as_bytes()),
        }),
        ..Default::default()
    }
}

/// Reports subscriptions and messages.
struct Listener {
    seen: mpsc::UnboundedSender<String>,
}

#[async_trait::async_trait]
impl Executor for Listener {
    async fn subscribed(&mut self, _c: &ExecutorClient, _s: event::Subscribed) {
        let _ = self.seen.send("subscribed".into());
    }
    async fn message(&mut self, _c: &ExecutorClient, data: Bytes) {
        let _ = self
            .seen
            .send(format!("message {}", String::from_utf8_lossy(&data)));
    }
}

#[tokio::test]
async fn a_silent_agent_is_lost_after_the_missed_heartbeats_and_any_event_resets_the_watchdog() {
    use std::time::{Duration, Instant};
    let mut agent = ScriptedServer::start(agent_script()).await;
    let (seen, mut rx) = mpsc::unbounded_channel();
    let driver = ExecutorDriver::new(config(&agent, false, "10secs"))
        .heartbeat_interval(Some(Duration::from_millis(500)))
        .heartbeat_misses(2);
    let run = tokio::spawn(driver.run(Listener { seen }));
    let stream = agent.next_stream().await;
    stream.send(Encoding::Protobuf, &subscribed());
    expect(&mut rx, "subscribed").await;
    // Time passing is what is tested here: an event well inside the 1 s window
    // restarts it.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let sent = Instant::now();
    stream.send(Encoding::Protobuf, &message("still here"));
    expect(&mut rx, "message still here").await;
    let err = tokio::time::timeout(WAIT, run)
        .await
        .expect("the watchdog fires")
        .unwrap()
        .unwrap_err();
    // The stream stayed open: only the watchdog can have ended the run, and not
    // before a whole window after the last event.
    assert!(
        sent.elapsed() >= Duration::from_secs(1),
        "{:?}",
        sent.elapsed()
    );
    assert!(
        matches!(&err, ExecutorError::Disconnected(m) if m.contains("missed heartbeats")),
        "{err}"
    );
    drop(stream);
}

#[tokio::test]
async fn with_checkpointing_a_silent_agent_is_resubscribed_to() {
    use std::time::Duration;
    let mut agent = ScriptedServer::start(agent_script()).await;
    let (seen, mut rx) = mpsc::unbounded_channel();
    let driver = ExecutorDriver::new(config(&agent, true, "10secs"))
        .heartbeat_interval(Some(Duration::from_millis(100)))
        .heartbeat_misses(1);
    let run = tokio::spawn(driver.run(Listener { seen }));
    let first = agent.next_stream().await;
    first.send(Encoding::Protobuf, &subscribed());
    expect(&mut rx, "subscribed").await;
    // The first stream stays open but silent: the driver gives up on it and
    // subscribes again.
    let second = agent.next_stream().await;
    second.send(Encoding::Protobuf, &subscribed());
    expect(&mut rx, "subscribed").await;
    second.send(Encoding::Protobuf, &shutdown());
    tokio::time::timeout(WAIT, run)
        .await
        .unwrap()
        .unwrap()
        .expect("SHUTDOWN ends the run with Ok");
    drop(first);
}
