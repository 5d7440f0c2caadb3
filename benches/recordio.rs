//! Decoding a RecordIO stream of OFFERS events, against decoding the same events
//! without framing. Results and the command line are in docs/benchmarks.md.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use mesos_benches::{encoded_records, offers_event, recordio_stream};
use mesos_sdk::codec::Encoding;
use mesos_sdk::codec::recordio::RecordIoDecoder;
use mesos_sdk::v1::scheduler::Event;

/// Events in the stream, and offers per event.
const EVENTS: usize = 20;
const OFFERS_PER_EVENT: usize = 100;
/// The size of the chunks the stream arrives in (a typical HTTP/1.1 chunk).
const CHUNK: usize = 16 * 1024;

fn decode_framed(body: &[u8], encoding: Encoding) -> usize {
    let mut decoder = RecordIoDecoder::default();
    let mut events = 0;
    for chunk in body.chunks(CHUNK) {
        decoder.feed(chunk);
        while let Some(record) = decoder.decode_next().expect("valid stream") {
            let event: Event = encoding.decode(&record).expect("valid event");
            black_box(&event);
            events += 1;
        }
    }
    decoder.finish().expect("stream ends on a record boundary");
    events
}

fn decode_bare(records: &[Vec<u8>], encoding: Encoding) -> usize {
    for record in records {
        let event: Event = encoding.decode(record).expect("valid event");
        black_box(&event);
    }
    records.len()
}

fn split_only(body: &[u8]) -> usize {
    let mut decoder = RecordIoDecoder::default();
    let mut records = 0;
    for chunk in body.chunks(CHUNK) {
        decoder.feed(chunk);
        while let Some(record) = decoder.decode_next().expect("valid stream") {
            black_box(&record);
            records += 1;
        }
    }
    records
}

fn bench_offers(c: &mut Criterion) {
    let events: Vec<Event> = (0..EVENTS)
        .map(|i| offers_event(i, OFFERS_PER_EVENT))
        .collect();
    for (name, encoding) in [("protobuf", Encoding::Protobuf), ("json", Encoding::Json)] {
        let records = encoded_records(&events, encoding);
        let body = recordio_stream(&events, encoding);
        assert_eq!(decode_framed(&body, encoding), EVENTS);
        eprintln!(
            "{name}: {EVENTS} events x {OFFERS_PER_EVENT} offers, stream {} bytes, \
             {} bytes/event, {} bytes/offer",
            body.len(),
            body.len() / EVENTS,
            body.len() / (EVENTS * OFFERS_PER_EVENT)
        );
        let mut group = c.benchmark_group(format!("recordio_offers/{name}"));
        group.throughput(Throughput::ElementsAndBytes {
            elements: EVENTS as u64,
            bytes: body.len() as u64,
        });
        group.bench_function("framed", |b| {
            b.iter(|| decode_framed(black_box(&body), encoding))
        });
        group.bench_function("bare", |b| {
            b.iter(|| decode_bare(black_box(&records), encoding))
        });
        if encoding == Encoding::Protobuf {
            group.bench_function("split_only", |b| b.iter(|| split_only(black_box(&body))));
        }
        group.finish();
    }
}

criterion_group!(benches, bench_offers);
criterion_main!(benches);
