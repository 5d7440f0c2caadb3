//! The scheduler runtime against scripted masters: redirects, retries, stream ids,
//! heartbeats, failover, acknowledgements, reconciliation and error reporting.

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use mesos_sdk::backoff::BackoffConfig;
use mesos_sdk::codec::Encoding;
use mesos_sdk::scheduler::{
    Scheduler, SchedulerBuilder, SchedulerClient, SchedulerDriver, SchedulerError,
};
use mesos_sdk::v1;
use mesos_sdk::v1::scheduler::{Call, Event, call, event};
use support::{Recorded, Reply, ScriptedServer, WAIT};
use tokio::sync::{Notify, mpsc};

fn framework() -> v1::FrameworkInfo {
    v1::FrameworkInfo {
        user: "tester".into(),
        name: "protocol-test".into(),
        ..Default::default()
    }
}

fn fast() -> BackoffConfig {
    BackoffConfig {
        initial: Duration::from_millis(5),
        max: Duration::from_millis(20),
        multiplier: 2.0,
        jitter: 0.0,
    }
}

fn builder(master: &str) -> SchedulerBuilder {
    SchedulerDriver::builder(master, framework())
        .backoff(fast())
        .reconcile_backoff(fast())
}

fn subscribed(id: &str, heartbeat: f64) -> Event {
    Event {
        r#type: Some(event::Type::Subscribed as i32),
        subscribed: Some(event::Subscribed {
            framework_id: v1::FrameworkId { value: id.into() },
            heartbeat_interval_seconds: Some(heartbeat),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn update(task: &str, uuid: Option<&[u8]>) -> Event {
    Event {
        r#type: Some(event::Type::Update as i32),
        update: Some(event::Update {
            status: v1::TaskStatus {
                task_id: v1::TaskId { value: task.into() },
                state: v1::TaskState::TaskRunning as i32,
                agent_id: Some(v1::AgentId {
                    value: "agent-1".into(),
                }),
                uuid: uuid.map(Bytes::copy_from_slice),
                ..Default::default()
            },
        }),
        ..Default::default()
    }
}

fn call_of(r: &Recorded) -> Call {
    r.decode::<Call>()
}

fn is_call(t: call::Type) -> impl FnMut(&Recorded) -> bool {
    move |r| call_of(r).r#type == Some(t as i32)
}

/// Master script: SUBSCRIBE opens a stream (ids s-1, s-2, ...), other calls get 202.
fn master_script() -> impl FnMut(&Recorded) -> Reply + Send + 'static {
    let mut n = 0;
    move |r| {
        if call_of(r).r#type == Some(call::Type::Subscribe as i32) {
            n += 1;
            Reply::stream(&format!("s-{n}"))
        } else {
            Reply::accepted()
        }
    }
}

/// What the test scheduler saw, in order.
#[derive(Debug, Clone, PartialEq)]
enum Seen {
    Connected,
    Subscribed(String),
    Update(String),
    UpdateDone(String),
    Disconnected,
    Error(String),
    CallFailed(u16, String),
}

struct Recorder {
    seen: mpsc::UnboundedSender<Seen>,
    /// When set, `update` waits for it before returning.
    gate: Option<Arc<Notify>>,
    /// Calls to make on every SUBSCRIBED.
    on_subscribed: Vec<Call>,
}

impl Recorder {
    fn new() -> (Self, mpsc::UnboundedReceiver<Seen>) {
        let (seen, rx) = mpsc::unbounded_channel();
        (
            Recorder {
                seen,
                gate: None,
                on_subscribed: Vec::new(),
            },
            rx,
        )
    }
}

#[async_trait::async_trait]
impl Scheduler for Recorder {
    async fn connected(&mut self, _client: &SchedulerClient) {
        let _ = self.seen.send(Seen::Connected);
    }
    async fn subscribed(&mut self, client: &SchedulerClient, s: event::Subscribed) {
        let _ = self.seen.send(Seen::Subscribed(s.framework_id.value));
        for c in self.on_subscribed.clone() {
            if let Err(e) = client.call(c).await {
                let api = e.api().expect("an HTTP answer");
                let _ = self
                    .seen
                    .send(Seen::CallFailed(api.status, api.message.clone()));
            }
        }
    }
    async fn update(&mut self, _client: &SchedulerClient, status: v1::TaskStatus) {
        let _ = self.seen.send(Seen::Update(status.task_id.value.clone()));
        if let Some(gate) = &self.gate {
            gate.notified().await;
        }
        let _ = self.seen.send(Seen::UpdateDone(status.task_id.value));
    }
    async fn error(&mut self, _client: &SchedulerClient, message: String) {
        let _ = self.seen.send(Seen::Error(message));
    }
    async fn disconnected(&mut self, _client: &SchedulerClient) {
        let _ = self.seen.send(Seen::Disconnected);
    }
}

async fn expect(rx: &mut mpsc::UnboundedReceiver<Seen>, want: Seen) {
    loop {
        let got = tokio::time::timeout(WAIT, rx.recv())
            .await
            .unwrap_or_else(|_| panic!("timed out waiting for {want:?}"))
            .expect("scheduler gone");
        if got == want {
            return;
        }
    }
}

fn revive() -> Call {
    Call {
        r#type: Some(call::Type::Revive as i32),
        revive: Some(call::Revive::default()),
        ..Default::default()
    }
}

#[tokio::test]
async fn follows_a_redirect_chain_to_the_leader_and_calls_it() {
    let mut leader = ScriptedServer::start(master_script()).await;
    let leader_loc = format!("//{}/api/v1/scheduler", leader.addr);
    let mut middle = ScriptedServer::start(move |_| Reply::redirect(&leader_loc)).await;
    let middle_loc = format!("//{}/api/v1/scheduler", middle.addr);
    let mut first = ScriptedServer::start(move |_| Reply::redirect(&middle_loc)).await;

    let driver = builder(&first.url()).build().unwrap();
    let client = driver.client();
    let (mut sched, mut seen) = Recorder::new();
    sched.on_subscribed = vec![revive()];
    let run = tokio::spawn(driver.run(sched));

    assert_eq!(first.next_request().await.path, "/api/v1/scheduler");
    assert!(call_of(&middle.next_request().await).subscribe.is_some());
    let stream = leader.next_stream().await;
    stream.send(Encoding::Protobuf, &subscribed("fw-1", 15.0));
    expect(&mut seen, Seen::Subscribed("fw-1".into())).await;
    let revive = leader.next_matching(is_call(call::Type::Revive)).await;
    assert_eq!(revive.header("mesos-stream-id").as_deref(), Some("s-1"));
    assert_eq!(call_of(&revive).framework_id.unwrap().value, "fw-1");
    assert_eq!(client.leader().unwrap().port(), Some(leader.addr.port()));

    client.stop();
    tokio::time::timeout(WAIT, run)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn retries_after_503_then_subscribes() {
    let mut attempts = 0;
    let mut inner = master_script();
    let mut master = ScriptedServer::start(move |r| {
        attempts += 1;
        if attempts <= 2 {
            Reply::status(503, "No leader elected")
        } else {
            inner(r)
        }
    })
    .await;
    let driver = builder(&master.url()).build().unwrap();
    let client = driver.client();
    let (sched, mut seen) = Recorder::new();
    let run = tokio::spawn(driver.run(sched));
    for _ in 0..2 {
        assert!(call_of(&master.next_request().await).subscribe.is_some());
    }
    let stream = master.next_stream().await;
    stream.send(Encoding::Protobuf, &subscribed("fw-503", 15.0));
    expect(&mut seen, Seen::Subscribed("fw-503".into())).await;
    client.stop();
    tokio::time::timeout(WAIT, run)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn a_cut_stream_resubscribes_with_the_framework_id_and_a_new_stream_id() {
    let mut master = ScriptedServer::start(master_script()).await;
    let driver = builder(&master.url()).build().unwrap();
    let client = driver.client();
    let (mut sched, mut seen) = Recorder::new();
    sched.on_subscribed = vec![revive()];
    let run = tokio::spawn(driver.run(sched));

    let first = master.next_stream().await;
    assert!(first.request.header("mesos-stream-id").is_none());
    first.send(Encoding::Protobuf, &subscribed("fw-cut", 15.0));
    expect(&mut seen, Seen::Subscribed("fw-cut".into())).await;
    let r = master.next_matching(is_call(call::Type::Revive)).await;
    assert_eq!(r.header("mesos-stream-id").as_deref(), Some("s-1"));
    // Half a record, then the connection drops.
    first.send_raw(&b"120\n\x08\x04"[..]);
    drop(first);
    expect(&mut seen, Seen::Disconnected).await;

    let second = master.next_stream().await;
    assert!(
        second.request.header("mesos-stream-id").is_none(),
        "SUBSCRIBE carries no stream id"
    );
    let resubscribe = call_of(&second.request);
    assert_eq!(resubscribe.framework_id.as_ref().unwrap().value, "fw-cut");
    let info = resubscribe.subscribe.unwrap().framework_info;
    assert_eq!(info.id.unwrap().value, "fw-cut");
    second.send(Encoding::Protobuf, &subscribed("fw-cut", 15.0));
    let r = master.next_matching(is_call(call::Type::Revive)).await;
    assert_eq!(r.header("mesos-stream-id").as_deref(), Some("s-2"));
    client.stop();
    tokio::time::timeout(WAIT, run)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn heartbeat_silence_resubscribes_with_the_same_framework_id() {
    let mut master = ScriptedServer::start(master_script()).await;
    let driver = builder(&master.url()).heartbeat_misses(2).build().unwrap();
    let client = driver.client();
    let (sched, mut seen) = Recorder::new();
    let run = tokio::spawn(driver.run(sched));

    let first = master.next_stream().await;
    // 20 ms heartbeats; two missed ones end the subscription. The stream stays open.
    first.send(Encoding::Protobuf, &subscribed("fw-hb", 0.02));
    expect(&mut seen, Seen::Subscribed("fw-hb".into())).await;
    expect(&mut seen, Seen::Disconnected).await;
    let second = master.next_stream().await;
    let call = call_of(&second.request);
    assert_eq!(call.framework_id.unwrap().value, "fw-hb");
    assert_eq!(
        call.subscribe.unwrap().framework_info.id.unwrap().value,
        "fw-hb"
    );
    drop(first);
    client.stop();
    tokio::time::timeout(WAIT, run)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn a_400_is_a_typed_error_with_the_masters_message() {
    let master = ScriptedServer::start(|_| Reply::status(400, "Framework has been removed")).await;
    let driver = builder(&master.url()).build().unwrap();
    let (sched, _seen) = Recorder::new();
    let err = tokio::time::timeout(WAIT, driver.run(sched))
        .await
        .unwrap()
        .unwrap_err();
    let api = err.api().expect("the master's answer");
    assert_eq!(api.status, 400);
    assert_eq!(api.message, "Framework has been removed");
    assert!(
        err.to_string().contains("Framework has been removed"),
        "{err}"
    );
}

#[tokio::test]
async fn a_refused_call_reports_status_and_message() {
    let mut inner = master_script();
    let mut master = ScriptedServer::start(move |r| {
        if call_of(r).r#type == Some(call::Type::Revive as i32) {
            Reply::status(403, "Framework is not subscribed")
        } else {
            inner(r)
        }
    })
    .await;
    let driver = builder(&master.url()).build().unwrap();
    let client = driver.client();
    let (mut sched, mut seen) = Recorder::new();
    sched.on_subscribed = vec![revive()];
    let run = tokio::spawn(driver.run(sched));
    let stream = master.next_stream().await;
    stream.send(Encoding::Protobuf, &subscribed("fw", 15.0));
    expect(
        &mut seen,
        Seen::CallFailed(403, "Framework is not subscribed".into()),
    )
    .await;
    client.stop();
    tokio::time::timeout(WAIT, run)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn calls_before_subscription_are_refused_locally() {
    let driver = builder("http://127.0.0.1:9").build().unwrap();
    let err = driver.client().revive(vec![]).await.unwrap_err();
    assert!(matches!(err, SchedulerError::NotSubscribed), "{err}");
}

#[tokio::test]
async fn auto_ack_is_sent_only_after_update_returns_and_never_without_uuid() {
    let log: Arc<Mutex<Vec<String>>> = Arc::default();
    let server_log = log.clone();
    let mut inner = master_script();
    let mut master = ScriptedServer::start(move |r| {
        let c = call_of(r);
        if let Some(ack) = &c.acknowledge {
            server_log
                .lock()
                .unwrap()
                .push(format!("ack {}", ack.task_id.value));
        }
        inner(r)
    })
    .await;
    let driver = builder(&master.url())
        .encoding(Encoding::Json)
        .build()
        .unwrap();
    let client = driver.client();
    let (mut sched, mut seen) = Recorder::new();
    let gate = Arc::new(Notify::new());
    sched.gate = Some(gate.clone());
    let run = tokio::spawn(driver.run(sched));

    let stream = master.next_stream().await;
    stream.send(Encoding::Json, &subscribed("fw-ack", 15.0));
    stream.send(Encoding::Json, &update("no-uuid", None));
    stream.send(Encoding::Json, &update("with-uuid", Some(&[7u8; 16])));

    expect(&mut seen, Seen::Update("no-uuid".into())).await;
    gate.notify_one();
    expect(&mut seen, Seen::Update("with-uuid".into())).await;
    log.lock().unwrap().push("update returned".into());
    gate.notify_one();
    let ack = master.next_matching(is_call(call::Type::Acknowledge)).await;
    let ack_call = call_of(&ack);
    let body = ack_call.acknowledge.unwrap();
    assert_eq!(body.task_id.value, "with-uuid");
    assert_eq!(body.agent_id.value, "agent-1");
    assert_eq!(body.uuid.as_ref(), &[7u8; 16]);
    assert_eq!(ack.header("mesos-stream-id").as_deref(), Some("s-1"));
    assert_eq!(
        ack.header("content-type").as_deref(),
        Some("application/json")
    );
    assert_eq!(
        *log.lock().unwrap(),
        vec!["update returned", "ack with-uuid"]
    );
    client.stop();
    tokio::time::timeout(WAIT, run)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn reconciles_listed_tasks_until_they_report_then_implicitly() {
    let mut master = ScriptedServer::start(master_script()).await;
    let t1 = v1::TaskId { value: "t1".into() };
    let driver = builder(&master.url())
        .reconcile_tasks(vec![(t1.clone(), None)])
        .build()
        .unwrap();
    let client = driver.client();
    let (sched, _seen) = Recorder::new();
    let run = tokio::spawn(driver.run(sched));
    let stream = master.next_stream().await;
    stream.send(Encoding::Protobuf, &subscribed("fw-rec", 15.0));
    let explicit = call_of(&master.next_matching(is_call(call::Type::Reconcile)).await);
    assert_eq!(explicit.reconcile.unwrap().tasks[0].task_id, t1);
    // Not answered: asked again after the backoff.
    let again = call_of(&master.next_matching(is_call(call::Type::Reconcile)).await);
    assert_eq!(again.reconcile.unwrap().tasks.len(), 1);
    stream.send(Encoding::Protobuf, &update("t1", None));
    loop {
        let c = call_of(&master.next_matching(is_call(call::Type::Reconcile)).await);
        if c.reconcile.unwrap().tasks.is_empty() {
            break; // the implicit round
        }
    }
    client.stop();
    tokio::time::timeout(WAIT, run)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn an_error_event_ends_the_driver_with_the_message() {
    let mut master = ScriptedServer::start(master_script()).await;
    let driver = builder(&master.url()).build().unwrap();
    let (sched, mut seen) = Recorder::new();
    let run = tokio::spawn(driver.run(sched));
    let stream = master.next_stream().await;
    stream.send(
        Encoding::Protobuf,
        &Event {
            r#type: Some(event::Type::Error as i32),
            error: Some(event::Error {
                message: "Framework removed".into(),
            }),
            ..Default::default()
        },
    );
    expect(&mut seen, Seen::Error("Framework removed".into())).await;
    let err = tokio::time::timeout(WAIT, run)
        .await
        .unwrap()
        .unwrap()
        .unwrap_err();
    assert!(matches!(err, SchedulerError::Master(m) if m == "Framework removed"));
}

#[tokio::test]
async fn gives_up_after_the_configured_reconnect_attempts() {
    let mut master = ScriptedServer::start(|_| Reply::status(503, "recovering")).await;
    let driver = builder(&master.url())
        .max_reconnect_attempts(Some(2))
        .build()
        .unwrap();
    let (sched, _seen) = Recorder::new();
    let err = tokio::time::timeout(WAIT, driver.run(sched))
        .await
        .unwrap()
        .unwrap_err();
    assert!(
        matches!(err, SchedulerError::ReconnectsExhausted { attempts: 3, .. }),
        "{err}"
    );
    assert_eq!(err.api().unwrap().status, 503);
    for _ in 0..3 {
        master.next_request().await;
    }
}

#[tokio::test]
async fn credentials_are_sent_as_http_basic() {
    let mut master = ScriptedServer::start(|_| Reply::status(401, "bad credentials")).await;
    let driver = builder(&master.url())
        .credentials("principal", "secret")
        .build()
        .unwrap();
    let (sched, _seen) = Recorder::new();
    let err = tokio::time::timeout(WAIT, driver.run(sched))
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(err.api().unwrap().status, 401);
    let r = master.next_request().await;
    // base64("principal:secret")
    assert_eq!(
        r.header("authorization").as_deref(),
        Some("Basic cHJpbmNpcGFsOnNlY3JldA==")
    );
}

#[tokio::test]
async fn launch_is_an_accept_with_one_launch_and_teardown_ends_the_run() {
    let mut master = ScriptedServer::start(master_script()).await;
    let driver = builder(&master.url()).build().unwrap();
    let client = driver.client();
    let (sched, mut seen) = Recorder::new();
    let run = tokio::spawn(driver.run(sched));
    let stream = master.next_stream().await;
    stream.send(Encoding::Protobuf, &subscribed("fw-td", 15.0));
    expect(&mut seen, Seen::Subscribed("fw-td".into())).await;

    let task = v1::TaskInfo {
        name: "t".into(),
        task_id: v1::TaskId { value: "t".into() },
        agent_id: v1::AgentId { value: "a".into() },
        ..Default::default()
    };
    client
        .launch(
            v1::OfferId {
                value: "o-1".into(),
            },
            vec![task.clone()],
        )
        .await
        .unwrap();
    let accept = call_of(&master.next_matching(is_call(call::Type::Accept)).await)
        .accept
        .unwrap();
    assert_eq!(
        accept.offer_ids,
        vec![v1::OfferId {
            value: "o-1".into()
        }]
    );
    assert_eq!(accept.operations.len(), 1);
    let op = &accept.operations[0];
    assert_eq!(op.r#type, Some(v1::offer::operation::Type::Launch as i32));
    assert_eq!(op.launch.as_ref().unwrap().task_infos, vec![task]);

    client.teardown().await.unwrap();
    let teardown = master.next_matching(is_call(call::Type::Teardown)).await;
    assert_eq!(teardown.header("mesos-stream-id").as_deref(), Some("s-1"));
    assert_eq!(call_of(&teardown).framework_id.unwrap().value, "fw-td");
    tokio::time::timeout(WAIT, run)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(client.is_stopped());
}

#[tokio::test]
async fn tries_the_next_master_of_a_list_when_one_is_down() {
    // A port nothing listens on any more.
    let dead = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let dead_addr = dead.local_addr().unwrap();
    drop(dead);
    let mut master = ScriptedServer::start(master_script()).await;
    let list = format!("http://{dead_addr}, {}", master.url());
    let driver = builder(&list).build().unwrap();
    let client = driver.client();
    let (sched, mut seen) = Recorder::new();
    let run = tokio::spawn(driver.run(sched));
    let stream = master.next_stream().await;
    stream.send(Encoding::Protobuf, &subscribed("fw-list", 15.0));
    expect(&mut seen, Seen::Subscribed("fw-list".into())).await;
    assert_eq!(client.leader().unwrap().port(), Some(master.addr.port()));
    client.stop();
    tokio::time::timeout(WAIT, run)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn reconcile_operations_carries_agent_and_resource_provider_ids() {
    let mut master = ScriptedServer::start(master_script()).await;
    let driver = builder(&master.url()).build().unwrap();
    let client = driver.client();
    let (sched, mut seen) = Recorder::new();
    let run = tokio::spawn(driver.run(sched));
    let stream = master.next_stream().await;
    stream.send(Encoding::Protobuf, &subscribed("fw-ro", 15.0));
    expect(&mut seen, Seen::Subscribed("fw-ro".into())).await;

    let operation = v1::OperationId {
        value: "op-1".into(),
    };
    let agent = v1::AgentId {
        value: "a-1".into(),
    };
    let provider = v1::ResourceProviderId {
        value: "rp-1".into(),
    };
    client
        .reconcile_operations(vec![(
            operation.clone(),
            Some(agent.clone()),
            Some(provider.clone()),
        )])
        .await
        .unwrap();
    let call = call_of(
        &master
            .next_matching(is_call(call::Type::ReconcileOperations))
            .await,
    );
    assert_eq!(call.framework_id.unwrap().value, "fw-ro");
    let listed = call.reconcile_operations.unwrap().operations;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].operation_id, operation);
    assert_eq!(listed[0].agent_id, Some(agent));
    assert_eq!(listed[0].resource_provider_id, Some(provider));
    client.stop();
    tokio::time::timeout(WAIT, run)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
}
