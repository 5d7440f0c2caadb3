//! The legacy JSON endpoints Mesos tools read, in Mesos's shapes: `/version`,
//! `/redirect`, `/state-summary`, `/frameworks`, `/slaves`, `/tasks`, `/roles`,
//! `/flags`. (`/state`, `/master/state` and `/metrics/snapshot` are in `readonly`.)

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::operator::{flags as master_flags, version_info};
use crate::shared::Shared;
use crate::state::{MasterState, ResourceSummary, TaskState};
use mesos_sdk::resources::Resources;

/// The task states `/state-summary` counts, by Mesos's names.
const COUNTED_STATES: &[&str] = &[
    "TASK_STAGING",
    "TASK_STARTING",
    "TASK_RUNNING",
    "TASK_KILLING",
    "TASK_FINISHED",
    "TASK_KILLED",
    "TASK_FAILED",
    "TASK_LOST",
    "TASK_ERROR",
    "TASK_UNREACHABLE",
];

/// `GET /version`.
pub(super) async fn version() -> Json<Value> {
    let v = version_info();
    Json(json!({
        "version": v.version,
        "build_user": v.build_user.unwrap_or_default(),
        "build_date": "",
        "build_time": 0,
        "git_sha": "",
    }))
}

/// `GET /redirect`: 307 to the leading master (always this one), `//host:port`.
pub(super) async fn redirect(State(shared): State<Arc<Shared>>) -> Response {
    let (ip, port) = shared.with_core(|c| {
        let address = c.master_info.address.clone().unwrap_or_default();
        (
            address.ip.unwrap_or_else(|| c.config.hostname.clone()),
            c.master_info.port,
        )
    });
    let mut response = StatusCode::TEMPORARY_REDIRECT.into_response();
    if let Ok(location) = HeaderValue::from_str(&format!("//{ip}:{port}")) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
}

fn counts(tasks: &[&TaskState]) -> Map<String, Value> {
    COUNTED_STATES
        .iter()
        .map(|s| {
            let n = tasks.iter().filter(|t| t.state == *s).count();
            (s.to_string(), json!(n))
        })
        .collect()
}

fn summary(state: &MasterState) -> Value {
    let frameworks: Vec<Value> = state
        .frameworks
        .iter()
        .map(|f| {
            let tasks: Vec<&TaskState> = f.tasks.iter().chain(&f.completed_tasks).collect();
            let mut agents: Vec<&str> = f.tasks.iter().map(|t| t.agent_id.as_str()).collect();
            agents.sort_unstable();
            agents.dedup();
            let mut entry = json!({
                "id": f.id,
                "name": f.name,
                "role": f.role,
                "active": f.active,
                "connected": f.connected,
                "recovered": false,
                "used_resources": f.used_resources,
                "offered_resources": f.offered_resources,
                "slave_ids": agents,
            });
            if let Value::Object(m) = &mut entry {
                m.extend(counts(&tasks));
            }
            entry
        })
        .collect();
    let slaves: Vec<Value> = state
        .slaves
        .iter()
        .map(|a| {
            let tasks: Vec<&TaskState> = state
                .frameworks
                .iter()
                .flat_map(|f| f.tasks.iter().chain(&f.completed_tasks))
                .filter(|t| t.agent_id == a.id)
                .collect();
            let mut framework_ids: Vec<&str> = state
                .frameworks
                .iter()
                .filter(|f| f.tasks.iter().any(|t| t.agent_id == a.id))
                .map(|f| f.id.as_str())
                .collect();
            framework_ids.sort_unstable();
            let mut entry = json!({
                "id": a.id,
                "hostname": a.hostname,
                "active": a.active,
                "resources": a.resources,
                "used_resources": a.used_resources,
                "offered_resources": a.offered_resources,
                "unreserved_resources": a.unreserved_resources,
                "attributes": a.attributes,
                "framework_ids": framework_ids,
            });
            if let Value::Object(m) = &mut entry {
                m.extend(counts(&tasks));
            }
            entry
        })
        .collect();
    json!({
        "hostname": state.hostname,
        "frameworks": frameworks,
        "slaves": slaves,
    })
}

/// `GET /state-summary`: frameworks and agents with task counts by state.
pub(super) async fn state_summary(State(shared): State<Arc<Shared>>) -> Json<Value> {
    Json(summary(&shared.snapshot()))
}

/// `GET /frameworks`.
pub(super) async fn frameworks(State(shared): State<Arc<Shared>>) -> Json<Value> {
    let state = shared.snapshot();
    Json(json!({
        "frameworks": state.frameworks,
        "completed_frameworks": state.completed_frameworks,
        "unregistered_frameworks": [],
    }))
}

/// `GET /slaves`.
pub(super) async fn slaves(State(shared): State<Arc<Shared>>) -> Json<Value> {
    let state = shared.snapshot();
    Json(json!({ "slaves": state.slaves, "recovered_slaves": [] }))
}

/// `GET /tasks`: every task the master knows, running and completed.
pub(super) async fn tasks(State(shared): State<Arc<Shared>>) -> Json<Value> {
    let state = shared.snapshot();
    let tasks: Vec<&TaskState> = state
        .frameworks
        .iter()
        .chain(&state.completed_frameworks)
        .flat_map(|f| f.tasks.iter().chain(&f.completed_tasks))
        .collect();
    Json(json!({ "tasks": tasks }))
}

/// `GET /roles`.
pub(super) async fn roles(State(shared): State<Arc<Shared>>) -> Json<Value> {
    let roles = shared.with_core(|c| c.get_roles());
    let roles: Vec<Value> = roles
        .roles
        .into_iter()
        .map(|r| {
            json!({
                "name": r.name,
                "weight": r.weight,
                "frameworks": r.frameworks.into_iter().map(|f| f.value).collect::<Vec<_>>(),
                "resources": ResourceSummary::of(&Resources::from(r.resources)),
            })
        })
        .collect();
    Json(json!({ "roles": roles }))
}

/// `GET /flags`.
pub(super) async fn flags(State(shared): State<Arc<Shared>>) -> Json<Value> {
    let flags: Map<String, Value> = master_flags(&shared)
        .into_iter()
        .map(|(k, v)| (k, Value::String(v)))
        .collect();
    Json(json!({ "flags": flags }))
}
