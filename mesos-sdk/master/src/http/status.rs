//! The status table: every error an endpoint answers, with its HTTP status and message
//! beside it, as Apache Mesos gives them: the master's scheduler endpoint
//! ([`ApiError`], `src/master/http.cpp`), its operator endpoint ([`OperatorApiError`],
//! the same file) and the agent's executor endpoint
//! ([`ExecutorApiError`], `src/slave/http.cpp`), and the remote agents' registration
//! and message endpoints of the master ([`AgentApiError`], this project's own protocol,
//! `docs/agent-protocol.md`).
//!
//! It imports nothing of the crate: the endpoints turn their domain's refusals (the
//! books' `core::CallError`, the agent runtime's `Rejection`) into these errors, so the
//! agent's executor API can use the table without knowing the master.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use thiserror::Error;

/// Why `POST /api/v1/scheduler` refused a request. Each variant's doc names its status.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ApiError {
    /// 405: only POST is served (`Allow: POST`).
    #[error("Expecting 'POST' request, received '{0}'")]
    MethodNotAllowed(String),
    /// 400: the request carries no `Content-Type`.
    #[error("Expecting 'Content-Type' to be present")]
    MissingContentType,
    /// 415: the `Content-Type` is neither protobuf nor JSON.
    #[error("Expecting 'Content-Type' of application/json or application/x-protobuf, got '{0}'")]
    UnsupportedMediaType(String),
    /// 413: the body is larger than the master accepts.
    #[error("Request body is larger than the limit of {0} bytes")]
    BodyTooLarge(usize),
    /// 400: the body is not a valid Call in the declared encoding.
    #[error("Failed to parse body into Call: {0}")]
    Malformed(String),
    /// 400: the Call is well formed but fails validation (missing payload, missing
    /// framework id, ids that disagree).
    #[error("Failed to validate scheduler::Call: {0}")]
    Invalid(String),
    /// 406: `Accept` allows neither protobuf nor JSON.
    #[error("Expecting 'Accept' to allow 'application/x-protobuf' or 'application/json'")]
    NotAcceptable,
    /// 400: SUBSCRIBE must not carry `Mesos-Stream-Id`.
    #[error("Subscribe calls should not include the 'Mesos-Stream-Id' header")]
    StreamIdOnSubscribe,
    /// 400: a valid call whose request is refused (e.g. UPDATE_FRAMEWORK changing the
    /// principal), with Mesos's message.
    #[error("{0}")]
    Refused(String),
    /// 403: the ACLs do not authorize the call (UPDATE_FRAMEWORK to roles the
    /// framework's principal may not use), with Mesos's message.
    #[error("{0}")]
    Forbidden(String),
    /// 400: the framework id is unknown to this master.
    #[error("Framework cannot be found")]
    UnknownFramework,
    /// 403: the framework exists but its event stream is gone.
    #[error("Framework is not subscribed")]
    NotSubscribed,
    /// 400: a non-SUBSCRIBE call without `Mesos-Stream-Id`.
    #[error("All non-subscribe calls should include the 'Mesos-Stream-Id' header")]
    MissingStreamId,
    /// 400: the stream id is not the framework's current one.
    #[error(
        "The stream ID '{given}' included in this request didn't match the stream ID currently associated with framework ID {framework_id}"
    )]
    WrongStreamId {
        /// The header's value.
        given: String,
        /// The framework the call names.
        framework_id: String,
    },
    /// 501: the call type is unknown.
    #[error("Received an unknown call type")]
    NotImplemented,
    /// 408: the body did not arrive in time (a slow or stalled client).
    #[error("Request body not received within {0:?}")]
    RequestTimeout(std::time::Duration),
    /// 503: as many frameworks are subscribed as the master takes.
    #[error("Too many frameworks subscribed (at most {0})")]
    TooManySubscribers(usize),
}

impl ApiError {
    /// The HTTP status Mesos answers with.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::BodyTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::NotAcceptable => StatusCode::NOT_ACCEPTABLE,
            ApiError::NotSubscribed | ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotImplemented => StatusCode::NOT_IMPLEMENTED,
            ApiError::RequestTimeout(_) => StatusCode::REQUEST_TIMEOUT,
            ApiError::TooManySubscribers(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::MissingContentType
            | ApiError::Malformed(_)
            | ApiError::Invalid(_)
            | ApiError::Refused(_)
            | ApiError::StreamIdOnSubscribe
            | ApiError::UnknownFramework
            | ApiError::MissingStreamId
            | ApiError::WrongStreamId { .. } => StatusCode::BAD_REQUEST,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status(), self.to_string()).into_response();
        if matches!(self, ApiError::MethodNotAllowed(_)) {
            response
                .headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("POST"));
        }
        response
    }
}

/// Why `POST /api/v1` (the operator API) refused a call. Each variant's doc names its
/// status; the messages are Apache Mesos's (`src/master/http.cpp`).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum OperatorApiError {
    /// 405: only POST is served (`Allow: POST`).
    #[error("Expecting 'POST' request, received '{0}'")]
    MethodNotAllowed(String),
    /// 400: the request carries no `Content-Type`.
    #[error("Expecting 'Content-Type' to be present")]
    MissingContentType,
    /// 415: the `Content-Type` is neither protobuf nor JSON.
    #[error("Expecting 'Content-Type' of application/json or application/x-protobuf")]
    UnsupportedMediaType,
    /// 413: the body is larger than the master accepts.
    #[error("Request body is larger than the limit of {0} bytes")]
    BodyTooLarge(usize),
    /// 400: a protobuf body that is not a `master::Call`.
    #[error("Failed to parse body into Call protobuf: {0}")]
    MalformedProtobuf(String),
    /// 400: a JSON body that is not a `master::Call`.
    #[error("Failed to convert JSON into Call protobuf: {0}")]
    MalformedJson(String),
    /// 400: the call lacks its type or the payload its type needs.
    #[error("Failed to validate master::Call: {0}")]
    Invalid(String),
    /// 406: `Accept` allows neither JSON nor protobuf.
    #[error("Expecting 'Accept' to allow 'application/x-protobuf' or 'application/json'")]
    NotAcceptable,
    /// 400: the call names something unknown or asks for something invalid.
    #[error("{0}")]
    BadRequest(String),
    /// 404: the agent to mark gone is unknown.
    #[error("{0}")]
    NotFound(String),
    /// 409: the change cannot be applied now (e.g. the resources to reserve are in
    /// use).
    #[error("{0}")]
    Conflict(String),
    /// 501: a call type this master does not serve (or `UNKNOWN`), named.
    #[error("Operator call '{0}' is not implemented by this master")]
    NotImplemented(String),
    /// 503: the change could not be stored in the registry (this master no longer
    /// leads, or ZooKeeper failed); nothing was changed.
    #[error("{0}")]
    Unavailable(String),
}

impl OperatorApiError {
    /// The HTTP status Mesos answers with.
    pub fn status(&self) -> StatusCode {
        use OperatorApiError as E;
        match self {
            E::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            E::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            E::BodyTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            E::NotAcceptable => StatusCode::NOT_ACCEPTABLE,
            E::NotFound(_) => StatusCode::NOT_FOUND,
            E::Conflict(_) => StatusCode::CONFLICT,
            E::NotImplemented(_) => StatusCode::NOT_IMPLEMENTED,
            E::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            E::MissingContentType
            | E::MalformedProtobuf(_)
            | E::MalformedJson(_)
            | E::Invalid(_)
            | E::BadRequest(_) => StatusCode::BAD_REQUEST,
        }
    }
}

impl IntoResponse for OperatorApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status(), self.to_string()).into_response();
        if matches!(self, OperatorApiError::MethodNotAllowed(_)) {
            response
                .headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("POST"));
        }
        response
    }
}

/// Why `POST /api/v1/executor` on an agent refused a request. Each variant's doc names
/// its status. (A body over the agent's limit gets 413 from the body-limit layer.)
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub(crate) enum ExecutorApiError {
    /// 405: only POST is served (`Allow: POST`).
    #[error("Expecting 'POST', received '{0}'")]
    MethodNotAllowed(String),
    /// 400: the request carries no `Content-Type`.
    #[error("Expecting 'Content-Type' to be present")]
    MissingContentType,
    /// 415: the `Content-Type` is neither protobuf nor JSON.
    #[error("Expecting 'Content-Type' of application/json or application/x-protobuf")]
    UnsupportedMediaType,
    /// 400: the body is not a valid Call in the declared encoding.
    #[error("Failed to parse body into Call: {0}")]
    Malformed(String),
    /// 400: the Call is well formed but fails validation.
    #[error("Failed to validate Executor::Call: {0}")]
    Invalid(String),
    /// 406: SUBSCRIBE's `Accept` allows neither protobuf nor JSON.
    #[error("Expecting 'Accept' to allow 'application/x-protobuf' or 'application/json'")]
    NotAcceptable,
    /// 400: the framework is unknown to the agent.
    #[error("Framework cannot be found")]
    UnknownFramework,
    /// 400: the executor is unknown to the agent.
    #[error("Executor cannot be found")]
    UnknownExecutor,
    /// 403: the executor has not subscribed.
    #[error("Executor is not subscribed")]
    NotSubscribed,
    /// 403: the caller's token is another executor's (executor authentication).
    #[error("{0}")]
    Forbidden(String),
    /// 503: the agent is stopping.
    #[error("Agent is shutting down")]
    ShuttingDown,
    /// 501: the call type is unknown.
    #[error("Unknown call type")]
    NotImplemented,
}

impl ExecutorApiError {
    /// The HTTP status Mesos's agent answers with.
    pub(crate) fn status(&self) -> StatusCode {
        use ExecutorApiError as E;
        match self {
            E::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            E::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            E::NotAcceptable => StatusCode::NOT_ACCEPTABLE,
            E::NotSubscribed | E::Forbidden(_) => StatusCode::FORBIDDEN,
            E::ShuttingDown => StatusCode::SERVICE_UNAVAILABLE,
            E::NotImplemented => StatusCode::NOT_IMPLEMENTED,
            E::MissingContentType
            | E::Malformed(_)
            | E::Invalid(_)
            | E::UnknownFramework
            | E::UnknownExecutor => StatusCode::BAD_REQUEST,
        }
    }
}

impl IntoResponse for ExecutorApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status(), self.to_string()).into_response();
        if matches!(self, ExecutorApiError::MethodNotAllowed(_)) {
            response
                .headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("POST"));
        }
        response
    }
}

/// Why a request was not authenticated.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub(crate) enum AuthError {
    /// 401 with `WWW-Authenticate: Basic realm="<realm>"`: credentials missing, not
    /// HTTP Basic, or not accepted.
    #[error("authentication required (realm {realm})")]
    Unauthorized {
        /// The realm (Mesos's names: `mesos-master-scheduler`, …).
        realm: &'static str,
    },
}

impl IntoResponse for AuthError {
    fn into_response(self) -> Response {
        let AuthError::Unauthorized { realm } = self;
        let mut response = StatusCode::UNAUTHORIZED.into_response();
        if let Ok(value) = HeaderValue::from_str(&format!("Basic realm=\"{realm}\"")) {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, value);
        }
        response
    }
}

/// Why a master that does not lead did not serve a request (Mesos's
/// `Master::Http::redirect` and its recovery check).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub(crate) enum LeaderError {
    /// 307 to the leading master, `Location: //host:port/<path>`.
    #[error("redirecting to the leading master at {location}")]
    Redirect {
        /// The `Location` header's value.
        location: String,
    },
    /// 503: no master leads.
    #[error("No leader elected")]
    NoLeader,
    /// 503: this master was elected but still recovers the registry.
    #[error("Master has not finished recovery")]
    Recovering,
}

impl IntoResponse for LeaderError {
    fn into_response(self) -> Response {
        match self {
            LeaderError::Redirect { location } => {
                let mut response = StatusCode::TEMPORARY_REDIRECT.into_response();
                if let Ok(value) = HeaderValue::from_str(&location) {
                    response.headers_mut().insert(header::LOCATION, value);
                }
                response
            }
            other => (StatusCode::SERVICE_UNAVAILABLE, other.to_string()).into_response(),
        }
    }
}

/// Why the master's remote-agent endpoints (`POST /agent/v1/register`,
/// `POST /agent/v1/events`) refused a request. Each variant's doc names its status.
#[derive(Debug, Error)]
pub(crate) enum AgentApiError {
    /// 415: the body is not JSON.
    #[error("Expecting 'Content-Type' of application/json")]
    UnsupportedMediaType,
    /// 400: the registration or message is malformed.
    #[error("{0}")]
    Invalid(String),
    /// 400: an agent message without its agent and stream headers.
    #[error("Expecting headers '{0}' and '{1}'")]
    MissingHeaders(&'static str, &'static str),
    /// 403: the master will not take this agent, or the message comes from a
    /// registration that is not the agent's current one.
    #[error("{0}")]
    Forbidden(String),
    /// 503: the master cannot register agents or take their messages right now.
    #[error("{0}")]
    Unavailable(String),
}

impl AgentApiError {
    /// The HTTP status of the refusal.
    pub(crate) fn status(&self) -> StatusCode {
        match self {
            AgentApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AgentApiError::Invalid(_) | AgentApiError::MissingHeaders(..) => {
                StatusCode::BAD_REQUEST
            }
            AgentApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            AgentApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

impl IntoResponse for AgentApiError {
    fn into_response(self) -> Response {
        (self.status(), self.to_string()).into_response()
    }
}
