//! Executor authentication, as Mesos's agent with `--jwt_secret_key` and
//! `--authenticate_http_executors`: the agent signs an HS256 JSON web token per
//! executor container, with the claims `fid` (framework id), `eid` (executor id) and
//! `cid` (container id), and hands it to the executor in
//! `MESOS_EXECUTOR_AUTHENTICATION_TOKEN`. When authentication is required, every call
//! on `/api/v1/executor` must carry it as `Authorization: Bearer <token>`: without a
//! valid token the agent answers `401` with a `WWW-Authenticate: Bearer` challenge
//! (realm `mesos-agent-executor`), and a token of another executor gets `403`.
//!
//! ```
//! use mesos_master::agent::ExecutorAuth;
//!
//! let auth = ExecutorAuth::new(b"a secret key".to_vec(), true).unwrap();
//! let token = auth.token("framework-1", "executor-1", "container-1").unwrap();
//! let claims = auth.verify(&format!("Bearer {token}")).unwrap();
//! assert_eq!(claims.eid, "executor-1");
//! assert!(auth.verify("Bearer not.a.token").is_err());
//! ```

use std::path::Path;
use std::sync::Arc;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// The environment variable an executor finds its token in (Mesos's name).
pub const TOKEN_ENV: &str = "MESOS_EXECUTOR_AUTHENTICATION_TOKEN";

/// The authentication realm of the executor API (Mesos's agent's).
pub const REALM: &str = "mesos-agent-executor";

/// Why executor authentication cannot be set up.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ExecutorAuthError {
    /// The secret key file could not be read.
    #[error("cannot read --jwt-secret-key {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// The secret key is empty.
    #[error("the JWT secret key is empty")]
    EmptyKey,
    /// `--authenticate-http-executors` without `--jwt-secret-key`.
    #[error("--jwt-secret-key must be given with --authenticate-http-executors")]
    MissingKey,
    /// A token could not be signed.
    #[error("cannot sign an executor token: {0}")]
    Sign(String),
}

/// The claims of an executor's token (Mesos's names).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecutorClaims {
    /// The framework id.
    pub fid: String,
    /// The executor id.
    pub eid: String,
    /// The executor's container id.
    pub cid: String,
}

/// Why a request is not authenticated: answered `401` with a `WWW-Authenticate`
/// challenge, as Mesos's JWT authenticator (RFC 6750).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum Unauthenticated {
    /// No `Authorization` header.
    #[error("no Authorization header")]
    Missing,
    /// An `Authorization` header that is not `<scheme> <token>`.
    #[error("Malformed 'Authorization' header")]
    Malformed,
    /// A scheme other than `Bearer`.
    #[error("Scheme '{0}' unsupported")]
    Scheme(String),
    /// A token that is not a valid JWT signed with the agent's key.
    #[error("Invalid JWT: {0}")]
    Invalid(String),
}

impl IntoResponse for Unauthenticated {
    fn into_response(self) -> Response {
        // Without credentials the challenge carries no error (RFC 6750, 3.1).
        let challenge = match &self {
            Unauthenticated::Missing => format!("Bearer realm=\"{REALM}\""),
            other => format!(
                "Bearer realm=\"{REALM}\", error=\"invalid_token\", error_description=\"{}\"",
                other.to_string().replace(['"', '\\'], "'")
            ),
        };
        let mut response = (StatusCode::UNAUTHORIZED, self.to_string()).into_response();
        if let Ok(value) = HeaderValue::from_str(&challenge) {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, value);
        }
        response
    }
}

/// An agent's executor authentication: the key tokens are signed with and whether
/// the executor API requires them. Cheap to clone.
#[derive(Clone)]
pub struct ExecutorAuth {
    keys: Arc<(EncodingKey, DecodingKey)>,
    required: bool,
}

impl std::fmt::Debug for ExecutorAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExecutorAuth")
            .field("key", &"<redacted>")
            .field("required", &self.required)
            .finish()
    }
}

impl ExecutorAuth {
    /// Signs tokens with `secret` (HMAC-SHA256); with `required`, the executor API
    /// accepts only calls carrying a valid token of the calling executor.
    ///
    /// # Errors
    /// [`ExecutorAuthError::EmptyKey`] for an empty secret.
    pub fn new(secret: Vec<u8>, required: bool) -> Result<Self, ExecutorAuthError> {
        if secret.is_empty() {
            return Err(ExecutorAuthError::EmptyKey);
        }
        Ok(ExecutorAuth {
            keys: Arc::new((
                EncodingKey::from_secret(&secret),
                DecodingKey::from_secret(&secret),
            )),
            required,
        })
    }

    /// Reads the secret from a file, whole (as Mesos's `--jwt_secret_key`).
    ///
    /// # Errors
    /// [`ExecutorAuthError::Read`] or [`ExecutorAuthError::EmptyKey`].
    pub fn from_file(path: &Path, required: bool) -> Result<Self, ExecutorAuthError> {
        let secret = std::fs::read(path).map_err(|source| ExecutorAuthError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::new(secret, required)
    }

    /// Whether the executor API requires tokens.
    pub fn required(&self) -> bool {
        self.required
    }

    /// The token of the executor `eid` of framework `fid` running in container `cid`.
    ///
    /// # Errors
    /// [`ExecutorAuthError::Sign`] if signing fails.
    pub fn token(&self, fid: &str, eid: &str, cid: &str) -> Result<String, ExecutorAuthError> {
        let claims = ExecutorClaims {
            fid: fid.to_owned(),
            eid: eid.to_owned(),
            cid: cid.to_owned(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.keys.0)
            .map_err(|e| ExecutorAuthError::Sign(e.to_string()))
    }

    /// Checks an `Authorization` header value (`Bearer <token>`) and returns the
    /// token's claims.
    ///
    /// # Errors
    /// [`Unauthenticated`] saying what is wrong with it.
    pub fn verify(&self, authorization: &str) -> Result<ExecutorClaims, Unauthenticated> {
        let parts: Vec<&str> = authorization.split(' ').collect();
        let [scheme, token] = parts.as_slice() else {
            return Err(Unauthenticated::Malformed);
        };
        if *scheme != "Bearer" {
            return Err(Unauthenticated::Scheme((*scheme).to_owned()));
        }
        // Mesos's tokens carry no expiry; one that does is checked.
        let mut validation = Validation::new(Algorithm::HS256);
        validation.required_spec_claims.clear();
        validation.validate_exp = true;
        jsonwebtoken::decode::<ExecutorClaims>(token, &self.keys.1, &validation)
            .map(|data| data.claims)
            .map_err(|e| Unauthenticated::Invalid(e.to_string()))
    }

    /// Authenticates a request by its headers: `Ok(None)` when tokens are not
    /// required, the token's claims when they are and it is valid.
    ///
    /// # Errors
    /// [`Unauthenticated`] when tokens are required and the request has no valid one.
    pub(crate) fn authenticate(
        &self,
        headers: &axum::http::HeaderMap,
    ) -> Result<Option<ExecutorClaims>, Unauthenticated> {
        if !self.required {
            return Ok(None);
        }
        let value = headers
            .get(header::AUTHORIZATION)
            .ok_or(Unauthenticated::Missing)?
            .to_str()
            .map_err(|_| Unauthenticated::Malformed)?;
        self.verify(value).map(Some)
    }
}

/// Why an authenticated executor may not make a call: its token is another
/// executor's (`403`, Mesos's messages).
pub(crate) fn check_claims(
    claims: &ExecutorClaims,
    fid: &str,
    eid: &str,
    cid: &str,
) -> Result<(), String> {
    if claims.fid != fid {
        return Err(format!(
            "Authenticated principal does not contain an 'fid' claim with the framework ID {fid}, which is set in the call"
        ));
    }
    if claims.eid != eid {
        return Err(format!(
            "Authenticated principal does not contain an 'eid' claim with the executor ID {eid}, which is set in the call"
        ));
    }
    if claims.cid != cid {
        return Err(
            "Authenticated principal does not contain a 'cid' claim with the correct active ContainerID"
                .to_owned(),
        );
    }
    Ok(())
}

/// `--jwt-secret-key FILE` and `--authenticate-http-executors`: executor
/// authentication on an agent, as Mesos's flags of the same names. Flatten it into a
/// clap parser.
///
/// ```
/// use clap::Parser;
/// use mesos_master::agent::ExecutorAuthFlags;
///
/// #[derive(Parser)]
/// struct Args {
///     #[command(flatten)]
///     auth: ExecutorAuthFlags,
/// }
/// assert!(Args::parse_from(["agent"]).auth.config().unwrap().is_none());
/// assert!(Args::parse_from(["agent", "--authenticate-http-executors"]).auth.config().is_err());
/// ```
#[derive(Debug, Clone, Default, clap::Args)]
#[non_exhaustive]
pub struct ExecutorAuthFlags {
    /// A file whose content is the key executor tokens are signed with (HMAC-SHA256):
    /// each executor gets one in `MESOS_EXECUTOR_AUTHENTICATION_TOKEN`.
    #[arg(long, value_name = "FILE")]
    pub jwt_secret_key: Option<std::path::PathBuf>,
    /// Only calls with a valid executor token are accepted on `/api/v1/executor`
    /// (needs `--jwt-secret-key`).
    #[arg(long)]
    pub authenticate_http_executors: bool,
}

impl ExecutorAuthFlags {
    /// The agents' executor authentication, `None` without `--jwt-secret-key`.
    ///
    /// # Errors
    /// [`ExecutorAuthError`] when `--authenticate-http-executors` has no key, or the
    /// key file cannot be used.
    pub fn config(&self) -> Result<Option<ExecutorAuth>, ExecutorAuthError> {
        match &self.jwt_secret_key {
            Some(path) => ExecutorAuth::from_file(path, self.authenticate_http_executors).map(Some),
            None if self.authenticate_http_executors => Err(ExecutorAuthError::MissingKey),
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auth() -> ExecutorAuth {
        ExecutorAuth::new(b"secret".to_vec(), true).unwrap()
    }

    #[test]
    fn tokens_round_trip_and_bad_ones_are_refused() {
        let token = auth().token("f", "e", "c").unwrap();
        let claims = auth().verify(&format!("Bearer {token}")).unwrap();
        assert_eq!((claims.fid.as_str(), claims.cid.as_str()), ("f", "c"));
        let other = ExecutorAuth::new(b"other".to_vec(), true).unwrap();
        assert!(matches!(
            other.verify(&format!("Bearer {token}")),
            Err(Unauthenticated::Invalid(_))
        ));
        assert_eq!(
            auth().verify(&format!("Basic {token}")),
            Err(Unauthenticated::Scheme("Basic".into()))
        );
        assert_eq!(auth().verify("Bearer"), Err(Unauthenticated::Malformed));
    }

    #[test]
    fn another_executors_claims_are_forbidden() {
        let claims = ExecutorClaims {
            fid: "f".into(),
            eid: "e".into(),
            cid: "c".into(),
        };
        assert!(check_claims(&claims, "f", "e", "c").is_ok());
        assert!(
            check_claims(&claims, "g", "e", "c")
                .unwrap_err()
                .contains("'fid'")
        );
        assert!(
            check_claims(&claims, "f", "x", "c")
                .unwrap_err()
                .contains("'eid'")
        );
        assert!(
            check_claims(&claims, "f", "e", "old")
                .unwrap_err()
                .contains("'cid'")
        );
    }

    #[test]
    fn a_challenge_comes_with_401() {
        let response = Unauthenticated::Missing.into_response();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            response.headers()[header::WWW_AUTHENTICATE],
            "Bearer realm=\"mesos-agent-executor\""
        );
    }
}
