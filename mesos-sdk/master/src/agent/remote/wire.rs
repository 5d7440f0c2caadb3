//! The JSON bodies and records of the remote agent protocol.

use serde::{Deserialize, Serialize};

use super::super::json_fields::list;
use super::super::protocol::{AgentReport, ToAgent};
use mesos_sdk::v1;

/// The body of `POST /agent/v1/register`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct RegisterRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<String>,
    pub hostname: String,
    #[serde(default, with = "list")]
    pub resources: Vec<v1::Resource>,
    #[serde(default, with = "list")]
    pub attributes: Vec<v1::Attribute>,
    /// `ip:port` of the agent's executor API.
    pub executor_endpoint: String,
    /// What the agent runs (`frameworks`, `executors`, `tasks`).
    #[serde(flatten)]
    pub report: AgentReport,
}

/// A record of the master's stream that is not a command.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "SCREAMING_SNAKE_CASE")]
pub(crate) enum Control {
    /// The first record: the registration is accepted.
    Registered {
        agent_id: String,
        stream_id: String,
        heartbeat_interval_seconds: f64,
    },
    /// Keep-alive.
    Heartbeat,
}

/// One record of the master's stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
// Records are decoded once and moved on; boxing would only add indirection.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Record {
    Control(Control),
    Command(ToAgent),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_are_told_apart_by_type() {
        let heartbeat: Record = serde_json::from_str(r#"{"type":"HEARTBEAT"}"#).unwrap();
        assert_eq!(heartbeat, Record::Control(Control::Heartbeat));
        let shutdown: Record = serde_json::from_str(r#"{"type":"SHUTDOWN"}"#).unwrap();
        assert_eq!(shutdown, Record::Command(ToAgent::Shutdown));
        let ack: Record = serde_json::from_str(
            r#"{"type":"ACKNOWLEDGE","framework_id":{"value":"f"},"task_id":{"value":"t"},"uuid":"AAEC"}"#,
        )
        .unwrap();
        let Record::Command(ToAgent::Acknowledge { uuid, .. }) = ack else {
            panic!("not an acknowledgement: {ack:?}");
        };
        assert_eq!(&uuid[..], &[0, 1, 2]);
        assert!(serde_json::from_str::<Record>(r#"{"type":"NOPE"}"#).is_err());
        // A command missing a required protobuf field is rejected.
        assert!(
            serde_json::from_str::<Record>(
                r#"{"type":"KILL_TASK","framework_id":{},"task_id":{"value":"t"}}"#
            )
            .is_err()
        );
    }
}
