//! The executor API driven by the test itself: the agent starts a placeholder process as
//! the executor (`sleep`), and the test speaks for it over HTTP. This makes
//! (re-)subscription, queued launches and heartbeats deterministic.

mod support;

use std::time::Duration;

use bytes::Bytes;
use mesos_master::agent::protocol::{FromAgent, ToAgent};
use mesos_sdk::codec::Encoding;
use mesos_sdk::v1;
use mesos_sdk::v1::TaskState;
use mesos_sdk::v1::executor::{Call, call, event};
use mesos_sdk::v1::task_status::Source;
use support::agent::*;
use support::executor::Events;

fn placeholder_executor() -> v1::ExecutorInfo {
    v1::ExecutorInfo {
        executor_id: v1::ExecutorId { value: "e".into() },
        command: Some(v1::CommandInfo {
            value: Some("exec sleep 60".into()),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn task(id: &str) -> v1::TaskInfo {
    v1::TaskInfo {
        name: id.into(),
        task_id: v1::TaskId { value: id.into() },
        agent_id: v1::AgentId {
            value: "agent-1".into(),
        },
        executor: Some(placeholder_executor()),
        ..Default::default()
    }
}

fn base_call(kind: call::Type) -> Call {
    Call {
        executor_id: v1::ExecutorId { value: "e".into() },
        framework_id: v1::FrameworkId { value: "f1".into() },
        r#type: Some(kind as i32),
        ..Default::default()
    }
}

fn status(task: &str, state: TaskState, uuid: u8) -> v1::TaskStatus {
    v1::TaskStatus {
        task_id: v1::TaskId { value: task.into() },
        state: state as i32,
        source: Some(Source::Executor as i32),
        uuid: Some(Bytes::from(vec![uuid; 16])),
        ..Default::default()
    }
}

struct Client {
    http: reqwest::Client,
    url: String,
}

impl Client {
    fn new(h: &Harness) -> Self {
        Client {
            http: reqwest::Client::new(),
            url: format!(
                "http://{}/api/v1/executor",
                h.agent.as_ref().unwrap().executor_endpoint()
            ),
        }
    }

    async fn post(&self, call: &Call) -> reqwest::Response {
        self.http
            .post(&self.url)
            .header("Content-Type", "application/json")
            .body(Encoding::Json.encode(call))
            .send()
            .await
            .unwrap()
    }

    async fn subscribe(&self, subscribe: call::Subscribe) -> Events {
        let call = Call {
            subscribe: Some(subscribe),
            ..base_call(call::Type::Subscribe)
        };
        let response = self.post(&call).await;
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-type"], "application/json");
        Events::new(response, Encoding::Json)
    }

    async fn update(&self, status: v1::TaskStatus) -> u16 {
        let call = Call {
            update: Some(call::Update { status }),
            ..base_call(call::Type::Update)
        };
        self.post(&call).await.status().as_u16()
    }
}

async fn start_executor(h: &Harness, tasks: &[&str]) {
    for id in tasks {
        h.to_agent
            .send(ToAgent::RunTask {
                framework: framework("f1"),
                task: task(id),
            })
            .unwrap();
    }
    // The executor process exists once its sandbox does.
    h.wait_for_sandbox().await;
}

#[tokio::test]
async fn queued_tasks_reach_the_executor_on_subscribe_and_resubscribe_resends_updates() {
    let mut h =
        Harness::start_with(|c| c.executor_heartbeat_interval = Duration::from_millis(100)).await;
    start_executor(&h, &["a", "b", "c"]).await;
    let client = Client::new(&h);

    // Before subscribing, UPDATE is refused.
    assert_eq!(
        client.update(status("a", TaskState::TaskRunning, 1)).await,
        403
    );
    // Killing a task the executor has not received yet: the agent reports it itself.
    h.to_agent
        .send(ToAgent::KillTask {
            framework_id: v1::FrameworkId { value: "f1".into() },
            task_id: v1::TaskId { value: "c".into() },
            kill_policy: None,
        })
        .unwrap();
    let killed = h.next_acked().await;
    assert_eq!(
        (killed.task_id.value.as_str(), state(&killed)),
        ("c", TaskState::TaskKilled)
    );
    assert_eq!(killed.source, Some(Source::Agent as i32));

    let mut events = client.subscribe(call::Subscribe::default()).await;
    let subscribed = events.expect_next().await;
    assert_eq!(subscribed.r#type(), event::Type::Subscribed);
    let info = subscribed.subscribed.unwrap();
    assert_eq!(info.executor_info.executor_id.value, "e");
    assert_eq!(info.framework_info.id.unwrap().value, "f1");
    assert_eq!(info.agent_info.id.unwrap().value, "agent-1");
    assert!(info.container_id.is_some());
    let mut launched = Vec::new();
    for _ in 0..2 {
        let launch = events.expect_next().await;
        assert_eq!(launch.r#type(), event::Type::Launch);
        launched.push(launch.launch.unwrap().task.task_id.value);
    }
    assert_eq!(launched, ["a", "b"]);
    // Heartbeats flow on the open stream.
    assert_eq!(events.expect_next().await.r#type(), event::Type::Heartbeat);

    // One update, acknowledged: the executor hears ACKNOWLEDGED.
    assert_eq!(
        client.update(status("a", TaskState::TaskRunning, 1)).await,
        202
    );
    let (fid, running) = h.next_update().await;
    assert_eq!(
        running.uuid.as_deref(),
        Some(&[1u8; 16][..]),
        "the executor's uuid is kept"
    );
    assert_eq!(running.executor_id.as_ref().unwrap().value, "e");
    h.ack(&fid, &running);
    let ack = loop {
        let e = events.expect_next().await;
        if e.r#type() == event::Type::Acknowledged {
            break e.acknowledged.unwrap();
        }
    };
    assert_eq!(
        (ack.task_id.value.as_str(), &ack.uuid[..]),
        ("a", &[1u8; 16][..])
    );

    // The executor reconnects holding that (acknowledged) update and a new one it could
    // not deliver: only the new one is forwarded.
    drop(events);
    let unacknowledged = [
        status("a", TaskState::TaskRunning, 1),
        status("b", TaskState::TaskRunning, 2),
    ]
    .into_iter()
    .map(|status| call::Update { status })
    .collect();
    let mut events = client
        .subscribe(call::Subscribe {
            unacknowledged_tasks: vec![task("b")],
            unacknowledged_updates: unacknowledged,
        })
        .await;
    assert_eq!(events.expect_next().await.r#type(), event::Type::Subscribed);
    let (fid, resent) = h.next_update().await;
    assert_eq!(
        (
            resent.task_id.value.as_str(),
            resent.uuid.as_deref().unwrap()
        ),
        ("b", &[2u8; 16][..])
    );
    h.ack(&fid, &resent);

    // Duplicates of a pending update are ignored, not queued twice.
    assert_eq!(
        client.update(status("b", TaskState::TaskFinished, 3)).await,
        202
    );
    assert_eq!(
        client.update(status("b", TaskState::TaskFinished, 3)).await,
        202
    );
    let finished = h.next_acked().await;
    assert_eq!(state(&finished), TaskState::TaskFinished);

    // SHUTDOWN, then the placeholder (which ignores it) is signalled after the grace period.
    h.to_agent
        .send(ToAgent::ShutdownExecutor {
            framework_id: v1::FrameworkId { value: "f1".into() },
            executor_id: v1::ExecutorId { value: "e".into() },
        })
        .unwrap();
    loop {
        let e = events.expect_next().await;
        if e.r#type() == event::Type::Shutdown {
            break;
        }
    }
    // Task "a" never finished: it fails with the executor, then the executor is reported.
    let mut saw_failed = false;
    loop {
        match h.next().await {
            FromAgent::StatusUpdate {
                framework_id,
                status,
            } => {
                h.ack(&framework_id, &status);
                assert_eq!(
                    (status.task_id.value.as_str(), state(&status)),
                    ("a", TaskState::TaskFailed)
                );
                saw_failed = true;
            }
            FromAgent::ExecutorTerminated { status, .. } => {
                assert_eq!(status, None, "ended by SIGTERM, no exit code");
                break;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    if !saw_failed {
        let failed = h.next_acked().await;
        assert_eq!(
            (failed.task_id.value.as_str(), state(&failed)),
            ("a", TaskState::TaskFailed)
        );
    }
    // No further updates: "b" finished and was acknowledged.
    h.shutdown().await;
    assert!(h.events.try_recv().is_err());
}

#[tokio::test]
async fn killing_a_queued_group_task_kills_the_group_and_the_idle_executor() {
    let mut h = Harness::start().await;
    let mut g1 = task("g1");
    g1.executor = None;
    let mut g2 = task("g2");
    g2.executor = None;
    h.to_agent
        .send(ToAgent::RunTaskGroup {
            framework: framework("f1"),
            executor: placeholder_executor(),
            task_group: v1::TaskGroupInfo {
                tasks: vec![g1, g2],
            },
        })
        .unwrap();
    h.wait_for_sandbox().await;
    // The executor never subscribes; killing one task kills the whole group.
    h.to_agent
        .send(ToAgent::KillTask {
            framework_id: v1::FrameworkId { value: "f1".into() },
            task_id: v1::TaskId { value: "g2".into() },
            kill_policy: None,
        })
        .unwrap();
    let mut killed = Vec::new();
    let mut terminated = false;
    while killed.len() < 2 || !terminated {
        match h.next().await {
            FromAgent::StatusUpdate {
                framework_id,
                status,
            } => {
                h.ack(&framework_id, &status);
                assert_eq!(state(&status), TaskState::TaskKilled);
                assert_eq!(status.source, Some(Source::Agent as i32));
                assert_eq!(
                    status.reason,
                    Some(v1::task_status::Reason::TaskKilledDuringLaunch as i32)
                );
                killed.push(status.task_id.value);
            }
            // With no task left and none ever delivered, the executor is shut down.
            FromAgent::ExecutorTerminated { executor_id, .. } => {
                assert_eq!(executor_id.value, "e");
                terminated = true;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    killed.sort();
    assert_eq!(killed, ["g1", "g2"]);
    h.shutdown().await;
}
