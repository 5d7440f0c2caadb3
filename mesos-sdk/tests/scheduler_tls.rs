//! `https://` masters: the scheduler subscribes and calls over TLS (rustls) when it
//! trusts the master's CA, and refuses a certificate it does not trust.

mod support;

use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::post;
use bytes::Bytes;
use futures::StreamExt;
use mesos_sdk::backoff::BackoffConfig;
use mesos_sdk::calls;
use mesos_sdk::codec::{Encoding, recordio};
use mesos_sdk::scheduler::{Scheduler, SchedulerClient, SchedulerDriver};
use mesos_sdk::v1;
use tokio::sync::mpsc;

/// A master that answers every SUBSCRIBE with SUBSCRIBED, and every other call with
/// 202 (sending the call and its `Mesos-Stream-Id` to the returned channel), over TLS;
/// its URL and the PEM of the certificate it presents (self-signed for `localhost`).
async fn tls_master() -> (String, String, mpsc::UnboundedReceiver<(i32, String)>) {
    let (calls, seen) = mpsc::unbounded_channel();
    let app = Router::new()
        .route("/api/v1/scheduler", post(call))
        .with_state(calls);
    let (port, cert_pem) = support::serve_tls(app).await;
    (format!("https://localhost:{port}"), cert_pem, seen)
}

async fn call(
    State(calls): State<mpsc::UnboundedSender<(i32, String)>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let call: v1::scheduler::Call = Encoding::Protobuf.decode(&body).unwrap();
    if call.r#type == Some(v1::scheduler::call::Type::Subscribe as i32) {
        return subscribed().await;
    }
    let stream_id = headers["mesos-stream-id"].to_str().unwrap().to_owned();
    let _ = calls.send((call.r#type.unwrap_or_default(), stream_id));
    Response::builder().status(202).body(Body::empty()).unwrap()
}

async fn subscribed() -> Response {
    let event = v1::scheduler::Event {
        r#type: Some(v1::scheduler::event::Type::Subscribed as i32),
        subscribed: Some(v1::scheduler::event::Subscribed {
            framework_id: v1::FrameworkId {
                value: "tls-framework".into(),
            },
            heartbeat_interval_seconds: Some(15.0),
            ..Default::default()
        }),
        ..Default::default()
    };
    let record = Bytes::from(recordio::encode_record_vec(
        &Encoding::Protobuf.encode(&event),
    ));
    let body =
        futures::stream::iter([Ok::<_, std::io::Error>(record)]).chain(futures::stream::pending());
    Response::builder()
        .status(200)
        .header("Content-Type", Encoding::Protobuf.content_type())
        .header("Mesos-Stream-Id", "tls-stream")
        .body(Body::from_stream(body))
        .unwrap()
}

/// Sends REVIVE once subscribed, then stops; reports the framework id and how the
/// call went.
struct ReviveThenStop(mpsc::UnboundedSender<(String, Result<(), String>)>);

#[async_trait::async_trait]
impl Scheduler for ReviveThenStop {
    async fn subscribed(
        &mut self,
        client: &SchedulerClient,
        subscribed: v1::scheduler::event::Subscribed,
    ) {
        let revived = client.revive(Vec::new()).await.map_err(|e| e.to_string());
        let _ = self.0.send((subscribed.framework_id.value, revived));
        client.stop();
    }
}

#[tokio::test]
async fn subscribes_and_calls_over_https_to_a_master_whose_ca_it_trusts() {
    let (url, ca, mut seen) = tls_master().await;
    let (tx, mut rx) = mpsc::unbounded_channel();
    let driver = SchedulerDriver::builder(url, calls::framework_info("tls", "").build())
        .tls_root_certificate(ca)
        .build()
        .unwrap();
    tokio::time::timeout(Duration::from_secs(20), driver.run(ReviveThenStop(tx)))
        .await
        .expect("the driver stops after SUBSCRIBED")
        .expect("a clean stop");
    assert_eq!(rx.recv().await, Some(("tls-framework".into(), Ok(()))));
    // The call went over its own (pipelined) TLS connection, with the stream id.
    let revive = v1::scheduler::call::Type::Revive as i32;
    assert_eq!(seen.recv().await, Some((revive, "tls-stream".into())));
}

#[tokio::test]
async fn refuses_a_master_certificate_it_does_not_trust() {
    let (url, _ca, _seen) = tls_master().await;
    let (tx, mut rx) = mpsc::unbounded_channel();
    let driver = SchedulerDriver::builder(url, calls::framework_info("tls", "").build())
        .max_reconnect_attempts(Some(1))
        .backoff(BackoffConfig {
            initial: Duration::from_millis(10),
            max: Duration::from_millis(10),
            ..BackoffConfig::default()
        })
        .build()
        .unwrap();
    let result = tokio::time::timeout(Duration::from_secs(20), driver.run(ReviveThenStop(tx)))
        .await
        .expect("the driver gives up within its attempts");
    assert!(
        result.is_err(),
        "an untrusted certificate must not be accepted"
    );
    assert!(rx.try_recv().is_err(), "never subscribed");
}

#[test]
fn a_root_certificate_that_is_not_pem_is_a_build_error() {
    let err = SchedulerDriver::builder(
        "https://localhost:1",
        calls::framework_info("t", "").build(),
    )
    .tls_root_certificate(b"not a certificate".to_vec())
    .build()
    .unwrap_err();
    assert!(err.to_string().contains("root certificate"), "{err}");
}
