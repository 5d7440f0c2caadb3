//! The master's HTTP endpoints: `POST /api/v1/scheduler` and the read-only JSON
//! endpoints (`/state`, `/metrics/snapshot`, `/health`), and the status table
//! (`status`) every endpoint answers its errors through, the agents' executor API
//! included.

mod auth;
pub(crate) mod leader;
mod readonly;
mod scheduler;
pub(crate) mod status;

use std::sync::Arc;

use axum::Router;
use axum::routing::{any, get};

pub use status::ApiError;

use crate::auth::{AuthConfig, FRAMEWORK_REALM, READONLY_REALM};
use crate::shared::Shared;

/// The router serving every endpoint of the master. The scheduler API and the
/// read-only endpoints require HTTP Basic credentials when `MasterConfig::auth` says
/// so; `/health` never does.
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    let config = &shared.config.auth;
    let scheduler: Router<Arc<Shared>> =
        Router::new().route("/api/v1/scheduler", any(scheduler::handle));
    let readonly: Router<Arc<Shared>> = Router::new()
        .route("/state", get(readonly::state))
        .route("/master/state", get(readonly::state))
        .route("/state.json", get(readonly::state))
        .route("/metrics/snapshot", get(readonly::metrics));
    let scheduler = guarded(scheduler, config.frameworks, FRAMEWORK_REALM, config);
    let readonly = guarded(readonly, config.readonly, READONLY_REALM, config);
    Router::new()
        .merge(scheduler)
        .merge(readonly)
        .route("/health", get(readonly::health))
        .route("/master/health", get(readonly::health))
        .with_state(shared)
}

/// `routes`, requiring credentials of `realm` when `required`.
fn guarded(
    routes: Router<Arc<Shared>>,
    required: bool,
    realm: &'static str,
    config: &AuthConfig,
) -> Router<Arc<Shared>> {
    if !required {
        return routes;
    }
    let realm = Arc::new(auth::Realm {
        name: realm,
        credentials: config.credentials.clone(),
    });
    routes.layer(axum::middleware::from_fn_with_state(realm, auth::basic))
}
