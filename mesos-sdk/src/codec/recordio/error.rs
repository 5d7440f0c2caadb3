//! Errors of RecordIO decoding.

use thiserror::Error;

/// A RecordIO stream that cannot be decoded.
///
/// After returning an error, a [`RecordIoDecoder`](super::RecordIoDecoder) keeps
/// returning it: with a bad length header there is no way to find the next record.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum RecordIoError {
    /// A record declares a length above the decoder's limit. Nothing of the record was
    /// buffered. Raise the limit (`RecordIoDecoder::new`) if the peer is trusted and
    /// its events are really that large (e.g. OFFERS on a very large cluster).
    #[error(
        "RecordIO record declares {declared} bytes, more than the limit of {max} bytes; \
         raise the decoder's max record length if the peer is trusted"
    )]
    RecordTooLarge {
        /// The length the record header declares.
        declared: u64,
        /// The decoder's limit.
        max: usize,
    },
    /// A byte in a length header is not an ASCII digit: the stream is not RecordIO
    /// (check the `Content-Type` of the response and that the body is not an error page).
    #[error(
        "RecordIO length header has non-digit byte 0x{byte:02x} at stream offset {offset}; \
         is the body really application/recordio?"
    )]
    InvalidLength {
        /// The offending byte.
        byte: u8,
        /// Its position in the stream (bytes since the decoder started).
        offset: u64,
    },
    /// A length header has more digits than any `u64`, or its value overflows `u64`.
    #[error("RecordIO length header overflows a 64-bit length after {digits} digits")]
    LengthOverflow {
        /// The digits read when the overflow was detected.
        digits: usize,
    },
    /// A length header is empty (a line feed where a length was expected).
    #[error("RecordIO length header is empty at stream offset {offset}")]
    EmptyLength {
        /// Position of the unexpected line feed in the stream.
        offset: u64,
    },
    /// The stream ended inside a length header (digits without their line feed).
    #[error("RecordIO stream ended inside a length header after {digits} digits")]
    TruncatedLength {
        /// The digits received.
        digits: usize,
    },
    /// The stream ended inside a record.
    #[error(
        "RecordIO stream ended inside a {declared}-byte record: {missing} bytes missing; \
         the connection was probably cut"
    )]
    Truncated {
        /// The record's declared length.
        declared: u64,
        /// How many bytes of it never arrived.
        missing: u64,
    },
}

/// An error from a stream of RecordIO records: either the framing or the transport
/// underneath failed. Both end the stream.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum RecordStreamError<E> {
    /// The bytes received are not valid RecordIO (or the stream was cut mid-record).
    #[error(transparent)]
    RecordIo(#[from] RecordIoError),
    /// The underlying byte stream failed (e.g. the HTTP connection broke).
    #[error("the byte stream under RecordIO failed: {0}")]
    Transport(#[source] E),
}

impl From<std::io::Error> for RecordStreamError<std::io::Error> {
    fn from(error: std::io::Error) -> Self {
        RecordStreamError::Transport(error)
    }
}
