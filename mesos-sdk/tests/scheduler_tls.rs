//! `https://` masters: the scheduler subscribes over TLS (rustls) when it trusts the
//! master's CA, and refuses a certificate it does not trust.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::response::Response;
use axum::routing::post;
use bytes::Bytes;
use futures::StreamExt;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use mesos_sdk::backoff::BackoffConfig;
use mesos_sdk::calls;
use mesos_sdk::codec::{Encoding, recordio};
use mesos_sdk::scheduler::{Scheduler, SchedulerClient, SchedulerDriver};
use mesos_sdk::v1;
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::{self, pki_types};

/// A master that answers every SUBSCRIBE with SUBSCRIBED over TLS, and the PEM of the
/// certificate it presents (self-signed for `localhost`).
async fn tls_master() -> (String, String) {
    let key = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let cert_pem = key.cert.pem();
    let cert_der = pki_types::CertificateDer::from(key.cert.der().to_vec());
    let key_der = pki_types::PrivateKeyDer::try_from(key.signing_key.serialize_der()).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(vec![cert_der], key_der)
    .unwrap();
    let acceptor = TlsAcceptor::from(Arc::new(config));

    let app = Router::new().route("/api/v1/scheduler", post(subscribed));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            let app = app.clone();
            tokio::spawn(async move {
                // A client that does not trust the certificate aborts the handshake.
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(tls), TowerToHyperService::new(app))
                    .await;
            });
        }
    });
    (format!("https://localhost:{port}"), cert_pem)
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

struct StopOnSubscribed(mpsc::UnboundedSender<String>);

#[async_trait::async_trait]
impl Scheduler for StopOnSubscribed {
    async fn subscribed(
        &mut self,
        client: &SchedulerClient,
        subscribed: v1::scheduler::event::Subscribed,
    ) {
        let _ = self.0.send(subscribed.framework_id.value);
        client.stop();
    }
}

#[tokio::test]
async fn subscribes_over_https_to_a_master_whose_ca_it_trusts() {
    let (url, ca) = tls_master().await;
    let (tx, mut rx) = mpsc::unbounded_channel();
    let driver = SchedulerDriver::builder(url, calls::framework_info("tls", "").build())
        .tls_root_certificate(ca)
        .build()
        .unwrap();
    tokio::time::timeout(Duration::from_secs(20), driver.run(StopOnSubscribed(tx)))
        .await
        .expect("the driver stops after SUBSCRIBED")
        .expect("a clean stop");
    assert_eq!(rx.recv().await.as_deref(), Some("tls-framework"));
}

#[tokio::test]
async fn refuses_a_master_certificate_it_does_not_trust() {
    let (url, _ca) = tls_master().await;
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
    let result = tokio::time::timeout(Duration::from_secs(20), driver.run(StopOnSubscribed(tx)))
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
