//! `application/x-protobuf`: prost's binary encoding of the Mesos v1 schema.

use prost_reflect::DynamicMessage;

use super::descriptors::{descriptor, first_missing_required};
use super::required::{self, Verdict};
use super::{DecodeError, WireMessage};

/// Decodes protobuf bytes into `M`; absent required fields take their defaults.
///
/// # Errors
/// [`DecodeError::Protobuf`] for malformed bytes.
pub fn decode<M: WireMessage>(bytes: &[u8]) -> Result<M, DecodeError> {
    M::decode(bytes).map_err(|source| DecodeError::Protobuf {
        message: M::full_name(),
        source,
    })
}

/// Decodes protobuf bytes into `M` and checks that every required field is present.
///
/// # Errors
/// [`DecodeError::Protobuf`] for malformed bytes, [`DecodeError::MissingRequired`]
/// naming the first absent required field.
pub fn decode_strict<M: WireMessage>(bytes: &[u8]) -> Result<M, DecodeError> {
    // Nearly every message is complete: shown so by one walk over the bytes, it is
    // decoded once. Anything else takes the exact path, which names what is missing.
    if required::check::<M>(bytes) == Verdict::Complete
        && let Ok(message) = M::decode(bytes)
    {
        return Ok(message);
    }
    decode_strict_by_reflection(bytes)
}

/// [`decode_strict`] by reflection alone: decodes a dynamic message, looks for the
/// first absent required field, then decodes `M`.
pub(crate) fn decode_strict_by_reflection<M: WireMessage>(bytes: &[u8]) -> Result<M, DecodeError> {
    let dynamic = DynamicMessage::decode(descriptor::<M>()?, bytes).map_err(|source| {
        DecodeError::Protobuf {
            message: M::full_name(),
            source,
        }
    })?;
    if let Some(field) = first_missing_required(&dynamic) {
        return Err(DecodeError::MissingRequired {
            message: M::full_name(),
            field,
        });
    }
    decode(bytes)
}

/// The encoded bytes of length-delimited field `number` of an encoded message, as a
/// view into `message` (no copy), when the field occurs exactly once; `None` when it is
/// absent, repeated (a decoder would merge the parts), not length-delimited, or the
/// bytes are malformed. Lets a caller keep a submessage it has decoded anyway in its
/// wire form, for less than the cost of cloning the decoded one.
pub(crate) fn sole_field(message: &bytes::Bytes, number: u32) -> Option<bytes::Bytes> {
    use prost::bytes::Buf as _;
    let mut rest: &[u8] = message;
    let mut found = None;
    while !rest.is_empty() {
        let key = prost::encoding::decode_varint(&mut rest).ok()?;
        let (field, wire) = (key >> 3, key & 7);
        let skip = match wire {
            0 => {
                prost::encoding::decode_varint(&mut rest).ok()?;
                0
            }
            1 => 8,
            2 => usize::try_from(prost::encoding::decode_varint(&mut rest).ok()?).ok()?,
            5 => 4,
            // Groups (deprecated, unused by Mesos) and invalid wire types.
            _ => return None,
        };
        if skip > rest.len() {
            return None;
        }
        if field == u64::from(number) {
            if wire != 2 || found.is_some() {
                return None;
            }
            let start = message.len() - rest.len();
            found = Some(message.slice(start..start + skip));
        }
        rest.advance(skip);
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::v1;
    use crate::v1::executor::{Event, event};
    use bytes::Bytes;
    use prost::Message as _;

    fn launch(task_id: &str) -> Event {
        Event {
            r#type: Some(event::Type::Launch as i32),
            launch: Some(event::Launch {
                task: v1::TaskInfo {
                    name: "t".into(),
                    task_id: v1::TaskId {
                        value: task_id.into(),
                    },
                    data: Some(Bytes::from_static(b"payload")),
                    ..Default::default()
                },
            }),
            ..Default::default()
        }
    }

    /// `Event.launch` is field 4, `Event.Launch.task` field 1 (executor.proto).
    fn task_bytes(record: &Bytes) -> Option<Bytes> {
        sole_field(record, 4).and_then(|launch| sole_field(&launch, 1))
    }

    #[test]
    fn a_sole_submessage_is_found_in_place() {
        let event = launch("t1");
        let record = Bytes::from(event.encode_to_vec());
        let task = task_bytes(&record).expect("the task");
        assert_eq!(
            v1::TaskInfo::decode(task.clone()).unwrap(),
            event.launch.unwrap().task
        );
        assert_eq!(
            task.as_ptr_range().start as usize - record.as_ptr() as usize,
            record.len() - task.len(),
            "a view into the record (the task ends the record)"
        );
    }

    #[test]
    fn absent_repeated_or_malformed_fields_are_left_to_a_full_decode() {
        let record = Bytes::from(launch("t1").encode_to_vec());
        assert_eq!(sole_field(&record, 2), None, "absent");
        assert_eq!(sole_field(&record, 1), None, "a varint, not a message");
        let twice = Bytes::from([record.to_vec(), launch("t2").encode_to_vec()].concat());
        assert_eq!(sole_field(&twice, 4), None, "merged by a decoder");
        for cut in 1..record.len() {
            assert_eq!(task_bytes(&record.slice(..cut)), None, "cut at {cut}");
        }
        assert_eq!(sole_field(&Bytes::from_static(&[0x23]), 4), None, "a group");
    }
}
