use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Buf, Bytes, BytesMut};
use futures::Stream;
use futures::stream::BoxStream;

use super::error::TransportError;

/// The records of a RecordIO stream, decoded incrementally from a byte stream.
///
/// Yields each record's payload; a record larger than the configured maximum, a bad
/// length header, or a stream that ends inside a record yields one
/// [`TransportError::Framing`] and then ends.
pub struct RecordStream {
    bytes: BoxStream<'static, Result<Bytes, TransportError>>,
    decoder: Decoder,
    done: bool,
}

impl std::fmt::Debug for RecordStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecordStream")
            .field("buffered", &self.decoder.buf.len())
            .field("max_record", &self.decoder.max)
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
        RecordStream {
            bytes: Box::pin(bytes),
            decoder: Decoder {
                buf: BytesMut::new(),
                max: max_record,
                pending: None,
            },
            done: false,
        }
    }
}

impl Stream for RecordStream {
    type Item = Result<Bytes, TransportError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            if this.done {
                return Poll::Ready(None);
            }
            match this.decoder.next() {
                Ok(Some(record)) => return Poll::Ready(Some(Ok(record))),
                Ok(None) => {}
                Err(e) => {
                    this.done = true;
                    return Poll::Ready(Some(Err(TransportError::Framing(e))));
                }
            }
            match this.bytes.as_mut().poll_next(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Ok(chunk))) => this.decoder.buf.extend_from_slice(&chunk),
                Poll::Ready(Some(Err(e))) => {
                    this.done = true;
                    return Poll::Ready(Some(Err(e)));
                }
                Poll::Ready(None) => {
                    this.done = true;
                    if this.decoder.buf.is_empty() && this.decoder.pending.is_none() {
                        return Poll::Ready(None);
                    }
                    return Poll::Ready(Some(Err(TransportError::Framing(
                        "the stream ended inside a record".into(),
                    ))));
                }
            }
        }
    }
}

/// Longest accepted length header: u64::MAX has 20 digits.
const MAX_HEADER: usize = 20;

struct Decoder {
    buf: BytesMut,
    max: usize,
    /// Length of the record whose header has been consumed.
    pending: Option<usize>,
}

impl Decoder {
    fn next(&mut self) -> Result<Option<Bytes>, String> {
        if self.pending.is_none() {
            let Some(newline) = self
                .buf
                .iter()
                .take(MAX_HEADER + 1)
                .position(|b| *b == b'\n')
            else {
                if self.buf.len() > MAX_HEADER {
                    return Err("record length header is too long".into());
                }
                return Ok(None);
            };
            let header = &self.buf[..newline];
            if header.is_empty() || !header.iter().all(u8::is_ascii_digit) {
                return Err(format!(
                    "record length header {:?} is not a decimal number",
                    String::from_utf8_lossy(header)
                ));
            }
            let length = std::str::from_utf8(header)
                .ok()
                .and_then(|s| s.parse::<u64>().ok())
                .ok_or_else(|| "record length overflows".to_string())?;
            if length > self.max as u64 {
                return Err(format!(
                    "record of {length} bytes exceeds the maximum of {} bytes",
                    self.max
                ));
            }
            self.buf.advance(newline + 1);
            self.pending = Some(length as usize);
        }
        match self.pending {
            Some(len) if self.buf.len() >= len => {
                self.pending = None;
                Ok(Some(self.buf.split_to(len).freeze()))
            }
            _ => Ok(None),
        }
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
            b"123456789012345678901234",
            b"4\nab",
        ] {
            let mut s = RecordStream::new(chunks(&[input]), 10);
            assert!(matches!(
                s.next().await,
                Some(Err(TransportError::Framing(_)))
            ));
            assert!(s.next().await.is_none());
        }
    }
}
