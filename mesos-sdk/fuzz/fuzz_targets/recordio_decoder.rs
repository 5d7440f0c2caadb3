//! Fuzzes the RecordIO decoder with arbitrary bytes cut into fuzzer-chosen chunks.
//!
//! Checks: no panic; no record longer than the limit; the decoder never buffers more
//! than what was fed; and the outcome (records, then the first error or a clean end)
//! does not depend on where the stream was cut.
#![no_main]

use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use mesos_sdk::codec::recordio::{RecordIoDecoder, RecordIoError};

#[derive(Debug, Arbitrary)]
struct Input {
    /// The record size limit (small, so that the limit is actually hit).
    max_record_len: u16,
    /// Chunk boundaries, as offsets taken modulo the stream length.
    cuts: Vec<u16>,
    /// The stream.
    stream: Vec<u8>,
}

/// Decodes `chunks`; returns the records and the final error, if any.
fn decode<'a>(
    max: usize,
    chunks: impl Iterator<Item = &'a [u8]>,
) -> (Vec<Vec<u8>>, Option<RecordIoError>) {
    let mut decoder = RecordIoDecoder::new(max);
    let mut records = Vec::new();
    let mut fed = 0usize;
    for chunk in chunks {
        decoder.feed(chunk);
        fed += chunk.len();
        assert!(decoder.buffered_len() <= fed, "buffered more than was fed");
        loop {
            match decoder.decode_next() {
                Ok(Some(record)) => {
                    assert!(
                        record.len() <= max,
                        "record of {} > limit {max}",
                        record.len()
                    );
                    records.push(record.to_vec());
                }
                Ok(None) => break,
                Err(error) => return (records, Some(error)),
            }
        }
    }
    (records, decoder.finish().err())
}

fuzz_target!(|input: Input| {
    let max = usize::from(input.max_record_len);
    let data = &input.stream[..];
    let mut points: Vec<usize> = input
        .cuts
        .iter()
        .map(|&c| usize::from(c) % (data.len() + 1))
        .collect();
    points.sort_unstable();
    let mut chunks = Vec::with_capacity(points.len() + 1);
    let mut start = 0;
    for point in points {
        chunks.push(&data[start..point]);
        start = point;
    }
    chunks.push(&data[start..]);

    let whole = decode(max, std::iter::once(data));
    let split = decode(max, chunks.into_iter());
    assert_eq!(whole, split, "chunking changed the outcome");
});
