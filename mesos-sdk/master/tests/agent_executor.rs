//! Custom executors: a real executor process (this test binary, re-run as
//! `executor_process`) speaking `/api/v1/executor` to the agent with reqwest and the
//! codec; plus the executor API's status codes.

mod support;

use std::io::Write;

use bytes::Bytes;
use mesos_master::agent::protocol::{FromAgent, ToAgent};
use mesos_sdk::codec::Encoding;
use mesos_sdk::v1;
use mesos_sdk::v1::TaskState;
use mesos_sdk::v1::executor::{Call, call, event};
use mesos_sdk::v1::task_status::{Reason, Source};
use support::agent::*;
use support::executor::{AgentEnv, Events, this_binary_running};
use support::*;

// ---------------------------------------------------------------------------------
// The executor process.

/// Entry point of the test executor; the agent starts it as
/// `<test binary> executor_process --exact --ignored`. It reacts to a task's `data`:
/// `finish` finishes at once, `crash` exits with status 7 after TASK_RUNNING, anything
/// else runs until killed. Tasks of a LAUNCH_GROUP go RUNNING, then `finish` or run.
#[tokio::test]
#[ignore = "the executor process of the agent tests; started by the agent"]
async fn executor_process() {
    let Some(agent) = AgentEnv::from_env() else {
        eprintln!("not started by an agent: nothing to do");
        return;
    };
    let sandbox = std::path::PathBuf::from(std::env::var("MESOS_SANDBOX").unwrap());
    std::fs::write(
        sandbox.join("executor.pid"),
        format!("{}\n", std::process::id()),
    )
    .unwrap();
    let url = agent.url;
    let client = reqwest::Client::new();
    let ids = (agent.executor_id, agent.framework_id);
    let subscribe = Call {
        executor_id: ids.0.clone(),
        framework_id: ids.1.clone(),
        r#type: Some(call::Type::Subscribe as i32),
        subscribe: Some(call::Subscribe::default()),
        ..Default::default()
    };
    let response = client
        .post(&url)
        .header("Content-Type", "application/x-protobuf")
        .header("Accept", "application/x-protobuf")
        .body(Encoding::Protobuf.encode(&subscribe))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let env_info = format!(
        "endpoint={} checkpoint={} grace={}",
        agent.endpoint,
        std::env::var("MESOS_CHECKPOINT").unwrap_or_default(),
        std::env::var("MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD").unwrap_or_default()
    );
    let mut acks = std::fs::File::create(sandbox.join("acks.log")).unwrap();
    let mut running: Vec<v1::TaskId> = Vec::new();
    let mut events = Events::new(response, Encoding::Protobuf);
    loop {
        let Some(event) = events.next().await else {
            std::process::exit(0);
        };
        match event.r#type() {
            event::Type::Launch => {
                let task = event.launch.unwrap().task;
                update(
                    &client,
                    &url,
                    &ids,
                    &task.task_id,
                    TaskState::TaskRunning,
                    &env_info,
                )
                .await;
                match task.data.as_deref() {
                    Some(b"finish") => {
                        update(
                            &client,
                            &url,
                            &ids,
                            &task.task_id,
                            TaskState::TaskFinished,
                            "done",
                        )
                        .await
                    }
                    Some(b"crash") => std::process::exit(7),
                    _ => running.push(task.task_id),
                }
            }
            event::Type::LaunchGroup => {
                for task in event.launch_group.unwrap().task_group.tasks {
                    update(
                        &client,
                        &url,
                        &ids,
                        &task.task_id,
                        TaskState::TaskRunning,
                        "group",
                    )
                    .await;
                    if task.data.as_deref() == Some(b"finish") {
                        update(
                            &client,
                            &url,
                            &ids,
                            &task.task_id,
                            TaskState::TaskFinished,
                            "done",
                        )
                        .await;
                    } else {
                        running.push(task.task_id);
                    }
                }
            }
            event::Type::Kill => {
                let task_id = event.kill.unwrap().task_id;
                running.retain(|t| *t != task_id);
                update(
                    &client,
                    &url,
                    &ids,
                    &task_id,
                    TaskState::TaskKilled,
                    "killed",
                )
                .await;
            }
            event::Type::Acknowledged => {
                let ack = event.acknowledged.unwrap();
                writeln!(acks, "{}", ack.task_id.value).unwrap();
            }
            event::Type::Message => {
                let mut data = b"pong:".to_vec();
                data.extend_from_slice(&event.message.unwrap().data);
                let message = Call {
                    executor_id: ids.0.clone(),
                    framework_id: ids.1.clone(),
                    r#type: Some(call::Type::Message as i32),
                    message: Some(call::Message { data: data.into() }),
                    ..Default::default()
                };
                post(&client, &url, &message).await;
            }
            event::Type::Shutdown => {
                for task_id in std::mem::take(&mut running) {
                    update(
                        &client,
                        &url,
                        &ids,
                        &task_id,
                        TaskState::TaskKilled,
                        "shutdown",
                    )
                    .await;
                }
                std::process::exit(0);
            }
            _ => {}
        }
    }
}

async fn post(client: &reqwest::Client, url: &str, call: &Call) {
    let response = client
        .post(url)
        .header("Content-Type", "application/x-protobuf")
        .body(Encoding::Protobuf.encode(call))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202, "{:?}", response.text().await);
}

async fn update(
    client: &reqwest::Client,
    url: &str,
    ids: &(v1::ExecutorId, v1::FrameworkId),
    task_id: &v1::TaskId,
    state: TaskState,
    message: &str,
) {
    let call = Call {
        executor_id: ids.0.clone(),
        framework_id: ids.1.clone(),
        r#type: Some(call::Type::Update as i32),
        update: Some(call::Update {
            status: v1::TaskStatus {
                task_id: task_id.clone(),
                state: state as i32,
                source: Some(Source::Executor as i32),
                message: Some(message.into()),
                uuid: Some(Bytes::copy_from_slice(uuid::Uuid::new_v4().as_bytes())),
                ..Default::default()
            },
        }),
        ..Default::default()
    };
    post(client, url, &call).await;
}

// ---------------------------------------------------------------------------------
// The tests.

fn executor_info(id: &str) -> v1::ExecutorInfo {
    let mut command = this_binary_running("executor_process");
    command.arguments.push("--nocapture".into());
    v1::ExecutorInfo {
        executor_id: v1::ExecutorId { value: id.into() },
        command: Some(command),
        ..Default::default()
    }
}

fn executor_task(id: &str, executor: &str, behaviour: &'static str) -> v1::TaskInfo {
    v1::TaskInfo {
        name: id.into(),
        task_id: v1::TaskId { value: id.into() },
        agent_id: v1::AgentId {
            value: "agent-1".into(),
        },
        executor: Some(executor_info(executor)),
        data: Some(Bytes::from_static(behaviour.as_bytes())),
        ..Default::default()
    }
}

fn launch(h: &Harness, task: v1::TaskInfo) {
    h.to_agent
        .send(ToAgent::RunTask {
            framework: framework("f1"),
            task,
        })
        .unwrap();
}

fn f1() -> v1::FrameworkId {
    v1::FrameworkId { value: "f1".into() }
}

/// Acknowledges updates until `(task, state)` arrives; returns every update seen.
async fn ack_until(h: &mut Harness, task: &str, until: TaskState) -> Vec<v1::TaskStatus> {
    let mut seen = Vec::new();
    loop {
        let status = h.next_acked().await;
        let done = status.task_id.value == task && state(&status) == until;
        seen.push(status);
        if done {
            return seen;
        }
    }
}

#[tokio::test]
async fn one_executor_runs_several_tasks_and_is_shut_down() {
    let mut h = Harness::start().await;
    let endpoint = h.agent.as_ref().unwrap().executor_endpoint();
    // Both tasks reach the executor, the second one queued until it subscribes.
    launch(&h, executor_task("t1", "e1", "run"));
    launch(&h, executor_task("t2", "e1", "finish"));
    let mut seen = ack_until(&mut h, "t2", TaskState::TaskFinished).await;
    if !seen.iter().any(|s| s.task_id.value == "t1") {
        seen.extend(ack_until(&mut h, "t1", TaskState::TaskRunning).await);
    }
    for status in &seen {
        assert_eq!(status.source, Some(Source::Executor as i32));
        assert_eq!(status.executor_id.as_ref().unwrap().value, "e1");
        assert_eq!(status.agent_id.as_ref().unwrap().value, "agent-1");
    }
    let running = seen
        .iter()
        .find(|s| state(s) == TaskState::TaskRunning)
        .unwrap();
    assert_eq!(
        running.message.as_deref(),
        Some(format!("endpoint={endpoint} checkpoint=0 grace=500ms").as_str())
    );
    assert_eq!(
        find_files(&h.scratch.0, "executor.pid").len(),
        1,
        "one executor process"
    );

    // Scheduler message round trip through the executor.
    h.to_agent
        .send(ToAgent::FrameworkMessage {
            framework_id: f1(),
            executor_id: v1::ExecutorId { value: "e1".into() },
            data: Bytes::from_static(b"ping"),
        })
        .unwrap();
    match h.next().await {
        FromAgent::ExecutorMessage {
            framework_id,
            executor_id,
            data,
        } => {
            assert_eq!(
                (framework_id.value.as_str(), executor_id.value.as_str()),
                ("f1", "e1")
            );
            assert_eq!(&data[..], b"pong:ping");
        }
        other => panic!("expected the executor's message, got {other:?}"),
    }
    // The executor handled the ACKNOWLEDGED events (sent before the message).
    let acks =
        std::fs::read_to_string(find_files(&h.scratch.0, "acks.log").pop().unwrap()).unwrap();
    let mut acked: Vec<&str> = acks.lines().collect();
    acked.sort();
    assert_eq!(acked, ["t1", "t2", "t2"]);

    h.to_agent
        .send(ToAgent::KillTask {
            framework_id: f1(),
            task_id: v1::TaskId { value: "t1".into() },
            kill_policy: None,
        })
        .unwrap();
    let killed = h.next_acked().await;
    assert_eq!(
        (killed.task_id.value.as_str(), state(&killed)),
        ("t1", TaskState::TaskKilled)
    );

    let pid = wait_pid(&h.scratch.0, "executor.pid").await;
    h.to_agent
        .send(ToAgent::ShutdownExecutor {
            framework_id: f1(),
            executor_id: v1::ExecutorId { value: "e1".into() },
        })
        .unwrap();
    match h.next().await {
        FromAgent::ExecutorTerminated {
            executor_id,
            status,
            ..
        } => {
            assert_eq!(executor_id.value, "e1");
            assert_eq!(status, Some(0));
        }
        other => panic!("expected ExecutorTerminated, got {other:?}"),
    }
    assert!(!alive(pid));
    h.shutdown().await;
}

#[tokio::test]
async fn task_group_runs_in_one_executor_until_its_framework_shuts_down() {
    let mut h = Harness::start().await;
    let group_task = |id: &str, behaviour: &'static str| {
        let mut task = executor_task(id, "e-group", behaviour);
        task.executor = None;
        task
    };
    let task_group = v1::TaskGroupInfo {
        tasks: vec![group_task("g1", "finish"), group_task("g2", "run")],
    };
    h.to_agent
        .send(ToAgent::RunTaskGroup {
            framework: framework("f1"),
            executor: executor_info("e-group"),
            task_group,
        })
        .unwrap();
    let mut seen = Vec::new();
    while !(seen.contains(&("g1".to_owned(), TaskState::TaskFinished))
        && seen.contains(&("g2".to_owned(), TaskState::TaskRunning)))
    {
        let status = h.next_acked().await;
        assert_eq!(status.executor_id.as_ref().unwrap().value, "e-group");
        assert_eq!(
            status.message.as_deref().unwrap_or_default() == "group",
            state(&status) == TaskState::TaskRunning
        );
        seen.push((status.task_id.value.clone(), state(&status)));
    }
    let pid = wait_pid(&h.scratch.0, "executor.pid").await;

    // Tearing the framework down shuts its executor down, which kills g2 and exits.
    h.to_agent
        .send(ToAgent::ShutdownFramework { framework_id: f1() })
        .unwrap();
    let mut killed = None;
    let mut terminated = None;
    while killed.is_none() || terminated.is_none() {
        match h.next().await {
            FromAgent::StatusUpdate {
                framework_id,
                status,
            } => {
                h.ack(&framework_id, &status);
                assert_eq!(
                    (status.task_id.value.as_str(), state(&status)),
                    ("g2", TaskState::TaskKilled)
                );
                killed = Some(status);
            }
            FromAgent::ExecutorTerminated {
                executor_id,
                status,
                ..
            } => {
                assert_eq!(executor_id.value, "e-group");
                terminated = Some(status);
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(
        terminated.unwrap(),
        Some(0),
        "the executor exited by itself"
    );
    assert!(!alive(pid));
    // The framework is gone from the agent: a new launch starts a fresh executor.
    launch(&h, executor_task("n1", "e-group", "finish"));
    let running = h.next_acked().await;
    assert_eq!(
        (running.task_id.value.as_str(), state(&running)),
        ("n1", TaskState::TaskRunning)
    );
    assert_eq!(state(&h.next_acked().await), TaskState::TaskFinished);
    assert_eq!(find_files(&h.scratch.0, "executor.pid").len(), 2);
    h.shutdown().await;
}

#[tokio::test]
async fn executor_crash_fails_its_tasks_then_reports_termination() {
    let mut h = Harness::start().await;
    launch(&h, executor_task("c1", "e-crash", "crash"));
    let mut failed = None;
    let mut terminated = None;
    while failed.is_none() || terminated.is_none() {
        match h.next().await {
            FromAgent::StatusUpdate {
                framework_id,
                status,
            } => {
                h.ack(&framework_id, &status);
                if state(&status) == TaskState::TaskFailed {
                    failed = Some(status);
                } else {
                    assert_eq!(state(&status), TaskState::TaskRunning);
                }
            }
            FromAgent::ExecutorTerminated {
                executor_id,
                status,
                ..
            } => {
                assert_eq!(executor_id.value, "e-crash");
                terminated = Some(status);
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    let failed = failed.unwrap();
    assert_eq!(failed.task_id.value, "c1");
    assert_eq!(failed.source, Some(Source::Agent as i32));
    assert_eq!(failed.reason, Some(Reason::ExecutorTerminated as i32));
    assert_eq!(
        failed.message.as_deref(),
        Some("Executor exited with status 7")
    );
    assert_eq!(terminated.unwrap(), Some(7));
    h.shutdown().await;
}

#[tokio::test]
async fn agent_shutdown_stops_running_executors() {
    let mut h = Harness::start().await;
    launch(&h, executor_task("s1", "e-s", "run"));
    assert_eq!(state(&h.next_acked().await), TaskState::TaskRunning);
    let pid = wait_pid(&h.scratch.0, "executor.pid").await;
    assert!(alive(pid));
    h.shutdown().await;
    assert!(!alive(pid), "the executor survived the agent");
}

// ---------------------------------------------------------------------------------
// Executor API status codes, as Mesos's agent answers them.

#[tokio::test]
async fn executor_api_rejects_bad_calls_with_mesos_status_codes() {
    let mut h = Harness::start().await;
    let url = format!(
        "http://{}/api/v1/executor",
        h.agent.as_ref().unwrap().executor_endpoint()
    );
    let client = reqwest::Client::new();
    let subscribe = Call {
        executor_id: v1::ExecutorId { value: "e".into() },
        framework_id: v1::FrameworkId { value: "f".into() },
        r#type: Some(call::Type::Subscribe as i32),
        subscribe: Some(call::Subscribe::default()),
        ..Default::default()
    };
    let body = Encoding::Json.encode(&subscribe);
    let send = |content_type: Option<&'static str>, accept: Option<&'static str>, body: Vec<u8>| {
        let mut request = client.post(&url).body(body);
        if let Some(ct) = content_type {
            request = request.header("Content-Type", ct);
        }
        if let Some(a) = accept {
            request = request.header("Accept", a);
        }
        async move { request.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(
        client.get(&url).send().await.unwrap().status().as_u16(),
        405
    );
    assert_eq!(send(None, None, body.clone()).await, 400);
    assert_eq!(send(Some("text/plain"), None, body.clone()).await, 415);
    assert_eq!(
        send(Some("application/json"), None, b"{not json".to_vec()).await,
        400
    );
    // Required executor_id missing.
    assert_eq!(
        send(
            Some("application/json"),
            None,
            br#"{"framework_id":{"value":"f"},"type":"SUBSCRIBE"}"#.to_vec()
        )
        .await,
        400
    );
    assert_eq!(
        send(Some("application/json"), Some("text/html"), body.clone()).await,
        406
    );
    // Well-formed, but no such framework on this agent.
    assert_eq!(
        send(Some("application/json"), None, body.clone()).await,
        400
    );
    let heartbeat = Call {
        r#type: Some(call::Type::Heartbeat as i32),
        ..subscribe.clone()
    };
    assert_eq!(
        send(
            Some("application/x-protobuf"),
            None,
            Encoding::Protobuf.encode(&heartbeat)
        )
        .await,
        202
    );
    // UPDATE validation: a uuid that is not 16 bytes, TASK_STAGING, a non-executor source.
    let bad_update = |mutate: fn(&mut v1::TaskStatus)| {
        let mut status = v1::TaskStatus {
            task_id: v1::TaskId { value: "t".into() },
            state: TaskState::TaskRunning as i32,
            source: Some(Source::Executor as i32),
            uuid: Some(Bytes::from_static(&[1; 16])),
            ..Default::default()
        };
        mutate(&mut status);
        Encoding::Protobuf.encode(&Call {
            r#type: Some(call::Type::Update as i32),
            update: Some(call::Update { status }),
            subscribe: None,
            ..subscribe.clone()
        })
    };
    for body in [
        bad_update(|s| s.uuid = Some(Bytes::from_static(b"short"))),
        bad_update(|s| s.state = TaskState::TaskStaging as i32),
        bad_update(|s| s.source = Some(Source::Agent as i32)),
        bad_update(|_| {}), // valid shape, unknown framework
    ] {
        assert_eq!(send(Some("application/x-protobuf"), None, body).await, 400);
    }
    h.shutdown().await;
}
