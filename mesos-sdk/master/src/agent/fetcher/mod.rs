//! The fetcher: before a command task or an executor starts, every `CommandInfo.URI`
//! is copied into its sandbox, with Apache Mesos's semantics (`docs/fetcher.md`).
//!
//! - Sources: `http://`, `https://`, `file://` and absolute paths.
//! - `extract` (the default): `.tar`, `.tar.gz`/`.tgz`, `.tar.bz2`/`.tbz2`,
//!   `.tar.xz`/`.txz` and `.zip` are unpacked into the sandbox, a bare `.gz` is
//!   gunzipped; `executable` makes the file executable (and skips extraction);
//!   `output_file` names the file in the sandbox; `cache` goes through the agent's cache.
//! - Bounds: each resource and each archive's content is at most
//!   [`FetcherConfig::max_bytes`]; a download that gets no bytes for
//!   [`FetcherConfig::stall_timeout`], or a URI that takes longer than
//!   [`FetcherConfig::timeout`], fails.
//! - Safety: `output_file` and archive entries (link targets included) must stay in the
//!   sandbox.
//!
//! Files: `uri` (what a URI names, pure) ← `download` (bounded copies), `extract`
//! (archives), `cache` (the per-agent cache) ← this module (one fetch).

mod cache;
mod download;
mod error;
mod extract;
mod uri;

use std::path::{Path, PathBuf};
use std::time::Duration;

use mesos_sdk::v1;

pub use error::{FetchError, FetchFailure};

use super::user::RunAs;
use download::Bounds;
use uri::Source;

/// The fetcher's limits and cache, part of [`super::AgentConfig`].
///
/// Defaults: a 2 GiB cache (Mesos's `--fetcher_cache_size`) in
/// `<work_dir>/fetch/<agent id>`, resources of at most 4 GiB, a 60 s stall timeout
/// (Mesos's `--fetcher_stall_timeout`) and 10 min per URI.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct FetcherConfig {
    /// The cache directory (`None`: `<work_dir>/fetch/<agent id>`). It is emptied when
    /// the agent starts.
    pub cache_dir: Option<PathBuf>,
    /// The cache's size, in bytes.
    pub cache_size: u64,
    /// The largest resource, and the most an archive may unpack to, in bytes.
    pub max_bytes: u64,
    /// How long a download may go without receiving bytes.
    pub stall_timeout: Duration,
    /// How long fetching one URI may take, extraction included.
    pub timeout: Duration,
}

impl Default for FetcherConfig {
    fn default() -> Self {
        FetcherConfig {
            cache_dir: None,
            cache_size: 2 << 30,
            max_bytes: 4 << 30,
            stall_timeout: Duration::from_secs(60),
            timeout: Duration::from_secs(600),
        }
    }
}

/// One agent's fetcher: its HTTP client, cache and limits.
#[derive(Debug)]
pub(crate) struct Fetcher {
    client: reqwest::Client,
    cache: cache::Cache,
    config: FetcherConfig,
}

impl Fetcher {
    /// A fetcher whose cache is `config.cache_dir`, else `default_cache_dir`.
    pub(crate) fn new(config: &FetcherConfig, default_cache_dir: PathBuf) -> Self {
        let dir = config.cache_dir.clone().unwrap_or(default_cache_dir);
        let client = reqwest::Client::builder()
            .connect_timeout(config.stall_timeout)
            .build()
            .unwrap_or_else(|e| {
                tracing::warn!(error = %e, "fetcher: falling back to a default HTTP client");
                reqwest::Client::new()
            });
        Fetcher {
            client,
            cache: cache::Cache::new(dir, config.cache_size),
            config: config.clone(),
        }
    }

    /// Fetches `uris` into `sandbox`, one after the other, then hands the sandbox to
    /// `run_as` (when the task runs as another user). `user` keys the cache.
    pub(crate) async fn fetch(
        &self,
        uris: &[v1::command_info::Uri],
        sandbox: &Path,
        user: Option<&str>,
        run_as: Option<RunAs>,
    ) -> Result<(), FetchFailure> {
        for item in uris {
            let fail = |cause| FetchFailure {
                uri: item.value.clone(),
                cause,
            };
            tokio::time::timeout(self.config.timeout, self.fetch_one(item, sandbox, user))
                .await
                .map_err(|_| fail(FetchError::TimedOut(self.config.timeout)))?
                .map_err(fail)?;
            tracing::info!(uri = %item.value, sandbox = %sandbox.display(), "fetched");
        }
        if let Some(run_as) = run_as
            && !uris.is_empty()
        {
            let dir = sandbox.to_path_buf();
            let chowned =
                tokio::task::spawn_blocking(move || super::user::chown_recursive(&dir, run_as))
                    .await;
            let reason = match chowned {
                Ok(Ok(())) => None,
                Ok(Err(errno)) => Some(errno.desc().to_owned()),
                Err(e) => Some(e.to_string()),
            };
            if let Some(reason) = reason {
                return Err(FetchFailure {
                    uri: uris.last().map(|u| u.value.clone()).unwrap_or_default(),
                    cause: FetchError::Chown {
                        user: user.unwrap_or_default().to_owned(),
                        reason,
                    },
                });
            }
        }
        Ok(())
    }

    async fn fetch_one(
        &self,
        item: &v1::command_info::Uri,
        sandbox: &Path,
        user: Option<&str>,
    ) -> Result<(), FetchError> {
        let value = item.value.as_str();
        let source = uri::source(value)?;
        let relative = uri::output_path(value, item.output_file.as_deref())?;
        let dest = sandbox.join(&relative);
        let name = relative
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let executable = item.executable.unwrap_or(false);
        // As in Mesos, `executable` wins over `extract`.
        let archive = (!executable && item.extract.unwrap_or(true))
            .then(|| extract::kind(&name))
            .flatten();
        let bounds = Bounds {
            max_bytes: self.config.max_bytes,
            stall_timeout: self.config.stall_timeout,
        };
        if item.cache.unwrap_or(false) {
            let cache_name = uri::basename(value)?;
            let cached = self
                .cache
                .get(user.unwrap_or_default(), value, &cache_name, |path| {
                    let source = source.clone();
                    let client = self.client.clone();
                    async move { download::download(&client, &source, &path, bounds).await }
                })
                .await?;
            match archive {
                // Only the extracted content lands in the sandbox, as in Mesos.
                Some(kind) => self.extract(&cached.path, &name, kind, sandbox).await?,
                None => {
                    let local = Source::Local(cached.path.clone());
                    download::download(&self.client, &local, &dest, bounds).await?;
                }
            }
        } else {
            download::download(&self.client, &source, &dest, bounds).await?;
            if let Some(kind) = archive {
                self.extract(&dest, &name, kind, sandbox).await?;
            }
        }
        if executable {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::Permissions::from_mode(0o755);
            tokio::fs::set_permissions(&dest, mode)
                .await
                .map_err(FetchError::io(format!(
                    "making '{}' executable",
                    dest.display()
                )))?;
        }
        Ok(())
    }

    async fn extract(
        &self,
        archive: &Path,
        name: &str,
        kind: extract::Kind,
        into: &Path,
    ) -> Result<(), FetchError> {
        let (archive, name, into) = (archive.to_path_buf(), name.to_owned(), into.to_path_buf());
        let max = self.config.max_bytes;
        tokio::task::spawn_blocking(move || extract::extract(&archive, &name, kind, &into, max))
            .await
            .map_err(|e| FetchError::Archive {
                archive: String::new(),
                reason: e.to_string(),
            })?
    }
}
