//! `Master::router`: the master's endpoints as an axum router over the same books,
//! served here on a second listener next to the master's own.

mod support;

use std::time::Duration;

use mesos_master::{Master, MasterConfig};
use mesos_sdk::codec::Encoding;
use support::framework_info;
use support::scheduler::{client, subscribe_call};

#[tokio::test]
async fn router_serves_the_same_master_on_another_listener() {
    let master = Master::start(MasterConfig::default(), "127.0.0.1:0".parse().unwrap())
        .await
        .expect("master starts");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let other = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(axum::serve(listener, master.router()).into_future());

    let health = client()
        .get(format!("{other}/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    let refused = client()
        .post(format!("{other}/api/v1/scheduler"))
        .header("Content-Type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 400);

    // A framework subscribed through the second listener is in the master's books.
    let subscribed = client()
        .post(format!("{other}/api/v1/scheduler"))
        .header("Content-Type", "application/x-protobuf")
        .body(Encoding::Protobuf.encode(&subscribe_call(framework_info("router"))))
        .send()
        .await
        .unwrap();
    assert_eq!(subscribed.status(), 200);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while master.state().frameworks.is_empty() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "framework not in the books"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    drop(subscribed);
    server.abort();
    master.shutdown().await;
}
