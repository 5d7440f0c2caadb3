//! `POST /api/v1/scheduler`: decoding, validation, SUBSCRIBE streams, other calls.

use std::convert::Infallible;
use std::sync::{Arc, Weak};

use axum::Extension;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tokio::sync::mpsc::UnboundedReceiver;
use tokio::time::{Instant, Interval, MissedTickBehavior};

use super::status::ApiError;
use crate::auth::Principal;
use crate::core::events;
use crate::core::{Answer, CallError, Subscription};
use crate::event_chunks::{chunk, record};
use crate::shared::Shared;
use mesos_sdk::codec::Encoding;
use mesos_sdk::v1::scheduler::{Call, Event, call};

const STREAM_ID: &str = "Mesos-Stream-Id";

pub(super) async fn handle(
    State(shared): State<Arc<Shared>>,
    principal: Option<Extension<Principal>>,
    request: Request,
) -> Response {
    let principal = principal.map(|Extension(Principal(p))| p);
    // The request's own parts (extracting a `HeaderMap` would copy every header).
    let (parts, body) = request.into_parts();
    match serve(shared, principal, parts.method, parts.headers, body).await {
        Ok(response) => response,
        Err(error) => {
            tracing::debug!(%error, status = %error.status(), "scheduler call refused");
            error.into_response()
        }
    }
}

/// The books' refusals are answered as the endpoint's errors of the same name (their
/// statuses are in the status table).
impl From<CallError> for ApiError {
    fn from(error: CallError) -> Self {
        match error {
            CallError::Invalid(message) => ApiError::Invalid(message),
            CallError::Refused(message) => ApiError::Refused(message),
            CallError::Forbidden(message) => ApiError::Forbidden(message),
            CallError::UnknownFramework => ApiError::UnknownFramework,
            CallError::NotSubscribed => ApiError::NotSubscribed,
            CallError::MissingStreamId => ApiError::MissingStreamId,
            CallError::WrongStreamId {
                given,
                framework_id,
            } => ApiError::WrongStreamId {
                given,
                framework_id,
            },
            CallError::NotImplemented => ApiError::NotImplemented,
        }
    }
}

fn header(headers: &HeaderMap, name: impl header::AsHeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Mesos's `validation::scheduler::call::validate`, with the request's authenticated
/// principal, if any.
fn validate(call: &Call, principal: Option<&str>) -> Result<(), ApiError> {
    let Some(kind) = call.r#type else {
        return Err(ApiError::Invalid("Expecting 'type' to be present".into()));
    };
    if kind == call::Type::Subscribe as i32 {
        let Some(subscribe) = &call.subscribe else {
            return Err(ApiError::Invalid(
                "Expecting 'subscribe' to be present".into(),
            ));
        };
        if subscribe.framework_info.id != call.framework_id {
            return Err(ApiError::Invalid(
                "'framework_id' differs from 'subscribe.framework_info.id'".into(),
            ));
        }
        if let (Some(authenticated), Some(claimed)) =
            (principal, subscribe.framework_info.principal.as_deref())
            && authenticated != claimed
        {
            return Err(ApiError::Invalid(format!(
                "Authenticated principal '{authenticated}' does not match principal '{claimed}' set in `FrameworkInfo`"
            )));
        }
        return Ok(());
    }
    if call.framework_id.is_none() {
        return Err(ApiError::Invalid(
            "Expecting 'framework_id' to be present".into(),
        ));
    }
    Ok(())
}

async fn serve(
    shared: Arc<Shared>,
    principal: Option<String>,
    method: Method,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    if method != Method::POST {
        return Err(ApiError::MethodNotAllowed(method.to_string()));
    }
    let content_type =
        header(&headers, header::CONTENT_TYPE).ok_or(ApiError::MissingContentType)?;
    let encoding = Encoding::from_media_type(content_type)
        .ok_or_else(|| ApiError::UnsupportedMediaType(content_type.to_string()))?;
    let limit = shared.config.max_body_bytes;
    let patience = shared.config.request_body_timeout;
    let bytes = tokio::time::timeout(patience, axum::body::to_bytes(body, limit))
        .await
        .map_err(|_| ApiError::RequestTimeout(patience))?
        .map_err(|_| ApiError::BodyTooLarge(limit))?;
    let mut call: Call = encoding
        .decode_strict(&bytes)
        .map_err(|e| ApiError::Malformed(e.to_string()))?;
    validate(&call, principal.as_deref())?;
    let stream_id = header(&headers, STREAM_ID);
    if call.r#type == Some(call::Type::Subscribe as i32) {
        let accept = Encoding::from_accept(header(&headers, header::ACCEPT), encoding)
            .ok_or(ApiError::NotAcceptable)?;
        if stream_id.is_some() {
            return Err(ApiError::StreamIdOnSubscribe);
        }
        let mut subscribe = call.subscribe.take().unwrap_or_default();
        // As Mesos: an authenticated framework that names no principal gets its own.
        if let Some(principal) = principal
            && subscribe.framework_info.principal.is_none()
        {
            subscribe.framework_info.principal = Some(principal);
        }
        let most = shared.config.max_subscribed_frameworks;
        let subscription = shared.with_core(|core| {
            let id = subscribe
                .framework_info
                .id
                .as_ref()
                .map(|i| i.value.as_str());
            if core.subscribed_count() >= most && !id.is_some_and(|id| core.is_subscribed(id)) {
                return Err(ApiError::TooManySubscribers(most));
            }
            Ok(core.subscribe(subscribe, Instant::now()))
        })?;
        return Ok(stream_response(&shared, subscription, accept));
    }
    let framework_id = call.framework_id.clone().unwrap_or_default().value;
    let answer = shared
        .with_core(|core| {
            core.authorize(&framework_id, principal.as_deref(), stream_id)?;
            core.handle_call(&framework_id, call, Instant::now())
        })
        .map_err(ApiError::from)?;
    Ok(match answer {
        Answer::Accepted => StatusCode::ACCEPTED.into_response(),
        Answer::Ok => StatusCode::OK.into_response(),
    })
}

/// Reports the end of a stream to the master when the response body is dropped
/// (the client went away, or the master replaced or closed the stream).
struct StreamGuard {
    shared: Weak<Shared>,
    framework_id: String,
    stream_id: String,
}

impl Drop for StreamGuard {
    fn drop(&mut self) {
        if let Some(shared) = self.shared.upgrade() {
            shared.with_core(|core| {
                core.stream_closed(&self.framework_id, &self.stream_id, Instant::now())
            });
        }
    }
}

struct StreamState {
    events: UnboundedReceiver<Event>,
    heartbeat: Interval,
    encoding: Encoding,
    _guard: StreamGuard,
}

fn stream_response(
    shared: &Arc<Shared>,
    subscription: Subscription,
    encoding: Encoding,
) -> Response {
    let period = shared.config.heartbeat_interval;
    let mut heartbeat = tokio::time::interval_at(Instant::now() + period, period);
    heartbeat.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let state = StreamState {
        events: subscription.events,
        heartbeat,
        encoding,
        _guard: StreamGuard {
            shared: Arc::downgrade(shared),
            framework_id: subscription.framework_id,
            stream_id: subscription.stream_id.clone(),
        },
    };
    let body = futures::stream::unfold(state, |mut st| async move {
        let bytes = tokio::select! {
            biased;
            event = st.events.recv() => chunk(st.encoding, &event?, &mut st.events),
            _ = st.heartbeat.tick() => record(st.encoding, &events::heartbeat()),
        };
        Some((Ok::<_, Infallible>(bytes), st))
    });
    let mut response = Response::new(Body::from_stream(body));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(encoding.content_type()),
    );
    if let Ok(value) = HeaderValue::from_str(&subscription.stream_id) {
        headers.insert(STREAM_ID, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The books' messages and the endpoint's are the same text, Mesos's.
    #[test]
    fn call_errors_keep_their_message_on_the_wire() {
        let errors = [
            CallError::missing("kill"),
            CallError::Forbidden("Not authorized to register framework f1 with roles { a }".into()),
            CallError::UnknownFramework,
            CallError::NotSubscribed,
            CallError::MissingStreamId,
            CallError::WrongStreamId {
                given: "s1".into(),
                framework_id: "f1".into(),
            },
            CallError::NotImplemented,
        ];
        for error in errors {
            assert_eq!(ApiError::from(error.clone()).to_string(), error.to_string());
        }
    }
}
