//! RecordIO framing of event streams: `<decimal length>\n<bytes>`, repeated.
//!
//! Apache Mesos streams scheduler and executor events (and some operator API
//! responses) as RecordIO inside a chunked HTTP response. Each record is its length
//! in ASCII decimal, a line feed, then exactly that many bytes of an encoded message.
//! Network intermediaries may re-chunk the stream anywhere, so a record can span many
//! chunks and a chunk can hold many records.
//!
//! This module does no I/O:
//! - [`RecordIoDecoder`] is an incremental decoder: feed it chunks, pull complete
//!   records. It bounds the size of a record ([`RecordIoDecoder::new`]) and checks the
//!   declared length against that bound before buffering any of the record.
//! - [`encode_record`] and [`encode_record_vec`] frame a payload.
//! - [`RecordIoDecoder`] and [`RecordIoEncoder`] also implement
//!   `tokio_util::codec::{Decoder, Encoder}` for use with `FramedRead`/`FramedWrite`.
//! - [`decode_stream`] adapts any `Stream` of byte chunks (for example
//!   `transport::Response::bytes_stream()`) into a [`RecordStream`] of records: a
//!   `FramedRead` with the decoder above. Every RecordIO reader of the SDK (scheduler
//!   subscriptions, executors, `transport::records`) uses it.
//!
//! ```
//! use bytes::BytesMut;
//! use mesos_sdk::codec::recordio::{encode_record, RecordIoDecoder};
//!
//! let mut wire = BytesMut::new();
//! encode_record(br#"{"type":"HEARTBEAT"}"#, &mut wire);
//! encode_record(b"", &mut wire);
//! assert_eq!(&wire[..], b"20\n{\"type\":\"HEARTBEAT\"}0\n");
//!
//! let mut decoder = RecordIoDecoder::new(1024);
//! // Chunk boundaries do not matter.
//! let (first, second) = wire.split_at(7);
//! decoder.feed(first);
//! assert_eq!(decoder.decode_next().unwrap(), None);
//! decoder.feed(second);
//! assert_eq!(decoder.decode_next().unwrap().as_deref(), Some(&br#"{"type":"HEARTBEAT"}"#[..]));
//! assert_eq!(decoder.decode_next().unwrap().as_deref(), Some(&b""[..]));
//! assert_eq!(decoder.decode_next().unwrap(), None);
//! decoder.finish().unwrap(); // the stream ended on a record boundary
//! ```

mod decoder;
mod encoder;
mod error;
mod stream;
mod tokio_codec;

pub use decoder::{DEFAULT_MAX_RECORD_LEN, RecordIoDecoder};
pub use encoder::{RecordIoEncoder, encode_header, encode_record, encode_record_vec};
pub use error::{RecordIoError, RecordStreamError};
pub use stream::{RecordStream, decode_stream};
