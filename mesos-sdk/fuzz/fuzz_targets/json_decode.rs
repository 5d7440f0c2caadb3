//! Fuzzes Mesos JSON decoding, lenient (`codec::json::from_slice`) and strict
//! (`codec::json::from_slice_strict`), for the messages the SDK reads and writes.
//!
//! The first byte picks the message type; the rest is the JSON document.
//!
//! Checks, for every input:
//! - no panic;
//! - strict implies lenient: a document the strict decoder accepts, the lenient one
//!   accepts too, with the same message;
//! - what the strict decoder refuses on a missing required field, the lenient one
//!   accepts (the two differ only in that check);
//! - a decoded message survives `to_vec` → `from_slice` (JSON) and `encode` → `decode`
//!   (protobuf) unchanged, and its JSON form of a strictly decoded message decodes
//!   strictly again;
//! - the JSON encoder's output is bounded by the input's size.
//!
//! Messages are compared by their protobuf encoding: a `NaN` double (`"NaN"` is valid
//! Mesos JSON) is not equal to itself, but encodes the same.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mesos_sdk::codec::{DecodeError, WireMessage, json};
use mesos_sdk::v1;

/// A generous bound on the JSON form of a message decoded from `input_len` bytes:
/// required fields absent from the input are written with their defaults (a constant),
/// and one input byte can become a longer token (an enum number becomes its name, `1e9`
/// becomes `1000000000`).
fn bound(input_len: usize) -> usize {
    64 * input_len + 4096
}

fn check<M: WireMessage>(data: &[u8]) {
    let lenient = json::from_slice::<M>(data);
    let strict = json::from_slice_strict::<M>(data);
    match (&strict, &lenient) {
        (Ok(s), Ok(l)) => assert_eq!(
            s.encode_to_vec(),
            l.encode_to_vec(),
            "strict and lenient decoded different messages"
        ),
        (Ok(_), Err(e)) => panic!("strict accepted what lenient refused: {e}"),
        (Err(DecodeError::MissingRequired { .. }), Err(e)) => {
            panic!("strict found a missing field in what lenient refused: {e}")
        }
        (Err(DecodeError::Json { .. }), Ok(_)) => {
            panic!("strict refused as malformed what lenient accepted")
        }
        (Err(DecodeError::UnknownMessage(name)), _) => panic!("{name} not in the schema"),
        _ => {}
    }
    let Ok(message) = lenient else { return };
    let bytes = message.encode_to_vec();

    // JSON round trip.
    let encoded = json::to_vec(&message);
    assert!(
        encoded.len() <= bound(data.len()),
        "{} JSON bytes from {} input bytes",
        encoded.len(),
        data.len()
    );
    let again: M = json::from_slice(&encoded).unwrap_or_else(|e| {
        panic!(
            "re-decoding our own JSON failed: {e}\n{}",
            String::from_utf8_lossy(&encoded)
        )
    });
    assert_eq!(again.encode_to_vec(), bytes, "JSON round trip changed the message");
    if strict.is_ok() {
        if let Err(e) = json::from_slice_strict::<M>(&encoded) {
            panic!("our JSON of a strictly valid message is not strictly valid: {e}");
        }
    }

    // Protobuf round trip.
    let decoded = M::decode(bytes.as_slice()).expect("our protobuf decodes");
    assert_eq!(decoded.encode_to_vec(), bytes, "protobuf round trip changed the message");
}

fuzz_target!(|data: &[u8]| {
    let Some((&kind, json)) = data.split_first() else {
        return;
    };
    match kind % 8 {
        0 => check::<v1::scheduler::Call>(json),
        1 => check::<v1::scheduler::Event>(json),
        2 => check::<v1::executor::Call>(json),
        3 => check::<v1::executor::Event>(json),
        4 => check::<v1::master::Call>(json),
        5 => check::<v1::master::Response>(json),
        6 => check::<v1::TaskInfo>(json),
        _ => check::<v1::MasterInfo>(json),
    }
});
