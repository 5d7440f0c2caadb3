//! Calls on one pipelined connection that is opened on the first call and opened again
//! after it ends: how the scheduler and executor drivers send every call but SUBSCRIBE,
//! as Mesos's own libraries send theirs on one libprocess connection.

use std::sync::{Mutex, MutexGuard};

use url::Url;

use super::client::{HttpTransport, STREAM_ID_HEADER};
use super::error::TransportError;
use super::pipeline::{Pipeline, Sent};

/// Posts calls on a [`Pipeline`] to the endpoint of the call, opening it when none is
/// open to that endpoint with that stream id, or when the open one has ended.
///
/// A call that finds the connection ended before it was written goes out once more on
/// a new connection (as a pooled HTTP client resends a request on a connection the
/// server had closed while idle). A call that was written, or may have been, when the
/// connection ended fails as [`TransportError::Unreachable`] and is not resent here:
/// whether to resend is the protocol's decision (an unacknowledged status update is
/// resent by the agent, an unanswered one by the executor on resubscription). The
/// next call opens a new connection.
///
/// ```no_run
/// # async fn demo() -> Result<(), mesos_sdk::transport::TransportError> {
/// use mesos_sdk::codec::Encoding;
/// use mesos_sdk::transport::{HttpTransport, ReconnectingPipeline, Url};
/// let calls = ReconnectingPipeline::new(HttpTransport::new(Encoding::Protobuf, None)?);
/// let url = Url::parse("http://127.0.0.1:5050/api/v1/scheduler").unwrap();
/// calls.post(&url, b"...".to_vec(), Some("stream-1")).await?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct ReconnectingPipeline {
    http: HttpTransport,
    open: Mutex<Option<Open>>,
    /// Held while a connection is being opened, so that a burst of calls opens one.
    opening: tokio::sync::Mutex<()>,
}

/// The open pipeline and what it was opened for.
#[derive(Debug)]
struct Open {
    url: Url,
    stream_id: Option<String>,
    pipeline: Pipeline,
}

impl Open {
    fn serves(&self, url: &Url, stream_id: Option<&str>) -> bool {
        self.url == *url && self.stream_id.as_deref() == stream_id && !self.pipeline.is_closed()
    }
}

impl ReconnectingPipeline {
    /// Calls reached as `http` reaches its endpoints (TCP, TLS with its roots, or its
    /// Unix socket), with its encoding and credentials.
    pub fn new(http: HttpTransport) -> Self {
        ReconnectingPipeline {
            http,
            open: Mutex::new(None),
            opening: tokio::sync::Mutex::new(()),
        }
    }

    /// The transport the pipelines are opened with.
    pub fn transport(&self) -> &HttpTransport {
        &self.http
    }

    /// Posts one call to `url`, with `stream_id` as [`STREAM_ID_HEADER`] when given,
    /// and waits for its answer: `Ok` for a 2xx status.
    ///
    /// # Errors
    /// As [`HttpTransport::pipeline`] when no connection can be opened, and as
    /// [`Pipeline::post`] for the call.
    pub async fn post(
        &self,
        url: &Url,
        body: Vec<u8>,
        stream_id: Option<&str>,
    ) -> Result<(), TransportError> {
        let pipeline = self.pipeline(url, stream_id).await?;
        let request = pipeline.request(&body);
        if let Sent::Answered(result) = pipeline.send(request.clone()).await {
            return result;
        }
        // The connection had ended (the pipeline says so now): once more on a new one.
        let pipeline = self.pipeline(url, stream_id).await?;
        match pipeline.send(request).await {
            Sent::Answered(result) => result,
            Sent::NotSent => {
                Err(pipeline.unreachable("the connection closed before the call was sent"))
            }
        }
    }

    fn open(&self) -> MutexGuard<'_, Option<Open>> {
        // A poisoned lock only means a panic elsewhere; the slot itself stays valid.
        self.open.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The pipeline for `url` and `stream_id`: the open one, or a new one.
    async fn pipeline(
        &self,
        url: &Url,
        stream_id: Option<&str>,
    ) -> Result<Pipeline, TransportError> {
        let current = |this: &Self| {
            this.open()
                .as_ref()
                .filter(|open| open.serves(url, stream_id))
                .map(|open| open.pipeline.clone())
        };
        if let Some(pipeline) = current(self) {
            return Ok(pipeline);
        }
        let _opening = self.opening.lock().await;
        if let Some(pipeline) = current(self) {
            return Ok(pipeline); // Opened by a call that came first.
        }
        let headers = stream_id.map(|id| (STREAM_ID_HEADER, id));
        let pipeline = self.http.pipeline(url, headers.as_slice()).await?;
        tracing::debug!(%url, "calls pipelined on a new connection");
        *self.open() = Some(Open {
            url: url.clone(),
            stream_id: stream_id.map(str::to_owned),
            pipeline: pipeline.clone(),
        });
        Ok(pipeline)
    }
}
