//! The master's HTTP endpoints: `POST /api/v1/scheduler`, the read-only JSON
//! endpoints (`/state`, `/metrics/snapshot`, `/health`), the operator API
//! (`POST /api/v1`) with Mesos's legacy JSON endpoints, and the status table
//! (`status`) every endpoint answers its errors through, the agents' executor API
//! included.

mod legacy;
mod operator;
mod readonly;
mod scheduler;
pub(crate) mod status;
mod ui;

use std::sync::Arc;

use axum::Router;
use axum::routing::{any, get};

pub use status::{ApiError, OperatorApiError};

use crate::shared::Shared;

/// The router serving every endpoint of the master.
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/api/v1/scheduler", any(scheduler::handle))
        .route("/state", get(readonly::state))
        .route("/master/state", get(readonly::state))
        .route("/state.json", get(readonly::state))
        .route("/metrics/snapshot", get(readonly::metrics))
        .route("/health", get(readonly::health))
        .route("/master/health", get(readonly::health))
        .with_state(shared.clone())
        .merge(operator_router(shared))
}

/// The operator API (`POST /api/v1`), the legacy JSON endpoints Mesos tools read and
/// the web UI: merged into [`router`].
fn operator_router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/api/v1", any(operator::handle))
        .route("/", get(ui::index))
        .route("/ui/events", get(ui::events))
        .route("/version", get(legacy::version))
        .route("/redirect", get(legacy::redirect))
        .route("/master/redirect", get(legacy::redirect))
        .route("/state-summary", get(legacy::state_summary))
        .route("/master/state-summary", get(legacy::state_summary))
        .route("/frameworks", get(legacy::frameworks))
        .route("/master/frameworks", get(legacy::frameworks))
        .route("/slaves", get(legacy::slaves))
        .route("/master/slaves", get(legacy::slaves))
        .route("/tasks", get(legacy::tasks))
        .route("/master/tasks", get(legacy::tasks))
        .route("/roles", get(legacy::roles))
        .route("/master/roles", get(legacy::roles))
        .route("/flags", get(legacy::flags))
        .route("/master/flags", get(legacy::flags))
        .with_state(shared)
}
