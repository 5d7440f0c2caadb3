//! Scripted HTTP servers standing in for a Mesos master or agent in protocol tests.
//!
//! A [`ScriptedServer`] binds `127.0.0.1:0`, records every request, and answers each
//! with what the test's script returns: a status with a body, or a streaming 200 whose
//! chunks the test pushes through a [`StreamHandle`].
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use bytes::Bytes;
use tokio::sync::mpsc;

use mesos_sdk::codec::{Encoding, WireMessage};

/// Bounded wait for anything a test expects to happen.
pub const WAIT: Duration = Duration::from_secs(10);

/// One request the server received.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// Request path.
    pub path: String,
    /// Request headers.
    pub headers: HeaderMap,
    /// Request body.
    pub body: Bytes,
}

impl Recorded {
    /// A header's value as text.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }

    /// Decodes the body as `M` in the encoding named by its Content-Type.
    pub fn decode<M: WireMessage>(&self) -> M {
        let encoding = self
            .header("content-type")
            .and_then(|c| Encoding::from_media_type(&c))
            .expect("request with a Mesos content type");
        encoding.decode_strict(&self.body).expect("valid call")
    }
}

/// The test side of a streaming response: push chunks, or drop it to close the stream.
pub struct StreamHandle {
    tx: mpsc::UnboundedSender<Bytes>,
    /// The request that opened the stream.
    pub request: Recorded,
}

impl StreamHandle {
    /// Sends raw bytes (any framing, possibly partial records).
    pub fn send_raw(&self, bytes: impl Into<Bytes>) {
        let _ = self.tx.send(bytes.into());
    }

    /// Sends one message as a RecordIO record.
    pub fn send<M: WireMessage>(&self, encoding: Encoding, message: &M) {
        self.send_raw(record(encoding, message));
    }
}

/// A message framed as one RecordIO record.
pub fn record<M: WireMessage>(encoding: Encoding, message: &M) -> Bytes {
    let body = encoding.encode(message);
    let mut out = format!("{}\n", body.len()).into_bytes();
    out.extend_from_slice(&body);
    Bytes::from(out)
}

/// What the script answers to one request.
pub enum Reply {
    /// A complete response.
    Status {
        /// HTTP status code.
        status: u16,
        /// Extra headers.
        headers: Vec<(String, String)>,
        /// Body.
        body: Vec<u8>,
    },
    /// A 200 whose body stays open; the [`StreamHandle`] goes to the test through
    /// [`ScriptedServer::next_stream`].
    Stream {
        /// Extra headers (e.g. `Mesos-Stream-Id`).
        headers: Vec<(String, String)>,
    },
}

impl Reply {
    /// `202 Accepted`, empty.
    pub fn accepted() -> Reply {
        Reply::status(202, "")
    }

    /// A status with a text body.
    pub fn status(status: u16, body: &str) -> Reply {
        Reply::Status {
            status,
            headers: Vec::new(),
            body: body.as_bytes().to_vec(),
        }
    }

    /// A `307` to `location`.
    pub fn redirect(location: &str) -> Reply {
        Reply::Status {
            status: 307,
            headers: vec![("Location".into(), location.into())],
            body: Vec::new(),
        }
    }

    /// An open event stream with `Mesos-Stream-Id: stream_id`.
    pub fn stream(stream_id: &str) -> Reply {
        Reply::Stream {
            headers: vec![("Mesos-Stream-Id".into(), stream_id.into())],
        }
    }
}

type Script = Box<dyn FnMut(&Recorded) -> Reply + Send>;

struct Inner {
    script: Mutex<Script>,
    requests: mpsc::UnboundedSender<Recorded>,
    streams: mpsc::UnboundedSender<StreamHandle>,
}

/// A scripted HTTP server on `127.0.0.1:0`.
pub struct ScriptedServer {
    /// Where it listens.
    pub addr: SocketAddr,
    requests: mpsc::UnboundedReceiver<Recorded>,
    streams: mpsc::UnboundedReceiver<StreamHandle>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for ScriptedServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl ScriptedServer {
    /// Starts a server answering each request with `script(request)`.
    pub async fn start(script: impl FnMut(&Recorded) -> Reply + Send + 'static) -> Self {
        let (req_tx, requests) = mpsc::unbounded_channel();
        let (stream_tx, streams) = mpsc::unbounded_channel();
        let inner = Arc::new(Inner {
            script: Mutex::new(Box::new(script)),
            requests: req_tx,
            streams: stream_tx,
        });
        let app = axum::Router::new().fallback(handle).with_state(inner);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        ScriptedServer {
            addr,
            requests,
            streams,
            task,
        }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The next request received (waits at most [`WAIT`]).
    pub async fn next_request(&mut self) -> Recorded {
        tokio::time::timeout(WAIT, self.requests.recv())
            .await
            .expect("timed out waiting for a request")
            .expect("server gone")
    }

    /// The next request whose body decodes to a call matching `pred`, skipping others.
    pub async fn next_matching(&mut self, mut pred: impl FnMut(&Recorded) -> bool) -> Recorded {
        loop {
            let r = self.next_request().await;
            if pred(&r) {
                return r;
            }
        }
    }

    /// The next stream opened by a [`Reply::Stream`] (waits at most [`WAIT`]).
    pub async fn next_stream(&mut self) -> StreamHandle {
        tokio::time::timeout(WAIT, self.streams.recv())
            .await
            .expect("timed out waiting for a subscription")
            .expect("server gone")
    }
}

async fn handle(State(inner): State<Arc<Inner>>, request: Request) -> Response {
    let path = request.uri().path().to_owned();
    let headers = request.headers().clone();
    let body = axum::body::to_bytes(request.into_body(), 16 * 1024 * 1024)
        .await
        .unwrap_or_default();
    let recorded = Recorded {
        path,
        headers,
        body,
    };
    let reply = {
        let mut script = inner.script.lock().unwrap();
        (script)(&recorded)
    };
    let _ = inner.requests.send(recorded.clone());
    match reply {
        Reply::Status {
            status,
            headers,
            body,
        } => {
            let mut response = Response::builder().status(StatusCode::from_u16(status).unwrap());
            for (k, v) in headers {
                response = response.header(k, v);
            }
            response.body(Body::from(body)).unwrap()
        }
        Reply::Stream { headers } => {
            let (tx, rx) = mpsc::unbounded_channel::<Bytes>();
            let _ = inner.streams.send(StreamHandle {
                tx,
                request: recorded,
            });
            let content_type = headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))
                .is_none();
            let stream = futures::stream::unfold(rx, |mut rx| async move {
                rx.recv()
                    .await
                    .map(|chunk| (Ok::<Bytes, std::io::Error>(chunk), rx))
            });
            let mut response = Response::builder().status(200);
            for (k, v) in headers {
                response = response.header(k, v);
            }
            if content_type {
                response = response.header("content-type", "application/x-protobuf");
            }
            response.body(Body::from_stream(stream)).unwrap()
        }
    }
}

/// Serves `app` on `127.0.0.1:0` with each request's peer address available to its
/// handlers (`ConnectInfo<SocketAddr>`: one peer per connection), and returns the
/// address.
pub async fn serve_with_peers(app: axum::Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
    });
    addr
}

/// Serves `app` over TLS on `127.0.0.1:0` with a self-signed certificate for
/// `localhost`, and returns the port and the certificate's PEM (the CA to trust). A
/// client that does not trust it has its handshake refused.
pub async fn serve_tls(app: axum::Router) -> (u16, String) {
    use hyper_util::rt::TokioIo;
    use hyper_util::service::TowerToHyperService;
    use tokio_rustls::rustls::{self, pki_types};

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
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            let app = app.clone();
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(tls), TowerToHyperService::new(app))
                    .await;
            });
        }
    });
    (port, cert_pem)
}

/// Serves `app` on a Unix domain socket in a directory of its own under the system's
/// temporary directory (named after `name` and this process), and returns the
/// socket's path. The caller removes the directory (the socket's parent) when done.
pub fn serve_unix(name: &str, app: axum::Router) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let socket = dir.join("agent.sock");
    let _ = std::fs::remove_file(&socket);
    let listener = tokio::net::UnixListener::bind(&socket).unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    socket
}
