//! The access token a client presents, and the guard that turns away requests without the
//! right one.
//!
//! Owns reading a token from a request (`Authorization: Bearer <token>`, or the
//! `access_token` query parameter that browsers use for WebSockets and EventSource) and the
//! middleware on the hub paths that answers 401 when the path requires a token and the request
//! does not carry exactly that one. Which token a path requires (auth mode on `/hub`, the
//! redirect's token on `/hub2`) is the hub's state; without a required token the hub accepts
//! everyone and only records what it was shown.

use axum::extract::{Query, Request, State};
use axum::http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Extension;
use serde::Deserialize;

use crate::hub::{Endpoint, Hub};

/// The token of an `Authorization: Bearer <token>` header, if the request has one.
pub fn bearer_token(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then(|| token.to_string())
}

#[derive(Deserialize)]
struct TokenQuery {
    access_token: Option<String>,
}

/// The `access_token` query parameter, if present.
fn query_token(uri: &Uri) -> Option<String> {
    Query::<TokenQuery>::try_from_uri(uri)
        .ok()
        .and_then(|Query(query)| query.access_token)
        .filter(|token| !token.is_empty())
}

/// Middleware for the hub paths: lets a request through when its path requires no token or
/// when it carries the required one (header or query); answers 401 with
/// `WWW-Authenticate: Bearer` otherwise, and logs the refusal.
pub async fn require_token(
    State(hub): State<Hub>,
    Extension(endpoint): Extension<Endpoint>,
    request: Request,
    next: Next,
) -> Response {
    let Some(required) = hub.required_token(endpoint) else {
        return next.run(request).await;
    };
    let presented = bearer_token(request.headers()).or_else(|| query_token(request.uri()));
    if !required.is_empty() && presented.as_deref() == Some(required.as_str()) {
        return next.run(request).await;
    }
    hub.log_unauthorized(request_kind(request.method(), request.uri()));
    (
        StatusCode::UNAUTHORIZED,
        [(WWW_AUTHENTICATE, "Bearer")],
        "Unauthorized",
    )
        .into_response()
}

/// What a hub-path request is, in the words of the log.
fn request_kind(method: &Method, uri: &Uri) -> &'static str {
    if uri.path().ends_with("/negotiate") {
        "negotiate"
    } else if method == Method::POST {
        "send"
    } else if method == Method::DELETE {
        "close"
    } else {
        "connect"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, value.parse().unwrap());
        headers
    }

    #[test]
    fn bearer_tokens_are_read_and_other_schemes_ignored() {
        assert_eq!(
            bearer_token(&headers("Bearer abc.def")),
            Some("abc.def".into())
        );
        assert_eq!(bearer_token(&headers("bearer  xyz ")), Some("xyz".into()));
        assert_eq!(bearer_token(&headers("Basic dXNlcg==")), None);
        assert_eq!(bearer_token(&headers("Bearer ")), None);
        assert_eq!(bearer_token(&HeaderMap::new()), None);
    }

    #[test]
    fn query_tokens_are_decoded() {
        let uri: Uri = "/hub?id=1&access_token=a%2Bb".parse().unwrap();
        assert_eq!(query_token(&uri), Some("a+b".into()));
        assert_eq!(query_token(&"/hub?id=1".parse().unwrap()), None);
    }
}
