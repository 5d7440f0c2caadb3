//! `transport::Pipeline` against real servers: many calls on one connection, each
//! answered with its own answer, in order; a connection that fails fails every call
//! still waiting, and later calls too.

mod support;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use mesos_sdk::codec::Encoding;
use mesos_sdk::transport::{Auth, Pipeline, TransportError, Url};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const LIMIT: Duration = Duration::from_secs(10);

/// What the server saw: each call's peer, headers of interest and body.
#[derive(Default)]
struct Seen {
    peers: Vec<SocketAddr>,
    bodies: Vec<String>,
    headers: Vec<String>,
}

/// Answers 202 to an even call number and 400 `odd <n>` to an odd one.
async fn call(
    State(seen): State<Arc<Mutex<Seen>>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: String,
) -> (StatusCode, String) {
    let number: u32 = body.parse().unwrap();
    let mut seen = seen.lock().unwrap();
    seen.peers.push(peer);
    seen.bodies.push(body);
    let header = |name: &str| headers[name].to_str().unwrap().to_owned();
    seen.headers.push(format!(
        "{} {} {} {}",
        header("content-type"),
        header("accept"),
        header("authorization"),
        header("mesos-stream-id")
    ));
    if number % 2 == 0 {
        (StatusCode::ACCEPTED, String::new())
    } else {
        (StatusCode::BAD_REQUEST, format!("odd {number}"))
    }
}

#[tokio::test]
async fn calls_share_one_connection_and_each_gets_its_own_answer_in_order() {
    let seen = Arc::new(Mutex::new(Seen::default()));
    let app = Router::new()
        .route("/api/v1/scheduler", post(call))
        .with_state(seen.clone());
    let addr = support::serve_with_peers(app).await;
    let url = Url::parse(&format!("http://{addr}/api/v1/scheduler")).unwrap();
    let auth = Auth::Basic {
        principal: "fw".into(),
        secret: "s3cret".into(),
    };
    let pipeline = Pipeline::connect(
        &url,
        Encoding::Json,
        Some(auth),
        &[("Mesos-Stream-Id", "s1")],
    )
    .await
    .unwrap();

    // Queued together, they go out in few writes; each call's answer names it, so a
    // call given another's answer would show.
    let calls = (0..300u32).map(|n| {
        let pipeline = pipeline.clone();
        async move { (n, pipeline.post(n.to_string().into_bytes()).await) }
    });
    let answers = tokio::time::timeout(LIMIT, futures::future::join_all(calls))
        .await
        .expect("every call answered");
    for (n, answer) in answers {
        match answer {
            Ok(()) => assert_eq!(n % 2, 0, "call {n} got another call's answer"),
            Err(error) => {
                let api = error.api().expect("an HTTP answer");
                assert_eq!((api.status, api.message.clone()), (400, format!("odd {n}")));
            }
        }
    }
    let seen = seen.lock().unwrap();
    let mut served: Vec<u32> = seen.bodies.iter().map(|b| b.parse().unwrap()).collect();
    served.sort_unstable();
    assert_eq!(
        served,
        (0..300).collect::<Vec<u32>>(),
        "each call served once"
    );
    assert!(
        seen.peers.iter().all(|p| *p == seen.peers[0]),
        "one connection"
    );
    assert_eq!(
        seen.headers[0],
        "application/json application/json Basic Znc6czNjcmV0 s1"
    );
}

#[tokio::test]
async fn a_connection_that_fails_fails_every_waiting_call_and_later_ones() {
    // A server that answers the first call and then goes away.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut seen = Vec::new();
        let mut read_until = async |socket: &mut tokio::net::TcpStream, end: &[u8]| {
            let mut chunk = [0u8; 1024];
            while !seen.windows(end.len()).any(|w| w == end) {
                let n = socket.read(&mut chunk).await.unwrap();
                assert!(n > 0, "the client closed first");
                seen.extend_from_slice(&chunk[..n]);
            }
        };
        read_until(&mut socket, b"\r\n\r\n1").await;
        socket
            .write_all(b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n")
            .await
            .unwrap();
        // Everything read (no reset), then the connection closes unanswered.
        read_until(&mut socket, b"\r\n\r\n2").await;
        socket.shutdown().await.unwrap();
    });
    let url = Url::parse(&format!("http://{addr}/api/v1/scheduler")).unwrap();
    let pipeline = Pipeline::connect(&url, Encoding::Protobuf, None, &[])
        .await
        .unwrap();
    let first = pipeline.post(b"1".to_vec());
    let second = pipeline.post(b"2".to_vec());
    let (first, second) = tokio::time::timeout(LIMIT, futures::future::join(first, second))
        .await
        .unwrap();
    assert!(first.is_ok(), "{first:?}");
    let unreachable = |result: Result<(), TransportError>| match result {
        Err(error @ TransportError::Unreachable { .. }) => assert!(error.is_retryable()),
        other => panic!("expected unreachable, got {other:?}"),
    };
    unreachable(second);
    unreachable(
        tokio::time::timeout(LIMIT, pipeline.post(b"3".to_vec()))
            .await
            .unwrap(),
    );
}

#[tokio::test]
async fn only_plain_http_is_pipelined() {
    let url = Url::parse("https://127.0.0.1:1/api/v1/scheduler").unwrap();
    let refused = Pipeline::connect(&url, Encoding::Protobuf, None, &[]).await;
    assert!(
        matches!(refused, Err(TransportError::Client(_))),
        "{refused:?}"
    );
    let url = Url::parse("http://127.0.0.1:1/api/v1/scheduler").unwrap();
    let header = Pipeline::connect(&url, Encoding::Protobuf, None, &[("X", "a\r\nb")]).await;
    assert!(
        matches!(header, Err(TransportError::Client(_))),
        "{header:?}"
    );
}
