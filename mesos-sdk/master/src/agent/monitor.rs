//! The agent's resource monitor: `GET /monitor/statistics` (and
//! `/monitor/statistics.json`) on the agent's HTTP server, as Mesos's agent serves it.
//!
//! The answer is a JSON array with one entry per container that could be measured:
//! `{"executor_id", "executor_name", "framework_id", "source", "statistics"}`, where
//! `statistics` is a `ResourceStatistics` in Mesos's JSON (see [`super::isolation`] for
//! what posix and cgroups isolation measure). The container's allocation fills
//! `cpus_soft_limit` and `mem_soft_limit_bytes` (its cpus and mem), `mem_limit_bytes`
//! when the isolator reports none, and `cpus_limit` with a CFS quota, as Mesos's
//! containerizer does. Other methods are answered `405` with `Allow: GET`.

use axum::Router;
use axum::extract::State;
use axum::http::{Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use serde_json::{Value, json};
use tokio::sync::{mpsc, oneshot};

use super::runtime::{ContainerSnapshot, Containers, Internal};
use mesos_sdk::v1;

/// Where Mesos's agent serves its resource statistics.
pub const STATISTICS_PATH: &str = "/monitor/statistics";
/// The same, under its `.json` name.
pub const STATISTICS_JSON_PATH: &str = "/monitor/statistics.json";

/// The monitor's routes, asking the agent's event loop for its containers.
pub(crate) fn router(runtime: mpsc::UnboundedSender<Internal>) -> Router {
    Router::new()
        .route(STATISTICS_PATH, any(statistics))
        .route(STATISTICS_JSON_PATH, any(statistics))
        .with_state(runtime)
}

async fn statistics(
    State(runtime): State<mpsc::UnboundedSender<Internal>>,
    method: Method,
) -> Response {
    if method != Method::GET {
        return (StatusCode::METHOD_NOT_ALLOWED, [(header::ALLOW, "GET")]).into_response();
    }
    let (tx, rx) = oneshot::channel();
    let containers = match runtime.send(Internal::Containers(tx)) {
        Ok(()) => rx.await.ok(),
        Err(_) => None,
    };
    let Some(containers) = containers else {
        return (StatusCode::SERVICE_UNAVAILABLE, "the agent is stopping").into_response();
    };
    // Reading /proc or the cgroup files blocks.
    match tokio::task::spawn_blocking(move || entries(&containers)).await {
        Ok(entries) => axum::Json(Value::Array(entries)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "measuring the containers failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// One entry per container that could be measured (Mesos leaves out the others).
fn entries(containers: &Containers) -> Vec<Value> {
    let cfs = containers.isolator.enable_cfs();
    containers
        .list
        .iter()
        .filter_map(|c| match containers.isolator.usage(&c.container_id, c.pid) {
            Ok(usage) => Some(entry(c, with_allocation(usage, c, cfs))),
            Err(e) => {
                tracing::debug!(container = %c.container_id, error = %e, "no usage for a container");
                None
            }
        })
        .collect()
}

/// What the container was given, as Mesos's containerizer adds it to the isolators'
/// usage.
fn with_allocation(
    mut usage: v1::ResourceStatistics,
    container: &ContainerSnapshot,
    cfs: bool,
) -> v1::ResourceStatistics {
    let mem_bytes = container.mem_mb.map(|mb| (mb * 1024.0 * 1024.0) as u64);
    usage.cpus_soft_limit = container.cpus;
    if cfs {
        usage.cpus_limit = container.cpus;
    }
    usage.mem_soft_limit_bytes = usage.mem_soft_limit_bytes.or(mem_bytes);
    usage.mem_limit_bytes = usage.mem_limit_bytes.or(mem_bytes);
    usage
}

#[allow(deprecated)] // `source`: part of the endpoint's answer in Mesos.
fn entry(container: &ContainerSnapshot, usage: v1::ResourceStatistics) -> Value {
    let info = &container.executor;
    json!({
        "framework_id": container.framework_id.value,
        "executor_id": info.executor_id.value,
        "executor_name": info.name.clone().unwrap_or_default(),
        "source": info.source.clone().unwrap_or_default(),
        "statistics": mesos_sdk::codec::json::to_value(&usage),
    })
}
