//! The operator API at scale: GET_STATE (protobuf and JSON) and `/state` on one master
//! holding 10,000 agents, 1,000 frameworks and 100,000 tasks, and the SUBSCRIBE
//! fan-out of 10,000 task updates to 100 subscribers.
//!
//! `cargo bench -p mesos-benches --bench operator_state`
//!
//! Agents are simulated: registered in-process with `Master::add_agent`, their command
//! channels held and never read, so tasks stay TASK_STAGING and status updates are
//! injected through `Master::agent_events`, as a real agent's would arrive. Frameworks
//! are real: they subscribe over HTTP and launch their tasks with ACCEPT. The master
//! runs on this bench's tokio runtime.
//!
//! Each figure comes with a baseline measured in the same run, so that the ratio, not
//! the absolute time on a shared machine, is what is compared: `GET /health` (one HTTP
//! round trip doing nothing) for the state queries, and one subscriber for the fan-out.
//! Sizes and the process's peak memory (`VmHWM`) are printed on stderr.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use criterion::{Criterion, Throughput};
use futures::StreamExt;
use mesos_master::agent::protocol::{FromAgent, ToAgent};
use mesos_master::{Master, MasterConfig};
use mesos_sdk::codec::Encoding;
use mesos_sdk::codec::recordio::{DEFAULT_MAX_RECORD_LEN, decode_stream};
use mesos_sdk::operator::OperatorClient;
use mesos_sdk::resources::Resources;
use mesos_sdk::v1;
use mesos_sdk::v1::scheduler::{Call, Event, call, event};
use tokio::runtime::Runtime;
use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};

const AGENTS: usize = 10_000;
const FRAMEWORKS: usize = 1_000;
const TASKS_PER_FRAMEWORK: usize = 100;
const SUBSCRIBERS: usize = 100;
const UPDATES: usize = 10_000;
const FANOUT_AGENTS: usize = 100;

/// The process's peak resident memory, from `/proc/self/status`.
fn peak_memory() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM"))
                .map(|l| l.split_whitespace().skip(1).collect::<Vec<_>>().join(" "))
        })
        .unwrap_or_else(|| "unknown".into())
}

fn http() -> reqwest::Client {
    reqwest::Client::builder().build().expect("http client")
}

/// A framework subscribed over HTTP: its ids and its OFFERS.
struct Framework {
    id: v1::FrameworkId,
    stream_id: String,
    offers: UnboundedReceiver<Vec<v1::Offer>>,
}

async fn subscribe(url: &str, client: &reqwest::Client, name: String) -> Framework {
    let info = v1::FrameworkInfo {
        user: "bench".into(),
        name,
        ..Default::default()
    };
    let call = Call {
        r#type: Some(call::Type::Subscribe as i32),
        subscribe: Some(call::Subscribe {
            framework_info: info,
            ..Default::default()
        }),
        ..Default::default()
    };
    let response = client
        .post(format!("{url}/api/v1/scheduler"))
        .header("Content-Type", "application/x-protobuf")
        .body(Encoding::Protobuf.encode(&call))
        .send()
        .await
        .expect("SUBSCRIBE");
    let stream_id = response.headers()["Mesos-Stream-Id"]
        .to_str()
        .unwrap()
        .to_string();
    let mut records = decode_stream(response.bytes_stream(), DEFAULT_MAX_RECORD_LEN);
    let first: Event = Encoding::Protobuf
        .decode(&records.next().await.unwrap().unwrap())
        .unwrap();
    let id = first.subscribed.unwrap().framework_id;
    let (tx, offers) = unbounded_channel();
    tokio::spawn(async move {
        while let Some(Ok(record)) = records.next().await {
            let Ok(event) = Encoding::Protobuf.decode::<Event>(&record) else {
                return;
            };
            if event.r#type == Some(event::Type::Offers as i32)
                && let Some(o) = event.offers
            {
                let _ = tx.send(o.offers);
            }
        }
    });
    Framework {
        id,
        stream_id,
        offers,
    }
}

/// Launches `tasks` tasks of 0.01 cpus and 8 MB over the framework's first offers.
async fn launch(url: &str, client: &reqwest::Client, f: &mut Framework, tasks: usize) {
    // Each agent (cpus:4;mem:8192) holds 400 such tasks.
    let mut offers = f.offers.recv().await.expect("offers");
    while offers.len() * 400 < tasks {
        offers.extend(f.offers.recv().await.expect("offers"));
    }
    let per_offer = tasks.div_ceil(offers.len());
    let mut next = 0;
    for offer in &offers {
        let count = per_offer.min(tasks - next);
        let task_infos = (0..count)
            .map(|i| v1::TaskInfo {
                name: "t".into(),
                task_id: v1::TaskId {
                    value: format!("{}-{}", f.id.value, next + i),
                },
                agent_id: offer.agent_id.clone(),
                resources: Resources::parse("cpus:0.01;mem:8")
                    .unwrap()
                    .allocate(
                        offer.resources[0]
                            .allocation_info
                            .as_ref()
                            .and_then(|a| a.role.as_deref())
                            .unwrap_or("*"),
                    )
                    .into_vec(),
                command: Some(v1::CommandInfo {
                    value: Some("true".into()),
                    ..Default::default()
                }),
                ..Default::default()
            })
            .collect();
        next += count;
        let accept = Call {
            framework_id: Some(f.id.clone()),
            r#type: Some(call::Type::Accept as i32),
            accept: Some(call::Accept {
                offer_ids: vec![offer.id.clone()],
                operations: vec![v1::offer::Operation {
                    r#type: Some(v1::offer::operation::Type::Launch as i32),
                    launch: Some(v1::offer::operation::Launch { task_infos }),
                    ..Default::default()
                }],
                filters: Some(v1::Filters {
                    refuse_seconds: Some(3600.0),
                }),
            }),
            ..Default::default()
        };
        let r = client
            .post(format!("{url}/api/v1/scheduler"))
            .header("Content-Type", "application/x-protobuf")
            .header("Mesos-Stream-Id", &f.stream_id)
            .body(Encoding::Protobuf.encode(&accept))
            .send()
            .await
            .expect("ACCEPT");
        assert_eq!(r.status(), 202);
    }
    assert_eq!(next, tasks, "{} offers were too few", offers.len());
}

/// Frameworks first, then agents in one go, then every framework's launches.
async fn populate(
    agents: usize,
    frameworks: usize,
    tasks: usize,
) -> (Master, Vec<UnboundedReceiver<ToAgent>>, Vec<Framework>) {
    // Frameworks subscribe before the agents exist, so that no one is offered
    // everything; the agents are then added without yielding, and one allocation
    // cycle spreads them over the frameworks.
    let mut config = MasterConfig::default();
    config.allocation_interval = Duration::from_millis(200);
    config.heartbeat_interval = Duration::from_secs(3600);
    let master = Master::start(config, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let url = master.url();
    let client = http();
    let mut subscribed: Vec<Framework> = futures::stream::iter(0..frameworks)
        .map(|i| subscribe(&url, &client, format!("fw-{i}")))
        .buffer_unordered(64)
        .collect()
        .await;
    let mut channels = Vec::with_capacity(agents);
    for i in 0..agents {
        let (tx, rx) = unbounded_channel();
        let info = v1::AgentInfo {
            hostname: format!("agent-{i}"),
            resources: Resources::parse("cpus:4;mem:8192").unwrap().into_vec(),
            ..Default::default()
        };
        master.add_agent(info, tx);
        channels.push(rx);
    }
    futures::stream::iter(subscribed.iter_mut())
        .for_each_concurrent(64, |f| {
            let (url, client) = (&url, &client);
            async move { launch(url, client, f, tasks).await }
        })
        .await;
    (master, channels, subscribed)
}

async fn post_operator(client: &reqwest::Client, url: &str, encoding: Encoding) -> usize {
    let call = mesos_sdk::calls::operator::get_state();
    let r = client
        .post(format!("{url}/api/v1"))
        .header("Content-Type", encoding.content_type())
        .header("Accept", encoding.content_type())
        .body(encoding.encode(&call))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.bytes().await.unwrap().len()
}

async fn get(client: &reqwest::Client, url: &str) -> usize {
    let r = client.get(url).send().await.unwrap();
    assert_eq!(r.status(), 200);
    r.bytes().await.unwrap().len()
}

fn state_queries(c: &mut Criterion, rt: &Runtime) {
    let (master, _agents, _frameworks) =
        rt.block_on(populate(AGENTS, FRAMEWORKS, TASKS_PER_FRAMEWORK));
    let url = master.url();
    let client = http();
    let tasks = master.state().tasks().count();
    eprintln!(
        "operator_state: {} agents, {} frameworks, {tasks} tasks; peak memory after setup {}",
        master.state().slaves.len(),
        master.state().frameworks.len(),
        peak_memory()
    );
    let sizes = rt.block_on(async {
        (
            post_operator(&client, &url, Encoding::Protobuf).await,
            post_operator(&client, &url, Encoding::Json).await,
            get(&client, &format!("{url}/state")).await,
        )
    });
    eprintln!(
        "operator_state: sizes GET_STATE protobuf {} B, GET_STATE JSON {} B, /state {} B",
        sizes.0, sizes.1, sizes.2
    );
    let mut group = c.benchmark_group("operator_state");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(10));
    group.sampling_mode(criterion::SamplingMode::Flat);
    group.bench_function("baseline_get_health", |b| {
        b.iter(|| rt.block_on(get(&client, &format!("{url}/health"))))
    });
    group.bench_function("get_state_protobuf", |b| {
        b.iter(|| rt.block_on(post_operator(&client, &url, Encoding::Protobuf)))
    });
    group.bench_function("get_state_json", |b| {
        b.iter(|| rt.block_on(post_operator(&client, &url, Encoding::Json)))
    });
    group.bench_function("state_json", |b| {
        b.iter(|| rt.block_on(get(&client, &format!("{url}/state"))))
    });
    group.finish();
    eprintln!(
        "operator_state: peak memory after the queries {}",
        peak_memory()
    );
    rt.block_on(master.shutdown());
}

fn fanout(c: &mut Criterion, rt: &Runtime) {
    let (master, _agents, frameworks) = rt.block_on(populate(FANOUT_AGENTS, 1, UPDATES));
    let framework_id = frameworks[0].id.clone();
    let url = master.url();
    let state = master.state();
    let tasks: Vec<(String, String)> = state
        .tasks()
        .map(|t| (t.id.clone(), t.agent_id.clone()))
        .collect();
    assert_eq!(tasks.len(), UPDATES);
    let events = master.agent_events();
    let mut group = c.benchmark_group("operator_fanout");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(10));
    group.sampling_mode(criterion::SamplingMode::Flat);
    group.throughput(Throughput::Elements(UPDATES as u64));
    for subscribers in [1, SUBSCRIBERS] {
        let seen = Arc::new(AtomicU64::new(0));
        let notify = Arc::new(tokio::sync::Notify::new());
        let readers: Vec<_> = (0..subscribers)
            .map(|_| {
                let (seen, notify) = (seen.clone(), notify.clone());
                let op = OperatorClient::new(&url).unwrap();
                let mut sub = rt.block_on(async move {
                    let mut sub = op.subscribe().await.unwrap();
                    let first = sub.next().await.unwrap().unwrap();
                    assert_eq!(first.r#type(), v1::master::event::Type::Subscribed);
                    sub
                });
                rt.spawn(async move {
                    while let Some(Ok(e)) = sub.next().await {
                        if e.task_updated.is_some() {
                            seen.fetch_add(1, Ordering::Relaxed);
                            notify.notify_one();
                        }
                    }
                })
            })
            .collect();
        let name = if subscribers == 1 {
            "baseline_1_subscriber".to_string()
        } else {
            format!("{subscribers}_subscribers")
        };
        group.bench_function(name, |b| {
            b.iter(|| {
                rt.block_on(async {
                    let target = seen.load(Ordering::Relaxed) + (subscribers * UPDATES) as u64;
                    for (task, agent) in &tasks {
                        let status = v1::TaskStatus {
                            task_id: v1::TaskId {
                                value: task.clone(),
                            },
                            state: v1::TaskState::TaskRunning as i32,
                            ..Default::default()
                        };
                        let _ = events.send((
                            agent.clone(),
                            FromAgent::StatusUpdate {
                                framework_id: framework_id.clone(),
                                status,
                            },
                        ));
                    }
                    while seen.load(Ordering::Relaxed) < target {
                        notify.notified().await;
                    }
                })
            })
        });
        for r in readers {
            r.abort();
        }
    }
    group.finish();
    eprintln!("operator_fanout: peak memory {}", peak_memory());
    rt.block_on(master.shutdown());
}

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut c = Criterion::default().configure_from_args();
    state_queries(&mut c, &rt);
    fanout(&mut c, &rt);
    c.final_summary();
}
