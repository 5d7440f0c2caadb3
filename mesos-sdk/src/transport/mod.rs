//! HTTP transport: reqwest client, authentication, TLS, API errors by status code.
//!
//! [`HttpTransport`] posts encoded calls to a Mesos endpoint and hands back either the
//! successful response or an [`ApiError`] carrying the status code and (a bounded prefix
//! of) the peer's message. Redirects are never followed here: the scheduler follows a
//! master's `307` itself, because the new leader must also become the target of every
//! later call. [`records`] turns a streaming response body into RecordIO records (the
//! SDK's one RecordIO stream, [`crate::codec::recordio::RecordStream`]).

mod client;
mod error;
mod records;

pub use client::{Auth, HttpTransport, MAX_CALLS_IN_FLIGHT, MAX_ERROR_BODY, STREAM_ID_HEADER};
pub use error::{ApiError, TransportError};
pub use records::{Records, records, records_from_stream};
/// URLs of masters and agents.
pub use reqwest::Url;
