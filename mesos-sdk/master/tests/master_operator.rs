//! The operator API (`POST /api/v1`) and the legacy JSON endpoints against a real
//! `LocalCluster` over HTTP: every call in both encodings with its status, bad input
//! with Mesos's statuses, the SUBSCRIBE event stream, and the subscriber cap.

mod support;

use std::time::Duration;

use futures::StreamExt;
use mesos_master::{LocalCluster, MasterConfig};
use mesos_sdk::codec::Encoding;
use mesos_sdk::operator::{OperatorClient, Subscription};
use mesos_sdk::resources::{Resources, reserve_dynamic};
use mesos_sdk::v1;
use mesos_sdk::v1::master::{Call, Event, call, event};
use support::scheduler::{client, subscribe};
use support::*;

async fn cluster(config: MasterConfig) -> LocalCluster {
    LocalCluster::builder()
        .agents(1)
        .resources("cpus:2;mem:512;disk:1024")
        .allocation_interval(Duration::from_millis(50))
        .heartbeat_interval(Duration::from_millis(300))
        .kill_grace_period(Duration::from_millis(300))
        .master_config(config)
        .start()
        .await
        .expect("cluster starts")
}

fn config() -> MasterConfig {
    let mut config = MasterConfig::default();
    config.heartbeat_interval = Duration::from_millis(300);
    config.allocation_interval = Duration::from_millis(50);
    config
}

fn operator(url: &str, encoding: Encoding) -> OperatorClient {
    OperatorClient::builder(url)
        .encoding(encoding)
        .build()
        .expect("operator client")
}

/// Posts raw bytes to `/api/v1`.
async fn raw(
    url: &str,
    content_type: Option<&str>,
    accept: Option<&str>,
    body: Vec<u8>,
) -> reqwest::Response {
    let mut request = client().post(format!("{url}/api/v1")).body(body);
    if let Some(c) = content_type {
        request = request.header("Content-Type", c);
    }
    if let Some(a) = accept {
        request = request.header("Accept", a);
    }
    request.send().await.expect("request sent")
}

/// Posts a call in `encoding` and returns its status and body text.
async fn post(url: &str, encoding: Encoding, call: &Call) -> (u16, String) {
    let ct = encoding.content_type();
    let r = raw(url, Some(ct), Some(ct), encoding.encode(call)).await;
    let status = r.status().as_u16();
    (status, r.text().await.unwrap_or_default())
}

fn status_of(e: &mesos_sdk::operator::OperatorError) -> u16 {
    e.api()
        .map(|a| a.status)
        .unwrap_or_else(|| panic!("no HTTP answer: {e}"))
}

#[tokio::test]
async fn every_read_call_answers_200_with_its_response_in_both_encodings() {
    let c = cluster(config()).await;
    let mut s = subscribe(&c.url(), Encoding::Json, framework_info("reader")).await;
    let offer = s.offers().await.remove(0);
    s.launch(&offer, vec![command_task("t1", &offer, "sleep 30")])
        .await;
    s.until_state("t1", v1::TaskState::TaskRunning).await;
    for encoding in [Encoding::Protobuf, Encoding::Json] {
        let op = operator(&c.url(), encoding);
        assert!(op.get_health().await.unwrap());
        let flags = op.get_flags().await.unwrap();
        assert!(flags.iter().any(|f| f.name == "allocation_interval"));
        assert_eq!(
            op.get_version().await.unwrap().version,
            env!("CARGO_PKG_VERSION")
        );
        let metrics = op.get_metrics(None).await.unwrap();
        let running = metrics
            .iter()
            .find(|m| m.name == "master/tasks_running")
            .expect("master/tasks_running");
        assert_eq!(running.value, Some(1.0));
        assert_eq!(op.get_logging_level().await.unwrap(), 0);
        let state = op.get_state().await.unwrap();
        let tasks = state.get_tasks.unwrap().tasks;
        assert_eq!(tasks.len(), 1);
        assert_eq!(tasks[0].task_id.value, "t1");
        assert_eq!(tasks[0].state(), v1::TaskState::TaskRunning);
        let frameworks = state.get_frameworks.unwrap().frameworks;
        assert_eq!(frameworks[0].framework_info.name, "reader");
        assert!(frameworks[0].active && frameworks[0].connected);
        let agents = op.get_agents().await.unwrap().agents;
        assert_eq!(agents.len(), 1);
        assert!(agents[0].active);
        let total = Resources::from(agents[0].total_resources.clone());
        assert_eq!(total.cpus(), 2.0);
        let allocated = Resources::from(agents[0].allocated_resources.clone());
        assert!((allocated.cpus() - 0.1).abs() < 1e-9);
        assert_eq!(op.get_frameworks().await.unwrap().frameworks.len(), 1);
        assert!(op.get_executors().await.unwrap().executors.is_empty());
        assert_eq!(op.get_tasks().await.unwrap().tasks.len(), 1);
        let roles = op.get_roles().await.unwrap();
        assert_eq!(roles[0].name, "*");
        assert_eq!(roles[0].frameworks[0], s.framework_id);
        assert!(op.get_operations().await.unwrap().is_empty());
        let master = op.get_master().await.unwrap();
        assert_eq!(master.master_info.unwrap().port, u32::from(c.addr().port()));
        assert!(op.get_weights().await.unwrap().is_empty());
    }
    c.shutdown().await;
}

#[tokio::test]
async fn calls_that_change_the_cluster_answer_200_or_202() {
    let c = cluster(config()).await;
    let op = operator(&c.url(), Encoding::Json);
    // UPDATE_WEIGHTS: 200, then visible in GET_WEIGHTS and GET_ROLES.
    op.update_weights([("gold", 2.5)]).await.unwrap();
    let weights = op.get_weights().await.unwrap();
    assert_eq!(weights.len(), 1);
    assert_eq!(
        (weights[0].role.as_deref(), weights[0].weight),
        (Some("gold"), 2.5)
    );
    assert!(
        op.get_roles()
            .await
            .unwrap()
            .iter()
            .any(|r| r.name == "gold" && r.weight == 2.5)
    );
    // RESERVE_RESOURCES / UNRESERVE_RESOURCES: 202, applied to the agent's total.
    let agent = op
        .get_agents()
        .await
        .unwrap()
        .agents
        .remove(0)
        .agent_info
        .id
        .unwrap();
    let reserved = vec![reserve_dynamic(scalar("cpus", 1.0), "gold", Some("ops"))];
    let call = mesos_sdk::calls::operator::reserve_resources(agent.clone(), reserved.clone());
    let (status, body) = post(&c.url(), Encoding::Protobuf, &call).await;
    assert_eq!(status, 202, "{body}");
    let total = |agents: v1::master::response::GetAgents| {
        Resources::from(agents.agents[0].total_resources.clone())
    };
    let now = total(op.get_agents().await.unwrap());
    assert_eq!(now.reserved("gold").cpus(), 1.0);
    assert_eq!(now.cpus(), 2.0);
    op.unreserve_resources(agent.clone(), reserved)
        .await
        .unwrap();
    assert_eq!(
        total(op.get_agents().await.unwrap())
            .reserved("gold")
            .cpus(),
        0.0
    );
    // DEACTIVATE_AGENT / REACTIVATE_AGENT: 200.
    op.deactivate_agent(agent.clone()).await.unwrap();
    let view = op.get_agents().await.unwrap().agents.remove(0);
    assert_eq!((view.active, view.deactivated), (false, Some(true)));
    op.reactivate_agent(agent.clone()).await.unwrap();
    assert!(op.get_agents().await.unwrap().agents[0].active);
    // TEARDOWN: 200; the framework is gone.
    let s = subscribe(&c.url(), Encoding::Json, framework_info("doomed")).await;
    let call = mesos_sdk::calls::operator::teardown(s.framework_id.clone());
    assert_eq!(post(&c.url(), Encoding::Json, &call).await.0, 200);
    assert!(op.get_frameworks().await.unwrap().frameworks.is_empty());
    // MARK_AGENT_GONE: 200, twice.
    op.mark_agent_gone(agent.clone()).await.unwrap();
    op.mark_agent_gone(agent).await.unwrap();
    assert!(op.get_agents().await.unwrap().agents.is_empty());
    c.shutdown().await;
}

#[tokio::test]
async fn a_deactivated_agent_is_not_offered() {
    let c = cluster(config()).await;
    let op = operator(&c.url(), Encoding::Protobuf);
    let agent = op
        .get_agents()
        .await
        .unwrap()
        .agents
        .remove(0)
        .agent_info
        .id
        .unwrap();
    let mut s = subscribe(&c.url(), Encoding::Json, framework_info("offers")).await;
    s.offers().await;
    op.deactivate_agent(agent.clone()).await.unwrap();
    s.expect("RESCIND", |e| e.rescind.is_some()).await;
    op.reactivate_agent(agent).await.unwrap();
    s.offers().await;
    c.shutdown().await;
}

#[tokio::test]
async fn bad_requests_get_mesos_statuses_and_messages() {
    let c = cluster(config()).await;
    let url = c.url();
    let json = Some("application/json");
    let cases: Vec<(&str, reqwest::Response, u16, &str)> = vec![
        (
            "no content type",
            raw(&url, None, None, b"{}".to_vec()).await,
            400,
            "Expecting 'Content-Type' to be present",
        ),
        (
            "text/plain",
            raw(&url, Some("text/plain"), None, b"{}".to_vec()).await,
            415,
            "Expecting 'Content-Type' of application/json or application/x-protobuf",
        ),
        (
            "not JSON",
            raw(&url, json, None, b"{nope".to_vec()).await,
            400,
            "Failed to convert JSON into Call protobuf",
        ),
        (
            "not protobuf",
            raw(&url, Some("application/x-protobuf"), None, vec![0xff, 0xff]).await,
            400,
            "Failed to parse body into Call protobuf",
        ),
        (
            "no type",
            raw(&url, json, None, b"{}".to_vec()).await,
            400,
            "Failed to validate master::Call: Expecting 'type' to be present",
        ),
        (
            "no payload",
            raw(&url, json, None, br#"{"type":"TEARDOWN"}"#.to_vec()).await,
            400,
            "Failed to validate master::Call: Expecting 'teardown' to be present",
        ),
        (
            "missing required field",
            raw(&url, json, None, br#"{"type":"TEARDOWN","teardown":{}}"#.to_vec()).await,
            400,
            "framework_id",
        ),
        (
            "unknown framework",
            raw(
                &url,
                json,
                None,
                br#"{"type":"TEARDOWN","teardown":{"framework_id":{"value":"nope"}}}"#.to_vec(),
            )
            .await,
            400,
            "No framework found with specified ID",
        ),
        (
            "unknown agent gone",
            raw(
                &url,
                json,
                None,
                br#"{"type":"MARK_AGENT_GONE","mark_agent_gone":{"agent_id":{"value":"nope"}}}"#
                    .to_vec(),
            )
            .await,
            404,
            "Agent 'nope' not found",
        ),
        (
            "unknown agent deactivated",
            raw(
                &url,
                json,
                None,
                br#"{"type":"DEACTIVATE_AGENT","deactivate_agent":{"agent_id":{"value":"nope"}}}"#
                    .to_vec(),
            )
            .await,
            400,
            "Unknown agent",
        ),
        (
            "reactivating an active agent",
            raw(
                &url,
                json,
                None,
                br#"{"type":"REACTIVATE_AGENT","reactivate_agent":{"agent_id":{"value":"nope"}}}"#
                    .to_vec(),
            )
            .await,
            400,
            "Agent is not deactivated",
        ),
        (
            "reserving on an unknown agent",
            raw(
                &url,
                json,
                None,
                br#"{"type":"RESERVE_RESOURCES","reserve_resources":{"agent_id":{"value":"nope"},"resources":[]}}"#
                    .to_vec(),
            )
            .await,
            400,
            "No agent found with specified ID",
        ),
        (
            "a weight that is not positive",
            raw(
                &url,
                json,
                None,
                br#"{"type":"UPDATE_WEIGHTS","update_weights":{"weight_infos":[{"role":"r","weight":0}]}}"#
                    .to_vec(),
            )
            .await,
            400,
            "Weights must be positive",
        ),
        (
            "Accept nothing servable",
            raw(&url, json, Some("text/html"), br#"{"type":"GET_HEALTH"}"#.to_vec()).await,
            406,
            "Expecting 'Accept' to allow",
        ),
        (
            "UNKNOWN",
            raw(&url, json, None, br#"{"type":"UNKNOWN"}"#.to_vec()).await,
            501,
            "UNKNOWN",
        ),
        (
            "a call type not built",
            raw(&url, json, None, br#"{"type":"GET_QUOTA"}"#.to_vec()).await,
            501,
            "Operator call 'GET_QUOTA' is not implemented by this master",
        ),
        (
            "a type number not in the schema",
            raw(
                &url,
                Some("application/x-protobuf"),
                None,
                Call {
                    r#type: Some(999),
                    ..Default::default()
                }
                .encode_to(),
            )
            .await,
            501,
            "UNKNOWN (999)",
        ),
        (
            "a body over the limit",
            raw(&url, json, None, vec![b' '; MasterConfig::default().max_body_bytes + 1]).await,
            413,
            "",
        ),
    ];
    for (what, response, status, message) in cases {
        assert_eq!(response.status().as_u16(), status, "{what}");
        let body = response.text().await.unwrap();
        assert!(body.contains(message), "{what}: {body:?} lacks {message:?}");
    }
    let get = client().get(format!("{url}/api/v1")).send().await.unwrap();
    assert_eq!(get.status(), 405);
    assert_eq!(get.headers()["Allow"], "POST");
    // The typed client reports the same statuses.
    let op = operator(&url, Encoding::Protobuf);
    let unknown = v1::FrameworkId {
        value: "nope".into(),
    };
    assert_eq!(status_of(&op.teardown(unknown).await.unwrap_err()), 400);
    let quota = mesos_sdk::calls::operator::simple(call::Type::GetQuota);
    assert_eq!(status_of(&op.call(quota).await.unwrap_err()), 501);
    c.shutdown().await;
}

trait EncodeTo {
    fn encode_to(&self) -> Vec<u8>;
}

impl EncodeTo for Call {
    fn encode_to(&self) -> Vec<u8> {
        Encoding::Protobuf.encode(self)
    }
}

/// The next event that is not a HEARTBEAT.
async fn next_change(events: &mut Subscription) -> Event {
    loop {
        let event = tokio::time::timeout(WAIT, events.next())
            .await
            .expect("an event in time")
            .expect("stream open")
            .expect("event decodes");
        if event.r#type() != event::Type::Heartbeat {
            return event;
        }
    }
}

#[tokio::test]
async fn subscribe_streams_one_task_life_in_apply_order() {
    for encoding in [Encoding::Json, Encoding::Protobuf] {
        let c = cluster(config()).await;
        let op = operator(&c.url(), encoding);
        let mut events = op.subscribe().await.unwrap();
        let first = next_change(&mut events).await;
        assert_eq!(first.r#type(), event::Type::Subscribed);
        let subscribed = first.subscribed.unwrap();
        assert_eq!(subscribed.heartbeat_interval_seconds, Some(0.3));
        let state = subscribed.get_state.unwrap();
        assert_eq!(state.get_agents.unwrap().agents.len(), 1);
        assert!(state.get_frameworks.unwrap().frameworks.is_empty());

        let mut s = subscribe(&c.url(), Encoding::Json, framework_info("life")).await;
        let offer = s.offers().await.remove(0);
        s.launch(&offer, vec![command_task("t", &offer, "sleep 0.2")])
            .await;
        s.until_state("t", v1::TaskState::TaskFinished).await;
        let mut seen = Vec::new();
        loop {
            let e = next_change(&mut events).await;
            let done = e
                .task_updated
                .as_ref()
                .is_some_and(|u| u.state() == v1::TaskState::TaskFinished);
            seen.push(e);
            if done {
                break;
            }
        }
        let kinds: Vec<String> = seen
            .iter()
            .map(|e| match &e.task_updated {
                Some(u) => format!("TASK_UPDATED {}", u.state().as_str_name()),
                None => e.r#type().as_str_name().to_string(),
            })
            .collect();
        assert_eq!(
            kinds,
            [
                "FRAMEWORK_ADDED",
                "TASK_ADDED",
                "TASK_UPDATED TASK_STARTING",
                "TASK_UPDATED TASK_RUNNING",
                "TASK_UPDATED TASK_FINISHED",
            ],
            "{encoding}"
        );
        let added = seen[1].task_added.as_ref().unwrap();
        assert_eq!(added.task.task_id.value, "t");
        assert_eq!(added.task.state(), v1::TaskState::TaskStaging);
        assert_eq!(
            seen[0]
                .framework_added
                .as_ref()
                .unwrap()
                .framework
                .framework_info
                .name,
            "life"
        );
        let updated = seen[4].task_updated.as_ref().unwrap();
        assert_eq!(updated.framework_id, s.framework_id);
        assert_eq!(updated.status.task_id.value, "t");

        // The framework leaves: FRAMEWORK_REMOVED.
        op.teardown(s.framework_id.clone()).await.unwrap();
        let removed = next_change(&mut events).await;
        assert_eq!(removed.r#type(), event::Type::FrameworkRemoved);
        assert_eq!(
            removed.framework_removed.unwrap().framework_info.id,
            Some(s.framework_id.clone())
        );
        // An agent joins and leaves: AGENT_ADDED, AGENT_REMOVED.
        let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
        let info = v1::AgentInfo {
            hostname: "extra".into(),
            resources: Resources::parse("cpus:1").unwrap().into_vec(),
            ..Default::default()
        };
        let id = c.master().add_agent(info, tx);
        let added = next_change(&mut events).await;
        assert_eq!(added.r#type(), event::Type::AgentAdded);
        assert_eq!(
            added.agent_added.unwrap().agent.agent_info.hostname,
            "extra"
        );
        c.master().remove_agent(&id);
        let removed = next_change(&mut events).await;
        assert_eq!(removed.agent_removed.unwrap().agent_id.value, id);
        c.shutdown().await;
    }
}

#[tokio::test]
async fn heartbeats_arrive_at_the_announced_interval() {
    let c = cluster(config()).await;
    let op = operator(&c.url(), Encoding::Protobuf);
    let mut events = op.subscribe().await.unwrap();
    let first = events.next().await.unwrap().unwrap();
    assert_eq!(first.r#type(), event::Type::Subscribed);
    let next = tokio::time::timeout(WAIT, events.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(next.r#type(), event::Type::Heartbeat);
    c.shutdown().await;
}

#[tokio::test]
async fn subscribers_beyond_the_cap_close_the_oldest() {
    let mut cfg = config();
    cfg.max_operator_subscribers = 2;
    let c = cluster(cfg).await;
    let op = operator(&c.url(), Encoding::Protobuf);
    let mut first = op.subscribe().await.unwrap();
    let mut second = op.subscribe().await.unwrap();
    let mut third = op.subscribe().await.unwrap();
    for s in [&mut first, &mut second, &mut third] {
        assert_eq!(next_change(s).await.r#type(), event::Type::Subscribed);
    }
    // The oldest stream ends; the two newest stay open and see heartbeats.
    let ended = tokio::time::timeout(WAIT, async {
        while let Some(Ok(_)) = first.next().await {}
    })
    .await;
    assert!(ended.is_ok(), "the oldest subscriber's stream ends");
    for s in [&mut second, &mut third] {
        let e = tokio::time::timeout(WAIT, s.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        assert_eq!(e.r#type(), event::Type::Heartbeat);
    }
    let metrics = c.metrics();
    assert_eq!(metrics["master/operator_event_stream_subscribers"], 2);
    c.shutdown().await;
}

#[tokio::test]
async fn the_event_stream_follows_a_master_restart() {
    let mut c = cluster(config()).await;
    let op = OperatorClient::builder(&c.url())
        .encoding(Encoding::Json)
        .heartbeat_misses(2)
        .backoff(mesos_sdk::backoff::BackoffConfig {
            initial: Duration::from_millis(20),
            max: Duration::from_millis(100),
            multiplier: 2.0,
            jitter: 0.0,
        })
        .build()
        .unwrap();
    let mut events = op.events();
    let first = tokio::time::timeout(WAIT, events.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(first.r#type(), event::Type::Subscribed);
    c.restart_master().await.unwrap();
    // A fresh SUBSCRIBED with the whole state arrives on the same stream.
    let again = tokio::time::timeout(WAIT, async {
        loop {
            let e = events.next().await.unwrap().unwrap();
            if e.r#type() == event::Type::Subscribed {
                return e;
            }
        }
    })
    .await
    .expect("resubscribed in time");
    assert_eq!(
        again
            .subscribed
            .unwrap()
            .get_state
            .unwrap()
            .get_agents
            .unwrap()
            .agents
            .len(),
        1
    );
    c.shutdown().await;
}

#[tokio::test]
async fn legacy_endpoints_answer_in_mesos_shapes() {
    let c = cluster(config()).await;
    let mut s = subscribe(&c.url(), Encoding::Json, framework_info("legacy")).await;
    let offer = s.offers().await.remove(0);
    s.launch(&offer, vec![command_task("t", &offer, "sleep 30")])
        .await;
    s.until_state("t", v1::TaskState::TaskRunning).await;
    let base = c.url();
    let get = |path: &'static str| {
        let url = format!("{base}{path}");
        async move {
            let r = client().get(url).send().await.unwrap();
            assert_eq!(r.status(), 200, "{path}");
            serde_json::from_slice::<serde_json::Value>(&r.bytes().await.unwrap()).unwrap()
        }
    };
    let version = get("/version").await;
    assert_eq!(version["version"], env!("CARGO_PKG_VERSION"));
    let summary = get("/state-summary").await;
    assert_eq!(summary["frameworks"][0]["name"], "legacy");
    assert_eq!(summary["frameworks"][0]["TASK_RUNNING"], 1);
    assert_eq!(summary["slaves"][0]["TASK_RUNNING"], 1);
    assert_eq!(summary["slaves"][0]["resources"]["cpus"], 2.0);
    let state = get("/master/state").await;
    assert_eq!(state["frameworks"][0]["tasks"][0]["state"], "TASK_RUNNING");
    let frameworks = get("/frameworks").await;
    assert_eq!(frameworks["frameworks"][0]["id"], s.framework_id.value);
    assert!(frameworks["completed_frameworks"].is_array());
    let slaves = get("/slaves").await;
    assert_eq!(slaves["slaves"].as_array().unwrap().len(), 1);
    let tasks = get("/tasks").await;
    assert_eq!(tasks["tasks"][0]["id"], "t");
    let roles = get("/roles").await;
    assert_eq!(roles["roles"][0]["name"], "*");
    assert_eq!(roles["roles"][0]["frameworks"][0], s.framework_id.value);
    let flags = get("/flags").await;
    assert_eq!(flags["flags"]["allocation_interval"], "0.05secs");
    let metrics = get("/metrics/snapshot").await;
    assert_eq!(metrics["master/tasks_running"], 1);
    assert_eq!(metrics["master/frameworks_active"], 1);
    assert_eq!(metrics["master/slaves_active"], 1);
    let redirect = client()
        .get(format!("{}/redirect", c.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(redirect.status(), 307);
    assert_eq!(
        redirect.headers()["Location"],
        format!("//{}", c.addr()).as_str()
    );
    c.shutdown().await;
}

/// `GET url`, decoded as JSON.
async fn get_json(url: &str) -> serde_json::Value {
    let response = client().get(url).send().await.expect("request sent");
    serde_json::from_slice(&response.bytes().await.expect("body")).expect("JSON")
}

/// The next event on a scheduler's stream, or `None` once it ended.
async fn next_or_end(s: &mut support::scheduler::Subscriber) -> Option<v1::scheduler::Event> {
    tokio::time::timeout(WAIT, s.events.recv())
        .await
        .expect("an event or the end of the stream in time")
}

#[tokio::test]
async fn removed_frameworks_and_finished_tasks_stay_in_the_operator_views() {
    let mut config = config();
    config.max_completed_frameworks = 1;
    let c = cluster(config).await;
    let op = operator(&c.url(), Encoding::Json);
    let mut s = subscribe(&c.url(), Encoding::Json, framework_info("finisher")).await;
    let offer = s.offers().await.remove(0);
    s.launch(
        &offer,
        vec![
            command_task("done", &offer, "true"),
            command_task("live", &offer, "sleep 30"),
        ],
    )
    .await;
    s.until_state("done", v1::TaskState::TaskFinished).await;
    s.until_state("live", v1::TaskState::TaskRunning).await;

    // A finished task whose update is acknowledged is still shown, as completed.
    let tasks = op.get_tasks().await.unwrap();
    assert_eq!(
        tasks
            .tasks
            .iter()
            .map(|t| t.task_id.value.as_str())
            .collect::<Vec<_>>(),
        ["live"]
    );
    let done = &tasks.completed_tasks[0];
    assert_eq!(done.task_id.value, "done");
    assert_eq!(done.state(), v1::TaskState::TaskFinished);
    assert_eq!(done.statuses[0].state(), v1::TaskState::TaskFinished);

    // The operator tears it down: as in Mesos its stream closes, with no ERROR.
    op.teardown(s.framework_id.clone()).await.unwrap();
    while let Some(event) = next_or_end(&mut s).await {
        assert_ne!(
            event.r#type(),
            v1::scheduler::event::Type::Error,
            "TEARDOWN by the operator sends no ERROR: {event:?}"
        );
    }

    // GET_FRAMEWORKS shows it among the completed, unregistered.
    let frameworks = op.get_frameworks().await.unwrap();
    assert!(frameworks.frameworks.is_empty());
    let completed = &frameworks.completed_frameworks[0];
    assert_eq!(completed.framework_info.id, Some(s.framework_id.clone()));
    assert!(!completed.active && !completed.connected);
    assert!(completed.unregistered_time.is_some());

    // Its running task was killed in the books, as Mesos does on removal.
    let tasks = op.get_tasks().await.unwrap();
    assert!(tasks.tasks.is_empty());
    let state_of = |id: &str| {
        let task = tasks
            .completed_tasks
            .iter()
            .find(|t| t.task_id.value == id)
            .unwrap_or_else(|| panic!("{id} among the completed tasks"));
        task.statuses[0].clone()
    };
    assert_eq!(state_of("done").state(), v1::TaskState::TaskFinished);
    let killed = state_of("live");
    assert_eq!(killed.state(), v1::TaskState::TaskKilled);
    assert_eq!(killed.reason(), v1::task_status::Reason::FrameworkRemoved);
    assert_eq!(
        killed.message.as_deref(),
        Some(format!("Framework {} removed", s.framework_id.value).as_str())
    );

    // The legacy endpoints show the same.
    let frameworks = get_json(&format!("{}/frameworks", c.url())).await;
    assert_eq!(
        frameworks["completed_frameworks"][0]["id"],
        s.framework_id.value
    );
    assert_eq!(
        frameworks["completed_frameworks"][0]["completed_tasks"]
            .as_array()
            .map(Vec::len),
        Some(2)
    );

    // Only `max_completed_frameworks` (here 1) are kept: the newest.
    let other = subscribe(&c.url(), Encoding::Json, framework_info("second")).await;
    op.teardown(other.framework_id.clone()).await.unwrap();
    let completed = op.get_frameworks().await.unwrap().completed_frameworks;
    assert_eq!(completed.len(), 1);
    assert_eq!(
        completed[0].framework_info.id,
        Some(other.framework_id.clone())
    );
    c.shutdown().await;
}
