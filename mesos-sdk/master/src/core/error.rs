//! Why the books refuse a scheduler call. The HTTP layer answers each with its status
//! (`http/status.rs`); the messages are Apache Mesos's.

use thiserror::Error;

/// A call the master's books refuse.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub(crate) enum CallError {
    /// The call is well formed but fails validation (a missing payload, ids that
    /// disagree).
    #[error("Failed to validate scheduler::Call: {0}")]
    Invalid(String),
    /// The call is valid but what it asks is refused (e.g. an UPDATE_FRAMEWORK that
    /// changes the principal); the message is Mesos's whole answer.
    #[error("{0}")]
    Refused(String),
    /// The call is valid but the ACLs do not authorize it (UPDATE_FRAMEWORK to roles
    /// the principal may not use); the message is Mesos's whole answer.
    #[error("{0}")]
    Forbidden(String),
    /// The framework id is unknown to this master.
    #[error("Framework cannot be found")]
    UnknownFramework,
    /// The framework exists but its event stream is gone.
    #[error("Framework is not subscribed")]
    NotSubscribed,
    /// A non-SUBSCRIBE call names no event stream.
    #[error("All non-subscribe calls should include the 'Mesos-Stream-Id' header")]
    MissingStreamId,
    /// The stream the call names is not the framework's current one.
    #[error(
        "The stream ID '{given}' included in this request didn't match the stream ID currently associated with framework ID {framework_id}"
    )]
    WrongStreamId {
        /// The stream id the call named.
        given: String,
        /// The framework the call names.
        framework_id: String,
    },
    /// The call type is unknown (or SUBSCRIBE, which is not a call on a stream).
    #[error("Received an unknown call type")]
    NotImplemented,
}

impl CallError {
    /// A required field of the call is absent.
    pub(crate) fn missing(what: &str) -> Self {
        CallError::Invalid(format!("Expecting '{what}' to be present"))
    }
}
