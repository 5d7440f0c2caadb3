//! Copying one source into a file, bounded in size and time: HTTP(S) with reqwest,
//! local files with a bounded copy.

use std::path::Path;
use std::time::Duration;

use futures::StreamExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::FetchError;
use super::uri::Source;

/// How much a download may read, and how long it may wait for the next bytes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Bounds {
    /// Largest resource, in bytes.
    pub max_bytes: u64,
    /// Longest wait for the next bytes of an HTTP download.
    pub stall_timeout: Duration,
}

/// Copies `source` into `dest` (created or truncated); returns the bytes written.
pub(crate) async fn download(
    client: &reqwest::Client,
    source: &Source,
    dest: &Path,
    bounds: Bounds,
) -> Result<u64, FetchError> {
    match source {
        Source::Http(url) => http(client, url, dest, bounds).await,
        Source::Local(path) => local(path, dest, bounds.max_bytes).await,
    }
}

async fn http(
    client: &reqwest::Client,
    url: &str,
    dest: &Path,
    bounds: Bounds,
) -> Result<u64, FetchError> {
    let request = client.get(url).send();
    let response = tokio::time::timeout(bounds.stall_timeout, request)
        .await
        .map_err(|_| FetchError::Stalled(bounds.stall_timeout))?
        .map_err(|e| FetchError::Request(error_chain(&e)))?;
    // Mesos accepts 200 only (redirects are followed by the client).
    if response.status() != reqwest::StatusCode::OK {
        return Err(FetchError::HttpStatus(response.status().as_u16()));
    }
    if response
        .content_length()
        .is_some_and(|n| n > bounds.max_bytes)
    {
        return Err(FetchError::TooLarge {
            limit: bounds.max_bytes,
        });
    }
    let mut file = create(dest).await?;
    let mut body = response.bytes_stream();
    let mut written: u64 = 0;
    loop {
        let next = tokio::time::timeout(bounds.stall_timeout, body.next())
            .await
            .map_err(|_| FetchError::Stalled(bounds.stall_timeout))?;
        let Some(chunk) = next else { break };
        let chunk = chunk.map_err(|e| FetchError::Request(error_chain(&e)))?;
        written = written.saturating_add(chunk.len() as u64);
        if written > bounds.max_bytes {
            return Err(FetchError::TooLarge {
                limit: bounds.max_bytes,
            });
        }
        file.write_all(&chunk)
            .await
            .map_err(FetchError::io(format!("writing '{}'", dest.display())))?;
    }
    file.flush()
        .await
        .map_err(FetchError::io(format!("writing '{}'", dest.display())))?;
    Ok(written)
}

async fn local(path: &Path, dest: &Path, max_bytes: u64) -> Result<u64, FetchError> {
    let not_a_file = |reason: String| FetchError::NotAFile {
        path: path.to_path_buf(),
        reason,
    };
    // Follows symbolic links, as Mesos's copy does.
    let meta = tokio::fs::metadata(path)
        .await
        .map_err(|e| not_a_file(e.to_string()))?;
    if !meta.is_file() {
        return Err(not_a_file("not a regular file".into()));
    }
    if meta.len() > max_bytes {
        return Err(FetchError::TooLarge { limit: max_bytes });
    }
    let input = tokio::fs::File::open(path)
        .await
        .map_err(|e| not_a_file(e.to_string()))?;
    let mut output = create(dest).await?;
    // The file may grow while it is copied: never read past the limit.
    let copied = tokio::io::copy(&mut input.take(max_bytes + 1), &mut output)
        .await
        .map_err(FetchError::io(format!(
            "copying '{}' to '{}'",
            path.display(),
            dest.display()
        )))?;
    if copied > max_bytes {
        return Err(FetchError::TooLarge { limit: max_bytes });
    }
    output
        .flush()
        .await
        .map_err(FetchError::io(format!("writing '{}'", dest.display())))?;
    Ok(copied)
}

async fn create(dest: &Path) -> Result<tokio::fs::File, FetchError> {
    if let Some(parent) = dest.parent() {
        tokio::fs::create_dir_all(parent)
            .await
            .map_err(FetchError::io(format!("creating '{}'", parent.display())))?;
    }
    tokio::fs::File::create(dest)
        .await
        .map_err(FetchError::io(format!("creating '{}'", dest.display())))
}

/// An error with its sources, `: `-joined (reqwest's own text omits the cause).
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
