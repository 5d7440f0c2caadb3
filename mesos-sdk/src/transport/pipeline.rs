//! Calls pipelined on one HTTP/1.1 connection, as libprocess's `http::Connection` sends
//! the calls of Mesos's own scheduler and executor libraries: every call queued while
//! the connection is busy goes out in the next write, and the answers come back in the
//! order of the calls. A burst of ACKNOWLEDGE or UPDATE calls then costs a few system
//! calls instead of a request and an answer each.
//!
//! For calls whose answer is a status and a small body (`202 Accepted`, or a refusal):
//! never SUBSCRIBE, whose answer is a stream. Plain `http://` only. The connection is
//! opened by [`Pipeline::connect`] and used until it fails; then every call in flight
//! and every later one fails with [`TransportError::Unreachable`], and the caller
//! connects again (calls are retried by the protocol's own rules: an unacknowledged
//! update is resent by the agent, a missing acknowledgement by the scheduler).

use std::collections::VecDeque;
use std::sync::Arc;

use bytes::{Buf, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::sync::{Semaphore, mpsc, oneshot};
use url::Url;

use super::client::{Auth, MAX_ERROR_BODY};
use super::error::{ApiError, TransportError};
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
    request: Vec<u8>,
    answer: oneshot::Sender<Result<(), TransportError>>,
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
    /// Turns for calls queued or unanswered ([`MAX_PIPELINED_CALLS`]), shared by clones.
    turns: Arc<Semaphore>,
    /// The request head, up to the body's length.
    head: Arc<str>,
    endpoint: Arc<str>,
}

impl Pipeline {
    /// Connects to `url`'s host and port; every call will be a POST to `url`'s path
    /// with `encoding`'s `Content-Type` and `Accept`, the credentials of `auth`, and
    /// `headers` (such as `Mesos-Stream-Id`).
    ///
    /// # Errors
    /// [`TransportError::Client`] for an `https://` URL or a header that cannot be
    /// sent; [`TransportError::Unreachable`] when the connection cannot be opened.
    pub async fn connect(
        url: &Url,
        encoding: Encoding,
        auth: Option<Auth>,
        headers: &[(&str, &str)],
    ) -> Result<Self, TransportError> {
        if url.scheme() != "http" {
            return Err(TransportError::Client(format!(
                "pipelined calls need an http:// URL, not {url}"
            )));
        }
        let host = url
            .host_str()
            .ok_or_else(|| TransportError::Client(format!("{url} has no host")))?;
        let port = url.port_or_known_default().unwrap_or(80);
        let authority = match url.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_owned(),
        };
        let mut head = format!(
            "POST {} HTTP/1.1\r\nHost: {authority}\r\nContent-Type: {media}\r\nAccept: {media}\r\n",
            url.path(),
            media = encoding.content_type(),
        );
        let auth = auth.as_ref().map(Auth::header).transpose()?;
        let auth = auth.as_ref().map(|v| v.to_str().unwrap_or_default());
        for (name, value) in auth
            .map(|v| ("Authorization", v))
            .into_iter()
            .chain(headers.iter().copied())
        {
            let bad = |c: char| c == '\r' || c == '\n';
            if name.is_empty() || name.contains(bad) || name.contains(':') || value.contains(bad) {
                return Err(TransportError::Client(format!(
                    "header {name:?} cannot be sent"
                )));
            }
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("Content-Length: ");
        let endpoint: Arc<str> = url.as_str().into();
        let stream = TcpStream::connect((host.trim_matches(['[', ']']), port))
            .await
            .map_err(|e| TransportError::Unreachable {
                endpoint: endpoint.to_string(),
                source: e.into(),
            })?;
        let _ = stream.set_nodelay(true);
        let (reader, writer) = stream.into_split();
        let (calls, queued) = mpsc::channel(64);
        let (sent_tx, sent_rx) = mpsc::unbounded_channel();
        tokio::spawn(write_calls(writer, queued, sent_tx, endpoint.clone()));
        tokio::spawn(read_answers(reader, sent_rx, endpoint.clone()));
        Ok(Pipeline {
            calls,
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
        let mut request = Vec::with_capacity(self.head.len() + 16 + body.len());
        request.extend_from_slice(self.head.as_bytes());
        request.extend_from_slice(format!("{}\r\n\r\n", body.len()).as_bytes());
        request.extend_from_slice(&body);
        let (answer, answered) = oneshot::channel();
        let gone = || self.unreachable("the pipelined connection is closed");
        // Held until the answer: a server that stops answering stops the callers, not
        // the memory. The semaphore is never closed.
        let _turn = self.turns.acquire().await.map_err(|_| gone())?;
        self.calls
            .send(Call { request, answer })
            .await
            .map_err(|_| gone())?;
        answered.await.map_err(|_| gone())?
    }

    fn unreachable(&self, why: &str) -> TransportError {
        unreachable(&self.endpoint, why)
    }
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
    mut writer: OwnedWriteHalf,
    mut queued: mpsc::Receiver<Call>,
    sent: mpsc::UnboundedSender<oneshot::Sender<Result<(), TransportError>>>,
    endpoint: Arc<str>,
) {
    let mut batch = Vec::new();
    while let Some(call) = queued.recv().await {
        batch.clear();
        let mut next = Some(call);
        while let Some(Call { request, answer }) = next {
            batch.extend_from_slice(&request);
            if sent.send(answer).is_err() {
                return; // The reader is gone: the connection failed.
            }
            next = queued.try_recv().ok();
        }
        if let Err(error) = writer.write_all(&batch).await {
            tracing::debug!(%endpoint, %error, "pipelined calls not sent");
            return;
        }
    }
}

/// Reads answers in order and gives each to its call; on a failure, or an answer that
/// closes the connection, fails every call still waiting.
async fn read_answers(
    mut reader: OwnedReadHalf,
    mut sent: mpsc::UnboundedReceiver<oneshot::Sender<Result<(), TransportError>>>,
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
                let _ = answer.send(outcome);
                if close {
                    break "the server closed the connection".to_owned();
                }
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
}
