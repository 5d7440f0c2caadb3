//! HTTP Basic authentication of requests (Mesos's `basic` HTTP authenticator): a
//! request with a known principal and its secret goes on with its [`Principal`] in the
//! extensions; any other gets `401` with `WWW-Authenticate: Basic realm="<realm>"`.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::status::AuthError;
use crate::auth::{Credentials, Principal};

/// What one group of endpoints checks.
pub(crate) struct Realm {
    pub(crate) name: &'static str,
    pub(crate) credentials: Credentials,
}

/// The principal of `Authorization: Basic base64(principal:secret)`, when the
/// credentials are accepted.
fn authenticated(request: &Request, credentials: &Credentials) -> Option<String> {
    let value = request
        .headers()
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = STANDARD.decode(encoded.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (principal, secret) = text.split_once(':')?;
    credentials
        .check(principal, secret)
        .then(|| principal.to_owned())
}

/// Middleware: lets authenticated requests through, with their [`Principal`].
pub(crate) async fn basic(
    State(realm): State<Arc<Realm>>,
    mut request: Request,
    next: Next,
) -> Response {
    match authenticated(&request, &realm.credentials) {
        Some(principal) => {
            request.extensions_mut().insert(Principal(principal));
            next.run(request).await
        }
        None => {
            tracing::debug!(realm = realm.name, path = %request.uri().path(), "unauthenticated request refused");
            AuthError::Unauthorized { realm: realm.name }.into_response()
        }
    }
}
