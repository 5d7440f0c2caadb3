use thiserror::Error;

use crate::codec::DecodeError;
use crate::detect::DetectError;
use crate::transport::{ApiError, TransportError};

/// What went wrong with an operator call or the operator event stream.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum OperatorError {
    /// The master address is unusable, or no master could be detected.
    #[error("invalid master address: {0}")]
    InvalidMaster(#[from] DetectError),
    /// The call could not be delivered or the master refused it; see
    /// [`OperatorError::api`] for the status code and the master's message (e.g. 400
    /// for an unknown framework, 501 for a call type the master does not serve).
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// The answer or an event could not be decoded: is the endpoint a Mesos master?
    #[error("could not decode the master's answer: {0}")]
    Decode(#[from] DecodeError),
    /// The answer is larger than the client accepts
    /// ([`super::OperatorBuilder::max_response_size`]).
    #[error("{endpoint} answered with more than {limit} bytes; raise max_response_size")]
    ResponseTooLarge {
        /// The URL that answered.
        endpoint: String,
        /// The limit in bytes.
        limit: usize,
    },
    /// The master answered a call with a response of another type (or none).
    #[error("expected a {expected} response, got {got}")]
    UnexpectedResponse {
        /// The response type asked for.
        expected: &'static str,
        /// What came instead.
        got: String,
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
    /// The event stream was given up after the configured number of failed
    /// resubscriptions.
    #[error("gave up resubscribing after {attempts} failed attempts; last error: {last}")]
    ResubscribesExhausted {
        /// Failed attempts in a row.
        attempts: u32,
        /// The last failure.
        last: Box<OperatorError>,
    },
}

impl OperatorError {
    /// The master's HTTP answer, if it sent one.
    pub fn api(&self) -> Option<&ApiError> {
        match self {
            OperatorError::Transport(t) => t.api(),
            _ => None,
        }
    }

    /// `true` when the same call may succeed later (unreachable, 503, 429).
    pub fn is_retryable(&self) -> bool {
        match self {
            OperatorError::Transport(t) => t.is_retryable(),
            OperatorError::InvalidMaster(DetectError::NoMaster(_)) => true,
            _ => false,
        }
    }
}
