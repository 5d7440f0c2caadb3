//! Custom executors through the master: LAUNCH with an executor, LAUNCH_GROUP, MESSAGE in
//! both directions, SHUTDOWN, and an executor crash seen as FAILURE. The executor is this
//! test binary, re-run by the agent as `executor_process`.

mod support;

use std::time::Duration;

use bytes::Bytes;
use mesos_master::LocalCluster;
use mesos_sdk::codec::Encoding;
use mesos_sdk::v1;
use mesos_sdk::v1::TaskState;
use mesos_sdk::v1::executor::{Call, call, event};
use mesos_sdk::v1::scheduler::{call as scall, event as sevent};
use support::executor::{AgentEnv, Events, this_binary_running};
use support::scheduler::*;
use support::*;

/// The executor process: RUNNING then FINISHED for `finish` tasks (and every task of a
/// group), exit 7 after RUNNING for `crash`, runs others until killed; answers each
/// MESSAGE with `pong:<data>`.
#[tokio::test]
#[ignore = "the executor process of the master tests; started by the agent"]
async fn executor_process() {
    let Some(agent) = AgentEnv::from_env() else {
        return;
    };
    let url = agent.url;
    let client = reqwest::Client::new();
    let ids = (agent.executor_id, agent.framework_id);
    let base = |t: call::Type| Call {
        executor_id: ids.0.clone(),
        framework_id: ids.1.clone(),
        r#type: Some(t as i32),
        ..Default::default()
    };
    let post = |call: Call| {
        let request = client
            .post(&url)
            .header("Content-Type", "application/x-protobuf")
            .body(Encoding::Protobuf.encode(&call));
        async move {
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), 202);
        }
    };
    let update = |task_id: &v1::TaskId, state: TaskState| {
        let mut call = base(call::Type::Update);
        call.update = Some(call::Update {
            status: v1::TaskStatus {
                task_id: task_id.clone(),
                state: state as i32,
                source: Some(v1::task_status::Source::Executor as i32),
                uuid: Some(Bytes::copy_from_slice(uuid::Uuid::new_v4().as_bytes())),
                ..Default::default()
            },
        });
        post(call)
    };
    let mut subscribe = base(call::Type::Subscribe);
    subscribe.subscribe = Some(call::Subscribe::default());
    let response = client
        .post(&url)
        .header("Content-Type", "application/x-protobuf")
        .header("Accept", "application/x-protobuf")
        .body(Encoding::Protobuf.encode(&subscribe))
        .send()
        .await
        .unwrap();
    let mut events = Events::new(response, Encoding::Protobuf);
    let mut running = Vec::new();
    loop {
        let Some(event) = events.next().await else {
            std::process::exit(0);
        };
        match event.r#type() {
            event::Type::Launch => {
                let task = event.launch.unwrap().task;
                update(&task.task_id, TaskState::TaskRunning).await;
                match task.data.as_deref() {
                    Some(b"finish") => update(&task.task_id, TaskState::TaskFinished).await,
                    Some(b"crash") => std::process::exit(7),
                    _ => running.push(task.task_id),
                }
            }
            event::Type::LaunchGroup => {
                for task in event.launch_group.unwrap().task_group.tasks {
                    update(&task.task_id, TaskState::TaskRunning).await;
                    update(&task.task_id, TaskState::TaskFinished).await;
                }
            }
            event::Type::Kill => {
                let task_id = event.kill.unwrap().task_id;
                running.retain(|t| *t != task_id);
                update(&task_id, TaskState::TaskKilled).await;
            }
            event::Type::Message => {
                let mut data = b"pong:".to_vec();
                data.extend_from_slice(&event.message.unwrap().data);
                let mut message = base(call::Type::Message);
                message.message = Some(call::Message { data: data.into() });
                post(message).await;
            }
            event::Type::Shutdown => {
                for task_id in std::mem::take(&mut running) {
                    update(&task_id, TaskState::TaskKilled).await;
                }
                std::process::exit(0);
            }
            _ => {}
        }
    }
}

fn executor_info(id: &str) -> v1::ExecutorInfo {
    v1::ExecutorInfo {
        executor_id: v1::ExecutorId { value: id.into() },
        command: Some(this_binary_running("executor_process")),
        resources: vec![scalar("cpus", 0.1), scalar("mem", 32.0)],
        ..Default::default()
    }
}

fn executor_task(
    id: &str,
    offer: &v1::Offer,
    executor: &str,
    behaviour: &'static str,
) -> v1::TaskInfo {
    v1::TaskInfo {
        name: id.into(),
        task_id: v1::TaskId { value: id.into() },
        agent_id: offer.agent_id.clone(),
        resources: vec![scalar("cpus", 0.1), scalar("mem", 16.0)],
        executor: Some(executor_info(executor)),
        data: Some(Bytes::from_static(behaviour.as_bytes())),
        ..Default::default()
    }
}

async fn cluster() -> LocalCluster {
    LocalCluster::builder()
        .resources("cpus:4;mem:2048;disk:1024")
        .allocation_interval(Duration::from_millis(50))
        .kill_grace_period(Duration::from_millis(500))
        .executor_shutdown_grace_period(Duration::from_millis(500))
        .start()
        .await
        .unwrap()
}

#[tokio::test]
async fn executor_tasks_groups_and_messages() {
    let c = cluster().await;
    let mut s = subscribe(&c.url(), Encoding::Json, framework_info("exec")).await;
    let offer = s.offers().await.remove(0);
    s.launch(
        &offer,
        vec![
            executor_task("one", &offer, "e1", "finish"),
            executor_task("two", &offer, "e1", "run"),
        ],
    )
    .await;
    s.until_state("one", TaskState::TaskFinished).await;
    s.until_state("two", TaskState::TaskRunning).await;
    // Executor resources count once, with the running task's.
    let used = c
        .state()
        .framework(&s.framework_id.value)
        .unwrap()
        .used_resources
        .clone();
    assert!((used.cpus - 0.2).abs() < 1e-9, "{used:?}");

    // MESSAGE to the executor; its answer comes back as a MESSAGE event.
    let mut message = s.call(scall::Type::Message);
    message.message = Some(scall::Message {
        agent_id: offer.agent_id.clone(),
        executor_id: v1::ExecutorId { value: "e1".into() },
        data: Bytes::from_static(b"ping"),
    });
    s.send_ok(&message, 202).await;
    let event = s
        .expect("MESSAGE", |e| {
            e.r#type == Some(sevent::Type::Message as i32)
        })
        .await;
    let message = event.message.unwrap();
    assert_eq!(&message.data[..], b"pong:ping");
    assert_eq!(message.executor_id.value, "e1");

    // LAUNCH_GROUP on a second executor.
    let next = s.offers().await.remove(0);
    let mut accept = s.call(scall::Type::Accept);
    let mut group_tasks = Vec::new();
    for id in ["g1", "g2"] {
        let mut task = executor_task(id, &next, "unused", "");
        task.executor = None;
        task.data = None;
        group_tasks.push(task);
    }
    accept.accept = Some(scall::Accept {
        offer_ids: vec![next.id.clone()],
        operations: vec![v1::offer::Operation {
            r#type: Some(v1::offer::operation::Type::LaunchGroup as i32),
            launch_group: Some(v1::offer::operation::LaunchGroup {
                // A task group's executor has a type and some disk, as Mesos requires.
                executor: v1::ExecutorInfo {
                    r#type: Some(v1::executor_info::Type::Custom as i32),
                    resources: vec![
                        scalar("cpus", 0.1),
                        scalar("mem", 32.0),
                        scalar("disk", 10.0),
                    ],
                    ..executor_info("group")
                },
                task_group: v1::TaskGroupInfo { tasks: group_tasks },
            }),
            ..Default::default()
        }],
        filters: None,
    });
    s.send_ok(&accept, 202).await;
    s.until_state("g1", TaskState::TaskFinished).await;
    s.until_state("g2", TaskState::TaskFinished).await;

    // SHUTDOWN of e1 kills its running task and the executor exits: FAILURE.
    let mut shutdown = s.call(scall::Type::Shutdown);
    shutdown.shutdown = Some(scall::Shutdown {
        executor_id: v1::ExecutorId { value: "e1".into() },
        agent_id: offer.agent_id.clone(),
    });
    s.send_ok(&shutdown, 202).await;
    s.until_state("two", TaskState::TaskKilled).await;
    let failure = s
        .expect("FAILURE of e1", |e| {
            e.failure
                .as_ref()
                .is_some_and(|f| f.executor_id.as_ref().is_some_and(|x| x.value == "e1"))
        })
        .await
        .failure
        .unwrap();
    assert_eq!(failure.agent_id.unwrap(), offer.agent_id);
    c.shutdown().await;
}

#[tokio::test]
async fn an_executor_crash_fails_its_task_and_reports_failure() {
    let c = cluster().await;
    let mut s = subscribe(&c.url(), Encoding::Protobuf, framework_info("crash")).await;
    let offer = s.offers().await.remove(0);
    s.launch(
        &offer,
        vec![executor_task("boom", &offer, "e-crash", "crash")],
    )
    .await;
    let end = loop {
        let status = s.update("boom").await;
        s.acknowledge(&status).await;
        if status.is_terminal() {
            break status;
        }
    };
    assert!(
        end.state == TaskState::TaskFailed as i32 || end.state == TaskState::TaskLost as i32,
        "{end:?}"
    );
    let failure = s
        .expect("FAILURE", |e| {
            e.r#type == Some(sevent::Type::Failure as i32)
        })
        .await
        .failure
        .unwrap();
    assert_eq!(failure.executor_id.unwrap().value, "e-crash");
    assert_eq!(failure.status, Some(7));
    // Everything is free again.
    let deadline = tokio::time::Instant::now() + WAIT;
    while c.state().slaves[0].used_resources.cpus > 1e-9 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "resources not released"
        );
        tokio::task::yield_now().await;
    }
    c.shutdown().await;
}
