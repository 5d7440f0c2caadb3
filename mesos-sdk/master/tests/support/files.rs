//! A real HTTP server with fixed files, for fetcher tests: it counts requests per path
//! and has a `/stall` route that sends headers and then nothing.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

#[derive(Clone, Default)]
struct Files {
    files: Arc<HashMap<String, Bytes>>,
    hits: Arc<Mutex<HashMap<String, usize>>>,
}

/// A file server on 127.0.0.1 with an OS-chosen port; stopped on drop.
pub struct FileServer {
    pub addr: SocketAddr,
    hits: Arc<Mutex<HashMap<String, usize>>>,
    task: tokio::task::JoinHandle<()>,
}

impl FileServer {
    /// Serves each `(name, content)` at `/files/<name>`.
    pub async fn start(files: Vec<(&str, Vec<u8>)>) -> Self {
        let state = Files {
            files: Arc::new(
                files
                    .into_iter()
                    .map(|(n, c)| (n.to_owned(), Bytes::from(c)))
                    .collect(),
            ),
            hits: Arc::default(),
        };
        let hits = state.hits.clone();
        let app = Router::new()
            .route("/files/{name}", get(serve))
            .route("/stall/{name}", get(stall))
            .with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FileServer { addr, hits, task }
    }

    /// The URL of `/files/<name>`.
    pub fn url(&self, name: &str) -> String {
        format!("http://{}/files/{name}", self.addr)
    }

    /// A URL whose response never finishes.
    pub fn stall_url(&self, name: &str) -> String {
        format!("http://{}/stall/{name}", self.addr)
    }

    /// How many requests `/files/<name>` got.
    pub fn hits(&self, name: &str) -> usize {
        self.hits.lock().unwrap().get(name).copied().unwrap_or(0)
    }
}

impl Drop for FileServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(State(state): State<Files>, Path(name): Path<String>) -> Response {
    *state.hits.lock().unwrap().entry(name.clone()).or_default() += 1;
    match state.files.get(&name) {
        Some(content) => (
            [(header::CONTENT_TYPE, "application/octet-stream")],
            content.clone(),
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn stall(Path(_name): Path<String>) -> Response {
    let body = futures::stream::pending::<Result<Bytes, std::io::Error>>();
    Response::new(Body::from_stream(body))
}
