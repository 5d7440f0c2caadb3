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
}
