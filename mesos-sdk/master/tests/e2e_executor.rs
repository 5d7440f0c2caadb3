//! A custom executor written with this SDK (`ExecutorDriver` + `Executor`) run by the
//! reference agent as a real process (this test binary, re-run as `sdk_executor`),
//! talking to a scheduler run by `SchedulerDriver`: several tasks, messages both ways,
//! acknowledgements forwarded to the executor, kill, shutdown.

mod support;

use std::collections::HashMap;

use bytes::Bytes;
use mesos_sdk::codec::Encoding;
use mesos_sdk::executor::{Executor, ExecutorClient, run_if_executor};
use mesos_sdk::v1;
use mesos_sdk::v1::TaskState;
use support::driver::*;
use support::executor::this_binary_running;
use support::*;

/// The executor: each task goes RUNNING, then FINISHED if its data is `finish`, else
/// runs until killed. A message `ping:X` is answered with `pong:X`; every
/// acknowledgement the agent forwards is reported to the scheduler as `ack:<task>:<n>`
/// (n = acknowledgements of that task so far).
struct Sdk {
    acks: HashMap<String, u32>,
    running: Vec<v1::TaskId>,
}

impl Sdk {
    async fn report(client: &ExecutorClient, text: String) {
        if let Err(e) = client.message(Bytes::from(text)).await {
            tracing::warn!(error = %e, "message to the scheduler failed");
        }
    }

    async fn status(client: &ExecutorClient, task_id: v1::TaskId, state: TaskState) {
        if let Err(e) = client.send_status(task_id, state, None, None).await {
            tracing::warn!(error = %e, "status update failed");
        }
    }
}

#[async_trait::async_trait]
impl Executor for Sdk {
    async fn launch(&mut self, client: &ExecutorClient, task: v1::TaskInfo) {
        Self::status(client, task.task_id.clone(), TaskState::TaskRunning).await;
        if task.data.as_deref() == Some(b"finish") {
            Self::status(client, task.task_id, TaskState::TaskFinished).await;
        } else {
            self.running.push(task.task_id);
        }
    }

    async fn kill(
        &mut self,
        client: &ExecutorClient,
        task_id: v1::TaskId,
        _policy: Option<v1::KillPolicy>,
    ) {
        self.running.retain(|t| *t != task_id);
        Self::status(client, task_id, TaskState::TaskKilled).await;
    }

    async fn acknowledged(&mut self, client: &ExecutorClient, task_id: v1::TaskId, _uuid: Bytes) {
        let n = self.acks.entry(task_id.value.clone()).or_default();
        *n += 1;
        let text = format!("ack:{}:{n}", task_id.value);
        Self::report(client, text).await;
    }

    async fn message(&mut self, client: &ExecutorClient, data: Bytes) {
        if let Some(rest) = data.strip_prefix(b"ping:") {
            let text = format!("pong:{}", String::from_utf8_lossy(rest));
            Self::report(client, text).await;
        }
    }

    async fn shutdown(&mut self, client: &ExecutorClient) {
        for task_id in std::mem::take(&mut self.running) {
            Self::status(client, task_id, TaskState::TaskKilled).await;
        }
    }
}

/// Entry point of the executor process: the agent starts this binary as
/// `<test binary> sdk_executor --exact --ignored`.
#[tokio::test]
#[ignore = "the executor process of the e2e tests; started by the agent"]
async fn sdk_executor() {
    let Some(result) = run_if_executor(|| Sdk {
        acks: HashMap::new(),
        running: Vec::new(),
    })
    .await
    else {
        return; // Not started by an agent: nothing to do.
    };
    std::process::exit(if result.is_ok() { 0 } else { 1 });
}

fn executor_info(id: &str) -> v1::ExecutorInfo {
    v1::ExecutorInfo {
        executor_id: v1::ExecutorId { value: id.into() },
        command: Some(this_binary_running("sdk_executor")),
        resources: vec![scalar("cpus", 0.1), scalar("mem", 32.0)],
        ..Default::default()
    }
}

fn executor_task(id: &str, offer: &v1::Offer, behaviour: &str) -> v1::TaskInfo {
    v1::TaskInfo {
        name: id.into(),
        task_id: v1::TaskId { value: id.into() },
        agent_id: offer.agent_id.clone(),
        resources: vec![scalar("cpus", 0.1), scalar("mem", 16.0)],
        executor: Some(executor_info("sdk")),
        data: Some(bytes(behaviour)),
        ..Default::default()
    }
}

/// The next MESSAGE whose text is `text`, from executor `sdk`.
async fn expect_message(fw: &mut Framework, text: &str) -> v1::scheduler::event::Message {
    fw.expect(&format!("MESSAGE '{text}'"), |s| match s {
        Seen::Message(m) if m.data == text.as_bytes() => Some(m.clone()),
        _ => None,
    })
    .await
}

async fn sdk_executor_runs_tasks_and_exchanges_messages(encoding: Encoding) {
    let cluster = cluster().await;
    let mut fw = Framework::start(
        &cluster.url(),
        encoding,
        failover_framework_info("e2e-executor"),
    );
    fw.subscribed().await;
    let offer = fw.offer().await;
    launch(
        &fw.client,
        &offer,
        vec![
            executor_task("a", &offer, "finish"),
            executor_task("b", &offer, "finish"),
            executor_task("c", &offer, "run"),
        ],
    )
    .await;
    for task in ["a", "b"] {
        fw.status(task, TaskState::TaskRunning).await;
        let finished = fw.status(task, TaskState::TaskFinished).await;
        assert_eq!(
            finished.executor_id.as_ref().map(|e| e.value.as_str()),
            Some("sdk")
        );
    }
    fw.status("c", TaskState::TaskRunning).await;
    // The driver's acknowledgements reach the agent, which forwards them to the
    // executor: two per finished task (RUNNING, FINISHED), one for the running task.
    for text in ["ack:a:1", "ack:a:2", "ack:b:1", "ack:b:2", "ack:c:1"] {
        let m = expect_message(&mut fw, text).await;
        assert_eq!(m.executor_id.value, "sdk");
        assert_eq!(m.agent_id, offer.agent_id);
    }

    // Scheduler -> executor -> scheduler.
    fw.client
        .message(
            offer.agent_id.clone(),
            v1::ExecutorId {
                value: "sdk".into(),
            },
            bytes("ping:42"),
        )
        .await
        .expect("MESSAGE accepted");
    expect_message(&mut fw, "pong:42").await;

    // KILL goes through the executor's `kill`.
    fw.client
        .kill(
            v1::TaskId { value: "c".into() },
            Some(offer.agent_id.clone()),
            None,
        )
        .await
        .expect("KILL accepted");
    fw.status("c", TaskState::TaskKilled).await;
    expect_message(&mut fw, "ack:c:2").await;

    // SHUTDOWN: the executor returns from `run` and exits 0.
    fw.client
        .shutdown(
            v1::ExecutorId {
                value: "sdk".into(),
            },
            offer.agent_id.clone(),
        )
        .await
        .expect("SHUTDOWN accepted");
    let failure = fw
        .expect("FAILURE of the executor", |s| match s {
            Seen::Failure(f) => Some(f.clone()),
            _ => None,
        })
        .await;
    assert_eq!(
        failure.executor_id.map(|e| e.value),
        Some("sdk".to_string())
    );
    assert_eq!(failure.status, Some(0), "the SDK executor exits cleanly");
    cluster.shutdown().await;
}

#[tokio::test]
async fn an_sdk_executor_runs_tasks_and_exchanges_messages_over_protobuf() {
    sdk_executor_runs_tasks_and_exchanges_messages(Encoding::Protobuf).await;
}

#[tokio::test]
async fn an_sdk_executor_runs_tasks_and_exchanges_messages_over_json() {
    sdk_executor_runs_tasks_and_exchanges_messages(Encoding::Json).await;
}
