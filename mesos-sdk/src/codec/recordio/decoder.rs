//! The incremental RecordIO decoder.

use bytes::{Buf, Bytes, BytesMut};

use super::error::RecordIoError;

/// The default record size limit: 64 MiB.
///
/// The largest event a scheduler receives is OFFERS, with up to one offer per agent.
/// A plain offer (cpus, mem, disk, a ports range, hostname, agent id, three
/// attributes) encodes to about 0.4 KiB in protobuf and 0.9 KiB in JSON (measured
/// with the fixture of `benches/`, see docs/benchmarks.md); offers with reservations,
/// labels, disk sources and several roles reach a few KiB. One offer from each agent
/// of a 10,000-agent cluster is therefore roughly 4–60 MiB. 64 MiB covers that, while
/// a corrupt or hostile length such as `99999999999` is still refused before any
/// memory is reserved. (A fixed 4 MiB cap in another SDK broke on large clusters.)
pub const DEFAULT_MAX_RECORD_LEN: usize = 64 * 1024 * 1024;

/// Digits of `u64::MAX`; a longer length header cannot be a valid `u64`.
const MAX_LENGTH_DIGITS: usize = 20;

#[derive(Debug, Clone)]
enum State {
    /// Reading a length header: `digits` bytes at the front of the buffer are digits
    /// whose value so far is `value`.
    Header { digits: usize, value: u64 },
    /// Waiting for `len` bytes of record data.
    Body { len: usize },
    /// A framing error happened; the stream cannot be resynchronised.
    Failed(RecordIoError),
}

/// Splits a RecordIO byte stream into records, whatever the chunk boundaries.
///
/// Feed chunks with [`feed`](Self::feed) or [`feed_bytes`](Self::feed_bytes), pull
/// records with [`decode_next`](Self::decode_next) until it returns `Ok(None)`, and
/// when the stream ends call [`finish`](Self::finish) to detect a cut-off record.
///
/// Memory: a length header is at most 20 digits, a declared length above the limit
/// is rejected before anything of the record is buffered, and the buffer only ever
/// holds bytes that actually arrived. Records are handed out as [`Bytes`] split off
/// the internal buffer, without copying.
///
/// ```
/// use mesos_sdk::codec::recordio::{RecordIoDecoder, RecordIoError};
///
/// let mut decoder = RecordIoDecoder::new(8);
/// decoder.feed(b"3\nabc9\n");
/// assert_eq!(decoder.decode_next().unwrap().as_deref(), Some(&b"abc"[..]));
/// assert_eq!(
///     decoder.decode_next(),
///     Err(RecordIoError::RecordTooLarge { declared: 9, max: 8 })
/// );
/// ```
#[derive(Debug, Clone)]
pub struct RecordIoDecoder {
    buf: BytesMut,
    state: State,
    max_record_len: usize,
    /// Stream offset of `buf[0]`, for error messages.
    offset: u64,
}

impl Default for RecordIoDecoder {
    /// A decoder with the [`DEFAULT_MAX_RECORD_LEN`] limit (64 MiB).
    fn default() -> Self {
        Self::new(DEFAULT_MAX_RECORD_LEN)
    }
}

impl RecordIoDecoder {
    /// A decoder that rejects records longer than `max_record_len` bytes.
    pub fn new(max_record_len: usize) -> Self {
        Self {
            buf: BytesMut::new(),
            state: State::Header {
                digits: 0,
                value: 0,
            },
            max_record_len,
            offset: 0,
        }
    }

    /// The record size limit.
    pub fn max_record_len(&self) -> usize {
        self.max_record_len
    }

    /// Bytes received but not yet returned as records.
    pub fn buffered_len(&self) -> usize {
        self.buf.len()
    }

    /// Appends a chunk of the stream (copied into the internal buffer).
    /// Ignored once the decoder has failed.
    pub fn feed(&mut self, chunk: &[u8]) {
        if !matches!(self.state, State::Failed(_)) {
            self.buf.extend_from_slice(chunk);
        }
    }

    /// Appends a chunk of the stream. When nothing is buffered and the chunk is not
    /// shared, the chunk itself becomes the buffer, so records are returned without
    /// copying. Ignored once the decoder has failed.
    pub fn feed_bytes(&mut self, chunk: Bytes) {
        if matches!(self.state, State::Failed(_)) {
            return;
        }
        if self.buf.is_empty() {
            self.buf = BytesMut::from(chunk);
        } else {
            self.buf.extend_from_slice(&chunk);
        }
    }

    /// Returns the next complete record, `Ok(None)` if more bytes are needed.
    ///
    /// # Errors
    /// A [`RecordIoError`] for a malformed length header or a record above the limit.
    /// The decoder is then failed and returns the same error on every later call.
    pub fn decode_next(&mut self) -> Result<Option<Bytes>, RecordIoError> {
        loop {
            match self.state {
                State::Failed(ref error) => return Err(error.clone()),
                State::Header { digits, value } => {
                    if !self.scan_header(digits, value)? {
                        return Ok(None);
                    }
                }
                State::Body { len } => {
                    if self.buf.len() < len {
                        return Ok(None);
                    }
                    self.offset += len as u64;
                    self.state = State::Header {
                        digits: 0,
                        value: 0,
                    };
                    return Ok(Some(self.buf.split_to(len).freeze()));
                }
            }
        }
    }

    /// Continues reading a length header; `Ok(true)` once it is complete.
    fn scan_header(&mut self, mut digits: usize, mut value: u64) -> Result<bool, RecordIoError> {
        for &byte in &self.buf[digits..] {
            match byte {
                b'0'..=b'9' => {
                    digits += 1;
                    value = match value
                        .checked_mul(10)
                        .and_then(|v| v.checked_add(u64::from(byte - b'0')))
                    {
                        Some(v) if digits <= MAX_LENGTH_DIGITS => v,
                        _ => return Err(self.fail(RecordIoError::LengthOverflow { digits })),
                    };
                }
                b'\n' if digits == 0 => {
                    let offset = self.offset;
                    return Err(self.fail(RecordIoError::EmptyLength { offset }));
                }
                b'\n' => {
                    let len = match usize::try_from(value) {
                        Ok(len) if len <= self.max_record_len => len,
                        _ => {
                            let max = self.max_record_len;
                            return Err(self.fail(RecordIoError::RecordTooLarge {
                                declared: value,
                                max,
                            }));
                        }
                    };
                    self.buf.advance(digits + 1);
                    self.offset += digits as u64 + 1;
                    self.state = State::Body { len };
                    return Ok(true);
                }
                other => {
                    let offset = self.offset + digits as u64;
                    return Err(self.fail(RecordIoError::InvalidLength {
                        byte: other,
                        offset,
                    }));
                }
            }
        }
        self.state = State::Header { digits, value };
        Ok(false)
    }

    fn fail(&mut self, error: RecordIoError) -> RecordIoError {
        tracing::debug!(%error, "RecordIO decoding failed");
        self.state = State::Failed(error.clone());
        self.buf = BytesMut::new();
        error
    }

    /// Checks that the stream ended cleanly: on a record boundary, with no partial
    /// length header or record left. Call it after [`decode_next`](Self::decode_next)
    /// has returned `Ok(None)` and no more bytes will come.
    ///
    /// # Errors
    /// [`RecordIoError::TruncatedLength`] or [`RecordIoError::Truncated`] (with the
    /// number of missing bytes) for a cut-off stream; the decoder's earlier error if it
    /// had failed.
    ///
    /// ```
    /// use mesos_sdk::codec::recordio::{RecordIoDecoder, RecordIoError};
    ///
    /// let mut decoder = RecordIoDecoder::default();
    /// decoder.feed(b"10\nabc");
    /// assert_eq!(decoder.decode_next().unwrap(), None);
    /// assert_eq!(decoder.finish(), Err(RecordIoError::Truncated { declared: 10, missing: 7 }));
    /// ```
    pub fn finish(&self) -> Result<(), RecordIoError> {
        match self.state {
            State::Failed(ref error) => Err(error.clone()),
            State::Header { .. } if self.buf.is_empty() => Ok(()),
            State::Header { .. } => {
                // `decode_next` scans every buffered byte, so all of them are digits.
                Err(RecordIoError::TruncatedLength {
                    digits: self.buf.len(),
                })
            }
            State::Body { len } => Err(RecordIoError::Truncated {
                declared: len as u64,
                missing: len.saturating_sub(self.buf.len()) as u64,
            }),
        }
    }
}
