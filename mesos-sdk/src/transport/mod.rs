//! HTTP transport: a pooled HTTP/1.1 client, authentication, TLS, API errors by status
//! code.
//!
//! [`HttpTransport`] posts encoded calls to a Mesos endpoint and hands back either the
//! successful [`Response`] or an [`ApiError`] carrying the status code and (a bounded
//! prefix of) the peer's message. [`records`] turns a streaming response body into
//! RecordIO records (the SDK's one RecordIO stream,
//! [`crate::codec::recordio::RecordStream`]).
//!
//! Redirects are never followed here: the scheduler follows a master's `307` itself,
//! because the new leader must also become the target of every later call. The client
//! is hyper's pooled one with rustls, without reqwest's layers on top: those follow
//! redirects and re-parse the URL twice per call, which cost more than the rest of the
//! call. Calls go straight to the endpoint, as libprocess's do: proxy environment
//! variables are not used. An executor whose agent serves a Unix domain socket
//! (`MESOS_DOMAIN_SOCKET`) reaches it with [`HttpTransport::over_unix_socket`].
//! [`Pipeline`] carries many calls on one connection, pipelined, as libprocess does;
//! [`ReconnectingPipeline`] opens one when needed and again after it ends, and carries
//! the drivers' calls.

mod auth;
mod client;
mod connector;
mod error;
mod pipeline;
mod reconnecting;
mod records;
mod response;
mod unix_socket;

pub use auth::Auth;
pub use client::{HttpTransport, MAX_CALLS_IN_FLIGHT, STREAM_ID_HEADER};
pub use error::{ApiError, MAX_ERROR_BODY, TransportError};
pub use pipeline::{MAX_PIPELINED_CALLS, Pipeline};
pub use reconnecting::ReconnectingPipeline;
pub use records::{Records, records, records_from_stream};
pub use response::Response;
pub use unix_socket::MAX_SOCKET_PATH;
/// URLs of masters and agents.
pub use url::Url;
