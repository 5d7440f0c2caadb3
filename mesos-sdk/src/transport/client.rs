use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderName, HeaderValue, LOCATION};
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use tokio::sync::Semaphore;
use url::Url;

use super::auth::Auth;
use super::connector::{Connector, connector, tls_config};
use super::error::{ApiError, MAX_ERROR_BODY, TransportError};
use super::pipeline::{Dial, Pipeline, network_dial};
use super::response::Response;
use super::unix_socket::UnixConnector;
use crate::codec::Encoding;

/// How long an idle pooled connection is kept.
const POOL_IDLE: Duration = Duration::from_secs(90);

/// Header naming a scheduler's subscription; sent back on every call.
pub const STREAM_ID_HEADER: &str = "Mesos-Stream-Id";

/// At most this many calls of one transport (and its clones) wait for their answer at
/// once; more wait their turn, in order. An HTTP/1.1 connection carries one call at a
/// time, so without a bound a burst of concurrent calls (an executor reporting hundreds
/// of tasks at once) opens a connection per call and can overflow the server's accept
/// queue, whose dropped connections are retried only after a second or more. A call
/// counts until its answer's headers arrive, so open event streams do not.
pub const MAX_CALLS_IN_FLIGHT: usize = 16;

/// Posts encoded calls to Mesos endpoints.
///
/// Cheap to clone (the connection pool is shared). Redirects are not followed.
///
/// ```no_run
/// # async fn demo() -> Result<(), mesos_sdk::transport::TransportError> {
/// use mesos_sdk::codec::Encoding;
/// use mesos_sdk::transport::{HttpTransport, Url};
/// let http = HttpTransport::new(Encoding::Protobuf, None)?;
/// let url = Url::parse("http://127.0.0.1:5050/api/v1/scheduler").unwrap();
/// let response = http.post(&url, b"...".to_vec(), None).await?;
/// assert!(response.status().is_success());
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct HttpTransport {
    client: Pool,
    encoding: Encoding,
    /// The encoding's media type, the value of `Content-Type` and `Accept`.
    media_type: HeaderValue,
    auth: Option<HeaderValue>,
    /// Turns for calls in flight ([`MAX_CALLS_IN_FLIGHT`]), shared by clones.
    in_flight: Arc<Semaphore>,
}

/// The pooled client of a transport, by the way it reaches endpoints.
#[derive(Clone, Debug)]
enum Pool {
    /// TCP to the URL's host and port, with TLS for `https://` (the configuration
    /// kept for pipelines).
    Network(Client<Connector, Full<Bytes>>, Arc<rustls::ClientConfig>),
    /// One Unix domain socket, whatever the URL.
    Unix(Client<UnixConnector, Full<Bytes>>, UnixConnector),
}

fn pooled<C>(connector: C) -> Client<C, Full<Bytes>>
where
    C: hyper_util::client::legacy::connect::Connect + Clone,
{
    Client::builder(TokioExecutor::new())
        .pool_timer(TokioTimer::new())
        .pool_idle_timeout(POOL_IDLE)
        .build(connector)
}

impl HttpTransport {
    /// A transport sending and accepting `encoding`, with optional credentials.
    ///
    /// # Errors
    /// [`TransportError::Client`] if the TLS backend cannot start or the credentials
    /// cannot be put in a header.
    pub fn new(encoding: Encoding, auth: Option<Auth>) -> Result<Self, TransportError> {
        Self::with_root_certificates(encoding, auth, &[])
    }

    /// Like [`HttpTransport::new`], also trusting the PEM-encoded CA certificates in
    /// `roots` for `https://` masters (besides the bundled web PKI roots), e.g. a
    /// cluster's private CA.
    ///
    /// # Errors
    /// [`TransportError::Client`] for a certificate that is not valid PEM, or as
    /// [`HttpTransport::new`].
    pub fn with_root_certificates(
        encoding: Encoding,
        auth: Option<Auth>,
        roots: &[Vec<u8>],
    ) -> Result<Self, TransportError> {
        let tls = tls_config(roots)?;
        Self::with_pool(Pool::Network(pooled(connector(&tls)), tls), encoding, auth)
    }

    /// A transport whose calls all go over the Unix domain socket at `path`, in plain
    /// HTTP/1.1, whatever the host of their URL (sent only as the `Host` header): an
    /// executor reaching its agent through `MESOS_DOMAIN_SOCKET`, as Mesos's executor
    /// library does. The socket is connected to on the first call.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), mesos_sdk::transport::TransportError> {
    /// use mesos_sdk::codec::Encoding;
    /// use mesos_sdk::transport::{HttpTransport, Url};
    /// let http = HttpTransport::over_unix_socket(Encoding::Protobuf, None, "/run/mesos/agent.sock".as_ref())?;
    /// let url = Url::parse("http://127.0.0.1:5051/api/v1/executor").unwrap();
    /// let response = http.post(&url, b"...".to_vec(), None).await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`TransportError::Client`] if the credentials cannot be put in a header.
    pub fn over_unix_socket(
        encoding: Encoding,
        auth: Option<Auth>,
        path: &std::path::Path,
    ) -> Result<Self, TransportError> {
        let connector = UnixConnector::new(path);
        Self::with_pool(
            Pool::Unix(pooled(connector.clone()), connector),
            encoding,
            auth,
        )
    }

    fn with_pool(
        client: Pool,
        encoding: Encoding,
        auth: Option<Auth>,
    ) -> Result<Self, TransportError> {
        let auth = auth.as_ref().map(Auth::header).transpose()?;
        Ok(HttpTransport {
            client,
            encoding,
            media_type: HeaderValue::from_static(encoding.content_type()),
            auth,
            in_flight: Arc::new(Semaphore::new(MAX_CALLS_IN_FLIGHT)),
        })
    }

    /// The body encoding of calls and events.
    pub fn encoding(&self) -> Encoding {
        self.encoding
    }

    /// Posts one encoded call. A 2xx answer is returned as is (its body may be an event
    /// stream); anything else becomes [`TransportError::Api`] with the first
    /// [`MAX_ERROR_BODY`] bytes of the body as its message.
    ///
    /// # Errors
    /// [`TransportError::Unreachable`] when no answer arrives, [`TransportError::Api`]
    /// for a non-success status (including redirects).
    pub async fn post(
        &self,
        url: &Url,
        body: Vec<u8>,
        stream_id: Option<&str>,
    ) -> Result<Response, TransportError> {
        let headers = stream_id.map(|id| (STREAM_ID_HEADER, id));
        self.post_with_headers(url, body, headers.as_slice()).await
    }

    /// Like [`HttpTransport::post`], with `headers` (name, value) added to the request:
    /// for protocols over this transport that name their sessions in headers of their
    /// own, such as the reference master's remote agents (`Agent-Id`,
    /// `Agent-Stream-Id`). `Content-Type` and `Accept` are the transport's encoding;
    /// credentials are added as for every request.
    ///
    /// # Errors
    /// As [`HttpTransport::post`]; a header that is not a valid HTTP header makes the
    /// request fail as [`TransportError::Unreachable`].
    pub async fn post_with_headers(
        &self,
        url: &Url,
        body: Vec<u8>,
        headers: &[(&str, &str)],
    ) -> Result<Response, TransportError> {
        let unreachable =
            |source: Box<dyn std::error::Error + Send + Sync>| TransportError::Unreachable {
                endpoint: self.endpoint(url),
                source,
            };
        let mut request = hyper::Request::post(url.as_str())
            .header(CONTENT_TYPE, self.media_type.clone())
            .header(ACCEPT, self.media_type.clone());
        if let Some(auth) = &self.auth {
            request = request.header(AUTHORIZATION, auth.clone());
        }
        for &(name, value) in headers {
            request = request.header(
                HeaderName::try_from(name).map_err(|e| unreachable(e.into()))?,
                value,
            );
        }
        let request = request
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| unreachable(e.into()))?;
        // The semaphore is never closed, so a turn always comes.
        let turn = self.in_flight.acquire().await.ok();
        let response = match &self.client {
            Pool::Network(client, _) => client.request(request),
            Pool::Unix(client, _) => client.request(request),
        }
        .await
        .map_err(|e| unreachable(e.into()))?;
        drop(turn);
        let response = Response::new(response, url.clone());
        if response.status().is_success() {
            return Ok(response);
        }
        Err(api_error(url, response).await.into())
    }

    /// Opens a [`Pipeline`] for calls to `url`, reached as this transport reaches it
    /// (TCP, TLS with its trusted roots for `https://`, or its Unix socket), with its
    /// encoding and credentials, and `headers` on every call (such as
    /// [`STREAM_ID_HEADER`]). The pipeline is independent of this transport once open.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), mesos_sdk::transport::TransportError> {
    /// use mesos_sdk::codec::Encoding;
    /// use mesos_sdk::transport::{HttpTransport, Url};
    /// let http = HttpTransport::new(Encoding::Protobuf, None)?;
    /// let url = Url::parse("https://master.example:5050/api/v1/scheduler").unwrap();
    /// let calls = http.pipeline(&url, &[("Mesos-Stream-Id", "s1")]).await?;
    /// calls.post(b"...".to_vec()).await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`TransportError::Client`] for a scheme other than `http` or `https` (over TCP)
    /// or a header that cannot be sent; [`TransportError::Unreachable`] when the
    /// connection (and its TLS session) cannot be opened within the connect timeout.
    pub async fn pipeline(
        &self,
        url: &Url,
        headers: &[(&str, &str)],
    ) -> Result<Pipeline, TransportError> {
        let dial = match &self.client {
            Pool::Unix(_, socket) => Dial::Unix(socket.path()),
            Pool::Network(_, tls) => network_dial(url, tls)?,
        };
        let auth = self.auth.as_ref().map(HeaderValue::as_bytes);
        Pipeline::open(url, dial, self.encoding, auth, headers, self.endpoint(url)).await
    }

    /// How errors name the endpoint of `url`: the URL, and the socket it went over.
    fn endpoint(&self, url: &Url) -> String {
        match &self.client {
            Pool::Network(..) => url.to_string(),
            Pool::Unix(_, socket) => format!("{url} (over {})", socket.path().display()),
        }
    }
}

/// Reads at most [`MAX_ERROR_BODY`] bytes of a failed answer.
async fn api_error(url: &Url, response: Response) -> ApiError {
    let status = response.status().as_u16();
    let location = response
        .headers()
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = response.prefix(MAX_ERROR_BODY).await;
    ApiError {
        status,
        message: String::from_utf8_lossy(&body).trim().to_owned(),
        location,
        endpoint: url.to_string(),
    }
}
