//! Errors of the agent layer.

/// What went wrong configuring or running an agent.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AgentError {
    /// An `--attributes` style specification could not be parsed.
    #[error(
        "invalid agent attribute '{token}': {reason} (expected name:value pairs separated by ';')"
    )]
    InvalidAttribute {
        /// The offending `name:value` token.
        token: String,
        /// Why it was rejected.
        reason: String,
    },
    /// A task or executor could not be started.
    #[error(
        "failed to launch '{what}': {source} (check the command and the sandbox directory permissions)"
    )]
    Launch {
        /// The command or directory that failed.
        what: String,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The master address given to a remote agent is unusable.
    #[error("invalid master address '{url}': {reason} (expected e.g. http://127.0.0.1:5050)")]
    InvalidMaster {
        /// The address as given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The executor API address could not be bound.
    #[error(
        "cannot listen on {addr} for the executor API: {source} (is the address free and local?)"
    )]
    Bind {
        /// The address.
        addr: std::net::SocketAddr,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The master answered a registration with a client error; the agent stopped.
    #[error(
        "the master refused the agent's registration ({status}): {message} (check the agent id, --resources and --attributes)"
    )]
    RegistrationRefused {
        /// The HTTP status.
        status: u16,
        /// The master's explanation.
        message: String,
    },
    /// The master refused the agent's authentication (`401`: no `--credential`, or one
    /// its `--credentials` do not accept); the agent stopped, as a Mesos agent whose
    /// authentication is refused exits.
    #[error(
        "the master {master} refused authentication: {reason} (check the agent's --credential against the master's --credentials)"
    )]
    AuthenticationRefused {
        /// The master's URL.
        master: String,
        /// What the agent sent.
        reason: String,
    },
}
