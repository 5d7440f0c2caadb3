//! What the transport makes of a real server's answers: the request it sends, a
//! streamed success, a refusal (its message bounded), a redirect (not followed), and
//! no server at all.

mod support;

use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use futures::StreamExt as _;
use mesos_sdk::codec::Encoding;
use mesos_sdk::transport::{Auth, HttpTransport, MAX_ERROR_BODY, TransportError, Url};

const LIMIT: Duration = Duration::from_secs(30);

/// Echoes what the call carried, as a body streamed in three chunks.
async fn echo(headers: HeaderMap, body: axum::body::Bytes) -> Response {
    let seen = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("-")
            .to_owned()
    };
    let chunks = vec![
        Ok::<_, std::io::Error>(format!("{} {} ", seen("content-type"), seen("accept"))),
        Ok(format!("{} {} ", seen("authorization"), seen("agent-id"))),
        Ok(String::from_utf8_lossy(&body).into_owned()),
    ];
    (
        [("Mesos-Stream-Id", "stream-1")],
        Body::from_stream(futures::stream::iter(chunks)),
    )
        .into_response()
}

async fn refuse() -> Response {
    (StatusCode::BAD_REQUEST, "x".repeat(4 * MAX_ERROR_BODY)).into_response()
}

async fn redirect() -> Response {
    (
        StatusCode::TEMPORARY_REDIRECT,
        [(header::LOCATION, "//10.0.0.2:5050/api/v1/scheduler")],
    )
        .into_response()
}

async fn serve() -> String {
    let app = Router::new()
        .route("/echo", post(echo))
        .route("/refuse", post(refuse))
        .route("/redirect", post(redirect));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

fn transport() -> HttpTransport {
    let auth = Auth::Basic {
        principal: "fw".into(),
        secret: "s3cret".into(),
    };
    HttpTransport::new(Encoding::Json, Some(auth)).unwrap()
}

#[tokio::test]
async fn a_success_carries_the_call_and_streams_the_answer() {
    let base = serve().await;
    let url = Url::parse(&format!("{base}/echo")).unwrap();
    let response = tokio::time::timeout(
        LIMIT,
        transport().post_with_headers(
            &url,
            b"{\"type\":\"TEARDOWN\"}".to_vec(),
            &[("Agent-Id", "a1")],
        ),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.url(), &url);
    assert_eq!(response.headers()["Mesos-Stream-Id"], "stream-1");
    let mut body = Vec::new();
    let mut chunks = response.bytes_stream();
    while let Some(chunk) = tokio::time::timeout(LIMIT, chunks.next()).await.unwrap() {
        body.extend_from_slice(&chunk.unwrap());
    }
    assert_eq!(
        String::from_utf8(body).unwrap(),
        "application/json application/json Basic Znc6czNjcmV0 a1 {\"type\":\"TEARDOWN\"}"
    );
}

/// Posts an empty call to `path` of a fresh server; the call must fail.
async fn refused(path: &str) -> (Url, TransportError) {
    let base = serve().await;
    let url = Url::parse(&format!("{base}{path}")).unwrap();
    let error = tokio::time::timeout(LIMIT, transport().post(&url, Vec::new(), None))
        .await
        .unwrap()
        .unwrap_err();
    (url, error)
}

#[tokio::test]
async fn a_refusal_is_an_api_error_with_a_bounded_message() {
    let (url, error) = refused("/refuse").await;
    let api = error.api().expect("an HTTP answer");
    assert_eq!(api.status, 400);
    assert_eq!(api.message.len(), MAX_ERROR_BODY);
    assert_eq!(api.endpoint, url.as_str());
    assert!(!error.is_retryable());
}

#[tokio::test]
async fn a_redirect_is_reported_with_its_location_not_followed() {
    let (_, error) = refused("/redirect").await;
    let api = error.api().expect("an HTTP answer");
    assert!(api.is_redirect());
    assert_eq!(api.location(), Some("//10.0.0.2:5050/api/v1/scheduler"));
}

#[tokio::test]
async fn no_server_is_unreachable_and_the_message_says_why() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let url = Url::parse(&format!("http://{addr}/api/v1/scheduler")).unwrap();
    let error = tokio::time::timeout(LIMIT, transport().post(&url, Vec::new(), None))
        .await
        .unwrap()
        .unwrap_err();
    assert!(
        matches!(&error, TransportError::Unreachable { endpoint, .. } if endpoint == url.as_str()),
        "{error:?}"
    );
    assert!(error.is_retryable());
    let message = error.to_string().to_lowercase();
    assert!(message.contains("connection refused"), "{message}");
}

/// An executor whose agent serves `MESOS_DOMAIN_SOCKET`: every call goes over the
/// socket, whatever host its URL names (nothing listens on that port here).
#[tokio::test]
async fn a_unix_socket_transport_posts_over_the_socket_whatever_the_url() {
    let socket = support::serve_unix("transport", Router::new().route("/echo", post(echo)));

    let http = HttpTransport::over_unix_socket(Encoding::Json, None, &socket).unwrap();
    let url = Url::parse("http://127.0.0.1:1/echo").unwrap();
    let response = tokio::time::timeout(LIMIT, http.post(&url, b"{}".to_vec(), None))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(response.status(), 200);

    // Without the socket a new transport's call is unreachable, and the error names
    // the socket.
    std::fs::remove_file(&socket).unwrap();
    let http = HttpTransport::over_unix_socket(Encoding::Json, None, &socket).unwrap();
    let error = tokio::time::timeout(LIMIT, http.post(&url, b"{}".to_vec(), None))
        .await
        .unwrap()
        .unwrap_err();
    let message = error.to_string();
    assert!(error.is_retryable(), "{error:?}");
    assert!(message.contains(&socket.display().to_string()), "{message}");
    let _ = std::fs::remove_dir_all(socket.parent().unwrap());
}
