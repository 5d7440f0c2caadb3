//! Remote agents: agents in their own OS processes that register with a master over
//! HTTP and carry the [`super::protocol`] messages as JSON.
//!
//! The master mounts [`master_routes`] (or [`master_routes_with`]) and implements
//! [`AgentRegistry`]; an agent process calls [`run_remote`] (the `mesos-agent` binary
//! does). The exchange:
//!
//! 1. `POST /agent/v1/register` ([`REGISTER_PATH`]) with a JSON registration
//!    (`agent_id` when re-registering, `hostname`, `resources` and `attributes` in Mesos's
//!    JSON shape, `executor_endpoint` as `ip:port`). The master answers `200` with a
//!    RecordIO stream of JSON records: first
//!    `{"type":"REGISTERED","agent_id":…,"stream_id":…,"heartbeat_interval_seconds":…}`,
//!    then one [`ToAgent`] per command, and
//!    `{"type":"HEARTBEAT"}` every heartbeat interval.
//! 2. `POST /agent/v1/events` ([`EVENTS_PATH`]) with headers `Agent-Id` and
//!    `Agent-Stream-Id` and one [`FromAgent`] as JSON: `202`,
//!    or `403` when that registration is no longer current (the agent re-registers).
//! 3. An agent that loses its stream, or hears nothing for five heartbeat intervals,
//!    re-registers with its id, with capped, jittered exponential backoff. Its tasks keep
//!    running meanwhile, and its status update retries deliver what the master missed.
//!
//! A master that authenticates agents (`AuthConfig::agents`, `--authenticate-agents`)
//! answers both endpoints `401` with `WWW-Authenticate: Basic realm="mesos-master-agent"`
//! unless the request carries HTTP Basic credentials of its credentials file; the agent
//! sends `AgentConfig::credential` on every request, and stops with
//! `AgentError::AuthenticationRefused` on a `401`.

mod client;
mod registry;
mod server;
mod wire;

pub use client::{run_remote, run_remote_until};
pub use registry::{
    AGENT_ID_HEADER, AgentRegistration, AgentRegistry, EVENTS_PATH, REGISTER_PATH,
    RegistrationError, STREAM_ID_HEADER,
};
pub use server::{RemoteOptions, master_routes, master_routes_with};

#[cfg(doc)]
use super::protocol::{FromAgent, ToAgent};
