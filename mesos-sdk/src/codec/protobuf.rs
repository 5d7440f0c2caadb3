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
