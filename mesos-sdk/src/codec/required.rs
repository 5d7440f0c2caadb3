//! The fast check of required fields: one walk over the protobuf bytes, guided by a
//! plan per message type made once from the bundled schema, with no allocation.
//!
//! It only answers "every required field is there" when that is certain: every
//! occurrence of every message it descends into has all of its required fields.
//! Anything else (a missing field, a singular message split over several occurrences,
//! groups, malformed bytes) is [`Verdict::Unsure`], and the caller falls back to the
//! exact check by reflection, which also finds what is missing. Being stricter than
//! protobuf's merge rules can only send more inputs down the exact path, never let an
//! incomplete message through.

use std::collections::HashMap;
use std::sync::LazyLock;

use prost::bytes::Buf;
use prost::encoding::decode_varint;
use prost_reflect::{Cardinality, Kind, MessageDescriptor};

use super::WireMessage;
use super::descriptors::schema;

/// The outcome of the fast check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Every required field, at every depth, is present.
    Complete,
    /// Not shown complete; ask the exact check.
    Unsure,
}

/// What the walk needs to know about one field of a message.
#[derive(Debug, Clone, Copy, Default)]
struct FieldPlan {
    /// The field's bit in [`Plan::all`], if it is required.
    required_bit: Option<u8>,
    /// The plan of the field's message type, if it is a message with something to check.
    nested: Option<usize>,
    /// A singular message field: its occurrences would merge, which the walk does not
    /// follow, so a second occurrence makes the verdict [`Verdict::Unsure`].
    singular_message: bool,
}

/// One message type's plan.
#[derive(Debug, Default)]
struct Plan {
    /// Indexed by field number (numbers beyond the end are unknown fields).
    fields: Vec<FieldPlan>,
    /// One bit per required field.
    all: u64,
    /// More than 64 required fields: never shown complete.
    too_many: bool,
    /// Some field, at some depth, needs looking at.
    anything_to_check: bool,
}

/// Every message type's plan, made once from the bundled schema.
struct Plans {
    plans: Vec<Plan>,
    /// package → name → plan.
    by_name: HashMap<String, HashMap<String, usize>>,
}

static PLANS: LazyLock<Plans> = LazyLock::new(build);

fn build() -> Plans {
    let pool = schema();
    let messages: Vec<MessageDescriptor> = pool.all_messages().collect();
    let index: HashMap<String, usize> = messages
        .iter()
        .enumerate()
        .map(|(i, m)| (m.full_name().to_owned(), i))
        .collect();
    let mut plans: Vec<Plan> = messages
        .iter()
        .map(|message| {
            let mut plan = Plan::default();
            let mut bits = 0u32;
            for field in message.fields() {
                let number = field.number() as usize;
                if plan.fields.len() <= number {
                    plan.fields.resize(number + 1, FieldPlan::default());
                }
                let entry = &mut plan.fields[number];
                if field.cardinality() == Cardinality::Required {
                    if bits < 64 {
                        entry.required_bit = Some(bits as u8);
                        plan.all |= 1 << bits;
                    } else {
                        plan.too_many = true;
                    }
                    bits += 1;
                }
                if let Kind::Message(nested) = field.kind() {
                    entry.nested = index.get(nested.full_name()).copied();
                    entry.singular_message = !field.is_list() && !field.is_map();
                }
            }
            plan.anything_to_check = plan.all != 0 || plan.too_many;
            plan
        })
        .collect();
    // A message has something to check if a field of message type does, at any depth:
    // propagate until nothing changes (the schema's message graph has cycles).
    loop {
        let mut changed = false;
        for i in 0..plans.len() {
            if plans[i].anything_to_check {
                continue;
            }
            let deeper = plans[i]
                .fields
                .iter()
                .filter_map(|f| f.nested)
                .any(|n| plans[n].anything_to_check);
            if deeper {
                plans[i].anything_to_check = true;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    // Fields whose message type has nothing to check are skipped like scalars.
    let needs: Vec<bool> = plans.iter().map(|p| p.anything_to_check).collect();
    for plan in &mut plans {
        for field in &mut plan.fields {
            if field.nested.is_some_and(|n| !needs[n]) {
                field.nested = None;
            }
        }
    }
    let mut by_name: HashMap<String, HashMap<String, usize>> = HashMap::new();
    for (i, message) in messages.iter().enumerate() {
        by_name
            .entry(message.package_name().to_owned())
            .or_default()
            .insert(message.name().to_owned(), i);
    }
    Plans { plans, by_name }
}

/// Whether `bytes`, a protobuf `M`, certainly has every required field at every depth.
pub(crate) fn check<M: WireMessage>(bytes: &[u8]) -> Verdict {
    let plans = &*PLANS;
    let Some(&plan) = plans
        .by_name
        .get(M::PACKAGE)
        .and_then(|names| names.get(M::NAME))
    else {
        return Verdict::Unsure;
    };
    walk(&plans.plans, plan, bytes, 0)
}

/// Nesting deeper than this is left to the exact check (prost's own limit is 100).
const MAX_DEPTH: usize = 64;

fn walk(plans: &[Plan], plan: usize, mut buf: &[u8], depth: usize) -> Verdict {
    let plan = &plans[plan];
    if plan.too_many || depth > MAX_DEPTH {
        return Verdict::Unsure;
    }
    let mut seen = 0u64;
    // Singular message fields met once already (by field number, for the small
    // numbers the Mesos schema uses; larger ones are not tracked and count as twice).
    let mut met = 0u128;
    while buf.has_remaining() {
        let Ok(key) = decode_varint(&mut buf) else {
            return Verdict::Unsure;
        };
        let (number, wire_type) = (key >> 3, key & 7);
        let field = usize::try_from(number)
            .ok()
            .and_then(|n| plan.fields.get(n))
            .copied()
            .unwrap_or_default();
        match wire_type {
            0 => {
                if decode_varint(&mut buf).is_err() {
                    return Verdict::Unsure;
                }
            }
            1 | 5 => {
                let width = if wire_type == 1 { 8 } else { 4 };
                if buf.remaining() < width {
                    return Verdict::Unsure;
                }
                buf.advance(width);
            }
            2 => {
                let Ok(len) = decode_varint(&mut buf) else {
                    return Verdict::Unsure;
                };
                let Some(len) = usize::try_from(len).ok().filter(|&l| l <= buf.len()) else {
                    return Verdict::Unsure;
                };
                let (inner, rest) = buf.split_at(len);
                buf = rest;
                if field.singular_message {
                    let bit = 1u128.checked_shl(number as u32).unwrap_or(0);
                    if bit == 0 || met & bit != 0 {
                        return Verdict::Unsure;
                    }
                    met |= bit;
                }
                if let Some(nested) = field.nested
                    && walk(plans, nested, inner, depth + 1) == Verdict::Unsure
                {
                    return Verdict::Unsure;
                }
            }
            // Groups (3, 4) and invalid wire types.
            _ => return Verdict::Unsure,
        }
        if let Some(bit) = field.required_bit {
            seen |= 1 << bit;
        }
    }
    if seen == plan.all {
        Verdict::Complete
    } else {
        Verdict::Unsure
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::protobuf::{self, decode_strict_by_reflection};
    use crate::v1;
    use prost::Message;
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    /// An ACCEPT launching one task (built field by field: the codec sits below the
    /// call builders).
    fn launch_call() -> v1::scheduler::Call {
        use v1::scheduler::call;
        let task = v1::TaskInfo {
            name: "task".into(),
            task_id: v1::TaskId { value: "t1".into() },
            agent_id: v1::AgentId { value: "a".into() },
            resources: vec![v1::Resource {
                name: "cpus".into(),
                r#type: v1::value::Type::Scalar as i32,
                scalar: Some(v1::value::Scalar { value: 0.1 }),
                ..Default::default()
            }],
            ..Default::default()
        };
        v1::scheduler::Call {
            framework_id: Some(v1::FrameworkId { value: "f".into() }),
            r#type: Some(call::Type::Accept as i32),
            accept: Some(call::Accept {
                offer_ids: vec![v1::OfferId { value: "o".into() }],
                operations: vec![v1::offer::Operation {
                    r#type: Some(v1::offer::operation::Type::Launch as i32),
                    launch: Some(v1::offer::operation::Launch {
                        task_infos: vec![task],
                    }),
                    ..Default::default()
                }],
                filters: None,
            }),
            ..Default::default()
        }
    }

    #[test]
    fn complete_messages_are_recognised() {
        let bytes = launch_call().encode_to_vec();
        assert_eq!(check::<v1::scheduler::Call>(&bytes), Verdict::Complete);
    }

    #[test]
    fn a_missing_required_field_is_never_complete() {
        // FrameworkInfo with its `name` (2) and without its required `user` (1).
        let bytes = [0x12, 0x01, b'n'];
        assert_eq!(check::<v1::FrameworkInfo>(&bytes), Verdict::Unsure);
        assert!(decode_strict_by_reflection::<v1::FrameworkInfo>(&bytes).is_err());
        // The same FrameworkInfo, two levels down in a SUBSCRIBE call.
        let subscribe = [0x0a, 0x03, 0x12, 0x01, b'n'];
        let mut call = vec![0x10, 0x01, 0x1a, subscribe.len() as u8];
        call.extend_from_slice(&subscribe);
        assert_eq!(check::<v1::scheduler::Call>(&call), Verdict::Unsure);
        let exact = decode_strict_by_reflection::<v1::scheduler::Call>(&call);
        assert!(
            exact
                .unwrap_err()
                .to_string()
                .contains("subscribe.framework_info.user"),
            "the exact path names the field"
        );
    }

    #[test]
    fn a_singular_message_split_in_two_goes_to_the_exact_check() {
        // FrameworkInfo's `id` (3, a FrameworkID whose `value` is required) twice.
        let mut bytes = v1::FrameworkInfo {
            user: "u".into(),
            name: "n".into(),
            ..Default::default()
        }
        .encode_to_vec();
        bytes.extend_from_slice(&[0x1a, 0x03, 0x0a, 0x01, b'a']);
        assert_eq!(check::<v1::FrameworkInfo>(&bytes), Verdict::Complete);
        bytes.extend_from_slice(&[0x1a, 0x00]);
        assert_eq!(check::<v1::FrameworkInfo>(&bytes), Verdict::Unsure);
        assert!(decode_strict_by_reflection::<v1::FrameworkInfo>(&bytes).is_ok());
        assert!(protobuf::decode_strict::<v1::FrameworkInfo>(&bytes).is_ok());
    }

    /// A SUBSCRIBE (required fields two levels down) and an executor UPDATE.
    fn subscribe_call() -> v1::scheduler::Call {
        use v1::scheduler::call;
        v1::scheduler::Call {
            r#type: Some(call::Type::Subscribe as i32),
            subscribe: Some(call::Subscribe {
                framework_info: v1::FrameworkInfo {
                    user: "u".into(),
                    name: "n".into(),
                    id: Some(v1::FrameworkId { value: "f".into() }),
                    roles: vec!["r".into()],
                    ..Default::default()
                },
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn update_call() -> v1::executor::Call {
        use v1::executor::call;
        v1::executor::Call {
            framework_id: v1::FrameworkId { value: "f".into() },
            executor_id: v1::ExecutorId { value: "e".into() },
            r#type: Some(call::Type::Update as i32),
            update: Some(call::Update {
                status: v1::TaskStatus {
                    task_id: v1::TaskId { value: "t".into() },
                    state: v1::TaskState::TaskFinished as i32,
                    uuid: Some(vec![7; 16].into()),
                    ..Default::default()
                },
            }),
            ..Default::default()
        }
    }

    /// Mutants of `valid`: cut, a bit flipped, a byte removed or a byte inserted.
    fn mutant(valid: &[u8], rng: &mut StdRng) -> Vec<u8> {
        let mut bytes = valid.to_vec();
        let at = rng.random_range(0..bytes.len());
        match rng.random_range(0..4) {
            0 => bytes.truncate(at),
            1 => bytes[at] ^= 1 << rng.random_range(0..8),
            2 => {
                bytes.remove(at);
            }
            _ => bytes.insert(at, rng.random()),
        }
        bytes
    }

    /// Whenever the fast check says complete and the bytes decode, the exact check
    /// accepts them too and gives the same message; returns how often that happened.
    fn agrees<M: WireMessage + PartialEq>(valid: &[u8], seed: u64) -> usize {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut completes = 0;
        for _ in 0..20_000 {
            let bytes = mutant(valid, &mut rng);
            if check::<M>(&bytes) == Verdict::Complete
                && let Ok(fast) = M::decode(bytes.as_slice())
            {
                completes += 1;
                let exact = decode_strict_by_reflection::<M>(&bytes)
                    .expect("the exact check accepts what the fast one calls complete");
                assert!(fast == exact, "the same message either way");
            }
        }
        completes
    }

    #[test]
    fn never_more_lenient_than_reflection_on_other_calls() {
        let subscribe = subscribe_call().encode_to_vec();
        assert!(agrees::<v1::scheduler::Call>(&subscribe, 17) > 0);
        let update = update_call().encode_to_vec();
        assert!(agrees::<v1::executor::Call>(&update, 18) > 0);
    }

    /// The fast check agrees with reflection: whenever it says complete, the exact
    /// check accepts the bytes and gives the same message. Inputs are valid calls cut
    /// and flipped at random (fixed seed).
    #[test]
    fn never_more_lenient_than_reflection() {
        let valid = launch_call().encode_to_vec();
        let mut rng = StdRng::seed_from_u64(16);
        let mut completes = 0;
        for _ in 0..20_000 {
            let mut bytes = valid.clone();
            match rng.random_range(0..3) {
                0 => bytes.truncate(rng.random_range(0..valid.len())),
                1 => {
                    let at = rng.random_range(0..bytes.len());
                    bytes[at] ^= 1 << rng.random_range(0..8);
                }
                _ => {
                    let at = rng.random_range(0..bytes.len());
                    bytes.remove(at);
                }
            }
            if check::<v1::scheduler::Call>(&bytes) == Verdict::Complete
                && let Ok(fast) = v1::scheduler::Call::decode(bytes.as_slice())
            {
                completes += 1;
                let exact = decode_strict_by_reflection::<v1::scheduler::Call>(&bytes)
                    .expect("the exact check accepts what the fast one calls complete");
                assert_eq!(fast, exact);
            }
        }
        assert!(completes > 0, "some mutants stay complete");
    }
}
