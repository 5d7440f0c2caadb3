//! Serving a router (the master's, an agent's) on a TCP listener or a Unix domain
//! socket, with the limits a slow or hostile client
//! cannot get around: request headers must arrive within a bound (else the connection
//! is closed), and shutdown is graceful (open connections are given a bound to finish).
//! With TLS, the handshake must also complete within that bound: a client that
//! connects and never finishes it is dropped.

use std::future::Future;
use std::io;
use std::time::Duration;

use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream, UnixListener, UnixStream};
use tokio::sync::watch;
use tower::ServiceExt as _;

use crate::coalesced_writes::coalesce;
use crate::tls::TlsConfig;

/// How long open connections may take to finish once the server stops.
const DRAIN: Duration = Duration::from_secs(5);

/// Where connections come from: a TCP listener or a Unix domain socket.
pub(crate) trait Listener: Send + 'static {
    /// An accepted connection.
    type Stream: AsyncRead + AsyncWrite + Unpin + Send + 'static;

    /// The next connection, and its peer's name for logs.
    fn accept(&self) -> impl Future<Output = io::Result<(Self::Stream, String)>> + Send;
}

impl Listener for TcpListener {
    type Stream = TcpStream;

    async fn accept(&self) -> io::Result<(TcpStream, String)> {
        let (stream, peer) = TcpListener::accept(self).await?;
        // Answers and stream events are written whole, each as soon as it is ready:
        // Nagle's algorithm would hold a small event back until the peer acknowledged
        // the previous one.
        if let Err(error) = stream.set_nodelay(true) {
            tracing::debug!(%peer, %error, "TCP_NODELAY not set");
        }
        Ok((stream, peer.to_string()))
    }
}

impl Listener for UnixListener {
    type Stream = UnixStream;

    async fn accept(&self) -> io::Result<(UnixStream, String)> {
        let (stream, _) = UnixListener::accept(self).await?;
        Ok((stream, "a Unix domain socket peer".to_owned()))
    }
}

/// Serves `app` on `listener` until `stop` turns true; a connection whose request
/// headers (and TLS handshake, with `tls`) take longer than `header_timeout` is closed.
pub(crate) async fn serve<L: Listener>(
    listener: L,
    app: Router,
    header_timeout: Duration,
    tls: Option<TlsConfig>,
    mut stop: watch::Receiver<bool>,
) {
    let graceful = GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(header_timeout);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = stop.wait_for(|s| *s) => break,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(error) => {
                // Out of file descriptors and the like: the next accept may succeed.
                tracing::warn!(%error, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let app = app.clone();
        let http = http.clone();
        let watcher = graceful.watcher();
        let mut stopping = stop.clone();
        match &tls {
            None => {
                tokio::spawn(serve_connection(http, stream, app, watcher));
            }
            Some(tls) => {
                let acceptor = tls.acceptor().clone();
                tokio::spawn(async move {
                    let handshake = tokio::time::timeout(header_timeout, acceptor.accept(stream));
                    let stream = tokio::select! {
                        done = handshake => match done {
                            Ok(Ok(stream)) => stream,
                            Ok(Err(error)) => {
                                tracing::debug!(%peer, %error, "TLS handshake failed");
                                return;
                            }
                            Err(_) => {
                                tracing::debug!(%peer, "TLS handshake not completed in time; connection dropped");
                                return;
                            }
                        },
                        _ = stopping.wait_for(|s| *s) => return,
                    };
                    serve_connection(http, stream, app, watcher).await;
                });
            }
        }
    }
    drop(listener);
    if tokio::time::timeout(DRAIN, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("connections still open {DRAIN:?} after the server stopped; dropping them");
    }
}

/// Serves HTTP/1 on one connection (plain or TLS) until it ends or the server stops.
async fn serve_connection<S>(
    http: hyper::server::conn::http1::Builder,
    stream: S,
    app: Router,
    watcher: hyper_util::server::graceful::Watcher,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    // Answers to pipelined calls leave together (see `coalesced_writes`).
    let (stream, sender) = coalesce(stream);
    let answering = sender.answering();
    let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
        let answer = answering.start();
        let response = app.clone().oneshot(request);
        async move {
            let response = response.await;
            drop(answer);
            response
        }
    });
    let connection = http.serve_connection(TokioIo::new(stream), service);
    if let Err(error) = sender.run(watcher.watch(connection)).await {
        tracing::debug!(%error, "connection ended with an error");
    }
}
