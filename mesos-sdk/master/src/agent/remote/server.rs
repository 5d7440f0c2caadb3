//! The master's routes for remote agents.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use tokio::sync::mpsc;

use super::registry::{
    AGENT_ID_HEADER, AgentRegistration, AgentRegistry, EVENTS_PATH, REGISTER_PATH,
    RegistrationError, STREAM_ID_HEADER,
};
use super::wire::{Control, Record, RegisterRequest};
use crate::agent::protocol::{FromAgent, ToAgent};
use crate::http::status::AgentApiError;
use mesos_sdk::codec::recordio::encode_record_vec;
use mesos_sdk::resources::Resources;

/// Settings of [`master_routes_with`].
///
/// ```
/// use std::time::Duration;
/// use mesos_master::agent::remote::RemoteOptions;
///
/// let mut options = RemoteOptions::default();
/// options.heartbeat_interval = Duration::from_secs(5);
/// assert_eq!(options.max_body, 4 * 1024 * 1024);
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RemoteOptions {
    /// Interval of HEARTBEAT records on agent streams (default 15 s, as Mesos's
    /// `agent_ping_timeout`); an agent that hears nothing for five intervals re-registers.
    pub heartbeat_interval: Duration,
    /// Largest registration or event body accepted, in bytes (larger ones get `413`).
    pub max_body: usize,
}

impl Default for RemoteOptions {
    fn default() -> Self {
        RemoteOptions {
            heartbeat_interval: Duration::from_secs(15),
            max_body: 4 * 1024 * 1024,
        }
    }
}

#[derive(Clone)]
struct RoutesState {
    registry: Arc<dyn AgentRegistry>,
    /// The current registration (stream id) of each agent.
    streams: Arc<Mutex<HashMap<String, String>>>,
    /// Orders registrations and disconnections, so that an old stream's disconnection
    /// is never reported after the same agent registered again.
    registering: Arc<tokio::sync::Mutex<()>>,
    options: RemoteOptions,
}

impl RoutesState {
    fn streams(&self) -> std::sync::MutexGuard<'_, HashMap<String, String>> {
        self.streams.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The routes remote agents use ([`REGISTER_PATH`], [`EVENTS_PATH`]), with default
/// [`RemoteOptions`]. Mount them on the master's HTTP server.
///
/// ```no_run
/// # async fn run(registry: std::sync::Arc<dyn mesos_master::agent::remote::AgentRegistry>) -> std::io::Result<()> {
/// let app = mesos_master::agent::remote::master_routes(registry);
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:5050").await?;
/// axum::serve(listener, app).await
/// # }
/// ```
pub fn master_routes(registry: Arc<dyn AgentRegistry>) -> Router {
    master_routes_with(registry, RemoteOptions::default())
}

/// [`master_routes`] with explicit options.
pub fn master_routes_with(registry: Arc<dyn AgentRegistry>, options: RemoteOptions) -> Router {
    let max_body = options.max_body;
    Router::new()
        .route(REGISTER_PATH, post(register))
        .route(EVENTS_PATH, post(event))
        .layer(DefaultBodyLimit::max(max_body))
        .with_state(RoutesState {
            registry,
            streams: Arc::new(Mutex::new(HashMap::new())),
            registering: Arc::new(tokio::sync::Mutex::new(())),
            options,
        })
}

fn reply(refusal: AgentApiError) -> Response {
    tracing::debug!(status = %refusal.status(), %refusal, "remote agent request rejected");
    refusal.into_response()
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"))
}

fn parse_registration(body: &[u8]) -> Result<AgentRegistration, String> {
    let request: RegisterRequest =
        serde_json::from_slice(body).map_err(|e| format!("malformed registration: {e}"))?;
    let executor_endpoint: SocketAddr = request.executor_endpoint.parse().map_err(|e| {
        format!(
            "executor_endpoint '{}' is not ip:port: {e}",
            request.executor_endpoint
        )
    })?;
    let resources = Resources::try_from_vec(request.resources).map_err(|e| e.to_string())?;
    if request.hostname.is_empty() {
        return Err("hostname is empty".into());
    }
    Ok(AgentRegistration {
        agent_id: request.agent_id.filter(|id| !id.is_empty()),
        hostname: request.hostname,
        resources,
        attributes: request.attributes,
        executor_endpoint,
        report: request.report,
    })
}

async fn register(State(state): State<RoutesState>, headers: HeaderMap, body: Bytes) -> Response {
    if !is_json(&headers) {
        return reply(AgentApiError::UnsupportedMediaType);
    }
    let registration = match parse_registration(&body) {
        Ok(registration) => registration,
        Err(message) => return reply(AgentApiError::Invalid(message)),
    };
    let (commands, rx) = mpsc::unbounded_channel();
    let hostname = registration.hostname.clone();
    let registering = state.registering.lock().await;
    let agent_id = match state.registry.register(registration, commands).await {
        Ok(agent_id) => agent_id,
        Err(e) => {
            let message = e.to_string();
            return reply(match e {
                RegistrationError::Refused(_) => AgentApiError::Forbidden(message),
                RegistrationError::Invalid(_) => AgentApiError::Invalid(message),
                _ => AgentApiError::Unavailable(message),
            });
        }
    };
    let stream_id = uuid::Uuid::new_v4().to_string();
    state.streams().insert(agent_id.clone(), stream_id.clone());
    drop(registering);
    tracing::info!(agent = %agent_id, %hostname, "remote agent registered");
    let registered = Control::Registered {
        agent_id: agent_id.clone(),
        stream_id: stream_id.clone(),
        heartbeat_interval_seconds: state.options.heartbeat_interval.as_secs_f64(),
    };
    let guard = StreamGuard {
        state: state.clone(),
        agent_id,
        stream_id,
    };
    command_stream(rx, registered, state.options.heartbeat_interval, guard)
}

/// Notices the end of an agent's stream (the agent hung up or the master dropped it).
struct StreamGuard {
    state: RoutesState,
    agent_id: String,
    stream_id: String,
}

impl StreamGuard {
    /// Forgets the stream if it is still the agent's current one; `true` if it was.
    fn forget(state: &RoutesState, agent_id: &str, stream_id: &str) -> bool {
        let mut streams = state.streams();
        let current = streams.get(agent_id).map(String::as_str) == Some(stream_id);
        if current {
            streams.remove(agent_id);
        }
        current
    }
}

impl Drop for StreamGuard {
    fn drop(&mut self) {
        let state = self.state.clone();
        let agent_id = std::mem::take(&mut self.agent_id);
        let stream_id = std::mem::take(&mut self.stream_id);
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            // The server's runtime is gone: nobody is left to tell.
            Self::forget(&state, &agent_id, &stream_id);
            return;
        };
        runtime.spawn(async move {
            let _registering = state.registering.lock().await;
            if Self::forget(&state, &agent_id, &stream_id) {
                tracing::info!(agent = %agent_id, "remote agent stream closed");
                state.registry.disconnected(&agent_id).await;
            }
        });
    }
}

fn json_record(record: &Record) -> Bytes {
    let json = serde_json::to_vec(record).unwrap_or_else(|e| {
        // Only a bug in the wire types could get here; a heartbeat keeps the stream valid.
        tracing::error!(error = %e, "cannot encode a record for a remote agent; sending a heartbeat instead");
        br#"{"type":"HEARTBEAT"}"#.to_vec()
    });
    Bytes::from(encode_record_vec(&json))
}

fn command_stream(
    commands: mpsc::UnboundedReceiver<ToAgent>,
    registered: Control,
    heartbeat: Duration,
    guard: StreamGuard,
) -> Response {
    let first = json_record(&Record::Control(registered));
    let ticker = tokio::time::interval_at(tokio::time::Instant::now() + heartbeat, heartbeat);
    let rest = futures::stream::unfold(
        (commands, ticker, guard),
        |(mut commands, mut ticker, guard)| async move {
            let record = tokio::select! {
                command = commands.recv() => Record::Command(command?),
                _ = ticker.tick() => Record::Control(Control::Heartbeat),
            };
            Some((
                Ok::<_, Infallible>(json_record(&record)),
                (commands, ticker, guard),
            ))
        },
    );
    let stream = futures::StreamExt::chain(
        futures::stream::once(async move { Ok::<_, Infallible>(first) }),
        rest,
    );
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from_stream(stream))
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

async fn event(State(state): State<RoutesState>, headers: HeaderMap, body: Bytes) -> Response {
    if !is_json(&headers) {
        return reply(AgentApiError::UnsupportedMediaType);
    }
    let header_value = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let (Some(agent_id), Some(stream_id)) = (
        header_value(AGENT_ID_HEADER),
        header_value(STREAM_ID_HEADER),
    ) else {
        return reply(AgentApiError::MissingHeaders(
            AGENT_ID_HEADER,
            STREAM_ID_HEADER,
        ));
    };
    if state.streams().get(agent_id).map(String::as_str) != Some(stream_id) {
        return reply(AgentApiError::Forbidden(
            "Agent is not registered on this stream; re-register".into(),
        ));
    }
    let message: FromAgent = match serde_json::from_slice(&body) {
        Ok(message) => message,
        Err(e) => {
            return reply(AgentApiError::Invalid(format!(
                "malformed agent message: {e}"
            )));
        }
    };
    if state
        .registry
        .events()
        .send((agent_id.to_owned(), message))
        .is_err()
    {
        return reply(AgentApiError::Unavailable(
            "The master is not accepting agent messages".into(),
        ));
    }
    StatusCode::ACCEPTED.into_response()
}
