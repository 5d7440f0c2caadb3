//! The master's HTTP endpoints: `POST /api/v1/scheduler` and the read-only JSON
//! endpoints (`/state`, `/metrics/snapshot`, `/health`), and the status table
//! (`status`) every endpoint answers its errors through, the agents' executor API
//! included.

pub(crate) mod leader;
mod readonly;
mod scheduler;
pub(crate) mod status;

use std::sync::Arc;

use axum::Router;
use axum::routing::{any, get};

pub use status::ApiError;

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
        .with_state(shared)
}
