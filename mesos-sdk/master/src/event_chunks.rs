//! Event stream bodies in chunks: an event is framed as a RecordIO record together with
//! every event already waiting behind it on the stream's channel, so that a burst of
//! events (the LAUNCHes of one ACCEPT, the UPDATEs of a busy agent) costs one body chunk,
//! one write and one read at the other end, instead of one of each per event. Records
//! keep their order, and an event is never held back waiting for more.

use bytes::{Bytes, BytesMut};
use tokio::sync::mpsc::UnboundedReceiver;

use mesos_sdk::codec::{Encoding, WireMessage};

/// A chunk stops taking waiting events once it holds this many bytes (the rest go in
/// the next chunk), so one chunk stays a bounded buffer.
pub(crate) const CHUNK_BYTES: usize = 64 * 1024;

/// One event alone, framed as one RecordIO record in `encoding` (a heartbeat).
pub(crate) fn record<M: WireMessage>(encoding: Encoding, event: &M) -> Bytes {
    let mut out = BytesMut::new();
    encoding.encode_record(event, &mut out);
    out.freeze()
}

/// `first` and then the events waiting on `waiting`, in order, each framed as one
/// RecordIO record in `encoding`, until the channel is empty or the chunk holds
/// [`CHUNK_BYTES`].
pub(crate) fn chunk<M: WireMessage>(
    encoding: Encoding,
    first: &M,
    waiting: &mut UnboundedReceiver<M>,
) -> Bytes {
    let mut out = BytesMut::new();
    encoding.encode_record(first, &mut out);
    while out.len() < CHUNK_BYTES {
        match waiting.try_recv() {
            Ok(event) => encoding.encode_record(&event, &mut out),
            Err(_) => break,
        }
    }
    out.freeze()
}

#[cfg(test)]
mod tests {
    use super::*;
    use mesos_sdk::codec::recordio::RecordIoDecoder;
    use mesos_sdk::v1::FrameworkId;
    use tokio::sync::mpsc;

    fn id(value: &str) -> FrameworkId {
        FrameworkId {
            value: value.into(),
        }
    }

    fn records(chunk: &[u8]) -> Vec<FrameworkId> {
        let mut decoder = RecordIoDecoder::new(1 << 20);
        decoder.feed(chunk);
        let mut out = Vec::new();
        while let Some(record) = decoder.decode_next().expect("valid records") {
            out.push(Encoding::Protobuf.decode(&record).expect("an id"));
        }
        assert_eq!(decoder.buffered_len(), 0, "nothing left over");
        out
    }

    #[test]
    fn waiting_events_join_the_chunk_in_order() {
        let (tx, mut rx) = mpsc::unbounded_channel();
        tx.send(id("b")).unwrap();
        tx.send(id("c")).unwrap();
        let chunk = chunk(Encoding::Protobuf, &id("a"), &mut rx);
        assert_eq!(records(&chunk), [id("a"), id("b"), id("c")]);
        assert!(rx.try_recv().is_err(), "the channel was drained");
    }

    #[test]
    fn a_chunk_stops_growing_at_its_bound() {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let big = "x".repeat(CHUNK_BYTES / 4);
        for _ in 0..8 {
            tx.send(id(&big)).unwrap();
        }
        let first = chunk(Encoding::Protobuf, &id("a"), &mut rx);
        let taken = records(&first).len();
        assert!(first.len() < CHUNK_BYTES + big.len() + 32, "bounded");
        assert!(
            (2..9).contains(&taken),
            "some, not all, waiting events: {taken}"
        );
        let mut rest = 0;
        while let Ok(event) = rx.try_recv() {
            rest += records(&chunk(Encoding::Protobuf, &event, &mut rx)).len();
        }
        assert_eq!(taken + rest, 9, "no event lost");
    }
}
