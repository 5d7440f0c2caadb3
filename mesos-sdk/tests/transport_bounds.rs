//! The transport's bound on calls in flight: a burst of concurrent calls shares a few
//! connections instead of opening one per call, against a real HTTP server.

mod support;

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{ConnectInfo, State};
use axum::http::StatusCode;
use axum::routing::post;
use mesos_sdk::codec::Encoding;
use mesos_sdk::transport::{HttpTransport, MAX_CALLS_IN_FLIGHT, Url};
use tokio::sync::Barrier;

#[derive(Clone)]
struct Server {
    /// Calls are answered in groups of exactly `MAX_CALLS_IN_FLIGHT`: proof that that
    /// many are in flight at once.
    group: Arc<Barrier>,
    /// The client ends of the connections calls came on.
    connections: Arc<Mutex<HashSet<SocketAddr>>>,
}

async fn call(
    State(server): State<Server>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
) -> StatusCode {
    server.connections.lock().unwrap().insert(peer);
    server.group.wait().await;
    StatusCode::ACCEPTED
}

#[tokio::test]
async fn a_burst_of_calls_shares_a_bounded_set_of_connections() {
    let server = Server {
        group: Arc::new(Barrier::new(MAX_CALLS_IN_FLIGHT)),
        connections: Arc::default(),
    };
    let app = Router::new()
        .route("/api/v1/executor", post(call))
        .with_state(server.clone());
    let addr = support::serve_with_peers(app).await;
    let http = HttpTransport::new(Encoding::Protobuf, None).unwrap();
    let url = Url::parse(&format!("http://{addr}/api/v1/executor")).unwrap();
    let calls = MAX_CALLS_IN_FLIGHT * 12;
    let burst = (0..calls).map(|_| {
        let (http, url) = (http.clone(), url.clone());
        tokio::spawn(async move { http.post(&url, Vec::new(), None).await.map(|r| r.status()) })
    });
    let answers = tokio::time::timeout(Duration::from_secs(60), futures::future::join_all(burst))
        .await
        .expect("every call answered");
    for answer in answers {
        assert_eq!(answer.unwrap().unwrap(), 202);
    }
    let connections = server.connections.lock().unwrap().len();
    assert!(
        connections <= MAX_CALLS_IN_FLIGHT,
        "{calls} calls came on {connections} connections"
    );
}
