//! The web UI at `/`: one page embedded in the binary (no CDN, nothing fetched at run
//! time) and `/ui/events`, a server-sent event stream of the master's state that the
//! page renders. A new state is sent whenever the operator event stream reports a
//! change (coalescing bursts) and at least every second, so offers and shares stay
//! fresh.

use std::convert::Infallible;
use std::sync::{Arc, Weak};
use std::time::Duration;

use axum::extract::State;
use axum::http::header;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{Html, IntoResponse};
use futures::Stream;
use serde::Serialize;
use tokio::time::MissedTickBehavior;

use crate::core::OperatorEvents;
use crate::shared::Shared;
use crate::state::MasterState;

/// The page, with its script and styles inline.
const INDEX: &str = include_str!("../../ui/index.html");

/// The longest the page waits for a fresh state when nothing changes.
const REFRESH: Duration = Duration::from_secs(1);

/// `GET /`: the UI.
pub(super) async fn index() -> impl IntoResponse {
    ([(header::CACHE_CONTROL, "no-cache")], Html(INDEX))
}

/// What the page gets in each `state` event.
#[derive(Serialize)]
struct UiState {
    state: MasterState,
    weights: std::collections::HashMap<String, f64>,
    /// Seconds since the epoch when the state was taken (the chart's x axis).
    time: f64,
}

fn state_event(shared: &Shared) -> Option<SseEvent> {
    let (state, weights) = shared.with_core(|c| (c.snapshot(), c.config.role_weights.clone()));
    let time = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0);
    let data = serde_json::to_string(&UiState {
        state,
        weights,
        time,
    })
    .ok()?;
    Some(SseEvent::default().event("state").data(data))
}

struct Feed {
    shared: Weak<Shared>,
    changes: OperatorEvents,
    refresh: tokio::time::Interval,
}

/// `GET /ui/events`: `state` events, the first at once.
pub(super) async fn events(
    State(shared): State<Arc<Shared>>,
) -> Sse<impl Stream<Item = Result<SseEvent, Infallible>>> {
    let changes = shared.with_core(|c| c.operator_subscribe());
    let mut refresh = tokio::time::interval(REFRESH);
    refresh.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let feed = Feed {
        shared: Arc::downgrade(&shared),
        changes,
        refresh,
    };
    let stream = futures::stream::unfold(feed, |mut feed| async move {
        tokio::select! {
            change = feed.changes.recv() => {
                change?;
                // Coalesce what is already queued into one state.
                while feed.changes.try_recv().is_ok() {}
            }
            _ = feed.refresh.tick() => {}
        }
        let shared = feed.shared.upgrade()?;
        let event = state_event(&shared)?;
        Some((Ok(event), feed))
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}
