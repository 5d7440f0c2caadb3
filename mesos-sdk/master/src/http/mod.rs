//! The master's HTTP endpoints: `POST /api/v1/scheduler`, the read-only JSON
//! endpoints (`/state`, `/metrics/snapshot`, `/health`), the operator API
//! (`POST /api/v1`) with Mesos's legacy JSON endpoints, and the status table
//! (`status`) every endpoint answers its errors through, the agents' executor API
//! included.

mod auth;
pub(crate) mod leader;
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

use crate::auth::{AuthConfig, FRAMEWORK_REALM, READONLY_REALM, READWRITE_REALM};
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
        .with_state(shared.clone())
        .merge(operator_router(shared))
}

/// The operator API (`POST /api/v1`, which requires credentials with
/// `--authenticate-http-readwrite`, as Mesos's read-write realm), the legacy JSON endpoints Mesos tools read and the web UI (read-only):
/// merged into [`router`].
fn operator_router(shared: Arc<Shared>) -> Router {
    let config = &shared.config.auth;
    let api: Router<Arc<Shared>> = Router::new().route("/api/v1", any(operator::handle));
    let views: Router<Arc<Shared>> = Router::new()
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
        .route("/master/flags", get(legacy::flags));
    let api = guarded(api, config.readwrite, READWRITE_REALM, config);
    let views = guarded(views, config.readonly, READONLY_REALM, config);
    api.merge(views).with_state(shared)
}

/// `routes`, requiring credentials of `realm` when `required` (the scheduler and
/// operator APIs, the read-only endpoints, and the remote agents' endpoints).
pub(crate) fn guarded<S: Clone + Send + Sync + 'static>(
    routes: Router<S>,
    required: bool,
    realm: &'static str,
    config: &AuthConfig,
) -> Router<S> {
    if !required {
        return routes;
    }
    let realm = Arc::new(auth::Realm {
        name: realm,
        credentials: config.credentials.clone(),
    });
    routes.layer(axum::middleware::from_fn_with_state(realm, auth::basic))
}
