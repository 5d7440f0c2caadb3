//! Why a fetch failed.

use std::path::PathBuf;
use std::time::Duration;

/// Why one URI could not be fetched into a sandbox.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FetchError {
    /// The URI cannot be fetched as written.
    #[error("invalid URI: {0}")]
    InvalidUri(String),
    /// The URI's scheme is not one the agent fetches (http, https, file).
    #[error(
        "unsupported URI scheme '{0}' (the agent fetches http://, https://, file:// and absolute paths)"
    )]
    UnsupportedScheme(String),
    /// `output_file` is absolute or leaves the sandbox.
    #[error("output file '{0}' is not a relative path inside the sandbox")]
    UnsafePath(String),
    /// The server answered something else than 200 OK.
    #[error("received HTTP return code {0}")]
    HttpStatus(u16),
    /// The HTTP request failed (connection, TLS, protocol).
    #[error("error downloading resource: {0}")]
    Request(String),
    /// More bytes than the agent's limit.
    #[error("the resource is larger than the limit of {limit} bytes")]
    TooLarge {
        /// The limit, in bytes.
        limit: u64,
    },
    /// No bytes arrived for the stall timeout.
    #[error("the download stalled: no data for {0:?}")]
    Stalled(Duration),
    /// The whole fetch of the URI took longer than the agent allows.
    #[error("the fetch did not finish within {0:?}")]
    TimedOut(Duration),
    /// A local source is missing or not a regular file.
    #[error("'{path}' is not a readable regular file: {reason}")]
    NotAFile {
        /// The local path.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// Reading or writing a file failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The archive is corrupt or of an unexpected format.
    #[error("failed to extract archive '{archive}': {reason}")]
    Archive {
        /// The archive's file name.
        archive: String,
        /// Why.
        reason: String,
    },
    /// An archive entry (or a link target in it) would be written outside the sandbox.
    #[error("archive entry '{0}' would be written outside the sandbox; refused")]
    UnsafeEntry(String),
    /// The fetched files could not be handed to the task's user.
    #[error("failed to chown the sandbox to '{user}': {reason}")]
    Chown {
        /// The user.
        user: String,
        /// Why.
        reason: String,
    },
}

impl FetchError {
    pub(crate) fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> Self {
        let what = what.into();
        move |source| FetchError::Io { what, source }
    }
}

/// A failed fetch: the URI and why. Its text is what the task's `TASK_FAILED` says
/// after `Failed to launch container: `.
#[derive(Debug, thiserror::Error)]
#[error("Failed to fetch '{uri}': {cause}")]
pub struct FetchFailure {
    /// The URI as given in `CommandInfo.uris`.
    pub uri: String,
    /// Why it failed.
    #[source]
    pub cause: FetchError,
}
