//! Serving one file over HTTP/1.1 (hyper), for agents to fetch.

use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::TryStreamExt;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::{Method, Request, Response, StatusCode, header};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::sync::Semaphore;

use super::ArtifactError;
use crate::v1;

/// Most downloads served at once; further connections are closed at once.
const MAX_CONNECTIONS: usize = 64;
/// Longest wait for a request's headers.
const HEADER_TIMEOUT: Duration = Duration::from_secs(30);

/// Serves one local file at `GET /<file name>` on every interface of this machine
/// (IPv4 or IPv6, as the advertised address), on a port the OS picks. The file is read
/// anew for each request. Stops when dropped.
#[derive(Debug)]
pub struct FileServer {
    name: String,
    local: SocketAddr,
    advertised: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

struct Served {
    path: PathBuf,
    route: String,
}

type Body = BoxBody<Bytes, std::io::Error>;

impl FileServer {
    /// Starts serving `path`; agents are told to fetch it from `advertise`.
    ///
    /// # Errors
    /// [`ArtifactError::NotAFile`] when `path` is not a regular file;
    /// [`ArtifactError::Bind`] when no port can be bound.
    pub async fn start(path: &Path, advertise: IpAddr) -> Result<Self, ArtifactError> {
        let not_a_file = |reason: String| ArtifactError::NotAFile {
            path: path.to_path_buf(),
            reason,
        };
        let meta = tokio::fs::metadata(path)
            .await
            .map_err(|e| not_a_file(e.to_string()))?;
        if !meta.is_file() {
            return Err(not_a_file("not a regular file".into()));
        }
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .filter(|n| !n.contains(['/', '?', '#', '%', ' ']))
            .ok_or_else(|| not_a_file("its file name cannot be used in a URL".into()))?;
        let bind: SocketAddr = match advertise {
            IpAddr::V4(_) => (Ipv4Addr::UNSPECIFIED, 0).into(),
            IpAddr::V6(_) => (Ipv6Addr::UNSPECIFIED, 0).into(),
        };
        let listener = tokio::net::TcpListener::bind(bind)
            .await
            .map_err(|source| ArtifactError::Bind { addr: bind, source })?;
        let local = listener
            .local_addr()
            .map_err(|source| ArtifactError::Bind { addr: bind, source })?;
        let served = Arc::new(Served {
            path: path.to_path_buf(),
            route: format!("/{name}"),
        });
        let task = tokio::spawn(accept(listener, served));
        Ok(FileServer {
            name,
            local,
            advertised: SocketAddr::new(advertise, local.port()),
            task,
        })
    }

    /// The file name the file is served (and fetched) under.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Where the server listens (the unspecified address and the chosen port).
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// The address agents are told to use.
    pub fn advertised_addr(&self) -> SocketAddr {
        self.advertised
    }

    /// `http://<advertised address>/<file name>`.
    pub fn url(&self) -> String {
        format!("http://{}/{}", self.advertised, self.name)
    }

    /// The `CommandInfo.URI` to fetch the file: saved under its name and executable.
    pub fn uri(&self) -> v1::command_info::Uri {
        v1::command_info::Uri {
            value: self.url(),
            executable: Some(true),
            extract: Some(false),
            output_file: Some(self.name.clone()),
            ..Default::default()
        }
    }
}

impl Drop for FileServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn accept(listener: tokio::net::TcpListener, served: Arc<Served>) {
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(e) => {
                // Out of descriptors and the like: give the system a moment.
                tracing::warn!(error = %e, "executor file server: accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            tracing::warn!("executor file server: too many downloads at once; connection closed");
            continue;
        };
        let served = served.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| respond(req, served.clone()));
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_TIMEOUT)
                .serve_connection(TokioIo::new(stream), service);
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "executor file server: connection ended");
            }
            drop(slot);
        });
    }
}

async fn respond(
    req: Request<Incoming>,
    served: Arc<Served>,
) -> Result<Response<Body>, Infallible> {
    if req.uri().path() != served.route {
        return Ok(plain(StatusCode::NOT_FOUND, "not found"));
    }
    let head = match *req.method() {
        Method::GET => false,
        Method::HEAD => true,
        _ => {
            let mut response = plain(StatusCode::METHOD_NOT_ALLOWED, "GET or HEAD only");
            response
                .headers_mut()
                .insert(header::ALLOW, header::HeaderValue::from_static("GET, HEAD"));
            return Ok(response);
        }
    };
    let file = match tokio::fs::File::open(&served.path).await {
        Ok(file) => file,
        Err(e) => {
            tracing::warn!(path = %served.path.display(), error = %e, "executor file server: cannot open the file");
            return Ok(plain(StatusCode::NOT_FOUND, "the file is gone"));
        }
    };
    let len = match file.metadata().await {
        Ok(meta) => meta.len(),
        Err(_) => {
            return Ok(plain(
                StatusCode::INTERNAL_SERVER_ERROR,
                "cannot read the file",
            ));
        }
    };
    let body: Body = if head {
        Full::new(Bytes::new())
            .map_err(|never| match never {})
            .boxed()
    } else {
        let stream = tokio_util::io::ReaderStream::new(file).map_ok(Frame::data);
        BodyExt::boxed(StreamBody::new(stream))
    };
    let mut response = Response::new(body);
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_LENGTH, header::HeaderValue::from(len));
    headers.insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/octet-stream"),
    );
    Ok(response)
}

fn plain(status: StatusCode, text: &'static str) -> Response<Body> {
    let mut response = Response::new(
        Full::new(Bytes::from_static(text.as_bytes()))
            .map_err(|never| match never {})
            .boxed(),
    );
    *response.status_mut() = status;
    response
}
