//! How a client proves who it is: the `Authorization` header of every call.

use base64::Engine as _;
use hyper::header::HeaderValue;

use super::error::TransportError;

/// How a client proves who it is.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Auth {
    /// HTTP Basic with a framework principal and its secret.
    Basic {
        /// The principal.
        principal: String,
        /// The secret.
        secret: String,
    },
    /// `Authorization: Bearer <token>` (executors: `MESOS_EXECUTOR_AUTHENTICATION_TOKEN`).
    Bearer(String),
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Auth::Basic { principal, .. } => f
                .debug_struct("Basic")
                .field("principal", principal)
                .field("secret", &"<redacted>")
                .finish(),
            Auth::Bearer(_) => f.write_str("Bearer(<redacted>)"),
        }
    }
}

impl Auth {
    /// The `Authorization` header's value (marked sensitive).
    pub(super) fn header(&self) -> Result<HeaderValue, TransportError> {
        let text = match self {
            Auth::Basic { principal, secret } => format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{principal}:{secret}"))
            ),
            Auth::Bearer(token) => format!("Bearer {token}"),
        };
        let mut value = HeaderValue::from_str(&text).map_err(|_| {
            TransportError::Client("credentials contain characters not allowed in a header".into())
        })?;
        value.set_sensitive(true);
        Ok(value)
    }
}
