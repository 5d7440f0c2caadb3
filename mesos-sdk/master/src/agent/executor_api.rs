//! The agent's executor HTTP API, `POST /api/v1/executor`, with the status codes of
//! Mesos's agent: 405 for other methods, 400 for a missing `Content-Type`, a malformed
//! or invalid call, or an unknown framework/executor; 415 for other media types; 406
//! when SUBSCRIBE's `Accept` allows neither JSON nor protobuf; 403 for calls from an
//! executor that has not subscribed; 413 for bodies over the configured limit.

use std::convert::Infallible;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use tokio::sync::{mpsc, oneshot};

use super::runtime::{Internal, Rejection, validate_status};
use mesos_sdk::codec::Encoding;
use mesos_sdk::codec::recordio::encode_record_vec;
use mesos_sdk::v1::executor::{Call, Event, call, event};

/// The path Mesos serves the executor API on.
pub(crate) const PATH: &str = "/api/v1/executor";

#[derive(Clone)]
struct ApiState {
    runtime: mpsc::UnboundedSender<Internal>,
    heartbeat: Duration,
}

/// The executor API's routes, forwarding calls to the agent's event loop.
pub(crate) fn router(
    runtime: mpsc::UnboundedSender<Internal>,
    heartbeat: Duration,
    max_body: usize,
) -> Router {
    Router::new()
        .route(PATH, any(handle))
        .layer(DefaultBodyLimit::max(max_body))
        .with_state(ApiState { runtime, heartbeat })
}

fn reply(status: StatusCode, message: impl Into<String>) -> Response {
    let message = message.into();
    if status.is_client_error() {
        tracing::debug!(%status, %message, "executor call rejected");
    }
    (status, message).into_response()
}

impl IntoResponse for Rejection {
    fn into_response(self) -> Response {
        reply(self.status, self.message)
    }
}

async fn handle(
    State(state): State<ApiState>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if method != Method::POST {
        let mut response = reply(
            StatusCode::METHOD_NOT_ALLOWED,
            format!("Expecting 'POST', received '{method}'"),
        );
        response
            .headers_mut()
            .insert(header::ALLOW, header::HeaderValue::from_static("POST"));
        return response;
    }
    let Some(content_type) = headers.get(header::CONTENT_TYPE) else {
        return reply(
            StatusCode::BAD_REQUEST,
            "Expecting 'Content-Type' to be present",
        );
    };
    let Some(encoding) = content_type
        .to_str()
        .ok()
        .and_then(Encoding::from_media_type)
    else {
        return reply(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Expecting 'Content-Type' of application/json or application/x-protobuf",
        );
    };
    let call: Call = match encoding.decode_strict(&body) {
        Ok(call) => call,
        Err(e) => {
            return reply(
                StatusCode::BAD_REQUEST,
                format!("Failed to parse body into Call: {e}"),
            );
        }
    };
    if let Err(message) = validate_call(&call) {
        return reply(
            StatusCode::BAD_REQUEST,
            format!("Failed to validate Executor::Call: {message}"),
        );
    }
    match call.r#type() {
        call::Type::Subscribe => {
            let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok());
            // Mesos defaults to JSON when every media type is acceptable.
            let Some(accept) = Encoding::from_accept(accept, Encoding::Json) else {
                return reply(
                    StatusCode::NOT_ACCEPTABLE,
                    "Expecting 'Accept' to allow 'application/x-protobuf' or 'application/json'",
                );
            };
            match ask(&state, |tx| Internal::Subscribe(call, tx)).await {
                Ok(events) => stream_response(events, accept, state.heartbeat),
                Err(rejection) => rejection.into_response(),
            }
        }
        call::Type::Heartbeat => StatusCode::ACCEPTED.into_response(),
        call::Type::Update => accepted(ask(&state, |tx| Internal::Update(call, tx)).await),
        call::Type::Message => accepted(ask(&state, |tx| Internal::Message(call, tx)).await),
        call::Type::Unknown => reply(StatusCode::NOT_IMPLEMENTED, "Unknown call type"),
    }
}

fn accepted(result: Result<(), Rejection>) -> Response {
    match result {
        Ok(()) => StatusCode::ACCEPTED.into_response(),
        Err(rejection) => rejection.into_response(),
    }
}

async fn ask<T>(
    state: &ApiState,
    make: impl FnOnce(oneshot::Sender<Result<T, Rejection>>) -> Internal,
) -> Result<T, Rejection> {
    let (tx, rx) = oneshot::channel();
    let stopped = || Rejection {
        status: StatusCode::SERVICE_UNAVAILABLE,
        message: "Agent is shutting down".into(),
    };
    state.runtime.send(make(tx)).map_err(|_| stopped())?;
    rx.await.map_err(|_| stopped())?
}

/// Checks a call's shape as Mesos's `validateExecutorCall` does.
fn validate_call(call: &Call) -> Result<(), String> {
    if call.r#type.is_none() {
        return Err("Expecting 'type' to be present".into());
    }
    match call.r#type() {
        call::Type::Subscribe if call.subscribe.is_none() => {
            Err("Expecting 'subscribe' to be present".into())
        }
        call::Type::Update => {
            let update = call
                .update
                .as_ref()
                .ok_or("Expecting 'update' to be present")?;
            validate_status(&update.status, &call.executor_id)
        }
        call::Type::Message if call.message.is_none() => {
            Err("Expecting 'message' to be present".into())
        }
        _ => Ok(()),
    }
}

fn heartbeat_event() -> Event {
    Event {
        r#type: Some(event::Type::Heartbeat as i32),
        ..Default::default()
    }
}

fn stream_response(
    events: mpsc::UnboundedReceiver<Event>,
    encoding: Encoding,
    heartbeat: Duration,
) -> Response {
    let start = tokio::time::Instant::now() + heartbeat;
    let ticker = tokio::time::interval_at(start, heartbeat);
    let stream = futures::stream::unfold(
        (events, ticker),
        move |(mut events, mut ticker)| async move {
            let event = tokio::select! {
                event = events.recv() => event?,
                _ = ticker.tick() => heartbeat_event(),
            };
            let frame = Bytes::from(encode_record_vec(&encoding.encode(&event)));
            Some((Ok::<_, Infallible>(frame), (events, ticker)))
        },
    );
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, encoding.content_type())
        .body(Body::from_stream(stream))
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}
