//! `serde(with = ...)` helpers that put protobuf messages into serde structs in Mesos's
//! JSON shape (`codec::json`), and `bytes` fields as standard base64, as Mesos does.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use mesos_sdk::codec::{WireMessage, json};

/// Decodes a JSON value as `M`, rejecting absent required fields.
fn decode<M: WireMessage, E: serde::de::Error>(value: &serde_json::Value) -> Result<M, E> {
    let bytes = serde_json::to_vec(value).map_err(E::custom)?;
    json::from_slice_strict(&bytes).map_err(E::custom)
}

/// One protobuf message.
pub(crate) mod message {
    use super::*;

    pub(crate) fn serialize<M: WireMessage, S: Serializer>(m: &M, s: S) -> Result<S::Ok, S::Error> {
        json::to_value(m).serialize(s)
    }

    pub(crate) fn deserialize<'de, M: WireMessage, D: Deserializer<'de>>(
        d: D,
    ) -> Result<M, D::Error> {
        decode(&serde_json::Value::deserialize(d)?)
    }
}

/// An optional protobuf message (`null` or absent when `None`).
pub(crate) mod optional {
    use super::*;

    pub(crate) fn serialize<M: WireMessage, S: Serializer>(
        m: &Option<M>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        m.as_ref().map(json::to_value).serialize(s)
    }

    pub(crate) fn deserialize<'de, M: WireMessage, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<M>, D::Error> {
        match Option::<serde_json::Value>::deserialize(d)? {
            None | Some(serde_json::Value::Null) => Ok(None),
            Some(value) => decode(&value).map(Some),
        }
    }
}

/// A list of protobuf messages.
pub(crate) mod list {
    use super::*;

    pub(crate) fn serialize<M: WireMessage, S: Serializer>(
        items: &[M],
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.collect_seq(items.iter().map(json::to_value))
    }

    pub(crate) fn deserialize<'de, M: WireMessage, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Vec<M>, D::Error> {
        Vec::<serde_json::Value>::deserialize(d)?
            .iter()
            .map(decode)
            .collect()
    }
}

/// A `bytes` field as standard base64.
pub(crate) mod base64_bytes {
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;
    use bytes::Bytes;

    use super::*;

    pub(crate) fn serialize<S: Serializer>(b: &Bytes, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(b))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Bytes, D::Error> {
        let text = String::deserialize(d)?;
        STANDARD
            .decode(text.as_bytes())
            .map(Bytes::from)
            .map_err(|e| D::Error::custom(format!("invalid base64: {e}")))
    }
}
