//! Event dispatch through the `Scheduler` trait from in-memory byte streams (no
//! network): every event type reaches its method, in order; bad streams are typed
//! errors; the heartbeat watchdog on paused time.

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures::StreamExt as _;
use mesos_sdk::codec::Encoding;
use mesos_sdk::codec::recordio::encode_record;
use mesos_sdk::scheduler::{Scheduler, SchedulerClient, SchedulerDriver, SchedulerError};
use mesos_sdk::transport::TransportError;
use mesos_sdk::v1;
use mesos_sdk::v1::scheduler::{Event, event};

#[derive(Default)]
struct Log(Vec<String>);

struct Logger(std::sync::Arc<std::sync::Mutex<Log>>);

impl Logger {
    fn push(&self, s: String) {
        self.0.lock().unwrap().0.push(s);
    }
}

#[async_trait::async_trait]
impl Scheduler for Logger {
    async fn subscribed(&mut self, _c: &SchedulerClient, s: event::Subscribed) {
        self.push(format!("subscribed {}", s.framework_id.value));
    }
    async fn offers(&mut self, _c: &SchedulerClient, offers: Vec<v1::Offer>) {
        self.push(format!("offers {}", offers.len()));
    }
    async fn inverse_offers(&mut self, _c: &SchedulerClient, offers: Vec<v1::InverseOffer>) {
        self.push(format!("inverse_offers {}", offers.len()));
    }
    async fn rescind(&mut self, _c: &SchedulerClient, id: v1::OfferId) {
        self.push(format!("rescind {}", id.value));
    }
    async fn rescind_inverse_offer(&mut self, _c: &SchedulerClient, id: v1::OfferId) {
        self.push(format!("rescind_inverse_offer {}", id.value));
    }
    async fn update(&mut self, _c: &SchedulerClient, status: v1::TaskStatus) {
        self.push(format!("update {}", status.task_id.value));
    }
    async fn update_operation_status(&mut self, _c: &SchedulerClient, s: v1::OperationStatus) {
        self.push(format!("operation {}", s.operation_id.unwrap().value));
    }
    async fn message(&mut self, _c: &SchedulerClient, m: event::Message) {
        self.push(format!("message {}", String::from_utf8_lossy(&m.data)));
    }
    async fn failure(&mut self, _c: &SchedulerClient, f: event::Failure) {
        self.push(format!("failure {}", f.agent_id.unwrap().value));
    }
}

fn ev(t: event::Type, fill: impl FnOnce(&mut Event)) -> Event {
    let mut e = Event {
        r#type: Some(t as i32),
        ..Default::default()
    };
    fill(&mut e);
    e
}

fn all_events() -> Vec<Event> {
    use event::Type as T;
    let oid = |s: &str| v1::OfferId { value: s.into() };
    vec![
        ev(T::Subscribed, |e| {
            e.subscribed = Some(event::Subscribed {
                framework_id: v1::FrameworkId { value: "fw".into() },
                ..Default::default()
            })
        }),
        ev(T::Heartbeat, |_| {}),
        ev(T::Offers, |e| {
            e.offers = Some(event::Offers {
                offers: vec![v1::Offer::default(), v1::Offer::default()],
            })
        }),
        ev(T::InverseOffers, |e| {
            e.inverse_offers = Some(event::InverseOffers {
                inverse_offers: vec![v1::InverseOffer::default()],
            })
        }),
        ev(T::Rescind, |e| {
            e.rescind = Some(event::Rescind {
                offer_id: oid("o1"),
            })
        }),
        ev(T::RescindInverseOffer, |e| {
            e.rescind_inverse_offer = Some(event::RescindInverseOffer {
                inverse_offer_id: oid("io1"),
            })
        }),
        ev(T::Update, |e| {
            e.update = Some(event::Update {
                status: v1::TaskStatus {
                    task_id: v1::TaskId { value: "t1".into() },
                    state: v1::TaskState::TaskRunning as i32,
                    ..Default::default()
                },
            })
        }),
        ev(T::UpdateOperationStatus, |e| {
            e.update_operation_status = Some(event::UpdateOperationStatus {
                status: v1::OperationStatus {
                    operation_id: Some(v1::OperationId {
                        value: "op1".into(),
                    }),
                    ..Default::default()
                },
            })
        }),
        ev(T::Message, |e| {
            e.message = Some(event::Message {
                data: Bytes::from_static(b"hi"),
                ..Default::default()
            })
        }),
        ev(T::Failure, |e| {
            e.failure = Some(event::Failure {
                agent_id: Some(v1::AgentId { value: "a1".into() }),
                ..Default::default()
            })
        }),
    ]
}

fn framed(encoding: Encoding, events: &[Event]) -> Bytes {
    let mut out = BytesMut::new();
    for e in events {
        encode_record(&encoding.encode(e), &mut out);
    }
    out.freeze()
}

/// The bytes split into 7-byte chunks, so records straddle chunk boundaries.
fn chunked(
    bytes: Bytes,
) -> impl futures::Stream<Item = Result<Bytes, TransportError>> + Send + 'static {
    let parts: Vec<_> = (0..bytes.len())
        .step_by(7)
        .map(|i| Ok(bytes.slice(i..(i + 7).min(bytes.len()))))
        .collect();
    futures::stream::iter(parts)
}

fn driver(encoding: Encoding) -> SchedulerDriver {
    SchedulerDriver::builder("http://127.0.0.1:5050", v1::FrameworkInfo::default())
        .encoding(encoding)
        .build()
        .unwrap()
}

#[tokio::test]
async fn every_event_type_reaches_its_method_in_order() {
    for encoding in [Encoding::Protobuf, Encoding::Json] {
        let log = std::sync::Arc::new(std::sync::Mutex::new(Log::default()));
        let d = driver(encoding);
        let client = d.client();
        d.run_on_bytes(
            Logger(log.clone()),
            chunked(framed(encoding, &all_events())),
        )
        .await
        .unwrap();
        let got = log.lock().unwrap().0.clone();
        assert_eq!(
            got,
            [
                "subscribed fw",
                "offers 2",
                "inverse_offers 1",
                "rescind o1",
                "rescind_inverse_offer io1",
                "update t1",
                "operation op1",
                "message hi",
                "failure a1",
            ],
            "{encoding:?}"
        );
        assert_eq!(client.framework_id().unwrap().value, "fw");
    }
}

#[tokio::test]
async fn an_oversized_event_is_a_framing_error() {
    let d = SchedulerDriver::builder("http://127.0.0.1:5050", v1::FrameworkInfo::default())
        .max_event_size(16)
        .build()
        .unwrap();
    let log = std::sync::Arc::new(std::sync::Mutex::new(Log::default()));
    let err = d
        .run_on_bytes(
            Logger(log),
            chunked(framed(Encoding::Protobuf, &all_events()[2..3])),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, SchedulerError::Transport(TransportError::Framing(_))),
        "{err}"
    );
}

#[tokio::test]
async fn a_body_in_the_wrong_encoding_is_a_decode_error() {
    let d = driver(Encoding::Json);
    let log = std::sync::Arc::new(std::sync::Mutex::new(Log::default()));
    let err = d
        .run_on_bytes(
            Logger(log),
            chunked(framed(Encoding::Protobuf, &all_events()[..1])),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, SchedulerError::Decode(_)), "{err}");
}

#[tokio::test(start_paused = true)]
async fn silence_for_heartbeat_misses_times_interval_ends_the_session() {
    let d = SchedulerDriver::builder("http://127.0.0.1:5050", v1::FrameworkInfo::default())
        .heartbeat_misses(3)
        .build()
        .unwrap();
    let mut subscribed = all_events()[0].clone();
    subscribed
        .subscribed
        .as_mut()
        .unwrap()
        .heartbeat_interval_seconds = Some(10.0);
    let first = framed(Encoding::Protobuf, &[subscribed]);
    // One record, then nothing at all (the connection stays open).
    let bytes = futures::stream::iter([Ok(first)]).chain(futures::stream::pending());
    let log = std::sync::Arc::new(std::sync::Mutex::new(Log::default()));
    let start = tokio::time::Instant::now();
    let err = d.run_on_bytes(Logger(log), bytes).await.unwrap_err();
    assert!(
        matches!(err, SchedulerError::HeartbeatTimeout(d) if d == Duration::from_secs(30)),
        "{err}"
    );
    let waited = start.elapsed();
    assert!(
        waited >= Duration::from_secs(30) && waited < Duration::from_secs(31),
        "{waited:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn every_event_restarts_the_heartbeat_window() {
    let d = SchedulerDriver::builder("http://127.0.0.1:5050", v1::FrameworkInfo::default())
        .heartbeat_misses(3)
        .build()
        .unwrap();
    let mut subscribed = all_events()[0].clone();
    subscribed
        .subscribed
        .as_mut()
        .unwrap()
        .heartbeat_interval_seconds = Some(10.0);
    let heartbeat = Event {
        r#type: Some(event::Type::Heartbeat as i32),
        ..Default::default()
    };
    let first = framed(Encoding::Protobuf, &[subscribed]);
    let late = framed(Encoding::Protobuf, &[heartbeat]);
    // SUBSCRIBED, a HEARTBEAT 25 s later (inside the 30 s window), then silence.
    let bytes = futures::stream::iter([Ok::<_, TransportError>(first)])
        .chain(futures::stream::once(async move {
            tokio::time::sleep(Duration::from_secs(25)).await;
            Ok(late)
        }))
        .chain(futures::stream::pending());
    let log = std::sync::Arc::new(std::sync::Mutex::new(Log::default()));
    let start = tokio::time::Instant::now();
    let err = d.run_on_bytes(Logger(log), bytes).await.unwrap_err();
    assert!(matches!(err, SchedulerError::HeartbeatTimeout(_)), "{err}");
    let waited = start.elapsed();
    assert!(
        waited >= Duration::from_secs(55) && waited < Duration::from_secs(56),
        "the window restarts at the heartbeat: {waited:?}"
    );
}
