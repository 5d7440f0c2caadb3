//! Shared fixtures for the benchmarks.
//!
//! [`offers_event`] builds an OFFERS event shaped like one from a real cluster: each
//! offer carries cpus/mem/disk scalars, a ports range, a hostname, an agent id and a
//! few attributes. [`recordio_stream`] frames many events as an event stream body.
//!
//! ```
//! use mesos_benches::{offers_event, recordio_stream};
//! use mesos_sdk::codec::Encoding;
//!
//! let events: Vec<_> = (0..3).map(|i| offers_event(i, 100)).collect();
//! let body = recordio_stream(&events, Encoding::Protobuf);
//! assert!(body.len() > 3 * 100 * 200);
//! ```

use bytes::BytesMut;
use mesos_sdk::codec::Encoding;
use mesos_sdk::codec::recordio::encode_record;
use mesos_sdk::v1::{self, scheduler};

/// Resources offered to a MULTI_ROLE framework carry the role they are allocated to.
fn allocated() -> v1::resource::AllocationInfo {
    v1::resource::AllocationInfo {
        role: Some("analytics".into()),
    }
}

fn scalar(name: &str, value: f64) -> v1::Resource {
    v1::Resource {
        name: name.into(),
        r#type: v1::value::Type::Scalar as i32,
        scalar: Some(v1::value::Scalar { value }),
        allocation_info: Some(allocated()),
        ..Default::default()
    }
}

fn text_attribute(name: &str, value: String) -> v1::Attribute {
    v1::Attribute {
        name: name.into(),
        r#type: v1::value::Type::Text as i32,
        text: Some(v1::value::Text { value }),
        ..Default::default()
    }
}

/// One offer from agent number `agent` (deterministic contents).
pub fn offer(framework: &str, event: usize, agent: usize) -> v1::Offer {
    let ports = v1::Resource {
        name: "ports".into(),
        r#type: v1::value::Type::Ranges as i32,
        ranges: Some(v1::value::Ranges {
            range: vec![
                v1::value::Range {
                    begin: 31000,
                    end: 31000 + (agent as u64 % 500),
                },
                v1::value::Range {
                    begin: 32000,
                    end: 32999,
                },
            ],
        }),
        allocation_info: Some(allocated()),
        ..Default::default()
    };
    v1::Offer {
        id: v1::OfferId {
            value: format!("{framework}-O{}", event * 100_000 + agent),
        },
        framework_id: v1::FrameworkId {
            value: framework.into(),
        },
        agent_id: v1::AgentId {
            value: format!("9c8a3e1f-5b7d-4c2e-a1f0-6d2b8e4c7a90-S{agent}"),
        },
        hostname: format!("agent-{agent:05}.rack-{:02}.dc1.example.com", agent % 40),
        resources: vec![
            scalar("cpus", 8.0 + (agent % 4) as f64 * 0.5),
            scalar("mem", 31_744.0 + (agent % 7) as f64 * 1024.0),
            scalar("disk", 409_600.0),
            ports,
        ],
        attributes: vec![
            text_attribute("rack", format!("rack-{:02}", agent % 40)),
            text_attribute("zone", format!("zone-{}", agent % 3)),
            v1::Attribute {
                name: "generation".into(),
                r#type: v1::value::Type::Scalar as i32,
                scalar: Some(v1::value::Scalar {
                    value: (agent % 5) as f64,
                }),
                ..Default::default()
            },
        ],
        ..Default::default()
    }
}

/// An OFFERS event carrying `offers` offers, one per agent.
pub fn offers_event(event: usize, offers: usize) -> scheduler::Event {
    let framework = "5a3e0b4c-91d2-4f7e-8c6a-2b1d9e0f3a7c-0001";
    scheduler::Event {
        r#type: Some(scheduler::event::Type::Offers as i32),
        offers: Some(scheduler::event::Offers {
            offers: (0..offers).map(|a| offer(framework, event, a)).collect(),
        }),
        ..Default::default()
    }
}

/// The encoded events, one record each, without framing.
pub fn encoded_records(events: &[scheduler::Event], encoding: Encoding) -> Vec<Vec<u8>> {
    events.iter().map(|e| encoding.encode(e)).collect()
}

/// The events as a RecordIO event-stream body in `encoding`.
pub fn recordio_stream(events: &[scheduler::Event], encoding: Encoding) -> Vec<u8> {
    let mut body = BytesMut::new();
    for record in encoded_records(events, encoding) {
        encode_record(&record, &mut body);
    }
    body.to_vec()
}
