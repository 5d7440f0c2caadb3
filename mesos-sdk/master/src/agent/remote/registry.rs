//! What the master and a remote agent say to register, and the master's side of it:
//! the endpoints' paths and headers, [`AgentRegistration`], [`RegistrationError`] and
//! [`AgentRegistry`].

use std::net::SocketAddr;

use tokio::sync::mpsc;

use crate::agent::protocol::{AgentReport, FromAgent, ToAgent};
use mesos_sdk::resources::Resources;
use mesos_sdk::v1;

/// Where agents register: `POST` answers with the agent's command stream.
pub const REGISTER_PATH: &str = "/agent/v1/register";
/// Where registered agents post their [`FromAgent`] messages.
pub const EVENTS_PATH: &str = "/agent/v1/events";
/// Header naming the agent on [`EVENTS_PATH`] posts.
pub const AGENT_ID_HEADER: &str = "Agent-Id";
/// Header naming the registration (`stream_id` of the REGISTERED record) on
/// [`EVENTS_PATH`] posts.
pub const STREAM_ID_HEADER: &str = "Agent-Stream-Id";

/// What a remote agent tells the master when it (re-)registers.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct AgentRegistration {
    /// The id the agent had before (re-registration), or `None` for a new agent.
    pub agent_id: Option<String>,
    /// `AgentInfo.hostname`.
    pub hostname: String,
    /// The resources the agent offers.
    pub resources: Resources,
    /// The agent's attributes.
    pub attributes: Vec<v1::Attribute>,
    /// The agent's executor API address (`AgentInfo.port` is its port).
    pub executor_endpoint: SocketAddr,
    /// What the agent runs: a master that does not know the agent (after a failover)
    /// rebuilds its books from it.
    pub report: AgentReport,
}

impl AgentRegistration {
    /// The `AgentInfo` of this agent once the master has given it `agent_id`.
    ///
    /// ```
    /// # use mesos_master::agent::remote::AgentRegistration;
    /// fn info(registration: &AgentRegistration) -> mesos_sdk::v1::AgentInfo {
    ///     registration.agent_info("agent-7")
    /// }
    /// ```
    pub fn agent_info(&self, agent_id: &str) -> v1::AgentInfo {
        v1::AgentInfo {
            hostname: self.hostname.clone(),
            port: Some(i32::from(self.executor_endpoint.port())),
            resources: self.resources.clone().into_vec(),
            attributes: self.attributes.clone(),
            id: Some(v1::AgentId {
                value: agent_id.to_owned(),
            }),
            domain: None,
        }
    }
}

/// Why the master did not register an agent; each maps to an HTTP status.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RegistrationError {
    /// The master will not take this agent (e.g. its id was removed): `403`. The agent
    /// stops, killing its tasks.
    #[error("agent registration refused: {0}")]
    Refused(String),
    /// The registration is malformed or inconsistent: `400`. The agent stops.
    #[error("invalid agent registration: {0} (check the agent's --resources and --attributes)")]
    Invalid(String),
    /// The master cannot register agents right now: `503`. The agent retries.
    #[error("the master cannot register agents now: {0}")]
    Unavailable(String),
}

/// The master's side of remote agents, called by the routes of `master_routes`.
#[async_trait::async_trait]
pub trait AgentRegistry: Send + Sync + 'static {
    /// A remote agent registered (or re-registered with its previous id): the master
    /// records it and will send it commands on `commands`. Returns the agent's id.
    /// Dropping `commands` ends the agent's stream (the agent then re-registers).
    async fn register(
        &self,
        registration: AgentRegistration,
        commands: mpsc::UnboundedSender<ToAgent>,
    ) -> Result<String, RegistrationError>;

    /// Where messages from registered agents go, as `(agent_id, message)`, the same as
    /// the events of in-process agents.
    fn events(&self) -> mpsc::UnboundedSender<(String, FromAgent)>;

    /// The command stream of the agent's current registration closed (agent gone).
    /// Not called for a stream replaced by a newer registration of the same agent: the
    /// routes never run `register` and `disconnected` concurrently, so a disconnection
    /// is never reported after the same agent's next registration.
    async fn disconnected(&self, agent_id: &str);
}
