//! The executor API on a Unix domain socket (Mesos's `--http_executor_domain_sockets`
//! and `--domain_socket_location`): executors on the agent's host reach it without TCP.
//!
//! As in Mesos, a socket file left by an earlier run is replaced, the socket is made
//! readable and writable by everyone (mode 0666: executors run as their own users),
//! its path must be shorter than 108 bytes, and only the executor API is served on it:
//! any other path is answered 403 Forbidden. Everything else (authentication, limits,
//! status codes) is the TCP endpoint's, since both serve the same routes.

use std::io;
use std::os::unix::fs::{FileTypeExt as _, PermissionsExt as _};
use std::path::Path;

use axum::Router;
use axum::http::StatusCode;
use tokio::net::UnixListener;

use mesos_sdk::transport::MAX_SOCKET_PATH;

/// The mode of the socket file (Mesos's `DOMAIN_SOCKET_DEFAULT_MODE`).
const MODE: u32 = 0o666;

/// Checks that `path` fits in a socket address.
///
/// # Errors
/// [`io::ErrorKind::InvalidInput`] naming the path and the limit.
pub(crate) fn check_path(path: &Path) -> io::Result<()> {
    if path.as_os_str().len() >= MAX_SOCKET_PATH {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "the executor domain socket path {} must be shorter than {MAX_SOCKET_PATH} bytes",
                path.display()
            ),
        ));
    }
    Ok(())
}

/// Binds the socket at `path`, replacing a socket an earlier run left there (a file
/// that is not a socket is left alone, and binding fails).
///
/// # Errors
/// A path too long, or the I/O error of binding or of setting the mode, naming the path.
pub(crate) fn bind(path: &Path) -> io::Result<UnixListener> {
    check_path(path)?;
    let context = |e: io::Error| {
        io::Error::new(
            e.kind(),
            format!("executor domain socket {}: {e}", path.display()),
        )
    };
    if std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_socket()) {
        tracing::info!(path = %path.display(), "removing the executor socket an earlier run left");
        std::fs::remove_file(path).map_err(context)?;
    }
    let listener = UnixListener::bind(path).map_err(context)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(MODE)).map_err(context)?;
    Ok(listener)
}

/// Restricts `executor_api` to itself: any other path is answered 403, as Mesos's agent
/// blocks every request but the executor API's on its socket.
pub(crate) fn router(executor_api: Router) -> Router {
    executor_api.fallback(|| async {
        (
            StatusCode::FORBIDDEN,
            "only the executor API is served on the executor domain socket",
        )
    })
}

/// Removes the socket file at `path` once the agent stops serving it.
pub(crate) fn remove(path: &Path) {
    match std::fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(error) => {
            tracing::warn!(path = %path.display(), %error, "executor socket not removed");
        }
    }
}
