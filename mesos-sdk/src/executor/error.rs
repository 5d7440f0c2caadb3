use std::time::Duration;

use thiserror::Error;

use super::env::EnvError;
use crate::codec::DecodeError;
use crate::transport::{ApiError, TransportError};

/// What went wrong in the executor runtime or one of its calls.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ExecutorError {
    /// The environment does not describe an executor (see [`EnvError`]).
    #[error(transparent)]
    Env(#[from] EnvError),
    /// The agent is unreachable or refused a call ([`ExecutorError::api`] has its answer).
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// An event could not be decoded: check that both sides use the same encoding.
    #[error("could not decode an event from the agent: {0}")]
    Decode(#[from] DecodeError),
    /// The agent went away and the framework does not checkpoint, so the executor
    /// cannot reconnect (set `checkpoint` in the FrameworkInfo to survive agent restarts).
    #[error("lost the agent and checkpointing is off: {0}")]
    Disconnected(String),
    /// The agent did not come back within `MESOS_RECOVERY_TIMEOUT`.
    #[error("the agent did not come back within the recovery timeout of {0:?}")]
    RecoveryTimeout(Duration),
    /// A status update the agent would reject (the message says why).
    #[error("invalid status update: {0}")]
    InvalidUpdate(String),
    /// The subscription stream was silent for longer than the configured number of
    /// agent heartbeat intervals (see `ExecutorDriver::heartbeat_interval`): the agent
    /// or the connection is gone without the socket noticing.
    #[error("no event from the agent for {0:?} (missed heartbeats); is the agent alive?")]
    HeartbeatTimeout(Duration),
}

impl ExecutorError {
    /// The agent's HTTP answer, if this error carries one.
    pub fn api(&self) -> Option<&ApiError> {
        match self {
            ExecutorError::Transport(t) => t.api(),
            _ => None,
        }
    }
}
