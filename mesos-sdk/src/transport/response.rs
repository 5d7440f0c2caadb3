use bytes::Bytes;
use futures::{Stream, TryStreamExt as _};
use http_body_util::{BodyDataStream, BodyExt as _};
use hyper::body::Incoming;
use hyper::{HeaderMap, StatusCode};
use url::Url;

use super::error::TransportError;

/// A successful answer to a call: its status, its headers and its body, which may be
/// an event stream that never ends.
#[derive(Debug)]
pub struct Response {
    inner: hyper::Response<Incoming>,
    url: Url,
}

impl Response {
    pub(super) fn new(inner: hyper::Response<Incoming>, url: Url) -> Self {
        Response { inner, url }
    }

    /// The status code (always a success; other answers are [`super::ApiError`]s).
    pub fn status(&self) -> StatusCode {
        self.inner.status()
    }

    /// The answer's headers, e.g. `Mesos-Stream-Id` of a subscription.
    pub fn headers(&self) -> &HeaderMap {
        self.inner.headers()
    }

    /// The URL that answered (the one the call was posted to).
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// The body as it arrives, chunk by chunk (chunk boundaries are arbitrary). A body
    /// that breaks off yields one [`TransportError::Body`].
    pub fn bytes_stream(
        self,
    ) -> impl Stream<Item = Result<Bytes, TransportError>> + Send + 'static {
        BodyDataStream::new(self.inner.into_body()).map_err(|e| TransportError::Body(Box::new(e)))
    }

    /// At most `limit` bytes of the body, for a refusal's message: whatever arrived
    /// before the body ended, broke off, or passed the limit.
    pub(super) async fn prefix(self, limit: usize) -> Vec<u8> {
        let mut body = self.inner.into_body();
        let mut prefix = Vec::new();
        while prefix.len() < limit {
            match body.frame().await {
                Some(Ok(frame)) => {
                    if let Some(chunk) = frame.data_ref() {
                        let take = chunk.len().min(limit - prefix.len());
                        prefix.extend_from_slice(&chunk[..take]);
                    }
                }
                Some(Err(error)) => {
                    tracing::debug!(%error, "error body broke off");
                    break;
                }
                None => break,
            }
        }
        prefix
    }
}
