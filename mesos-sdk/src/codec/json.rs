//! `application/json` in the shape Apache Mesos reads and writes.
//!
//! Mesos maps its proto2 schema to JSON by reflection, and so does this module:
//! - keys are the proto field names (`framework_id`, not `frameworkId`);
//! - enums are their value names (`"TASK_RUNNING"`);
//! - `bytes` are standard base64;
//! - 64-bit integers and doubles are JSON numbers (numbers given as strings are
//!   accepted on input);
//! - only fields that are set are written, so empty repeated fields are omitted;
//! - unknown keys are ignored and unknown enum names in a field drop that field.
//!
//! ```
//! use mesos_sdk::codec::json;
//! use mesos_sdk::v1::{TaskState, TaskStatus, TaskId};
//!
//! let status = TaskStatus {
//!     task_id: TaskId { value: "t1".into() },
//!     state: TaskState::TaskRunning as i32,
//!     ..Default::default()
//! };
//! let value = json::to_value(&status);
//! assert_eq!(value, serde_json::json!({"task_id": {"value": "t1"}, "state": "TASK_RUNNING"}));
//! let back: TaskStatus = json::from_value(value).unwrap();
//! assert_eq!(back, status);
//! ```

use prost_reflect::{DeserializeOptions, DynamicMessage, SerializeOptions};

use super::descriptors::{descriptor, first_missing_required, into_typed, to_dynamic};
use super::{DecodeError, WireMessage};

fn serialize_options() -> SerializeOptions {
    SerializeOptions::new()
        .use_proto_field_name(true)
        .stringify_64_bit_integers(false)
        .use_enum_numbers(false)
        .skip_default_fields(true)
}

fn deserialize_options() -> DeserializeOptions {
    DeserializeOptions::new().deny_unknown_fields(false)
}

fn dynamic_for<M: WireMessage>(message: &M) -> DynamicMessage {
    // A generated message always matches its own descriptor.
    to_dynamic(message).expect("generated message types are in the bundled schema")
}

/// Encodes a message as Mesos JSON bytes.
pub fn to_vec<M: WireMessage>(message: &M) -> Vec<u8> {
    let dynamic = dynamic_for(message);
    let mut out = Vec::with_capacity(128);
    let mut serializer = serde_json::Serializer::new(&mut out);
    dynamic
        .serialize_with_options(&mut serializer, &serialize_options())
        .expect("serializing a dynamic message into memory cannot fail");
    out
}

/// Encodes a message as a Mesos JSON value.
pub fn to_value<M: WireMessage>(message: &M) -> serde_json::Value {
    let dynamic = dynamic_for(message);
    dynamic
        .serialize_with_options(serde_json::value::Serializer, &serialize_options())
        .expect("serializing a dynamic message into a JSON value cannot fail")
}

fn parse<'de, M: WireMessage, D>(deserializer: D) -> Result<DynamicMessage, DecodeError>
where
    D: serde::Deserializer<'de, Error = serde_json::Error>,
{
    DynamicMessage::deserialize_with_options(
        descriptor::<M>()?,
        deserializer,
        &deserialize_options(),
    )
    .map_err(|source| DecodeError::Json {
        message: M::full_name(),
        source,
    })
}

/// Parses a whole JSON document (trailing bytes are an error) into a dynamic message.
fn parse_slice<M: WireMessage>(bytes: &[u8]) -> Result<DynamicMessage, DecodeError> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let dynamic = parse::<M, _>(&mut deserializer)?;
    deserializer.end().map_err(|source| DecodeError::Json {
        message: M::full_name(),
        source,
    })?;
    Ok(dynamic)
}

/// Decodes Mesos JSON bytes into `M`; absent required fields take their defaults.
///
/// # Errors
/// [`DecodeError::Json`] for malformed JSON or values of the wrong type.
pub fn from_slice<M: WireMessage>(bytes: &[u8]) -> Result<M, DecodeError> {
    Ok(into_typed(&parse_slice::<M>(bytes)?))
}

/// Decodes a Mesos JSON value into `M`.
///
/// # Errors
/// [`DecodeError::Json`] when the value does not fit the message's schema.
pub fn from_value<M: WireMessage>(value: serde_json::Value) -> Result<M, DecodeError> {
    Ok(into_typed(&parse::<M, _>(value)?))
}

/// Decodes Mesos JSON bytes into `M` and checks that every required field is present.
///
/// # Errors
/// As [`from_slice`], plus [`DecodeError::MissingRequired`].
pub fn from_slice_strict<M: WireMessage>(bytes: &[u8]) -> Result<M, DecodeError> {
    let dynamic = parse_slice::<M>(bytes)?;
    if let Some(field) = first_missing_required(&dynamic) {
        return Err(DecodeError::MissingRequired {
            message: M::full_name(),
            field,
        });
    }
    Ok(into_typed(&dynamic))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::v1;

    /// Found by the `json_decode` fuzz target: without serde_json's `float_roundtrip`
    /// this double was parsed one unit in the last place off, so a `FrameworkInfo`
    /// changed when encoded and decoded again.
    #[test]
    fn doubles_parse_correctly_rounded_and_round_trip() {
        let text = "555555555550441237575.5";
        let json = format!(r#"{{"user":"u","name":"n","failover_timeout":{text}}}"#);
        let info: v1::FrameworkInfo = from_slice(json.as_bytes()).unwrap();
        let exact: f64 = text.parse().unwrap();
        assert_eq!(
            info.failover_timeout.map(f64::to_bits),
            Some(exact.to_bits())
        );
        let again: v1::FrameworkInfo = from_slice(&to_vec(&info)).unwrap();
        assert_eq!(
            again.failover_timeout.map(f64::to_bits),
            Some(exact.to_bits())
        );
    }
}
