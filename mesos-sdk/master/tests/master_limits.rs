//! The master's limits on what clients can make it hold, over real sockets: a client
//! that never finishes its headers is disconnected, a stalled body gets 408, a body
//! over the cap 413, and SUBSCRIBE beyond the most frameworks subscribed at once 503.

mod support;

use std::time::Duration;

use mesos_master::{LocalCluster, MasterConfig};
use mesos_sdk::codec::Encoding;
use support::scheduler::{post, subscribe, subscribe_call};
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

async fn cluster(tweak: impl FnOnce(&mut MasterConfig)) -> LocalCluster {
    let mut config = MasterConfig::default();
    tweak(&mut config);
    LocalCluster::builder()
        .agents(0)
        .master_config(config)
        .start()
        .await
        .unwrap()
}

/// Writes `bytes` on a new connection and reads until the server closes it (bounded).
async fn exchange(c: &LocalCluster, bytes: &[u8]) -> String {
    let mut socket = TcpStream::connect(c.addr()).await.unwrap();
    socket.write_all(bytes).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(WAIT, socket.read_to_end(&mut answer))
        .await
        .expect("the server closed the connection in time")
        .expect("read");
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test]
async fn a_client_that_never_finishes_its_headers_is_disconnected() {
    let c = cluster(|c| c.request_header_timeout = Duration::from_millis(200)).await;
    let answer = exchange(&c, b"POST /api/v1/scheduler HTTP/1.1\r\nHost: m\r\n").await;
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 408"),
        "{answer:?}"
    );
    // Others are served meanwhile, and after.
    let health = reqwest::get(format!("{}/health", c.url())).await.unwrap();
    assert_eq!(health.status(), 200);
    c.shutdown().await;
}

#[tokio::test]
async fn a_stalled_body_gets_408() {
    let c = cluster(|c| c.request_body_timeout = Duration::from_millis(200)).await;
    let answer = exchange(
        &c,
        b"POST /api/v1/scheduler HTTP/1.1\r\nHost: m\r\nContent-Type: application/json\r\nContent-Length: 100\r\nConnection: close\r\n\r\n{\"type\"",
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer:?}");
    assert!(
        answer.contains("Request body not received within 200ms"),
        "{answer:?}"
    );
    c.shutdown().await;
}

#[tokio::test]
async fn a_body_over_the_cap_gets_413() {
    let c = cluster(|c| c.max_body_bytes = 1024).await;
    let mut info = framework_info("big");
    info.name = "x".repeat(4096);
    let refused = post(&c.url(), Encoding::Json, None, &subscribe_call(info)).await;
    assert_eq!(refused.status(), 413);
    c.shutdown().await;
}

#[tokio::test]
async fn subscriptions_beyond_the_cap_get_503_but_a_subscribed_framework_may_resubscribe() {
    let c = cluster(|c| c.max_subscribed_frameworks = 2).await;
    let first = subscribe(&c.url(), Encoding::Json, framework_info("one")).await;
    let _second = subscribe(&c.url(), Encoding::Json, framework_info("two")).await;
    let refused = post(
        &c.url(),
        Encoding::Json,
        None,
        &subscribe_call(framework_info("three")),
    )
    .await;
    assert_eq!(refused.status(), 503);
    assert_eq!(
        refused.text().await.unwrap(),
        "Too many frameworks subscribed (at most 2)"
    );
    // A framework that is subscribed may take a new stream.
    let mut again = framework_info("one");
    again.id = Some(first.framework_id.clone());
    let replaced = post(&c.url(), Encoding::Json, None, &subscribe_call(again)).await;
    assert_eq!(replaced.status(), 200);
    c.shutdown().await;
}
