use thiserror::Error;

use crate::codec::DecodeError;
use crate::detect::DetectError;
use crate::transport::{ApiError, TransportError};

/// What went wrong in the scheduler runtime or one of its calls.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum SchedulerError {
    /// The master address is unusable (checked at `build()`).
    #[error("invalid master address: {0}")]
    InvalidMaster(#[from] DetectError),
    /// The call could not be delivered or the master refused it; see
    /// [`SchedulerError::api`] for the status code and the master's message.
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// An event could not be decoded: check that both sides use the same encoding.
    #[error("could not decode an event from the master: {0}")]
    Decode(#[from] DecodeError),
    /// A call was made before the first SUBSCRIBED event (no framework id or stream
    /// id yet). Make calls from `subscribed` onwards.
    #[error("not subscribed yet: calls can be made once the SUBSCRIBED event arrived")]
    NotSubscribed,
    /// The master answered SUBSCRIBE without a `Mesos-Stream-Id` header: the endpoint is
    /// probably not a Mesos master.
    #[error(
        "{endpoint} answered SUBSCRIBE without a Mesos-Stream-Id header; is it a Mesos master?"
    )]
    MissingStreamId {
        /// The URL that answered.
        endpoint: String,
    },
    /// Redirects did not lead to a leader within the allowed number of hops.
    #[error(
        "gave up after {hops} redirects (last Location: {last}); the masters may disagree on the leader"
    )]
    TooManyRedirects {
        /// Redirects followed.
        hops: u32,
        /// The last `Location` seen.
        last: String,
    },
    /// A redirect without a usable `Location` header.
    #[error("{endpoint} redirected without a usable Location header")]
    BadRedirect {
        /// The URL that answered.
        endpoint: String,
    },
    /// The master detector elected another leader while the driver was subscribed to
    /// the old one; the driver resubscribes (keeping the framework id).
    #[error("the leading master changed; resubscribing to the new leader")]
    LeaderChanged,
    /// The master sent an ERROR event (for example the framework was removed or is not
    /// authorized for its role); the driver stops.
    #[error("the master reported an error: {0}")]
    Master(String),
    /// Reconnection was given up after the configured number of attempts.
    #[error("gave up reconnecting after {attempts} failed attempts; last error: {last}")]
    ReconnectsExhausted {
        /// Consecutive failed attempts.
        attempts: u32,
        /// The error of the last attempt.
        #[source]
        last: Box<SchedulerError>,
    },
    /// The subscription stream stopped delivering events for longer than the
    /// configured number of heartbeat intervals.
    #[error("no event from the master for {0:?} (missed heartbeats)")]
    HeartbeatTimeout(std::time::Duration),
    /// The subscription stream ended.
    #[error("the master closed the subscription stream")]
    StreamClosed,
    /// A call's arguments are invalid (the message says which).
    #[error("invalid call: {0}")]
    InvalidCall(String),
}

impl SchedulerError {
    /// The master's HTTP answer, if this error carries one.
    pub fn api(&self) -> Option<&ApiError> {
        match self {
            SchedulerError::Transport(t) => t.api(),
            SchedulerError::ReconnectsExhausted { last, .. } => last.api(),
            _ => None,
        }
    }

    /// `true` when resubscribing may help: network trouble, 503/429, a broken or
    /// silent stream, redirects that did not settle, a master not detected yet.
    pub fn is_retryable(&self) -> bool {
        match self {
            SchedulerError::Transport(t) => {
                t.is_retryable() || matches!(t, TransportError::Framing(_))
            }
            SchedulerError::InvalidMaster(DetectError::NoMaster(_)) => true,
            SchedulerError::TooManyRedirects { .. }
            | SchedulerError::BadRedirect { .. }
            | SchedulerError::HeartbeatTimeout(_)
            | SchedulerError::StreamClosed
            | SchedulerError::LeaderChanged
            | SchedulerError::Decode(_) => true,
            _ => false,
        }
    }
}
