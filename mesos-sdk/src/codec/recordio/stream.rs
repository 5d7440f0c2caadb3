//! Adapting a stream of byte chunks into a stream of records.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures::Stream;

use super::decoder::RecordIoDecoder;
use super::error::RecordStreamError;

/// Decodes a stream of byte chunks, such as `reqwest::Response::bytes_stream()`, into
/// a stream of RecordIO records of at most `max_record_len` bytes.
///
/// The record stream ends after the first error: a transport error
/// ([`RecordStreamError::Transport`]), a framing error, or a stream that stops in
/// the middle of a record ([`RecordIoError::Truncated`](super::RecordIoError::Truncated)).
///
/// ```
/// # futures::executor::block_on(async {
/// use bytes::Bytes;
/// use futures::{stream, StreamExt};
/// use mesos_sdk::codec::recordio::decode_stream;
///
/// let chunks = stream::iter([
///     Ok::<_, std::io::Error>(Bytes::from_static(b"2\nh")),
///     Ok(Bytes::from_static(b"i3\nyou")),
/// ]);
/// let records: Vec<_> = decode_stream(chunks, 1024).map(Result::unwrap).collect().await;
/// assert_eq!(records, [Bytes::from_static(b"hi"), Bytes::from_static(b"you")]);
/// # });
/// ```
pub fn decode_stream<S, E>(stream: S, max_record_len: usize) -> RecordStream<S>
where
    S: Stream<Item = Result<Bytes, E>>,
{
    RecordStream {
        inner: Box::pin(stream),
        decoder: RecordIoDecoder::new(max_record_len),
        phase: Phase::Reading,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Reading,
    /// The byte stream ended; drain the buffered records, then check for truncation.
    Draining,
    Done,
}

/// The stream of records returned by [`decode_stream`].
#[must_use = "streams do nothing unless polled"]
pub struct RecordStream<S> {
    inner: Pin<Box<S>>,
    decoder: RecordIoDecoder,
    phase: Phase,
}

impl<S> std::fmt::Debug for RecordStream<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecordStream")
            .field("decoder", &self.decoder)
            .field("phase", &self.phase)
            .finish_non_exhaustive()
    }
}

impl<S, E> Stream for RecordStream<S>
where
    S: Stream<Item = Result<Bytes, E>>,
{
    type Item = Result<Bytes, RecordStreamError<E>>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            if this.phase == Phase::Done {
                return Poll::Ready(None);
            }
            match this.decoder.decode_next() {
                Ok(Some(record)) => return Poll::Ready(Some(Ok(record))),
                Ok(None) => {}
                Err(error) => {
                    this.phase = Phase::Done;
                    return Poll::Ready(Some(Err(error.into())));
                }
            }
            if this.phase == Phase::Draining {
                this.phase = Phase::Done;
                return Poll::Ready(this.decoder.finish().err().map(|e| Err(e.into())));
            }
            match this.inner.as_mut().poll_next(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Ok(chunk))) => this.decoder.feed_bytes(chunk),
                Poll::Ready(Some(Err(error))) => {
                    this.phase = Phase::Done;
                    return Poll::Ready(Some(Err(RecordStreamError::Transport(error))));
                }
                Poll::Ready(None) => this.phase = Phase::Draining,
            }
        }
    }
}
