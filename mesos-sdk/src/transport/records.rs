use bytes::Bytes;
use futures::stream::{BoxStream, MapErr};
use futures::{Stream, StreamExt as _, TryStreamExt as _};

use super::error::TransportError;
use super::response::Response;
use crate::codec::recordio::{self, RecordStreamError};

/// The records of a streaming response body: the one RecordIO stream,
/// [`recordio::RecordStream`], with its errors as [`TransportError`]s.
///
/// Yields each record's payload; a record larger than the configured maximum, a bad
/// length header, or a stream that ends inside a record yields one
/// [`TransportError::Framing`] and then ends; so does a broken body, as its own
/// [`TransportError`].
pub type Records = MapErr<
    recordio::RecordStream<BoxStream<'static, Result<Bytes, TransportError>>>,
    fn(RecordStreamError<TransportError>) -> TransportError,
>;

/// The records of a streaming HTTP response body, each at most `max_record` bytes.
pub fn records(response: Response, max_record: usize) -> Records {
    records_from_stream(response.bytes_stream(), max_record)
}

/// The records of any stream of byte chunks (chunk boundaries are arbitrary), each at
/// most `max_record` bytes: for replays and tests, like [`records`] without a response.
pub fn records_from_stream<S>(bytes: S, max_record: usize) -> Records
where
    S: Stream<Item = Result<Bytes, TransportError>> + Send + 'static,
{
    recordio::decode_stream(bytes.boxed(), max_record).map_err(TransportError::from as fn(_) -> _)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunks(parts: &[&[u8]]) -> impl Stream<Item = Result<Bytes, TransportError>> + use<> {
        let owned: Vec<Result<Bytes, TransportError>> = parts
            .iter()
            .map(|p| Ok(Bytes::copy_from_slice(p)))
            .collect();
        futures::stream::iter(owned)
    }

    #[tokio::test]
    async fn records_span_and_share_chunks() {
        let s = records_from_stream(chunks(&[b"5\nhel", b"lo3\nabc0\n", b"2", b"\nxy"]), 10);
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
            let mut s = records_from_stream(chunks(&[input]), 10);
            let item = s.next().await;
            assert!(
                matches!(item, Some(Err(TransportError::Framing(_)))),
                "{input:?}: {item:?}"
            );
            assert!(s.next().await.is_none());
        }
    }
}
