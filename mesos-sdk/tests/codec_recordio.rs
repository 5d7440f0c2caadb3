//! RecordIO framing: decoding whatever the chunk boundaries, the limits, and every
//! error a peer can provoke.

use bytes::{Bytes, BytesMut};
use futures::{StreamExt, executor::block_on, stream};
use mesos_sdk::codec::recordio::{
    DEFAULT_MAX_RECORD_LEN, RecordIoDecoder, RecordIoEncoder, RecordIoError, RecordStreamError,
    decode_stream, encode_record, encode_record_vec,
};
use proptest::prelude::*;
use tokio_util::codec::{Decoder, Encoder, FramedRead};

fn frame(records: &[Vec<u8>]) -> Vec<u8> {
    let mut wire = BytesMut::new();
    for record in records {
        encode_record(record, &mut wire);
    }
    wire.to_vec()
}

/// Feeds `chunks` and collects records; returns the first error, if any, and
/// checks the end of the stream.
fn decode_chunks<'a>(
    max: usize,
    chunks: impl IntoIterator<Item = &'a [u8]>,
) -> Result<Vec<Bytes>, RecordIoError> {
    let mut decoder = RecordIoDecoder::new(max);
    let mut out = Vec::new();
    for chunk in chunks {
        decoder.feed(chunk);
        while let Some(record) = decoder.decode_next()? {
            out.push(record);
        }
    }
    decoder.finish()?;
    Ok(out)
}

fn decode_all(max: usize, wire: &[u8]) -> Result<Vec<Bytes>, RecordIoError> {
    decode_chunks(max, [wire])
}

#[test]
fn decodes_the_mesos_documentation_example() {
    let subscribed = br#"{"type": "SUBSCRIBED","subscribed": {"framework_id": {"value":"12220-3440-12532-2345"},"heartbeat_interval_seconds":15.0}"#;
    let heartbeat = br#"{"type":"HEARTBEAT"}"#;
    let mut wire = format!("{}\n", subscribed.len()).into_bytes();
    wire.extend_from_slice(subscribed);
    wire.extend_from_slice(b"20\n");
    wire.extend_from_slice(heartbeat);
    let records = decode_all(1024, &wire).unwrap();
    assert_eq!(records, [&subscribed[..], &heartbeat[..]]);
}

#[test]
fn encoder_writes_decimal_length_and_line_feed() {
    assert_eq!(encode_record_vec(b"abc"), b"3\nabc");
    assert_eq!(encode_record_vec(b""), b"0\n");
    let big = vec![7u8; 12345];
    let framed = encode_record_vec(&big);
    assert!(framed.starts_with(b"12345\n"));
    assert_eq!(&framed[6..], &big[..]);
    let mut dst = BytesMut::from(&b"1\nx"[..]);
    encode_record(b"yz", &mut dst);
    assert_eq!(&dst[..], b"1\nx2\nyz");
}

#[test]
fn empty_records_and_leading_zeros_are_accepted() {
    assert_eq!(
        decode_all(16, b"0\n0\n003\nabc").unwrap(),
        [&b""[..], b"", b"abc"]
    );
}

#[test]
fn record_of_exactly_the_limit_is_accepted_and_one_more_is_not() {
    let ok = encode_record_vec(&[1u8; 10]);
    assert_eq!(decode_all(10, &ok).unwrap(), [vec![1u8; 10]]);
    let too_big = encode_record_vec(&[1u8; 11]);
    assert_eq!(
        decode_all(10, &too_big),
        Err(RecordIoError::RecordTooLarge {
            declared: 11,
            max: 10
        })
    );
}

#[test]
fn huge_declared_length_is_rejected_before_buffering() {
    let mut decoder = RecordIoDecoder::new(1024);
    decoder.feed(b"18446744073709551615\n");
    assert_eq!(
        decoder.decode_next(),
        Err(RecordIoError::RecordTooLarge {
            declared: u64::MAX,
            max: 1024
        })
    );
    // Nothing of the record is kept, and later input is ignored.
    decoder.feed(&[0u8; 4096]);
    assert_eq!(decoder.buffered_len(), 0);
}

#[test]
fn default_limit_is_64_mib() {
    assert_eq!(
        RecordIoDecoder::default().max_record_len(),
        64 * 1024 * 1024
    );
    assert_eq!(DEFAULT_MAX_RECORD_LEN, 64 * 1024 * 1024);
}

#[test]
fn non_digit_length_is_rejected_with_its_offset() {
    assert_eq!(
        decode_all(16, b"1\nx1a\nb"),
        Err(RecordIoError::InvalidLength {
            byte: b'a',
            offset: 4
        })
    );
    // Whitespace, signs and CR are not digits either.
    for bad in [
        &b" 1\nx"[..],
        b"+1\nx",
        b"-1\nx",
        b"1\r\nx",
        b"{\"type\":1}",
    ] {
        assert!(
            matches!(
                decode_all(16, bad),
                Err(RecordIoError::InvalidLength { .. })
            ),
            "{:?}",
            String::from_utf8_lossy(bad)
        );
    }
}

#[test]
fn overflowing_length_is_rejected() {
    // u64::MAX + 1.
    assert_eq!(
        decode_all(usize::MAX, b"18446744073709551616\n"),
        Err(RecordIoError::LengthOverflow { digits: 20 })
    );
    // More digits than any u64, even with leading zeros, caught without a line feed.
    let mut decoder = RecordIoDecoder::new(usize::MAX);
    decoder.feed(&[b'0'; 21]);
    assert_eq!(
        decoder.decode_next(),
        Err(RecordIoError::LengthOverflow { digits: 21 })
    );
}

#[test]
fn endless_digits_never_grow_the_buffer() {
    let mut decoder = RecordIoDecoder::new(usize::MAX);
    let mut result = Ok(None);
    for _ in 0..100 {
        decoder.feed(b"1");
        result = decoder.decode_next();
        if result.is_err() {
            break;
        }
    }
    assert_eq!(result, Err(RecordIoError::LengthOverflow { digits: 21 }));
    assert_eq!(decoder.buffered_len(), 0);
}

#[test]
fn empty_length_line_is_rejected() {
    assert_eq!(
        decode_all(16, b"\n"),
        Err(RecordIoError::EmptyLength { offset: 0 })
    );
    assert_eq!(
        decode_all(16, b"2\nab\n2\nab"),
        Err(RecordIoError::EmptyLength { offset: 4 })
    );
}

#[test]
fn truncated_streams_report_what_is_missing() {
    assert_eq!(
        decode_all(100, b"10\nabc"),
        Err(RecordIoError::Truncated {
            declared: 10,
            missing: 7
        })
    );
    assert_eq!(
        decode_all(100, b"10\n"),
        Err(RecordIoError::Truncated {
            declared: 10,
            missing: 10
        })
    );
    assert_eq!(
        decode_all(100, b"1\na12"),
        Err(RecordIoError::TruncatedLength { digits: 2 })
    );
    assert_eq!(decode_all(100, b""), Ok(vec![]));
}

#[test]
fn a_failed_decoder_keeps_failing() {
    let mut decoder = RecordIoDecoder::new(16);
    decoder.feed(b"x");
    let first = decoder.decode_next().unwrap_err();
    decoder.feed(b"1\na");
    assert_eq!(decoder.decode_next().unwrap_err(), first);
    assert_eq!(decoder.finish().unwrap_err(), first);
}

#[test]
fn errors_say_what_to_check() {
    let too_large = RecordIoError::RecordTooLarge {
        declared: 99,
        max: 10,
    }
    .to_string();
    assert!(
        too_large.contains("99") && too_large.contains("limit of 10"),
        "{too_large}"
    );
    let truncated = RecordIoError::Truncated {
        declared: 10,
        missing: 7,
    }
    .to_string();
    assert!(truncated.contains("7 bytes missing"), "{truncated}");
}

#[test]
fn records_from_unshared_bytes_chunks_are_not_copied() {
    let wire = Bytes::from(frame(&[b"hello".to_vec(), b"world".to_vec()]));
    let base = wire.as_ptr() as usize;
    let mut decoder = RecordIoDecoder::default();
    decoder.feed_bytes(wire);
    let first = decoder.decode_next().unwrap().unwrap();
    let second = decoder.decode_next().unwrap().unwrap();
    assert_eq!((&first[..], &second[..]), (&b"hello"[..], &b"world"[..]));
    assert_eq!(first.as_ptr() as usize, base + 2);
    assert_eq!(second.as_ptr() as usize, base + 9);
}

#[test]
fn stream_adapter_yields_records_and_detects_truncation() {
    let chunks = stream::iter(
        [&b"3\nab"[..], b"c0\n", b"5\nhel"].map(|c| Ok::<_, std::io::Error>(Bytes::from_static(c))),
    );
    let items: Vec<_> = block_on(decode_stream(chunks, 64).collect());
    assert_eq!(items.len(), 3);
    assert_eq!(items[0].as_ref().unwrap(), &b"abc"[..]);
    assert_eq!(items[1].as_ref().unwrap(), &b""[..]);
    assert!(matches!(
        items[2],
        Err(RecordStreamError::RecordIo(RecordIoError::Truncated {
            declared: 5,
            missing: 2
        }))
    ));
}

#[test]
fn stream_adapter_carries_transport_errors_and_stops() {
    #[derive(Debug, thiserror::Error, PartialEq)]
    #[error("connection reset")]
    struct Reset;
    let chunks = stream::iter([
        Ok(Bytes::from_static(b"1\na1\n")),
        Err(Reset),
        Ok(Bytes::from_static(b"b")),
    ]);
    let items: Vec<_> = block_on(decode_stream(chunks, 64).collect());
    assert_eq!(items.len(), 2);
    assert_eq!(items[0].as_ref().unwrap(), &b"a"[..]);
    match &items[1] {
        Err(RecordStreamError::Transport(e)) => assert_eq!(e, &Reset),
        other => panic!("expected a transport error, got {other:?}"),
    }
}

#[test]
fn stream_adapter_stops_at_a_framing_error() {
    let chunks = stream::iter([Ok::<_, std::io::Error>(Bytes::from_static(b"1\nax\n1\nb"))]);
    let items: Vec<_> = block_on(decode_stream(chunks, 64).collect());
    assert_eq!(items.len(), 2);
    assert!(matches!(
        items[1],
        Err(RecordStreamError::RecordIo(RecordIoError::InvalidLength {
            byte: b'x',
            ..
        }))
    ));
}

#[tokio::test]
async fn framed_read_and_write_round_trip_over_a_pipe() {
    use futures::SinkExt;
    use tokio_util::codec::FramedWrite;

    let (client, server) = tokio::io::duplex(7); // tiny buffer: forces re-chunking
    let writer = tokio::spawn(async move {
        let mut sink = FramedWrite::new(server, RecordIoEncoder);
        for record in [&b"first"[..], b"", b"third record"] {
            sink.send(Bytes::from_static(record)).await.unwrap();
        }
    });
    let mut reader = FramedRead::new(client, RecordIoDecoder::new(64));
    let mut got = Vec::new();
    while let Some(record) = tokio::time::timeout(std::time::Duration::from_secs(5), reader.next())
        .await
        .expect("records arrive")
    {
        got.push(record.unwrap());
    }
    writer.await.unwrap();
    assert_eq!(got, [&b"first"[..], b"", b"third record"]);
}

#[test]
fn tokio_decoder_reports_truncation_at_eof() {
    let mut decoder = RecordIoDecoder::new(64);
    let mut src = BytesMut::from(&b"4\nab"[..]);
    assert!(decoder.decode(&mut src).unwrap().is_none());
    assert!(matches!(
        decoder.decode_eof(&mut src),
        Err(RecordStreamError::RecordIo(RecordIoError::Truncated {
            missing: 2,
            ..
        }))
    ));
    let mut dst = BytesMut::new();
    RecordIoEncoder.encode(&b"xy"[..], &mut dst).unwrap();
    assert_eq!(&dst[..], b"2\nxy");
}

fn records_strategy() -> impl Strategy<Value = Vec<Vec<u8>>> {
    prop::collection::vec(
        prop_oneof![
            Just(Vec::new()),
            prop::collection::vec(any::<u8>(), 0..64),
            prop::collection::vec(any::<u8>(), 64..600),
        ],
        0..20,
    )
}

/// Splits `wire` at the given cut points (taken modulo its length).
fn split_at_cuts(wire: &[u8], cuts: &[usize]) -> Vec<Vec<u8>> {
    let mut points: Vec<usize> = cuts.iter().map(|c| c % (wire.len() + 1)).collect();
    points.sort_unstable();
    let mut chunks = Vec::new();
    let mut start = 0;
    for point in points {
        chunks.push(wire[start..point].to_vec());
        start = point;
    }
    chunks.push(wire[start..].to_vec());
    chunks
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_chunking_decodes_to_the_same_records(
        records in records_strategy(),
        cuts in prop::collection::vec(any::<usize>(), 0..30),
    ) {
        let wire = frame(&records);
        let expected: Vec<Bytes> = records.iter().cloned().map(Bytes::from).collect();

        // One chunk.
        prop_assert_eq!(&decode_all(1024, &wire).unwrap(), &expected);
        // Every byte its own chunk.
        prop_assert_eq!(&decode_chunks(1024, wire.chunks(1)).unwrap(), &expected);
        // Random cut points (including empty chunks).
        let chunks = split_at_cuts(&wire, &cuts);
        prop_assert_eq!(
            &decode_chunks(1024, chunks.iter().map(Vec::as_slice)).unwrap(),
            &expected
        );
        // The same through the stream adapter, with owned `Bytes` chunks.
        let stream = stream::iter(chunks.into_iter().map(|c| Ok::<_, std::io::Error>(Bytes::from(c))));
        let via_stream: Vec<Bytes> = block_on(decode_stream(stream, 1024).collect::<Vec<_>>())
            .into_iter()
            .collect::<Result<_, _>>()
            .unwrap();
        prop_assert_eq!(&via_stream, &expected);
    }

    #[test]
    fn a_cut_anywhere_inside_a_record_is_reported_as_truncated(
        records in prop::collection::vec(prop::collection::vec(any::<u8>(), 1..100), 1..8),
        cut in any::<usize>(),
    ) {
        let wire = frame(&records);
        let boundaries: Vec<usize> = records
            .iter()
            .scan(0, |end, r| { *end += encode_record_vec(r).len(); Some(*end) })
            .collect();
        let cut = cut % wire.len();
        let result = decode_all(1024, &wire[..cut]);
        if cut == 0 || boundaries.contains(&cut) {
            prop_assert!(result.is_ok());
        } else {
            prop_assert!(matches!(
                result,
                Err(RecordIoError::Truncated { .. } | RecordIoError::TruncatedLength { .. })
            ), "cut at {} gave {:?}", cut, result);
        }
    }

    #[test]
    fn arbitrary_input_never_panics_and_respects_the_limit(
        input in prop::collection::vec(any::<u8>(), 0..400),
        chunk in 1usize..50,
        max in 0usize..64,
    ) {
        let mut decoder = RecordIoDecoder::new(max);
        for piece in input.chunks(chunk) {
            decoder.feed(piece);
            while let Ok(Some(record)) = decoder.decode_next() {
                prop_assert!(record.len() <= max);
            }
        }
        let _ = decoder.finish();
    }
}
