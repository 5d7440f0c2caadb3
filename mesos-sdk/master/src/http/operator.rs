//! `POST /api/v1`: the v1 operator API. Decoding and validation as Mesos does them,
//! the synchronous `GET_*` answers (200 with a `master::Response`), the calls that
//! change the books (200, or 202 for the asynchronous reservations), and SUBSCRIBE's
//! RecordIO stream of `master::Event`s.

use std::convert::Infallible;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tokio::time::{Instant, MissedTickBehavior};

use super::status::OperatorApiError;
use crate::core::operator::{self, response_of};
use crate::core::{OperatorError, OperatorEvents};
use crate::election::RegistrarError;
use crate::shared::Shared;
use mesos_sdk::codec::{Encoding, recordio};
use mesos_sdk::v1;
use mesos_sdk::v1::master::{Call, Response as MasterResponse, call, response};

pub(super) async fn handle(
    State(shared): State<Arc<Shared>>,
    method: Method,
    headers: HeaderMap,
    body: Body,
) -> Response {
    match serve(shared, method, headers, body).await {
        Ok(response) => response,
        Err(error) => {
            tracing::debug!(%error, status = %error.status(), "operator call refused");
            error.into_response()
        }
    }
}

/// A registry write that failed: nothing changed, the operator may retry (with the
/// new leader).
fn registry_error(error: RegistrarError) -> OperatorApiError {
    match error {
        RegistrarError::InvalidId(_) => OperatorApiError::BadRequest(error.to_string()),
        RegistrarError::NotLeading | RegistrarError::ZooKeeper(_) => {
            OperatorApiError::Unavailable(error.to_string())
        }
    }
}

impl From<OperatorError> for OperatorApiError {
    fn from(error: OperatorError) -> Self {
        match error {
            OperatorError::BadRequest(m) => OperatorApiError::BadRequest(m),
            OperatorError::NotFound(m) => OperatorApiError::NotFound(m),
            OperatorError::Conflict(m) => OperatorApiError::Conflict(m),
        }
    }
}

/// The answer's encoding as Mesos picks it: JSON whenever `Accept` allows it (a
/// missing `Accept` allows everything), else protobuf, else nothing (406).
pub(crate) fn answer_encoding(accept: Option<&str>) -> Option<Encoding> {
    let Some(accept) = accept.filter(|a| !a.trim().is_empty()) else {
        return Some(Encoding::Json);
    };
    let allowed = |media: &str| {
        accept.split(',').any(|range| {
            let mut parts = range.split(';');
            let essence = parts.next().unwrap_or("").trim().to_ascii_lowercase();
            let refused = parts.any(|p| {
                let p = p.trim().replace(' ', "");
                p == "q=0" || p == "q=0.0" || p == "q=0.00" || p == "q=0.000"
            });
            !refused && (essence == "*/*" || essence == "application/*" || essence == media)
        })
    };
    if allowed("application/json") {
        Some(Encoding::Json)
    } else if allowed("application/x-protobuf") {
        Some(Encoding::Protobuf)
    } else {
        None
    }
}

/// Mesos's `validation::master::call::validate`: the type, and the payload each type
/// needs.
#[allow(deprecated)] // SET_QUOTA and REMOVE_QUOTA are still call types to refuse.
fn validate(call: &Call) -> Result<call::Type, OperatorApiError> {
    let Some(kind) = call.r#type else {
        return Err(OperatorApiError::Invalid(
            "Expecting 'type' to be present".into(),
        ));
    };
    let Ok(kind) = call::Type::try_from(kind) else {
        return Err(OperatorApiError::NotImplemented(format!(
            "UNKNOWN ({kind})"
        )));
    };
    use call::Type as T;
    let missing = match kind {
        T::GetMetrics if call.get_metrics.is_none() => Some("get_metrics"),
        T::SetLoggingLevel if call.set_logging_level.is_none() => Some("set_logging_level"),
        T::ListFiles if call.list_files.is_none() => Some("list_files"),
        T::ReadFile if call.read_file.is_none() => Some("read_file"),
        T::UpdateWeights if call.update_weights.is_none() => Some("update_weights"),
        T::ReserveResources if call.reserve_resources.is_none() => Some("reserve_resources"),
        T::UnreserveResources if call.unreserve_resources.is_none() => Some("unreserve_resources"),
        T::CreateVolumes if call.create_volumes.is_none() => Some("create_volumes"),
        T::DestroyVolumes if call.destroy_volumes.is_none() => Some("destroy_volumes"),
        T::GrowVolume if call.grow_volume.is_none() => Some("grow_volume"),
        T::ShrinkVolume if call.shrink_volume.is_none() => Some("shrink_volume"),
        T::UpdateMaintenanceSchedule if call.update_maintenance_schedule.is_none() => {
            Some("update_maintenance_schedule")
        }
        T::StartMaintenance if call.start_maintenance.is_none() => Some("start_maintenance"),
        T::StopMaintenance if call.stop_maintenance.is_none() => Some("stop_maintenance"),
        T::DrainAgent if call.drain_agent.is_none() => Some("drain_agent"),
        T::DeactivateAgent if call.deactivate_agent.is_none() => Some("deactivate_agent"),
        T::ReactivateAgent if call.reactivate_agent.is_none() => Some("reactivate_agent"),
        T::UpdateQuota if call.update_quota.is_none() => Some("update_quota"),
        T::SetQuota if call.set_quota.is_none() => Some("set_quota"),
        T::RemoveQuota if call.remove_quota.is_none() => Some("remove_quota"),
        T::Teardown if call.teardown.is_none() => Some("teardown"),
        T::MarkAgentGone if call.mark_agent_gone.is_none() => Some("mark_agent_gone"),
        _ => None,
    };
    match missing {
        Some(field) => Err(OperatorApiError::Invalid(format!(
            "Expecting '{field}' to be present"
        ))),
        None => Ok(kind),
    }
}

fn header(headers: &HeaderMap, name: impl header::AsHeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

async fn serve(
    shared: Arc<Shared>,
    method: Method,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, OperatorApiError> {
    if method != Method::POST {
        return Err(OperatorApiError::MethodNotAllowed(method.to_string()));
    }
    let content_type =
        header(&headers, header::CONTENT_TYPE).ok_or(OperatorApiError::MissingContentType)?;
    let encoding =
        Encoding::from_media_type(content_type).ok_or(OperatorApiError::UnsupportedMediaType)?;
    let limit = shared.config.max_body_bytes;
    let bytes = axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| OperatorApiError::BodyTooLarge(limit))?;
    let call: Call = encoding.decode_strict(&bytes).map_err(|e| match encoding {
        Encoding::Protobuf => OperatorApiError::MalformedProtobuf(e.to_string()),
        Encoding::Json => OperatorApiError::MalformedJson(e.to_string()),
    })?;
    let kind = validate(&call)?;
    let accept =
        answer_encoding(header(&headers, header::ACCEPT)).ok_or(OperatorApiError::NotAcceptable)?;
    tracing::debug!(call = kind.as_str_name(), "operator call");
    if kind == call::Type::Subscribe {
        let events = shared.with_core(|c| c.operator_subscribe());
        return Ok(stream_response(&shared, events, accept));
    }
    let now = Instant::now();
    use call::Type as T;
    use response::Type as R;
    let answer = match kind {
        T::GetHealth => response_of(R::GetHealth, |r| {
            r.get_health = Some(response::GetHealth { healthy: true })
        }),
        T::GetFlags => {
            let flags = flags(&shared)
                .into_iter()
                .map(|(name, value)| v1::Flag {
                    name,
                    value: Some(value),
                })
                .collect();
            response_of(R::GetFlags, |r| {
                r.get_flags = Some(response::GetFlags { flags })
            })
        }
        T::GetVersion => response_of(R::GetVersion, |r| {
            r.get_version = Some(response::GetVersion {
                version_info: version_info(),
            })
        }),
        T::GetMetrics => {
            let metrics = shared.with_core(|c| c.get_metrics());
            response_of(R::GetMetrics, |r| r.get_metrics = Some(metrics))
        }
        T::GetLoggingLevel => response_of(R::GetLoggingLevel, |r| {
            r.get_logging_level = Some(response::GetLoggingLevel { level: 0 })
        }),
        T::GetState => {
            let state = shared.with_core(|c| c.get_state());
            response_of(R::GetState, |r| r.get_state = Some(state))
        }
        T::GetAgents => {
            let agents = shared.with_core(|c| c.get_agents());
            response_of(R::GetAgents, |r| r.get_agents = Some(agents))
        }
        T::GetFrameworks => {
            let frameworks = shared.with_core(|c| c.get_frameworks());
            response_of(R::GetFrameworks, |r| r.get_frameworks = Some(frameworks))
        }
        T::GetExecutors => {
            let executors = shared.with_core(|c| c.get_executors());
            response_of(R::GetExecutors, |r| r.get_executors = Some(executors))
        }
        T::GetTasks => {
            let tasks = shared.with_core(|c| c.get_tasks());
            response_of(R::GetTasks, |r| r.get_tasks = Some(tasks))
        }
        T::GetRoles => {
            let roles = shared.with_core(|c| c.get_roles());
            response_of(R::GetRoles, |r| r.get_roles = Some(roles))
        }
        T::GetOperations => response_of(R::GetOperations, |r| {
            r.get_operations = Some(response::GetOperations::default())
        }),
        T::GetWeights => {
            let weights = shared.with_core(|c| c.get_weights());
            response_of(R::GetWeights, |r| r.get_weights = Some(weights))
        }
        T::GetMaster => {
            let master = shared.with_core(|c| c.get_master());
            response_of(R::GetMaster, |r| r.get_master = Some(master))
        }
        T::UpdateWeights => {
            let infos = call.update_weights.unwrap_or_default().weight_infos;
            // As Mesos: the weights are stored in the registry, then applied.
            let weights = shared.with_core(|c| c.weights_after(&infos))?;
            shared
                .registrar
                .set_weights(&weights)
                .await
                .map_err(registry_error)?;
            shared.with_core(|c| c.update_weights(&infos))?;
            return Ok(StatusCode::OK.into_response());
        }
        T::ReserveResources => {
            let r = call.reserve_resources.unwrap_or_default();
            shared.with_core(|c| {
                c.operator_reservation(&r.agent_id.value, &r.source, &r.resources, true, now)
            })?;
            return Ok(StatusCode::ACCEPTED.into_response());
        }
        T::UnreserveResources => {
            let r = call.unreserve_resources.unwrap_or_default();
            shared.with_core(|c| {
                c.operator_reservation(&r.agent_id.value, &[], &r.resources, false, now)
            })?;
            return Ok(StatusCode::ACCEPTED.into_response());
        }
        T::Teardown => {
            let id = call.teardown.unwrap_or_default().framework_id.value;
            shared.with_core(|c| c.operator_teardown(&id, now))?;
            return Ok(StatusCode::OK.into_response());
        }
        T::MarkAgentGone => {
            let id = call.mark_agent_gone.unwrap_or_default().agent_id.value;
            // As Mesos: the registry records the agent gone before the books change,
            // so a later leader refuses it too.
            shared.with_core(|c| c.check_mark_agent_gone(&id))?;
            shared
                .registrar
                .mark_gone(&id)
                .await
                .map_err(registry_error)?;
            shared.with_core(|c| c.mark_agent_gone(&id, now))?;
            return Ok(StatusCode::OK.into_response());
        }
        T::DeactivateAgent => {
            let id = call.deactivate_agent.unwrap_or_default().agent_id.value;
            shared.with_core(|c| c.deactivate_agent(&id, now))?;
            return Ok(StatusCode::OK.into_response());
        }
        T::ReactivateAgent => {
            let id = call.reactivate_agent.unwrap_or_default().agent_id.value;
            shared.with_core(|c| c.reactivate_agent(&id))?;
            return Ok(StatusCode::OK.into_response());
        }
        other => {
            return Err(OperatorApiError::NotImplemented(
                other.as_str_name().to_string(),
            ));
        }
    };
    Ok(encoded(accept, &answer))
}

/// A 200 answer carrying `response` in `encoding`.
fn encoded(encoding: Encoding, response: &MasterResponse) -> Response {
    let mut answer = Response::new(Body::from(encoding.encode(response)));
    answer.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(encoding.content_type()),
    );
    answer
}

/// The version this master reports (GET_VERSION, `/version`).
pub(crate) fn version_info() -> v1::VersionInfo {
    v1::VersionInfo {
        version: env!("CARGO_PKG_VERSION").to_string(),
        build_user: Some("mesos-rs".to_string()),
        ..Default::default()
    }
}

/// The master's settings under Mesos's flag names, as text (GET_FLAGS, `/flags`).
pub(crate) fn flags(shared: &Shared) -> Vec<(String, String)> {
    let c = &shared.config;
    let secs = |d: std::time::Duration| format!("{}secs", d.as_secs_f64());
    let mut weights: Vec<String> = shared.with_core(|core| {
        core.config
            .role_weights
            .iter()
            .map(|(role, weight)| format!("{role}={weight}"))
            .collect()
    });
    weights.sort();
    let mut flags = vec![
        ("hostname".to_string(), c.hostname.clone()),
        (
            "allocation_interval".to_string(),
            secs(c.allocation_interval),
        ),
        (
            "offer_timeout".to_string(),
            c.offer_timeout.map(secs).unwrap_or_default(),
        ),
        (
            "agent_reregister_timeout".to_string(),
            secs(c.agent_reregister_timeout),
        ),
        (
            "max_operator_event_stream_subscribers".to_string(),
            c.max_operator_subscribers.to_string(),
        ),
        (
            "max_completed_frameworks".to_string(),
            c.max_completed_frameworks.to_string(),
        ),
        (
            "max_completed_tasks_per_framework".to_string(),
            c.max_completed_tasks_per_framework.to_string(),
        ),
        ("weights".to_string(), weights.join(",")),
    ];
    let auth = &c.auth;
    for (name, on) in [
        ("authenticate_agents", auth.agents),
        ("authenticate_frameworks", auth.frameworks),
        ("authenticate_http_readonly", auth.readonly),
        ("authenticate_http_readwrite", auth.readwrite),
    ] {
        flags.push((name.to_string(), on.to_string()));
    }
    flags.retain(|(_, v)| !v.is_empty());
    flags
}

struct StreamState {
    events: OperatorEvents,
    heartbeat: tokio::time::Interval,
    encoding: Encoding,
}

fn record(encoding: Encoding, event: &v1::master::Event) -> Bytes {
    Bytes::from(recordio::encode_record_vec(&encoding.encode(event)))
}

/// SUBSCRIBE's answer: 200 and a RecordIO stream, SUBSCRIBED first, with HEARTBEATs.
fn stream_response(shared: &Shared, events: OperatorEvents, encoding: Encoding) -> Response {
    let period = shared.config.heartbeat_interval;
    let mut ticks = tokio::time::interval_at(Instant::now() + period, period);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let state = StreamState {
        events,
        heartbeat: ticks,
        encoding,
    };
    let body = futures::stream::unfold(state, |mut st| async move {
        let bytes = tokio::select! {
            biased;
            event = st.events.recv() => record(st.encoding, &*event?),
            _ = st.heartbeat.tick() => record(st.encoding, &operator::heartbeat()),
        };
        Some((Ok::<_, Infallible>(bytes), st))
    });
    let mut response = Response::new(Body::from_stream(body));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(encoding.content_type()),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_is_preferred_whenever_accepted() {
        assert_eq!(answer_encoding(None), Some(Encoding::Json));
        assert_eq!(answer_encoding(Some("*/*")), Some(Encoding::Json));
        assert_eq!(
            answer_encoding(Some("application/x-protobuf, application/json")),
            Some(Encoding::Json)
        );
        assert_eq!(
            answer_encoding(Some("application/x-protobuf")),
            Some(Encoding::Protobuf)
        );
        assert_eq!(
            answer_encoding(Some("application/json;q=0, application/x-protobuf")),
            Some(Encoding::Protobuf)
        );
        assert_eq!(answer_encoding(Some("text/html")), None);
    }
}
