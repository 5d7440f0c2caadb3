use thiserror::Error;

/// At most this many bytes of an error body are read into [`ApiError::message`].
pub const MAX_ERROR_BODY: usize = 4096;

/// A non-success HTTP answer from a Mesos endpoint.
///
/// Mesos reports call errors through the status code with a short plain-text message
/// in the body: 400 malformed call or wrong stream id, 401 authentication failed,
/// 403 not authorized or not subscribed, 307 not the leader (see
/// [`ApiError::location`]), 429 and 503 try again later, 501 unknown call type.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
#[error("{endpoint} answered HTTP {status}: {}", if message.is_empty() { "(no message)" } else { message.as_str() })]
#[non_exhaustive]
pub struct ApiError {
    /// The HTTP status code.
    pub status: u16,
    /// The body of the answer (at most [`MAX_ERROR_BODY`] bytes, lossily UTF-8).
    pub message: String,
    /// The `Location` header, present on redirects.
    pub location: Option<String>,
    /// The URL that answered.
    pub endpoint: String,
}

impl ApiError {
    /// `true` for answers worth retrying after a delay: 503 (no leader yet, recovering)
    /// and 429 (too many requests).
    pub fn is_retryable(&self) -> bool {
        matches!(self.status, 429 | 503)
    }

    /// `true` for a redirect to another master (307, also 301/302/303/308).
    pub fn is_redirect(&self) -> bool {
        matches!(self.status, 301 | 302 | 303 | 307 | 308)
    }

    /// The redirect target as sent, e.g. `//10.0.0.2:5050/api/v1/scheduler`.
    pub fn location(&self) -> Option<&str> {
        self.location.as_deref()
    }
}

/// Failure to exchange a call with a Mesos endpoint.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum TransportError {
    /// The endpoint answered with a non-success status.
    #[error(transparent)]
    Api(#[from] ApiError),
    /// No answer: connection refused or reset, DNS, TLS, timeout. Check that the address
    /// is right and the process is up.
    #[error("could not reach {endpoint}: {}", causes(source.as_ref()))]
    Unreachable {
        /// The URL called.
        endpoint: String,
        /// What the HTTP client reported.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The response body broke off or could not be read.
    #[error("reading the response body failed: {}", causes(.0.as_ref()))]
    Body(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The response's record framing is invalid, a record is larger than allowed, or
    /// the stream was cut inside a record.
    #[error("invalid event stream: {0}")]
    Framing(#[from] crate::codec::recordio::RecordIoError),
    /// The HTTP client could not be built (TLS backend or invalid credentials).
    #[error("could not build the HTTP client: {0}")]
    Client(String),
}

impl From<crate::codec::recordio::RecordStreamError<TransportError>> for TransportError {
    /// A failed record stream over a response body: its framing error as
    /// [`TransportError::Framing`], a failed body as the body's own error.
    fn from(error: crate::codec::recordio::RecordStreamError<TransportError>) -> Self {
        use crate::codec::recordio::RecordStreamError;
        match error {
            RecordStreamError::RecordIo(e) => TransportError::Framing(e),
            RecordStreamError::Transport(e) => e,
        }
    }
}

/// An error and its causes on one line, outermost first ("client error (Connect): tcp
/// connect error: Connection refused"): the HTTP client's own message alone rarely says
/// what went wrong.
fn causes(error: &(dyn std::error::Error + 'static)) -> String {
    let mut line = error.to_string();
    let mut next = error.source();
    while let Some(cause) = next {
        let text = cause.to_string();
        if !line.ends_with(&text) {
            line.push_str(": ");
            line.push_str(&text);
        }
        next = cause.source();
    }
    line
}

impl TransportError {
    /// `true` when the same call may succeed later: the peer was unreachable, the body
    /// broke off, or it answered 429/503.
    pub fn is_retryable(&self) -> bool {
        match self {
            TransportError::Api(api) => api.is_retryable(),
            TransportError::Unreachable { .. } | TransportError::Body(_) => true,
            TransportError::Framing(_) | TransportError::Client(_) => false,
        }
    }

    /// The HTTP answer, if the peer sent one.
    pub fn api(&self) -> Option<&ApiError> {
        match self {
            TransportError::Api(api) => Some(api),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(status: u16, message: &str) -> ApiError {
        ApiError {
            status,
            message: message.into(),
            location: None,
            endpoint: "http://m:5050/api/v1/scheduler".into(),
        }
    }

    #[test]
    fn status_table() {
        for (status, retryable, redirect) in [
            (307, false, true),
            (400, false, false),
            (401, false, false),
            (403, false, false),
            (429, true, false),
            (501, false, false),
            (503, true, false),
        ] {
            let e = api(status, "");
            assert_eq!(e.is_retryable(), retryable, "{status}");
            assert_eq!(e.is_redirect(), redirect, "{status}");
            assert_eq!(
                TransportError::from(e).is_retryable(),
                retryable,
                "{status}"
            );
        }
    }

    #[test]
    fn message_names_endpoint_status_and_body() {
        let text = api(400, "Framework has been removed").to_string();
        assert_eq!(
            text,
            "http://m:5050/api/v1/scheduler answered HTTP 400: Framework has been removed"
        );
        assert!(api(503, "").to_string().ends_with("(no message)"));
    }

    #[derive(Debug, Error)]
    #[error("client error (Connect)")]
    struct Outer(#[source] std::io::Error);

    #[test]
    fn unreachable_names_the_root_cause() {
        let refused = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        let error = TransportError::Unreachable {
            endpoint: "http://127.0.0.1:5050/api/v1/scheduler".into(),
            source: Box::new(Outer(refused)),
        };
        assert_eq!(
            error.to_string(),
            "could not reach http://127.0.0.1:5050/api/v1/scheduler: client error (Connect): refused"
        );
    }
}
