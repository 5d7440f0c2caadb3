//! The stream of records: `tokio_util`'s `FramedRead` with [`RecordIoDecoder`] over a
//! stream of byte chunks.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures::{Stream, TryStream};
use tokio_util::codec::FramedRead;
use tokio_util::io::StreamReader;

use super::decoder::RecordIoDecoder;
use super::error::RecordStreamError;

/// Decodes a stream of byte chunks, such as `transport::Response::bytes_stream()`, into
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
    let chunks = Chunks {
        inner: Box::pin(stream),
        error: None,
    };
    RecordStream {
        framed: FramedRead::new(
            StreamReader::new(chunks),
            RecordIoDecoder::new(max_record_len),
        ),
        done: false,
    }
}

/// The stream of records returned by [`decode_stream`]: a `FramedRead` with a
/// [`RecordIoDecoder`], reading the byte chunks of `S`.
///
/// Yields each record's payload. After an error (see [`decode_stream`]) it ends.
#[must_use = "streams do nothing unless polled"]
pub struct RecordStream<S: TryStream> {
    framed: FramedRead<StreamReader<Chunks<S>, Bytes>, RecordIoDecoder>,
    /// Set after the end or the first error: the stream stays ended.
    done: bool,
}

impl<S: TryStream> std::fmt::Debug for RecordStream<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecordStream")
            .field("decoder", self.framed.decoder())
            .field("done", &self.done)
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
        if this.done {
            return Poll::Ready(None);
        }
        let item = match Pin::new(&mut this.framed).poll_next(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(item) => item,
        };
        Poll::Ready(match item {
            Some(Ok(record)) => Some(Ok(record)),
            None => {
                this.done = true;
                None
            }
            Some(Err(RecordStreamError::RecordIo(error))) => {
                this.done = true;
                Some(Err(RecordStreamError::RecordIo(error)))
            }
            Some(Err(RecordStreamError::Transport(_))) => {
                this.done = true;
                // `StreamReader` fails only with the chunk stream's errors, and
                // `Chunks` keeps each one for this.
                let error = this.framed.get_mut().get_mut().error.take();
                Some(Err(RecordStreamError::Transport(error.expect(
                    "an I/O error under RecordIO comes from the chunk stream",
                ))))
            }
        })
    }
}

/// The byte chunks of `S` as the `io::Result`s `StreamReader` reads; an error of `S`
/// is kept here (the reader gets a placeholder) and handed out typed by
/// [`RecordStream`].
struct Chunks<S: TryStream> {
    inner: Pin<Box<S>>,
    error: Option<S::Error>,
}

// `inner` is boxed and `error` is never pinned.
impl<S: TryStream> Unpin for Chunks<S> {}

impl<S, E> Stream for Chunks<S>
where
    S: Stream<Item = Result<Bytes, E>>,
{
    type Item = io::Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        match this.inner.as_mut().poll_next(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Ready(Some(Ok(chunk))) => Poll::Ready(Some(Ok(chunk))),
            Poll::Ready(Some(Err(error))) => {
                this.error = Some(error);
                Poll::Ready(Some(Err(io::Error::other(
                    "the byte stream under RecordIO failed",
                ))))
            }
        }
    }
}
