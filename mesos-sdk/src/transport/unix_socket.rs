//! Reaching an endpoint over a Unix domain socket: the agent's executor socket
//! (`MESOS_DOMAIN_SOCKET`, served by agents started with
//! `--http_executor_domain_sockets`). Every request goes to the one socket, whatever
//! the host of its URL, in plain HTTP/1.1, as Mesos's `http+unix` URLs do.

use std::future::Future;
use std::io;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use hyper::Uri;
use hyper_util::rt::TokioIo;
use tokio::net::UnixStream;

/// The longest path a Unix domain socket address holds, its terminating NUL included
/// (`sun_path` on Linux; Mesos's `DOMAIN_SOCKET_MAX_PATH_LENGTH`).
pub const MAX_SOCKET_PATH: usize = 108;

/// How long connecting to the socket may take (it only waits on a full accept queue).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Connects every request to the socket at one path.
#[derive(Clone, Debug)]
pub(super) struct UnixConnector {
    path: Arc<Path>,
}

impl UnixConnector {
    pub(super) fn new(path: &Path) -> Self {
        UnixConnector { path: path.into() }
    }

    /// The socket's path.
    pub(super) fn path(&self) -> &Path {
        &self.path
    }
}

impl tower_service::Service<Uri> for UnixConnector {
    type Response = TokioIo<UnixStream>;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<Self::Response>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: Uri) -> Self::Future {
        let path = self.path.clone();
        Box::pin(async move {
            match tokio::time::timeout(CONNECT_TIMEOUT, UnixStream::connect(&*path)).await {
                Ok(connected) => connected.map(TokioIo::new),
                Err(_) => Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("connecting to {} timed out", path.display()),
                )),
            }
        })
    }
}
