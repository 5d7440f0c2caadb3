//! The agent's executor HTTP API, `POST /api/v1/executor`, with the status codes of
//! Mesos's agent: 405 for other methods, 400 for a missing `Content-Type`, a malformed
//! or invalid call, or an unknown framework/executor; 415 for other media types; 406
//! when SUBSCRIBE's `Accept` allows neither JSON nor protobuf; 403 for calls from an
//! executor that has not subscribed; 413 for bodies over the configured limit. The
//! With executor authentication required ([`super::executor_auth`]) a call without a
//! valid token is answered 401, one with another executor's token 403. The
//! statuses and messages are the status table's ([`ExecutorApiError`]); the agent's
//! runtime refuses calls with its own [`Rejection`].

use std::convert::Infallible;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, FromRequest, Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use tokio::sync::{mpsc, oneshot};

use super::executor_auth::{ExecutorAuth, ExecutorClaims, check_claims};
use super::runtime::{Internal, Rejection, validate_status};
use crate::event_chunks::{chunk, record};
use crate::http::status::ExecutorApiError;
use mesos_sdk::codec::Encoding;
use mesos_sdk::v1::executor::{Call, Event, call, event};

/// The path Mesos serves the executor API on.
pub(crate) const PATH: &str = "/api/v1/executor";

#[derive(Clone)]
struct ApiState {
    runtime: mpsc::UnboundedSender<Internal>,
    heartbeat: Duration,
    /// Executor authentication, when the agent has a JWT secret key.
    auth: Option<ExecutorAuth>,
}

/// The executor API's routes, forwarding calls to the agent's event loop; with `auth`
/// requiring tokens, calls without the caller's own token are refused (401, 403).
pub(crate) fn router(
    runtime: mpsc::UnboundedSender<Internal>,
    heartbeat: Duration,
    max_body: usize,
    auth: Option<ExecutorAuth>,
) -> Router {
    Router::new()
        .route(PATH, any(handle))
        .layer(DefaultBodyLimit::max(max_body))
        .with_state(ApiState {
            runtime,
            heartbeat,
            auth,
        })
}

async fn handle(State(state): State<ApiState>, request: Request) -> Response {
    // The request's own parts (extracting a `HeaderMap` would copy every header); the
    // body is read as the `Bytes` extractor reads it, within the body limit.
    let (mut parts, body) = request.into_parts();
    let method = parts.method.clone();
    let headers = std::mem::take(&mut parts.headers);
    let body = match Bytes::from_request(Request::from_parts(parts, body), &()).await {
        Ok(body) => body,
        Err(rejection) => return rejection.into_response(),
    };
    // Authentication comes first, as in Mesos (whatever the request is).
    let claims = match state.auth.as_ref().map(|a| a.authenticate(&headers)) {
        None | Some(Ok(None)) => None,
        Some(Ok(Some(claims))) => Some(claims),
        Some(Err(unauthenticated)) => {
            tracing::debug!(reason = %unauthenticated, "executor call not authenticated");
            return unauthenticated.into_response();
        }
    };
    match serve(&state, method, &headers, &body, claims.as_ref()).await {
        Ok(response) => response,
        Err(error) => {
            if error.status().is_client_error() {
                tracing::debug!(status = %error.status(), message = %error, "executor call rejected");
            }
            error.into_response()
        }
    }
}

/// The runtime's refusals are answered as the endpoint's errors of the same name
/// (their statuses are in the status table).
impl From<Rejection> for ExecutorApiError {
    fn from(rejection: Rejection) -> Self {
        match rejection {
            Rejection::UnknownFramework => ExecutorApiError::UnknownFramework,
            Rejection::UnknownExecutor => ExecutorApiError::UnknownExecutor,
            Rejection::NotSubscribed => ExecutorApiError::NotSubscribed,
        }
    }
}

async fn serve(
    state: &ApiState,
    method: Method,
    headers: &HeaderMap,
    body: &[u8],
    claims: Option<&ExecutorClaims>,
) -> Result<Response, ExecutorApiError> {
    if method != Method::POST {
        return Err(ExecutorApiError::MethodNotAllowed(method.to_string()));
    }
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .ok_or(ExecutorApiError::MissingContentType)?;
    let encoding = content_type
        .to_str()
        .ok()
        .and_then(Encoding::from_media_type)
        .ok_or(ExecutorApiError::UnsupportedMediaType)?;
    let call: Call = encoding
        .decode_strict(body)
        .map_err(|e| ExecutorApiError::Malformed(e.to_string()))?;
    validate_call(&call).map_err(ExecutorApiError::Invalid)?;
    // Mesos answers HEARTBEAT before looking the executor up.
    if let Some(claims) = claims
        && call.r#type() != call::Type::Heartbeat
    {
        let (framework, executor) = (
            call.framework_id.value.clone(),
            call.executor_id.value.clone(),
        );
        let container = ask(state, |reply| Internal::ContainerOf {
            framework: framework.clone(),
            executor: executor.clone(),
            reply,
        })
        .await?;
        check_claims(claims, &framework, &executor, &container)
            .map_err(ExecutorApiError::Forbidden)?;
    }
    Ok(match call.r#type() {
        call::Type::Subscribe => {
            let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok());
            // Mesos defaults to JSON when every media type is acceptable.
            let accept = Encoding::from_accept(accept, Encoding::Json)
                .ok_or(ExecutorApiError::NotAcceptable)?;
            let events = ask(state, |tx| Internal::Subscribe(call, tx)).await?;
            stream_response(events, accept, state.heartbeat)
        }
        call::Type::Heartbeat => StatusCode::ACCEPTED.into_response(),
        call::Type::Update => {
            ask(state, |tx| Internal::Update(call, tx)).await?;
            StatusCode::ACCEPTED.into_response()
        }
        call::Type::Message => {
            ask(state, |tx| Internal::Message(call, tx)).await?;
            StatusCode::ACCEPTED.into_response()
        }
        call::Type::Unknown => return Err(ExecutorApiError::NotImplemented),
    })
}

/// Hands a call to the agent's event loop and waits for its answer.
async fn ask<T>(
    state: &ApiState,
    make: impl FnOnce(oneshot::Sender<Result<T, Rejection>>) -> Internal,
) -> Result<T, ExecutorApiError> {
    let (tx, rx) = oneshot::channel();
    state
        .runtime
        .send(make(tx))
        .map_err(|_| ExecutorApiError::ShuttingDown)?;
    Ok(rx.await.map_err(|_| ExecutorApiError::ShuttingDown)??)
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
            let frame = tokio::select! {
                event = events.recv() => chunk(encoding, &event?, &mut events),
                _ = ticker.tick() => record(encoding, &heartbeat_event()),
            };
            Some((Ok::<_, Infallible>(frame), (events, ticker)))
        },
    );
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, encoding.content_type())
        .body(Body::from_stream(stream))
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The runtime's messages and the endpoint's are the same text, Mesos's agent's.
    #[test]
    fn rejections_keep_their_message_on_the_wire() {
        for rejection in [
            Rejection::UnknownFramework,
            Rejection::UnknownExecutor,
            Rejection::NotSubscribed,
        ] {
            let message = rejection.to_string();
            assert_eq!(ExecutorApiError::from(rejection).to_string(), message);
        }
    }
}
