//! RecordIO framing of outgoing records.

use bytes::{BufMut, BytesMut};

/// Appends `payload` as one RecordIO record (`<len>\n<payload>`) to `dst`.
///
/// ```
/// use bytes::BytesMut;
/// let mut dst = BytesMut::new();
/// mesos_sdk::codec::recordio::encode_record(b"hello", &mut dst);
/// assert_eq!(&dst[..], b"5\nhello");
/// ```
pub fn encode_record(payload: &[u8], dst: &mut BytesMut) {
    dst.reserve(21 + payload.len());
    encode_header(payload.len(), dst);
    dst.put_slice(payload);
}

/// Appends the header of a record of `len` payload bytes (`<len>\n`) to `dst`; the
/// caller appends the payload itself.
///
/// ```
/// use bytes::BytesMut;
/// let mut dst = BytesMut::new();
/// mesos_sdk::codec::recordio::encode_header(5, &mut dst);
/// assert_eq!(&dst[..], b"5\n");
/// ```
pub fn encode_header(len: usize, dst: &mut BytesMut) {
    let mut digits = [0u8; 20];
    let header = length_digits(len as u64, &mut digits);
    dst.reserve(header.len() + 1);
    dst.put_slice(header);
    dst.put_u8(b'\n');
}

/// Frames `payload` as one RecordIO record in a new vector.
///
/// ```
/// assert_eq!(mesos_sdk::codec::recordio::encode_record_vec(b""), b"0\n");
/// ```
pub fn encode_record_vec(payload: &[u8]) -> Vec<u8> {
    let mut digits = [0u8; 20];
    let header = length_digits(payload.len() as u64, &mut digits);
    let mut out = Vec::with_capacity(header.len() + 1 + payload.len());
    out.extend_from_slice(header);
    out.push(b'\n');
    out.extend_from_slice(payload);
    out
}

/// Writes `n` in ASCII decimal at the end of `buf`; returns the digits.
fn length_digits(mut n: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut start = buf.len();
    loop {
        start -= 1;
        buf[start] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            return &buf[start..];
        }
    }
}

/// A RecordIO framer for `tokio_util::codec::FramedWrite`: each item becomes one
/// record. It accepts [`bytes::Bytes`], `Vec<u8>` and `&[u8]` items.
#[derive(Debug, Clone, Copy, Default)]
pub struct RecordIoEncoder;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_digits_cover_the_u64_range() {
        let mut buf = [0u8; 20];
        for n in [0, 9, 10, 99, 100, 12345, u64::MAX] {
            assert_eq!(length_digits(n, &mut buf), n.to_string().as_bytes());
        }
    }
}
