//! Scheduler event dispatch through the `Scheduler` trait runtime, from an in-memory
//! RecordIO stream (no network), compared in the same run with decoding alone.
//!
//! `cargo bench -p mesos-benches --bench dispatch -- --warm-up-time 1 --measurement-time 3`
//! (results: `docs/benchmarks.md`, "Scheduler event dispatch").

use std::hint::black_box;

use bytes::Bytes;
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use mesos_sdk::codec::Encoding;
use mesos_sdk::codec::recordio::{decode_stream, encode_record};
use mesos_sdk::scheduler::{Scheduler, SchedulerClient, SchedulerDriver};
use mesos_sdk::transport::TransportError;
use mesos_sdk::v1;
use mesos_sdk::v1::scheduler::{Event, event};

const EVENTS: usize = 2_000;
const CHUNK: usize = 16 * 1024;

fn update(i: usize) -> Event {
    Event {
        r#type: Some(event::Type::Update as i32),
        update: Some(event::Update {
            status: v1::TaskStatus {
                task_id: v1::TaskId {
                    value: format!("task-{i}"),
                },
                state: v1::TaskState::TaskRunning as i32,
                agent_id: Some(v1::AgentId {
                    value: "agent-1".into(),
                }),
                message: Some("running".into()),
                timestamp: Some(1.7e9),
                ..Default::default()
            },
        }),
        ..Default::default()
    }
}

fn offers(i: usize) -> Event {
    let offer = |j: usize| v1::Offer {
        id: v1::OfferId {
            value: format!("offer-{i}-{j}"),
        },
        framework_id: v1::FrameworkId { value: "fw".into() },
        agent_id: v1::AgentId {
            value: format!("agent-{j}"),
        },
        hostname: format!("host-{j}.example"),
        resources: ["cpus", "mem", "disk"]
            .iter()
            .map(|name| v1::Resource {
                name: (*name).into(),
                r#type: v1::value::Type::Scalar as i32,
                scalar: Some(v1::value::Scalar { value: 4.0 }),
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    };
    Event {
        r#type: Some(event::Type::Offers as i32),
        offers: Some(event::Offers {
            offers: (0..4).map(offer).collect(),
        }),
        ..Default::default()
    }
}

/// Half UPDATE, half OFFERS events as one RecordIO byte string.
fn stream_bytes(encoding: Encoding) -> Bytes {
    let mut out = bytes::BytesMut::new();
    for i in 0..EVENTS {
        let event = if i % 2 == 0 { update(i) } else { offers(i) };
        encode_record(&encoding.encode(&event), &mut out);
    }
    out.freeze()
}

fn chunks(all: &Bytes) -> Vec<Bytes> {
    (0..all.len())
        .step_by(CHUNK)
        .map(|start| all.slice(start..(start + CHUNK).min(all.len())))
        .collect()
}

struct Counter {
    updates: usize,
    offers: usize,
}

#[async_trait::async_trait]
impl Scheduler for Counter {
    async fn offers(&mut self, _client: &SchedulerClient, offers: Vec<v1::Offer>) {
        self.offers += black_box(offers).len();
    }
    async fn update(&mut self, _client: &SchedulerClient, status: v1::TaskStatus) {
        black_box(status);
        self.updates += 1;
    }
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    for encoding in [Encoding::Protobuf, Encoding::Json] {
        let bytes = stream_bytes(encoding);
        let parts = chunks(&bytes);
        let mut group = c.benchmark_group(format!("scheduler_events/{encoding:?}"));
        group.throughput(Throughput::Elements(EVENTS as u64));
        group.bench_function("decode_only", |b| {
            b.iter(|| {
                rt.block_on(async {
                    use futures::StreamExt as _;
                    let input = futures::stream::iter(
                        parts.clone().into_iter().map(Ok::<_, std::io::Error>),
                    );
                    let mut records = decode_stream(input, 1 << 20);
                    let mut n = 0;
                    while let Some(record) = records.next().await {
                        let event: Event = encoding.decode(&record.unwrap()).unwrap();
                        black_box(event);
                        n += 1;
                    }
                    assert_eq!(n, EVENTS);
                })
            })
        });
        // Decoding alone with the same per-iteration setup and teardown as `dispatch`
        // (a driver built outside the timing and dropped inside it): the fair
        // baseline for the driver's own per-event cost.
        group.bench_function("decode_only_batched", |b| {
            b.iter_batched(
                || {
                    SchedulerDriver::builder("http://127.0.0.1:5050", Default::default())
                        .encoding(encoding)
                        .build()
                        .unwrap()
                },
                |driver| {
                    rt.block_on(async {
                        use futures::StreamExt as _;
                        let input = futures::stream::iter(
                            parts.clone().into_iter().map(Ok::<_, std::io::Error>),
                        );
                        let mut records = decode_stream(input, 1 << 20);
                        let mut n = 0;
                        while let Some(record) = records.next().await {
                            let event: Event = encoding.decode(&record.unwrap()).unwrap();
                            black_box(event);
                            n += 1;
                        }
                        assert_eq!(n, EVENTS);
                    });
                    drop(driver);
                },
                BatchSize::SmallInput,
            )
        });
        group.bench_function("dispatch", |b| {
            // Building the driver (an HTTP client with TLS) is setup, not dispatch.
            b.iter_batched(
                || {
                    SchedulerDriver::builder("http://127.0.0.1:5050", Default::default())
                        .encoding(encoding)
                        .build()
                        .unwrap()
                },
                |driver| {
                    rt.block_on(async {
                        let input = futures::stream::iter(
                            parts.clone().into_iter().map(Ok::<_, TransportError>),
                        );
                        driver
                            .run_on_bytes(
                                Counter {
                                    updates: 0,
                                    offers: 0,
                                },
                                input,
                            )
                            .await
                            .unwrap();
                    })
                },
                BatchSize::SmallInput,
            )
        });
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
