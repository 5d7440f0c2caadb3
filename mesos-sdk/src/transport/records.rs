use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures::Stream;
use futures::stream::BoxStream;

use super::error::TransportError;
use crate::codec::recordio::{self, RecordStreamError};

type Inner = recordio::RecordStream<BoxStream<'static, Result<Bytes, TransportError>>>;

/// The records of a RecordIO stream, decoded incrementally from a byte stream with
/// [`crate::codec::recordio::decode_stream`].
///
/// Yields each record's payload; a record larger than the configured maximum, a bad
/// length header, or a stream that ends inside a record yields one
/// [`TransportError::Framing`] and then ends.
pub struct RecordStream {
    inner: Inner,
}

impl std::fmt::Debug for RecordStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecordStream")
            .field("inner", &self.inner)
            .finish()
    }
}

/// The records of a streaming HTTP response body, each at most `max_record` bytes.
pub fn records(response: reqwest::Response, max_record: usize) -> RecordStream {
    use futures::TryStreamExt as _;
    RecordStream::new(
        response.bytes_stream().map_err(TransportError::Body),
        max_record,
    )
}

impl RecordStream {
    /// Decodes records from any stream of byte chunks (chunk boundaries are arbitrary).
    pub fn new<S>(bytes: S, max_record: usize) -> Self
    where
        S: Stream<Item = Result<Bytes, TransportError>> + Send + 'static,
    {
        let boxed: BoxStream<'static, Result<Bytes, TransportError>> = Box::pin(bytes);
        RecordStream {
            inner: recordio::decode_stream(boxed, max_record),
        }
    }
}

impl Stream for RecordStream {
    type Item = Result<Bytes, TransportError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Pin::new(&mut self.inner).poll_next(cx).map(|item| {
            item.map(|r| {
                r.map_err(|e| match e {
                    RecordStreamError::RecordIo(e) => TransportError::Framing(e),
                    RecordStreamError::Transport(e) => e,
                })
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::StreamExt as _;

    fn chunks(parts: &[&[u8]]) -> impl Stream<Item = Result<Bytes, TransportError>> + use<> {
        let owned: Vec<Result<Bytes, TransportError>> = parts
            .iter()
            .map(|p| Ok(Bytes::copy_from_slice(p)))
            .collect();
        futures::stream::iter(owned)
    }

    #[tokio::test]
    async fn records_span_and_share_chunks() {
        let s = RecordStream::new(chunks(&[b"5\nhel", b"lo3\nabc0\n", b"2", b"\nxy"]), 10);
        let got: Vec<_> = s.map(|r| r.unwrap()).collect().await;
        assert_eq!(got, vec!["hello", "abc", "", "xy"]);
    }

    #[tokio::test]
    async fn oversize_and_garbage_and_truncation_are_errors() {
        for input in [
            &b"11\nhello world"[..],
            b"x\n",
            b"123456789012345678901234\n",
            b"4\nab",
        ] {
            let mut s = RecordStream::new(chunks(&[input]), 10);
            let item = s.next().await;
            assert!(
                matches!(item, Some(Err(TransportError::Framing(_)))),
                "{input:?}: {item:?}"
            );
            assert!(s.next().await.is_none());
        }
    }
}
