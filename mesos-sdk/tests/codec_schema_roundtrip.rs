//! Every message of the bundled Mesos schema survives protobuf and JSON round trips
//! with every field set, and the generated types keep every field they are given.

use std::collections::HashMap;
use std::fmt::Debug;

use mesos_sdk::codec::{Encoding, WireMessage, json, schema};
use mesos_sdk::v1::{self, executor, scheduler};
use prost::Message;
use prost_reflect::{
    Cardinality, DeserializeOptions, DynamicMessage, Kind, MapKey, MessageDescriptor,
    SerializeOptions, Value,
};

/// Every field is filled down to this depth (the schema is recursive); below it only
/// `required` fields are, so that every message stays valid (prost always writes
/// required fields, so leaving one out would not round-trip through a typed value).
const MAX_DEPTH: usize = 3;

/// A non-default value of a field's kind (`None` for an enum without values).
fn sample(kind: &Kind, depth: usize) -> Option<Value> {
    Some(match kind {
        Kind::Double => Value::F64(1.5),
        Kind::Float => Value::F32(2.5),
        Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => Value::I32(-7),
        Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => Value::I64(-(1 << 40)),
        Kind::Uint32 | Kind::Fixed32 => Value::U32(7),
        Kind::Uint64 | Kind::Fixed64 => Value::U64(u64::MAX - 1),
        Kind::Bool => Value::Bool(true),
        Kind::String => Value::String("s-é".into()),
        Kind::Bytes => Value::Bytes(vec![0x00, 0xfb, 0xff, b'x'].into()),
        // The last declared value: never the implicit default (the first).
        Kind::Enum(e) => Value::EnumNumber(e.values().last()?.number()),
        Kind::Message(m) if m.full_name() == "google.protobuf.Duration" => {
            // Well-known type with a range (and a JSON form) of its own.
            let mut duration = DynamicMessage::new(m.clone());
            duration.set_field_by_name("seconds", Value::I64(90));
            duration.set_field_by_name("nanos", Value::I32(500_000_000));
            Value::Message(duration)
        }
        Kind::Message(m) => Value::Message(populate(m, depth + 1)),
    })
}

fn map_key(kind: &Kind) -> MapKey {
    match kind {
        Kind::Bool => MapKey::Bool(true),
        Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => MapKey::I32(-3),
        Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => MapKey::I64(-3),
        Kind::Uint32 | Kind::Fixed32 => MapKey::U32(3),
        Kind::Uint64 | Kind::Fixed64 => MapKey::U64(3),
        _ => MapKey::String("key".into()),
    }
}

/// A message with every field set (one member per oneof), to a bounded depth.
fn populate(desc: &MessageDescriptor, depth: usize) -> DynamicMessage {
    let mut message = DynamicMessage::new(desc.clone());
    let mut oneofs_set = Vec::new();
    for field in desc.fields() {
        if depth >= MAX_DEPTH && field.cardinality() != Cardinality::Required {
            continue;
        }
        if let Some(oneof) = field.containing_oneof() {
            if oneofs_set.contains(&oneof.full_name().to_owned()) {
                continue;
            }
            oneofs_set.push(oneof.full_name().to_owned());
        }
        let value = if field.is_map() {
            let Kind::Message(entry) = field.kind() else {
                unreachable!("map fields are entry messages")
            };
            let key = map_key(&entry.map_entry_key_field().kind());
            let Some(value) = sample(&entry.map_entry_value_field().kind(), depth) else {
                continue;
            };
            Value::Map(HashMap::from([(key, value)]))
        } else if field.is_list() {
            let Some(value) = sample(&field.kind(), depth) else {
                continue;
            };
            Value::List(vec![value.clone(), value])
        } else {
            let Some(value) = sample(&field.kind(), depth) else {
                continue;
            };
            value
        };
        message.set_field(&field, value);
    }
    message
}

fn serialize_options() -> SerializeOptions {
    SerializeOptions::new()
        .use_proto_field_name(true)
        .stringify_64_bit_integers(false)
        .skip_default_fields(true)
}

fn mesos_messages() -> Vec<MessageDescriptor> {
    schema()
        .all_messages()
        .filter(|m| m.package_name().starts_with("mesos.") && !m.is_map_entry())
        .collect()
}

#[test]
fn schema_covers_the_mesos_packages() {
    let messages = mesos_messages();
    for name in [
        "mesos.v1.scheduler.Call",
        "mesos.v1.scheduler.Event",
        "mesos.v1.executor.Call",
        "mesos.v1.executor.Event",
        "mesos.v1.master.Call",
        "mesos.v1.Offer",
        "mesos.v1.TaskInfo",
    ] {
        assert!(messages.iter().any(|m| m.full_name() == name), "{name}");
    }
    assert!(messages.len() > 250, "only {} messages", messages.len());
}

#[test]
fn every_message_round_trips_through_protobuf_and_json() {
    let mut failures = Vec::new();
    for desc in mesos_messages() {
        let message = populate(&desc, 0);
        assert!(
            desc.fields().next().is_none() || message.fields().next().is_some(),
            "{} was left empty",
            desc.full_name()
        );

        let bytes = message.encode_to_vec();
        match DynamicMessage::decode(desc.clone(), bytes.as_slice()) {
            Ok(back) if back == message => {}
            Ok(_) => failures.push(format!("{}: protobuf round trip differs", desc.full_name())),
            Err(e) => failures.push(format!("{}: protobuf decode: {e}", desc.full_name())),
        }

        let text = match message
            .serialize_with_options(serde_json::value::Serializer, &serialize_options())
        {
            Ok(value) => value,
            Err(e) => {
                failures.push(format!("{}: JSON serialize: {e}", desc.full_name()));
                continue;
            }
        };
        match DynamicMessage::deserialize_with_options(
            desc.clone(),
            text,
            &DeserializeOptions::new().deny_unknown_fields(false),
        ) {
            Ok(back) if back == message => {}
            Ok(_) => failures.push(format!("{}: JSON round trip differs", desc.full_name())),
            Err(e) => failures.push(format!("{}: JSON deserialize: {e}", desc.full_name())),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn to_json(message: &DynamicMessage) -> serde_json::Value {
    message
        .serialize_with_options(serde_json::value::Serializer, &serialize_options())
        .unwrap()
}

/// The path of the first difference between two JSON values.
fn first_difference(a: &serde_json::Value, b: &serde_json::Value, path: String) -> Option<String> {
    use serde_json::Value as J;
    match (a, b) {
        (J::Object(x), J::Object(y)) => {
            x.keys()
                .chain(y.keys())
                .find_map(|k| match (x.get(k), y.get(k)) {
                    (Some(p), Some(q)) => first_difference(p, q, format!("{path}.{k}")),
                    (p, q) => Some(format!("{path}.{k}: {p:?} vs {q:?}")),
                })
        }
        (J::Array(x), J::Array(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .find_map(|(i, (p, q))| first_difference(p, q, format!("{path}[{i}]"))),
        _ if a == b => None,
        _ => Some(format!("{path}: {a} vs {b}")),
    }
}

/// The generated type `M` keeps every field of a fully populated message through
/// protobuf, and through the SDK's JSON codec.
fn typed_round_trip<M: WireMessage + PartialEq + Debug>() {
    let desc = schema()
        .get_message_by_name(&M::full_name())
        .expect("in the schema");
    let dynamic = populate(&desc, 0);
    let typed = M::decode(dynamic.encode_to_vec().as_slice()).unwrap();

    let back = DynamicMessage::decode(desc, typed.encode_to_vec().as_slice()).unwrap();
    if back != dynamic {
        panic!(
            "{} changed through prost at {}",
            M::full_name(),
            first_difference(&to_json(&dynamic), &to_json(&back), String::new())
                .unwrap_or_else(|| "(no JSON-visible difference)".into())
        );
    }

    for encoding in [Encoding::Protobuf, Encoding::Json] {
        let decoded: M = encoding.decode(&encoding.encode(&typed)).unwrap();
        assert_eq!(decoded, typed, "{} through {encoding}", M::full_name());
    }
    let via_value: M = json::from_value(json::to_value(&typed)).unwrap();
    assert_eq!(via_value, typed);
}

#[test]
fn typed_messages_round_trip() {
    typed_round_trip::<scheduler::Call>();
    typed_round_trip::<scheduler::Event>();
    typed_round_trip::<executor::Call>();
    typed_round_trip::<executor::Event>();
    typed_round_trip::<v1::Offer>();
    typed_round_trip::<v1::TaskInfo>();
    typed_round_trip::<v1::TaskStatus>();
    typed_round_trip::<v1::FrameworkInfo>();
    typed_round_trip::<v1::Resource>();
}
