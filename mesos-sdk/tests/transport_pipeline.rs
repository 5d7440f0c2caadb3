//! `transport::Pipeline` against real servers: many calls on one connection, each
//! answered with its own answer, in order, over TCP, TLS or a Unix socket; a
//! connection that fails fails every call still waiting, and later calls too.
//! At most `MAX_PIPELINED_CALLS` calls are unanswered. `ReconnectingPipeline` opens a
//! connection per stream id, and again after one ends.

mod support;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{ConnectInfo, State};
use axum::http::header::CONNECTION;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::post;
use mesos_sdk::codec::Encoding;
use mesos_sdk::transport::{
    Auth, HttpTransport, Pipeline, ReconnectingPipeline, TransportError, Url,
};
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
async fn other_schemes_and_headers_that_cannot_be_sent_are_refused() {
    let url = Url::parse("ftp://127.0.0.1:1/api/v1/scheduler").unwrap();
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
    // https is dialled (nothing listens on port 1).
    let url = Url::parse("https://127.0.0.1:1/api/v1/scheduler").unwrap();
    let unreachable = Pipeline::connect(&url, Encoding::Protobuf, None, &[]).await;
    assert!(
        matches!(unreachable, Err(TransportError::Unreachable { .. })),
        "{unreachable:?}"
    );
}

/// 202 for every call: the route of the TLS and Unix socket tests.
async fn accepted() -> StatusCode {
    StatusCode::ACCEPTED
}

#[tokio::test]
async fn calls_are_pipelined_over_tls_to_a_server_the_transport_trusts() {
    let app = Router::new().route("/api/v1/scheduler", post(accepted));
    let (port, ca) = support::serve_tls(app).await;
    let url = Url::parse(&format!("https://localhost:{port}/api/v1/scheduler")).unwrap();
    let http =
        HttpTransport::with_root_certificates(Encoding::Protobuf, None, &[ca.into()]).unwrap();
    let pipeline = tokio::time::timeout(LIMIT, http.pipeline(&url, &[]))
        .await
        .unwrap()
        .unwrap();
    let calls = (0..50u32).map(|n| pipeline.post(n.to_string().into_bytes()));
    let answers = tokio::time::timeout(LIMIT, futures::future::join_all(calls))
        .await
        .unwrap();
    assert!(answers.iter().all(Result::is_ok), "{answers:?}");

    // Without the CA, the handshake fails.
    let untrusting = HttpTransport::new(Encoding::Protobuf, None).unwrap();
    let refused = tokio::time::timeout(LIMIT, untrusting.pipeline(&url, &[]))
        .await
        .unwrap();
    assert!(
        matches!(refused, Err(TransportError::Unreachable { .. })),
        "{refused:?}"
    );
}

#[tokio::test]
async fn a_unix_socket_transport_pipelines_over_its_socket() {
    let app = Router::new().route("/api/v1/executor", post(accepted));
    let socket = support::serve_unix("pipeline", app);

    // Nothing listens on the URL's port: the calls go over the socket.
    let url = Url::parse("http://127.0.0.1:1/api/v1/executor").unwrap();
    let http = HttpTransport::over_unix_socket(Encoding::Protobuf, None, &socket).unwrap();
    let pipeline = http.pipeline(&url, &[]).await.unwrap();
    let calls = (0..20u32).map(|n| pipeline.post(n.to_string().into_bytes()));
    let answers = tokio::time::timeout(LIMIT, futures::future::join_all(calls))
        .await
        .unwrap();
    assert!(answers.iter().all(Result::is_ok), "{answers:?}");
    let _ = std::fs::remove_dir_all(socket.parent().unwrap());
}

/// Each call's peer and stream id, in order.
type Calls = Arc<Mutex<Vec<(SocketAddr, String)>>>;

/// 202 for every call, recording its peer and stream id; the body `close` is answered
/// with `Connection: close`.
async fn accept_or_close(
    State(seen): State<Calls>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: String,
) -> impl IntoResponse {
    let stream_id = headers["mesos-stream-id"].to_str().unwrap().to_owned();
    seen.lock().unwrap().push((peer, stream_id));
    let close = if body == "close" {
        "close"
    } else {
        "keep-alive"
    };
    (StatusCode::ACCEPTED, [(CONNECTION, close)])
}

#[tokio::test]
async fn a_reconnecting_pipeline_opens_one_connection_per_stream_and_again_after_a_close() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let app = Router::new()
        .route("/api/v1/scheduler", post(accept_or_close))
        .with_state(seen.clone());
    let addr = support::serve_with_peers(app).await;
    let url = Url::parse(&format!("http://{addr}/api/v1/scheduler")).unwrap();
    let calls = ReconnectingPipeline::new(HttpTransport::new(Encoding::Protobuf, None).unwrap());
    let post = |body: &str, stream: &'static str| {
        let call = calls.post(&url, body.as_bytes().to_vec(), Some(stream));
        async move { tokio::time::timeout(LIMIT, call).await.unwrap() }
    };
    let peers = |seen: &Calls| {
        let seen = seen.lock().unwrap();
        let mut peers: Vec<SocketAddr> = seen.iter().map(|(peer, _)| *peer).collect();
        peers.dedup();
        (peers, seen.last().unwrap().1.clone())
    };

    // A burst of first calls opens one connection.
    let burst = futures::future::join_all((0..40).map(|_| post("call", "s1"))).await;
    assert!(burst.iter().all(Result::is_ok), "{burst:?}");
    assert_eq!(peers(&seen).0.len(), 1, "one connection for the burst");
    // An answer that closes the connection: the next call opens a new one.
    post("close", "s1").await.unwrap();
    post("call", "s1").await.unwrap();
    let (after_close, stream) = peers(&seen);
    assert_eq!((after_close.len(), stream.as_str()), (2, "s1"));
    // Another stream id (a resubscription) gets its own connection, kept for its calls.
    post("call", "s2").await.unwrap();
    post("call", "s2").await.unwrap();
    let (after_resubscribing, stream) = peers(&seen);
    assert_eq!((after_resubscribing.len(), stream.as_str()), (3, "s2"));
}

/// At most `MAX_PIPELINED_CALLS` calls are unanswered: against a server that answers
/// nothing until it has that many, the next call is written only after an answer.
#[tokio::test]
async fn at_most_max_pipelined_calls_are_unanswered() {
    use mesos_sdk::transport::MAX_PIPELINED_CALLS;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut received = Vec::new();
        let mut chunk = vec![0u8; 64 * 1024];
        let count = |received: &[u8]| received.windows(6).filter(|w| w == b"POST /").count();
        let mut answered = 0;
        while answered <= MAX_PIPELINED_CALLS {
            let n = socket.read(&mut chunk).await.unwrap();
            assert!(n > 0, "the client closed first");
            received.extend_from_slice(&chunk[..n]);
            let calls = count(&received);
            assert!(
                calls <= MAX_PIPELINED_CALLS + answered,
                "{calls} calls written with {answered} answered"
            );
            if answered == 0 && calls == MAX_PIPELINED_CALLS {
                // The bound is reached: one answer makes room for one more call.
                let one = b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n";
                socket.write_all(one).await.unwrap();
                answered = 1;
            } else if answered == 1 && calls == MAX_PIPELINED_CALLS + 1 {
                let rest = b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n"
                    .repeat(MAX_PIPELINED_CALLS);
                socket.write_all(&rest).await.unwrap();
                answered += MAX_PIPELINED_CALLS;
            }
        }
        socket
    });
    let url = Url::parse(&format!("http://{addr}/api/v1/scheduler")).unwrap();
    let pipeline = Pipeline::connect(&url, Encoding::Protobuf, None, &[])
        .await
        .unwrap();
    let calls = (0..=MAX_PIPELINED_CALLS).map(|_| pipeline.post(b"x".to_vec()));
    let answers = tokio::time::timeout(LIMIT, futures::future::join_all(calls))
        .await
        .expect("every call answered");
    assert!(answers.iter().all(Result::is_ok));
    tokio::time::timeout(LIMIT, server)
        .await
        .unwrap()
        .expect("the server saw the bound kept");
}
