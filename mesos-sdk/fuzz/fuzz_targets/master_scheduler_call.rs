//! Fuzzes the reference master's scheduler API, `POST /api/v1/scheduler`: protobuf
//! and JSON call decoding (strict, as Mesos), Mesos's call validation and the books'
//! answers, through the master's real request handler.
//!
//! Requests go in-process, without a socket, to the master's axum router
//! (`Master::router`, driven with `tower::ServiceExt::oneshot`). The master itself is
//! started once per process on 127.0.0.1:0 (it binds a listener that the target does
//! not use), without agents, and restarted every `RESTART_EVERY` inputs so that the
//! frameworks fuzzed SUBSCRIBE calls create do not pile up. One framework is
//! subscribed by the harness; an input may address its calls to it (the harness then
//! sets `framework_id` and `Mesos-Stream-Id`), which takes them past authorization
//! into the books' validation of each call type.
//!
//! Checks:
//! - no panic, an answer to every request within 5 s, never a 5xx but 501 (a call type
//!   the master does not implement) and 503 (none here);
//! - a 2xx only for a POST with a supported media type whose body the SDK's strict
//!   decoder (`Encoding::decode_strict`) accepts as a `scheduler::Call`, and 400 for
//!   one it refuses;
//! - 405 for other methods, 415 for other media types, 413 over the body limit;
//! - a SUBSCRIBE answered 200 carries a `Mesos-Stream-Id` and the encoding asked for;
//! - error bodies are short text.
#![no_main]

use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use axum::body::Body;
use axum::http::{Method, Request, Response, StatusCode, header};
use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use mesos_master::{Master, MasterConfig};
use mesos_sdk::codec::Encoding;
use mesos_sdk::v1;
use mesos_sdk::v1::scheduler::{Call, call};
use prost::Message;
use tokio::runtime::Runtime;
use tower::ServiceExt;

/// The master's body limit here (small, so that 413 is reachable).
const MAX_BODY: usize = 2048;
/// Inputs between restarts of the master.
const RESTART_EVERY: u64 = 20_000;

#[derive(Debug, Arbitrary)]
enum ContentType {
    Protobuf,
    Json,
    JsonCharset,
    Missing,
    Other(String),
}

#[derive(Debug, Arbitrary)]
enum Accept {
    Missing,
    Protobuf,
    Json,
    Any,
    Other(String),
}

#[derive(Debug, Arbitrary)]
struct Input {
    /// Most requests are POSTs.
    method: u8,
    content_type: ContentType,
    accept: Accept,
    /// Address the call to the harness's subscribed framework.
    as_known_framework: bool,
    /// A `Mesos-Stream-Id` header of the input's own.
    stream_id: Option<String>,
    body: Vec<u8>,
}

struct Harness {
    runtime: Runtime,
    master: Option<Master>,
    router: axum::Router,
    framework_id: String,
    stream_id: String,
    /// Keeps the harness's framework subscribed.
    _stream: Option<Response<Body>>,
    inputs: u64,
}

fn config() -> MasterConfig {
    let mut config = MasterConfig::default();
    config.max_body_bytes = MAX_BODY;
    config
}

fn subscribe_call() -> Call {
    Call {
        r#type: Some(call::Type::Subscribe as i32),
        subscribe: Some(call::Subscribe {
            framework_info: v1::FrameworkInfo {
                user: "fuzz".into(),
                name: "fuzz".into(),
                ..Default::default()
            },
            ..Default::default()
        }),
        ..Default::default()
    }
}

impl Harness {
    fn start(runtime: Runtime) -> Harness {
        let mut harness = Harness {
            runtime,
            master: None,
            router: axum::Router::new(),
            framework_id: String::new(),
            stream_id: String::new(),
            _stream: None,
            inputs: 0,
        };
        harness.restart();
        harness
    }

    fn restart(&mut self) {
        self._stream = None;
        if let Some(master) = self.master.take() {
            self.runtime.block_on(master.shutdown());
        }
        let master = self
            .runtime
            .block_on(Master::start(config(), "127.0.0.1:0".parse().unwrap()))
            .expect("the master starts");
        self.router = master.router();
        self.master = Some(master);
        // Subscribe the harness's framework and read its SUBSCRIBED event.
        let request = Request::post("/api/v1/scheduler")
            .header(header::CONTENT_TYPE, "application/x-protobuf")
            .body(Body::from(subscribe_call().encode_to_vec()))
            .unwrap();
        let router = self.router.clone();
        let (framework_id, stream_id, response) = self.runtime.block_on(async move {
            let mut response = router.oneshot(request).await.unwrap();
            assert_eq!(response.status(), StatusCode::OK);
            let stream_id = response.headers()["Mesos-Stream-Id"]
                .to_str()
                .unwrap()
                .to_owned();
            let framework_id = first_framework_id(response.body_mut()).await;
            (framework_id, stream_id, response)
        });
        self.framework_id = framework_id;
        self.stream_id = stream_id;
        self._stream = Some(response);
    }
}

/// Reads the SUBSCRIBED event off a protobuf event stream.
async fn first_framework_id(body: &mut Body) -> String {
    use http_body_util::BodyExt;
    let mut decoder = mesos_sdk::codec::recordio::RecordIoDecoder::new(1 << 20);
    loop {
        let frame = body.frame().await.expect("the stream stays open").unwrap();
        if let Ok(data) = frame.into_data() {
            decoder.feed(&data);
        }
        if let Some(record) = decoder.decode_next().unwrap() {
            let event = v1::scheduler::Event::decode(&record[..]).unwrap();
            return event.subscribed.expect("SUBSCRIBED first").framework_id.value;
        }
    }
}

fn harness() -> &'static Mutex<Harness> {
    static HARNESS: OnceLock<Mutex<Harness>> = OnceLock::new();
    HARNESS.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        Mutex::new(Harness::start(runtime))
    })
}

fn encoding_of(content_type: &ContentType) -> Option<(String, Encoding)> {
    match content_type {
        ContentType::Protobuf => Some(("application/x-protobuf".into(), Encoding::Protobuf)),
        ContentType::Json => Some(("application/json".into(), Encoding::Json)),
        ContentType::JsonCharset => {
            Some(("application/json; charset=utf-8".into(), Encoding::Json))
        }
        ContentType::Missing => None,
        ContentType::Other(s) => Some((s.clone(), Encoding::from_media_type(s)?)),
    }
}

fuzz_target!(|input: Input| {
    let mut guard = harness().lock().unwrap_or_else(|p| p.into_inner());
    let h = &mut *guard;
    h.inputs += 1;
    if h.inputs % RESTART_EVERY == 0 {
        h.restart();
    }

    let method = match input.method {
        0 => Method::GET,
        1 => Method::PUT,
        2 => Method::DELETE,
        _ => Method::POST,
    };
    let encoding = encoding_of(&input.content_type);
    let mut body = input.body.clone();
    let mut stream_id = input.stream_id.clone();
    let mut teardown = false;
    if input.as_known_framework {
        // Address the call to the subscribed framework, keeping everything else.
        if let Some((_, enc)) = &encoding {
            if let Ok(mut call) = enc.decode::<Call>(&body) {
                if call.r#type != Some(call::Type::Subscribe as i32) {
                    call.framework_id = Some(v1::FrameworkId {
                        value: h.framework_id.clone(),
                    });
                    teardown = call.r#type == Some(call::Type::Teardown as i32);
                    body = enc.encode(&call);
                    stream_id = Some(h.stream_id.clone());
                }
            }
        }
    }

    let mut request = Request::builder().method(method.clone()).uri("/api/v1/scheduler");
    match &input.content_type {
        ContentType::Missing => {}
        ContentType::Protobuf | ContentType::Json | ContentType::JsonCharset => {
            request = request.header(header::CONTENT_TYPE, encoding.as_ref().unwrap().0.as_str());
        }
        ContentType::Other(s) => request = request.header(header::CONTENT_TYPE, s.as_str()),
    }
    match &input.accept {
        Accept::Missing => {}
        Accept::Protobuf => request = request.header(header::ACCEPT, "application/x-protobuf"),
        Accept::Json => request = request.header(header::ACCEPT, "application/json"),
        Accept::Any => request = request.header(header::ACCEPT, "*/*"),
        Accept::Other(s) => request = request.header(header::ACCEPT, s.as_str()),
    }
    if let Some(id) = &stream_id {
        request = request.header("Mesos-Stream-Id", id.as_str());
    }
    // Header values the fuzzer made up may be invalid: no request, nothing to check.
    let Ok(request) = request.body(Body::from(body.clone())) else {
        return;
    };
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let accept = request
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);

    let router = h.router.clone();
    let (status, headers, text) = h.runtime.block_on(async move {
        let response = tokio::time::timeout(Duration::from_secs(5), router.oneshot(request))
            .await
            .expect("the master answers within 5 s")
            .expect("the router is infallible");
        let status = response.status();
        let headers = response.headers().clone();
        // A subscription's body is an endless stream: only the status and headers.
        let text = if status.is_success() {
            Vec::new()
        } else {
            let bytes = tokio::time::timeout(
                Duration::from_secs(5),
                axum::body::to_bytes(response.into_body(), 64 * 1024),
            )
            .await
            .expect("an error body within 5 s")
            .expect("an error body under 64 KiB");
            bytes.to_vec()
        };
        (status, headers, text)
    });

    if teardown && status.is_success() {
        // The harness's framework is gone: subscribe a new one.
        h.restart();
    }

    // The oracle: what the SDK's strict decoder makes of the body.
    let decoded = encoding.as_ref().map(|(_, enc)| enc.decode_strict::<Call>(&body));
    let describe = || {
        format!(
            "{method} {content_type:?} accept {accept:?} -> {status} {:?}",
            String::from_utf8_lossy(&text)
        )
    };

    assert!(
        !status.is_server_error()
            || status == StatusCode::NOT_IMPLEMENTED
            || status == StatusCode::SERVICE_UNAVAILABLE,
        "server error: {}",
        describe()
    );
    assert!(text.len() <= 4096 + body.len(), "long error body: {}", describe());
    if method != Method::POST {
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{}", describe());
        return;
    }
    match (&content_type, &encoding) {
        (None, _) => assert_eq!(status, StatusCode::BAD_REQUEST, "{}", describe()),
        (Some(_), None) => {
            assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{}", describe())
        }
        (Some(_), Some(_)) if body.len() > MAX_BODY => {
            assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{}", describe())
        }
        (Some(_), Some(_)) => match decoded.expect("an encoding") {
            Err(_) => assert_eq!(status, StatusCode::BAD_REQUEST, "{}", describe()),
            Ok(call) => {
                if status.is_success() {
                    let subscribe = call.r#type == Some(call::Type::Subscribe as i32);
                    if subscribe {
                        assert_eq!(status, StatusCode::OK, "{}", describe());
                        assert!(headers.contains_key("Mesos-Stream-Id"), "{}", describe());
                        let wanted = Encoding::from_accept(
                            accept.as_deref(),
                            encoding.as_ref().unwrap().1,
                        )
                        .expect("SUBSCRIBE answered 200 to an unacceptable Accept");
                        assert_eq!(
                            headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()),
                            Some(wanted.content_type()),
                            "{}",
                            describe()
                        );
                    }
                }
            }
        },
    }
});
