//! Read-only JSON endpoints.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;

use crate::shared::Shared;
use crate::state::MasterState;

/// `GET /state`: frameworks, tasks and agents, shaped like Mesos's `/state`.
pub(super) async fn state(State(shared): State<Arc<Shared>>) -> Json<MasterState> {
    Json(shared.snapshot())
}

/// `GET /metrics/snapshot`: Mesos-style metric keys.
pub(super) async fn metrics(
    State(shared): State<Arc<Shared>>,
) -> Json<serde_json::Map<String, serde_json::Value>> {
    Json(shared.metrics())
}

/// `GET /health`: 200 while the master serves.
pub(super) async fn health() -> StatusCode {
    StatusCode::OK
}
