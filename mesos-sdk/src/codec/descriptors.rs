//! The compiled Mesos schema, for reflection.

use std::sync::LazyLock;

use prost::Message;
use prost_reflect::{DescriptorPool, DynamicMessage, MessageDescriptor, ReflectMessage, Value};

use super::{DecodeError, WireMessage};

static POOL: LazyLock<DescriptorPool> = LazyLock::new(|| {
    DescriptorPool::decode(&include_bytes!(concat!(env!("OUT_DIR"), "/mesos_descriptor.bin"))[..])
        .expect("the descriptor set written by build.rs is valid")
});

/// The bundled Mesos v1 schema as a reflection pool (every message and enum of
/// `mesos.v1`, `mesos.v1.scheduler`, `mesos.v1.executor` and `mesos.v1.master`).
///
/// ```
/// let pool = mesos_sdk::codec::schema();
/// assert!(pool.get_message_by_name("mesos.v1.scheduler.Call").is_some());
/// ```
pub fn schema() -> &'static DescriptorPool {
    &POOL
}

/// The reflection descriptor of a generated message type.
pub(crate) fn descriptor<M: WireMessage>() -> Result<MessageDescriptor, DecodeError> {
    let name = M::full_name();
    POOL.get_message_by_name(&name)
        .ok_or(DecodeError::UnknownMessage(name))
}

/// The dotted path of the first absent `required` field, if any.
pub(crate) fn first_missing_required(message: &DynamicMessage) -> Option<String> {
    for field in message.descriptor().fields() {
        if field.cardinality() == prost_reflect::Cardinality::Required && !message.has_field(&field)
        {
            return Some(field.name().to_owned());
        }
        if !message.has_field(&field) {
            continue;
        }
        let nested = |value: &Value| match value {
            Value::Message(inner) => first_missing_required(inner),
            _ => None,
        };
        let found = match &*message.get_field(&field) {
            Value::List(items) => items.iter().find_map(nested),
            value => nested(value),
        };
        if let Some(path) = found {
            return Some(format!("{}.{}", field.name(), path));
        }
    }
    None
}

/// Converts a dynamic message into the generated type.
pub(crate) fn into_typed<M: WireMessage>(message: &DynamicMessage) -> M {
    // Re-decoding the dynamic message's own encoding cannot fail: both sides share
    // one schema.
    M::decode(message.encode_to_vec().as_slice()).unwrap_or_default()
}

/// Converts a generated message into a dynamic one for reflection.
pub(crate) fn to_dynamic<M: WireMessage>(message: &M) -> Result<DynamicMessage, DecodeError> {
    let desc = descriptor::<M>()?;
    DynamicMessage::decode(desc, message.encode_to_vec().as_slice()).map_err(|source| {
        DecodeError::Protobuf {
            message: M::full_name(),
            source,
        }
    })
}
