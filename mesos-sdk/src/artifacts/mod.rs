//! Getting an executor program to the agents.
//!
//! On a real cluster the agents are other machines: a scheduler cannot point its
//! executor at its own path. Mesos agents fetch `CommandInfo.uris` into the sandbox
//! before the executor starts (Spark's `spark.executor.uri`), so the program travels
//! by URI. [`ExecutorProgram`] builds the executor's `CommandInfo` for each case:
//!
//! - [`ExecutorProgram::local`]: the agents run a path they share with the scheduler
//!   (an embedded cluster, a shared disk);
//! - [`ExecutorProgram::from_uri`]: the agents fetch it from a URI the user gives
//!   (`--executor-uri`);
//! - [`ExecutorProgram::serve`]: the scheduler serves its own program over HTTP
//!   ([`FileServer`]) on a port the OS picks and advertises an address the agents can
//!   reach ([`advertise_ip_for`], or an explicit `--advertise-ip`).
//!
//! In the last two cases the program lands in the sandbox as `./<program name>` and
//! the command runs that.
//!
//! Files: `address` (which address to advertise) and `server` (serving one file with
//! hyper) ← this module.

mod address;
mod server;

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use crate::v1;

pub use address::advertise_ip_for;
pub use server::FileServer;

/// Why the executor program cannot be offered to the agents.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ArtifactError {
    /// The file to serve is missing or not a regular file.
    #[error("cannot serve '{path}': {reason}")]
    NotAFile {
        /// The path.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The HTTP server could not listen.
    #[error("cannot listen for executor downloads on {addr}: {source}")]
    Bind {
        /// The address.
        addr: std::net::SocketAddr,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// No address to advertise could be worked out from the master's address.
    #[error(
        "cannot work out which address the agents reach this machine at from master '{master}': {reason} (pass --advertise-ip)"
    )]
    Advertise {
        /// The master address as given.
        master: String,
        /// Why.
        reason: String,
    },
    /// The executor URI has no file name to run.
    #[error("executor URI '{0}' has no file name (expected e.g. http://host/path/executor)")]
    InvalidUri(String),
}

/// The executor program as the agents will run it: a command and the URIs to fetch.
#[derive(Debug)]
pub struct ExecutorProgram {
    value: String,
    uris: Vec<v1::command_info::Uri>,
    server: Option<FileServer>,
}

/// Archive names the Mesos fetcher extracts.
const ARCHIVES: [&str; 9] = [
    ".tar", ".tgz", ".tar.gz", ".tbz2", ".tar.bz2", ".txz", ".tar.xz", ".zip", ".gz",
];

impl ExecutorProgram {
    /// The agents run `path` as it is: they share it with the scheduler.
    pub fn local(path: impl Into<PathBuf>) -> Self {
        ExecutorProgram {
            value: path.into().to_string_lossy().into_owned(),
            uris: Vec::new(),
            server: None,
        }
    }

    /// The agents fetch the program from `uri`; it runs as `./<program>` in the
    /// sandbox. A URI naming an archive (`.tar.gz`, `.tgz`, `.zip`, ...) is extracted
    /// and must hold `<program>` at its top level; any other URI is saved as
    /// `<program>` and made executable.
    ///
    /// ```
    /// use mesos_sdk::artifacts::ExecutorProgram;
    ///
    /// let program = ExecutorProgram::from_uri("https://example.com/dist/pi-linux", "pi")?;
    /// let command = program.command(["--verbose".to_string()]);
    /// assert_eq!(command.value.as_deref(), Some("./pi"));
    /// assert_eq!(command.uris[0].output_file.as_deref(), Some("pi"));
    /// assert_eq!(command.uris[0].executable, Some(true));
    /// # Ok::<(), mesos_sdk::artifacts::ArtifactError>(())
    /// ```
    ///
    /// # Errors
    /// [`ArtifactError::InvalidUri`] when the URI has no file name.
    pub fn from_uri(uri: &str, program: &str) -> Result<Self, ArtifactError> {
        let name = uri
            .split(['?', '#'])
            .next()
            .and_then(|path| path.rsplit('/').next())
            .unwrap_or_default();
        if name.is_empty() || program.is_empty() {
            return Err(ArtifactError::InvalidUri(uri.to_owned()));
        }
        let archive = ARCHIVES.iter().any(|suffix| name.ends_with(suffix));
        let fetched = if archive {
            v1::command_info::Uri {
                value: uri.to_owned(),
                extract: Some(true),
                ..Default::default()
            }
        } else {
            v1::command_info::Uri {
                value: uri.to_owned(),
                executable: Some(true),
                extract: Some(false),
                output_file: Some(program.to_owned()),
                ..Default::default()
            }
        };
        Ok(ExecutorProgram {
            value: format!("./{program}"),
            uris: vec![fetched],
            server: None,
        })
    }

    /// Serves the file at `path` over HTTP from this process (on every interface, a
    /// port the OS picks) and has the agents fetch it from
    /// `http://<advertise>:<port>/<file name>`. `advertise` defaults to
    /// [`advertise_ip_for`]`(master)`: the address this machine uses to reach the
    /// master. The server stops when the returned value is dropped.
    ///
    /// # Errors
    /// The file is not a regular file, the port cannot be bound, or no address could be
    /// worked out.
    pub async fn serve(
        path: &Path,
        master: &str,
        advertise: Option<IpAddr>,
    ) -> Result<Self, ArtifactError> {
        let ip = match advertise {
            Some(ip) => ip,
            None => advertise_ip_for(master).await?,
        };
        let server = FileServer::start(path, ip).await?;
        let program = server.name().to_owned();
        tracing::info!(url = %server.url(), path = %path.display(), "serving the executor to the agents");
        Ok(ExecutorProgram {
            value: format!("./{program}"),
            uris: vec![server.uri()],
            server: Some(server),
        })
    }

    /// The executor's `CommandInfo`: the program run directly (no shell) with `args`,
    /// `argv[0]` being the program, and the URIs to fetch first.
    pub fn command(&self, args: impl IntoIterator<Item = String>) -> v1::CommandInfo {
        let mut arguments = vec![self.value.clone()];
        arguments.extend(args);
        v1::CommandInfo {
            uris: self.uris.clone(),
            shell: Some(false),
            value: Some(self.value.clone()),
            arguments,
            ..Default::default()
        }
    }

    /// The server, when this process serves the program.
    pub fn server(&self) -> Option<&FileServer> {
        self.server.as_ref()
    }
}
