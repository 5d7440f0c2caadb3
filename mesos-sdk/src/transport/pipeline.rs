//! Calls pipelined on one HTTP/1.1 connection, as libprocess's `http::Connection` sends
//! the calls of Mesos's own scheduler and executor libraries: every call queued while
//! the connection is busy goes out in the next write, and the answers come back in the
//! order of the calls. A burst of ACKNOWLEDGE or UPDATE calls then costs a few system
//! calls instead of a request and an answer each.
//!
//! For calls whose answer is a status and a small body (`202 Accepted`, or a refusal):
//! never SUBSCRIBE, whose answer is a stream. Over TCP, TLS or a Unix domain socket, as
//! the transport that opens it reaches its endpoints
//! ([`HttpTransport::pipeline`](crate::transport::HttpTransport::pipeline)). The
//! connection is used until it fails; then every call in flight and every later one fails with
//! [`TransportError::Unreachable`], and a new pipeline is needed
//! ([`super::ReconnectingPipeline`] opens one). Calls are resent by the protocol's own
//! rules: an unacknowledged status update is resent by the agent.

use std::collections::VecDeque;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use bytes::{Buf, Bytes, BytesMut};
use rustls_pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpStream, UnixStream};
use tokio::sync::{Semaphore, mpsc, oneshot};
use url::Url;

use super::auth::Auth;
use super::connector::{CONNECT_TIMEOUT, tls_config};
use super::error::{ApiError, MAX_ERROR_BODY, TransportError};
use crate::codec::Encoding;

/// At most this many calls are queued or unanswered on one pipeline; a caller past it
/// waits for room.
pub const MAX_PIPELINED_CALLS: usize = 1024;

/// The largest answer accepted: its head and its body together (a call's answer is a
/// status and at most an error message; a larger one fails the connection).
const MAX_ANSWER: usize = 64 * 1024;

/// Headers an answer may have.
const MAX_HEADERS: usize = 32;

/// One call: the request's bytes, and where its answer goes.
struct Call {
    request: Bytes,
    answer: oneshot::Sender<Result<(), TransportError>>,
}

/// What became of one request.
pub(super) enum Sent {
    /// It was written, or may have been: its answer, or how the connection failed.
    Answered(Result<(), TransportError>),
    /// The connection had ended before the request was written: it may be sent again
    /// on a new one.
    NotSent,
}

/// How a pipeline reaches its endpoint.
pub(super) enum Dial<'a> {
    /// TCP to the URL's host and port.
    Tcp,
    /// TCP, then TLS with this configuration.
    Tls(&'a Arc<rustls::ClientConfig>),
    /// The Unix domain socket at this path, whatever the URL's host.
    Unix(&'a Path),
}

/// A connection carrying calls pipelined (see the module documentation). Cheap to
/// clone: clones share the connection.
///
/// ```no_run
/// # async fn demo() -> Result<(), mesos_sdk::transport::TransportError> {
/// use mesos_sdk::codec::Encoding;
/// use mesos_sdk::transport::{Pipeline, Url};
/// let url = Url::parse("http://127.0.0.1:5050/api/v1/scheduler").unwrap();
/// let calls = Pipeline::connect(&url, Encoding::Protobuf, None, &[("Mesos-Stream-Id", "s1")]).await?;
/// calls.post(b"...".to_vec()).await?; // Ok once the master answered 2xx
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct Pipeline {
    calls: mpsc::Sender<Call>,
    /// Set by the writer or the reader once the connection has ended (or is about to:
    /// an answer said `Connection: close`).
    ended: Arc<AtomicBool>,
    /// Turns for calls queued or unanswered ([`MAX_PIPELINED_CALLS`]), shared by clones.
    turns: Arc<Semaphore>,
    /// The request head, up to the body's length.
    head: Arc<[u8]>,
    endpoint: Arc<str>,
}

impl Pipeline {
    /// Connects to `url`'s host and port (TLS for `https://`, trusting the web PKI
    /// roots); every call will be a POST to `url`'s path with `encoding`'s
    /// `Content-Type` and `Accept`, the credentials of `auth`, and `headers` (such as
    /// `Mesos-Stream-Id`). [`HttpTransport::pipeline`](crate::transport::HttpTransport::pipeline) opens one reached as a transport
    /// reaches its endpoints (a cluster's CA, a Unix socket).
    ///
    /// # Errors
    /// [`TransportError::Client`] for a URL that is neither `http://` nor `https://`,
    /// or a header that cannot be sent; [`TransportError::Unreachable`] when the
    /// connection cannot be opened within the connect timeout.
    pub async fn connect(
        url: &Url,
        encoding: Encoding,
        auth: Option<Auth>,
        headers: &[(&str, &str)],
    ) -> Result<Self, TransportError> {
        let auth = auth.as_ref().map(Auth::header).transpose()?;
        let auth = auth.as_ref().map(|value| value.as_bytes());
        let tls = tls_config(&[])?;
        let dial = network_dial(url, &tls)?;
        Pipeline::open(url, dial, encoding, auth, headers, url.to_string()).await
    }

    /// Opens the connection `dial` names and starts its writer and reader; `endpoint`
    /// names it in errors.
    pub(super) async fn open(
        url: &Url,
        dial: Dial<'_>,
        encoding: Encoding,
        auth: Option<&[u8]>,
        headers: &[(&str, &str)],
        endpoint: String,
    ) -> Result<Self, TransportError> {
        let host = url
            .host_str()
            .ok_or_else(|| TransportError::Client(format!("{url} has no host")))?;
        let head = request_head(url, host, encoding, auth, headers)?;
        let endpoint: Arc<str> = endpoint.into();
        let port = url.port_or_known_default().unwrap_or(80);
        let host = host.trim_matches(['[', ']']);
        let ended = Arc::new(AtomicBool::new(false));
        let connected = async {
            Ok::<_, std::io::Error>(match dial {
                Dial::Unix(path) => start(UnixStream::connect(path).await?, &ended, &endpoint),
                Dial::Tcp => start(tcp(host, port).await?, &ended, &endpoint),
                Dial::Tls(config) => {
                    let name = ServerName::try_from(host.to_owned())
                        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
                    let stream = tokio_rustls::TlsConnector::from(config.clone())
                        .connect(name, tcp(host, port).await?)
                        .await?;
                    start(stream, &ended, &endpoint)
                }
            })
        };
        let calls = match tokio::time::timeout(CONNECT_TIMEOUT, connected).await {
            Ok(Ok(calls)) => calls,
            Ok(Err(error)) => {
                return Err(TransportError::Unreachable {
                    endpoint: endpoint.to_string(),
                    source: error.into(),
                });
            }
            Err(_) => {
                return Err(unreachable(
                    &endpoint,
                    &format!("connecting timed out after {CONNECT_TIMEOUT:?}"),
                ));
            }
        };
        Ok(Pipeline {
            calls,
            ended,
            turns: Arc::new(Semaphore::new(MAX_PIPELINED_CALLS)),
            head: head.into(),
            endpoint,
        })
    }

    /// Posts one call and waits for its answer: `Ok` for a 2xx status.
    ///
    /// # Errors
    /// [`TransportError::Api`] for any other status (a redirect's `Location` kept),
    /// with at most [`MAX_ERROR_BODY`] bytes of the body; [`TransportError::Unreachable`]
    /// when the connection failed before the answer came.
    pub async fn post(&self, body: Vec<u8>) -> Result<(), TransportError> {
        match self.send(self.request(&body)).await {
            Sent::Answered(result) => result,
            Sent::NotSent => Err(self.unreachable("the pipelined connection is closed")),
        }
    }

    /// The whole request of a call with `body`.
    pub(super) fn request(&self, body: &[u8]) -> Bytes {
        let length = body.len().to_string();
        let mut request = Vec::with_capacity(self.head.len() + length.len() + 4 + body.len());
        request.extend_from_slice(&self.head);
        request.extend_from_slice(length.as_bytes());
        request.extend_from_slice(b"\r\n\r\n");
        request.extend_from_slice(body);
        request.into()
    }

    /// Sends `request` (made by [`Pipeline::request`]) and waits for its answer.
    pub(super) async fn send(&self, request: Bytes) -> Sent {
        let (answer, answered) = oneshot::channel();
        // Held until the answer: a server that stops answering stops the callers, not
        // the memory. The semaphore is never closed.
        let Ok(_turn) = self.turns.acquire().await else {
            return Sent::NotSent;
        };
        if self.calls.send(Call { request, answer }).await.is_err() {
            return Sent::NotSent; // The writer is gone.
        }
        // Every answer handed to the reader is answered, even when the connection fails:
        // one dropped unanswered never reached the reader, and so was never written.
        match answered.await {
            Ok(result) => Sent::Answered(result),
            Err(_) => Sent::NotSent,
        }
    }

    /// `true` once the connection has ended, or its last answer said it will: later
    /// calls fail, and a new pipeline is needed.
    pub fn is_closed(&self) -> bool {
        self.ended.load(Ordering::Acquire) || self.calls.is_closed()
    }

    /// [`TransportError::Unreachable`] naming this pipeline's endpoint and `why`.
    pub(super) fn unreachable(&self, why: &str) -> TransportError {
        unreachable(&self.endpoint, why)
    }
}

/// How a pipeline to `url` goes over the network: TCP for `http://`, TLS with `tls`
/// for `https://`.
pub(super) fn network_dial<'a>(
    url: &Url,
    tls: &'a Arc<rustls::ClientConfig>,
) -> Result<Dial<'a>, TransportError> {
    match url.scheme() {
        "http" => Ok(Dial::Tcp),
        "https" => Ok(Dial::Tls(tls)),
        _ => Err(TransportError::Client(format!(
            "calls need an http:// or https:// URL, not {url}"
        ))),
    }
}

/// Every call's request head, up to the value of its `Content-Length`.
fn request_head(
    url: &Url,
    host: &str,
    encoding: Encoding,
    auth: Option<&[u8]>,
    headers: &[(&str, &str)],
) -> Result<Vec<u8>, TransportError> {
    let authority = match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    };
    let mut head = format!(
        "POST {} HTTP/1.1\r\nHost: {authority}\r\nContent-Type: {media}\r\nAccept: {media}\r\n",
        url.path(),
        media = encoding.content_type(),
    )
    .into_bytes();
    let bad = |c: &u8| *c == b'\r' || *c == b'\n';
    let headers = auth
        .map(|v| ("Authorization".as_bytes(), v))
        .into_iter()
        .chain(headers.iter().map(|(n, v)| (n.as_bytes(), v.as_bytes())));
    for (name, value) in headers {
        if name.is_empty() || name.iter().any(bad) || name.contains(&b':') || value.iter().any(bad)
        {
            return Err(TransportError::Client(format!(
                "header {:?} cannot be sent",
                String::from_utf8_lossy(name)
            )));
        }
        head.extend_from_slice(name);
        head.extend_from_slice(b": ");
        head.extend_from_slice(value);
        head.extend_from_slice(b"\r\n");
    }
    head.extend_from_slice(b"Content-Length: ");
    Ok(head)
}

/// A TCP connection without Nagle's delay (calls are small and answered at once).
async fn tcp(host: &str, port: u16) -> std::io::Result<TcpStream> {
    let stream = TcpStream::connect((host, port)).await?;
    let _ = stream.set_nodelay(true);
    Ok(stream)
}

/// Starts the writer and the reader of `stream`; returns where calls are queued.
fn start<S>(stream: S, ended: &Arc<AtomicBool>, endpoint: &Arc<str>) -> mpsc::Sender<Call>
where
    S: AsyncRead + AsyncWrite + Send + 'static,
{
    let (reader, writer) = tokio::io::split(stream);
    let (calls, queued) = mpsc::channel(64);
    let (sent_tx, sent_rx) = mpsc::unbounded_channel();
    tokio::spawn(write_calls(
        writer,
        queued,
        sent_tx,
        ended.clone(),
        endpoint.clone(),
    ));
    tokio::spawn(read_answers(
        reader,
        sent_rx,
        ended.clone(),
        endpoint.clone(),
    ));
    calls
}

fn unreachable(endpoint: &str, why: &str) -> TransportError {
    TransportError::Unreachable {
        endpoint: endpoint.to_owned(),
        source: why.to_owned().into(),
    }
}

/// Writes calls as they come, every call already queued in the same write; hands each
/// answer's sender to the reader, in order, before its request goes out.
async fn write_calls(
    mut writer: impl AsyncWrite + Unpin,
    mut queued: mpsc::Receiver<Call>,
    sent: mpsc::UnboundedSender<oneshot::Sender<Result<(), TransportError>>>,
    ended: Arc<AtomicBool>,
    endpoint: Arc<str>,
) {
    // Set before `queued` is dropped, so a call that finds the queue closed also finds
    // the pipeline closed.
    let end = || ended.store(true, Ordering::Release);
    let mut batch = Vec::new();
    loop {
        let call = tokio::select! {
            call = queued.recv() => call,
            // The reader ended: the connection failed.
            () = sent.closed() => None,
        };
        let Some(call) = call else { break };
        batch.clear();
        let mut next = Some(call);
        while let Some(Call { request, answer }) = next {
            batch.extend_from_slice(&request);
            if sent.send(answer).is_err() {
                return end(); // The reader is gone: the connection failed.
            }
            next = queued.try_recv().ok();
        }
        if let Err(error) = writer.write_all(&batch).await {
            tracing::debug!(%endpoint, %error, "pipelined calls not sent");
            return end();
        }
    }
    // Every pipeline handle is gone (or the reader ended): say so to the server, which
    // then closes its side and ends the reader.
    end();
    let _ = writer.shutdown().await;
}

/// Reads answers in order and gives each to its call; on a failure, or an answer that
/// closes the connection, fails every call still waiting.
async fn read_answers(
    mut reader: impl AsyncRead + Unpin,
    mut sent: mpsc::UnboundedReceiver<oneshot::Sender<Result<(), TransportError>>>,
    ended: Arc<AtomicBool>,
    endpoint: Arc<str>,
) {
    let mut buffer = BytesMut::with_capacity(8 * 1024);
    let mut waiting: VecDeque<oneshot::Sender<Result<(), TransportError>>> = VecDeque::new();
    let why = loop {
        match parse_answer(&buffer, &endpoint) {
            Ok(Some((length, outcome, close))) => {
                buffer.advance(length);
                while let Ok(answer) = sent.try_recv() {
                    waiting.push_back(answer);
                }
                let Some(answer) = waiting.pop_front() else {
                    break "an answer came for no call".to_owned();
                };
                if close {
                    // Closed before the caller hears: its next call opens a new one.
                    ended.store(true, Ordering::Release);
                    let _ = answer.send(outcome);
                    break "the server closed the connection".to_owned();
                }
                let _ = answer.send(outcome);
                continue;
            }
            Ok(None) => {}
            Err(why) => break why,
        }
        if buffer.len() >= MAX_ANSWER {
            break format!("an answer is larger than {MAX_ANSWER} bytes");
        }
        match reader.read_buf(&mut buffer).await {
            Ok(0) => break "the server closed the connection".to_owned(),
            Ok(_) => {}
            Err(error) => break error.to_string(),
        }
    };
    tracing::debug!(%endpoint, reason = %why, "pipelined connection ends");
    ended.store(true, Ordering::Release);
    sent.close();
    while let Ok(answer) = sent.try_recv() {
        waiting.push_back(answer);
    }
    for answer in waiting {
        let _ = answer.send(Err(unreachable(&endpoint, &why)));
    }
}

/// One whole answer at the start of `buffer`: its length in bytes, the call's outcome,
/// and whether the server closes the connection after it. `None` while incomplete.
type Parsed = Option<(usize, Result<(), TransportError>, bool)>;

fn parse_answer(buffer: &[u8], endpoint: &str) -> Result<Parsed, String> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut response = httparse::Response::new(&mut headers);
    let head = match response.parse(buffer) {
        Ok(httparse::Status::Complete(head)) => head,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(error) => return Err(format!("malformed answer: {error}")),
    };
    let status = response.code.unwrap_or_default();
    let header = |name: &str| {
        response
            .headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| String::from_utf8_lossy(h.value).trim().to_owned())
    };
    if header("transfer-encoding").is_some() {
        return Err("chunked answers are not supported on a pipelined connection".into());
    }
    let length: usize = match header("content-length") {
        Some(value) => value
            .parse()
            .map_err(|_| format!("bad Content-Length {value:?}"))?,
        None if status == 204 || status == 304 || (100..200).contains(&status) => 0,
        None => return Err("an answer without Content-Length".into()),
    };
    if head + length > MAX_ANSWER {
        return Err(format!("an answer is larger than {MAX_ANSWER} bytes"));
    }
    if buffer.len() < head + length {
        return Ok(None);
    }
    let close = header("connection").is_some_and(|v| v.eq_ignore_ascii_case("close"))
        || response.version == Some(0);
    let outcome = if (200..300).contains(&status) {
        Ok(())
    } else {
        let body = &buffer[head..head + length];
        let body = &body[..body.len().min(MAX_ERROR_BODY)];
        Err(ApiError {
            status,
            message: String::from_utf8_lossy(body).trim().to_owned(),
            location: header("location"),
            endpoint: endpoint.to_owned(),
        }
        .into())
    };
    Ok(Some((head + length, outcome, close)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Parsed, String> {
        parse_answer(text.as_bytes(), "http://m/api")
    }

    #[test]
    fn answers_are_cut_at_their_length_and_judged_by_status() {
        let two = "HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\nHTTP/1.1 400 Bad Request\r\ncontent-length: 4\r\n\r\nnope";
        let (length, outcome, close) = parse(two).unwrap().unwrap();
        assert_eq!(length, two.find("HTTP/1.1 400").unwrap());
        assert!(outcome.is_ok() && !close);
        let (_, outcome, _) = parse(&two[length..]).unwrap().unwrap();
        let error = outcome.unwrap_err();
        let api = error.api().expect("an API error");
        assert_eq!((api.status, api.message.as_str()), (400, "nope"));
    }

    #[test]
    fn partial_answers_wait_and_broken_ones_fail_the_connection() {
        assert!(parse("HTTP/1.1 202 Acc").unwrap().is_none());
        assert!(
            parse("HTTP/1.1 400 No\r\nContent-Length: 9\r\n\r\nabc")
                .unwrap()
                .is_none()
        );
        assert!(parse("HTTP/1.1 202 OK\r\n\r\n").is_err(), "no length");
        assert!(parse("HTTP/1.1 202 OK\r\nTransfer-Encoding: chunked\r\n\r\n").is_err());
        assert!(parse("garbage\r\n\r\n").is_err());
        let huge = format!("HTTP/1.1 400 No\r\nContent-Length: {}\r\n\r\n", MAX_ANSWER);
        assert!(parse(&huge).unwrap_err().contains("larger than"));
    }

    #[test]
    fn a_redirect_keeps_its_location_and_close_is_seen() {
        let text = "HTTP/1.1 307 Temporary Redirect\r\nLocation: //10.0.0.2:5050/api/v1/scheduler\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
        let (_, outcome, close) = parse(text).unwrap().unwrap();
        assert!(close);
        let error = outcome.unwrap_err();
        let api = error.api().unwrap();
        assert_eq!(api.location(), Some("//10.0.0.2:5050/api/v1/scheduler"));
    }

    /// After the connection ended, a call is not written, and says so: the caller may
    /// send it on a new connection.
    #[tokio::test]
    async fn a_call_after_the_connection_ended_is_not_sent() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            // Reads the first request, then closes without answering.
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut seen = Vec::new();
            while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                let mut chunk = [0u8; 512];
                let n = socket.read(&mut chunk).await.unwrap();
                seen.extend_from_slice(&chunk[..n]);
            }
        });
        let url = Url::parse(&format!("http://{addr}/api")).unwrap();
        let pipeline = Pipeline::connect(&url, Encoding::Protobuf, None, &[])
            .await
            .unwrap();
        assert!(!pipeline.is_closed());
        let limit = std::time::Duration::from_secs(10);
        let first = tokio::time::timeout(limit, pipeline.send(pipeline.request(b"1")))
            .await
            .unwrap();
        assert!(
            matches!(
                first,
                Sent::Answered(Err(TransportError::Unreachable { .. }))
            ),
            "the written call fails as unreachable"
        );
        assert!(pipeline.is_closed());
        let second = tokio::time::timeout(limit, pipeline.send(pipeline.request(b"2")))
            .await
            .unwrap();
        assert!(matches!(second, Sent::NotSent));
    }
}
