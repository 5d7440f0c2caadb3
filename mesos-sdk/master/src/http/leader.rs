//! The leader gate: only the leading master serves. Others redirect to the leader
//! (`307`, `Location: //host:port/<path>`, as Mesos) or answer `503` while no master
//! leads or this one still recovers. `/health` is always answered.

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tokio::sync::watch;

use super::status::LeaderError;
use crate::election::Leadership;

/// Paths every master answers, leading or not.
const ALWAYS_SERVED: [&str; 2] = ["/health", "/master/health"];

/// Why this master does not serve `path_and_query` now; `None` when it leads.
pub(crate) fn refusal(leadership: &Leadership, path_and_query: &str) -> Option<LeaderError> {
    match leadership {
        Leadership::Leading => None,
        Leadership::Following { leader } => Some(LeaderError::Redirect {
            // `/redirect` goes to the leader's root, avoiding a redirect loop.
            location: if path_and_query.starts_with("/redirect") {
                format!("//{leader}")
            } else {
                format!("//{leader}{path_and_query}")
            },
        }),
        Leadership::Recovering => Some(LeaderError::Recovering),
        Leadership::NoLeader | Leadership::Lost(_) => Some(LeaderError::NoLeader),
    }
}

/// Middleware: passes requests through while this master leads.
pub(crate) async fn gate(
    State(leadership): State<watch::Receiver<Leadership>>,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path();
    if ALWAYS_SERVED.contains(&path) {
        return next.run(request).await;
    }
    let path_and_query = request
        .uri()
        .path_and_query()
        .map_or(path, |p| p.as_str())
        .to_owned();
    // The borrow ends before the request is run.
    let refused = refusal(&leadership.borrow(), &path_and_query);
    match refused {
        None => next.run(request).await,
        Some(error) => {
            tracing::debug!(path = %path_and_query, %error, "not leading; request not served");
            error.into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_by_leadership() {
        let follower = Leadership::Following {
            leader: "10.0.0.7:5050".into(),
        };
        assert_eq!(refusal(&Leadership::Leading, "/state"), None);
        assert_eq!(
            refusal(&follower, "/api/v1/scheduler"),
            Some(LeaderError::Redirect {
                location: "//10.0.0.7:5050/api/v1/scheduler".into()
            })
        );
        assert_eq!(
            refusal(&follower, "/redirect"),
            Some(LeaderError::Redirect {
                location: "//10.0.0.7:5050".into()
            })
        );
        assert_eq!(
            refusal(&Leadership::NoLeader, "/state"),
            Some(LeaderError::NoLeader)
        );
        assert_eq!(
            refusal(&Leadership::Lost("expired".into()), "/state"),
            Some(LeaderError::NoLeader)
        );
        assert_eq!(
            refusal(&Leadership::Recovering, "/state"),
            Some(LeaderError::Recovering)
        );
    }
}
