//! Who may call the master: Mesos's credentials (`--credentials`), which endpoints
//! require them (`--authenticate-frameworks`, `--authenticate-agents`,
//! `--authenticate-http-readonly`, `--authenticate-http-readwrite`), and which roles
//! each principal may subscribe frameworks with (`--acls`).
//!
//! The HTTP layer (`http::auth`) checks HTTP Basic credentials against these and
//! answers `401` with `WWW-Authenticate: Basic realm="…"` (Mesos's realm names) when
//! they are missing or wrong. Pure: no I/O but reading the credentials file.

mod acls;
mod credentials;

pub use acls::{Acls, AclsError, Entity, RegisterFramework};
pub use credentials::{Credential, Credentials, CredentialsError};

/// Mesos's realm of the scheduler API (`DEFAULT_HTTP_FRAMEWORK_AUTHENTICATION_REALM`).
pub const FRAMEWORK_REALM: &str = "mesos-master-scheduler";
/// Mesos's realm of read-only endpoints (`READONLY_HTTP_AUTHENTICATION_REALM`).
pub const READONLY_REALM: &str = "mesos-master-readonly";
/// Mesos's realm of read-write endpoints (`READWRITE_HTTP_AUTHENTICATION_REALM`).
pub const READWRITE_REALM: &str = "mesos-master-readwrite";

/// The realm of the master's remote agent endpoints (`/agent/v1/*`). Mesos agents
/// authenticate with SASL over libprocess instead; this realm is the project's own,
/// named in the style of Mesos's.
pub const AGENT_REALM: &str = "mesos-master-agent";

/// Which requests must authenticate, and the accepted credentials.
///
/// ```
/// use mesos_master::auth::{AuthConfig, Credentials};
///
/// let credentials = Credentials::parse(r#"{"credentials":[{"principal":"p1","secret":"s1"}]}"#)?;
/// let auth = AuthConfig::frameworks(credentials);
/// assert!(auth.frameworks && !auth.readonly);
/// assert!(auth.credentials.check("p1", "s1"));
/// # Ok::<(), mesos_master::auth::CredentialsError>(())
/// ```
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct AuthConfig {
    /// The scheduler API (`/api/v1/scheduler`) requires credentials (Mesos's
    /// `--authenticate_frameworks`, with HTTP Basic for HTTP frameworks).
    pub frameworks: bool,
    /// Read-only endpoints (`/state`, `/metrics/snapshot`, …) require credentials
    /// (Mesos's `--authenticate_http_readonly`). `/health` never does.
    pub readonly: bool,
    /// Read-write endpoints (the operator API `/api/v1`) require credentials (Mesos's
    /// `--authenticate_http_readwrite`).
    pub readwrite: bool,
    /// Remote agents must authenticate (HTTP Basic) to register and post messages
    /// (Mesos's `--authenticate_agents`). In-process agents are trusted.
    pub agents: bool,
    /// The accepted principals and secrets.
    pub credentials: Credentials,
    /// Which principals may subscribe frameworks with which roles (Mesos's `--acls`,
    /// `register_frameworks`); the default allows everything.
    pub acls: Acls,
}

impl AuthConfig {
    /// Frameworks must authenticate with one of `credentials`; read-only endpoints stay
    /// open.
    pub fn frameworks(credentials: Credentials) -> Self {
        Self {
            frameworks: true,
            credentials,
            ..Self::default()
        }
    }
}

/// The principal a request authenticated as (put in the request's extensions by the
/// HTTP layer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal(pub String);
