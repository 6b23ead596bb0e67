//! `POST /hub/negotiate` (and `/hub2/negotiate`): hands a client a connection id, a connection
//! token and the transports it may use, or, in redirect mode, sends it to `/hub2`.
//!
//! Owns the negotiate response's shape and the version choice (the highest this hub speaks, 1,
//! or whatever lower version the client asked for; no `negotiateVersion` means 0), the
//! stateful reconnect flag (`useStatefulReconnect=true` in the query is answered with
//! `"useStatefulReconnect": true`), and the redirect answer (`{ url, accessToken }`, the URL
//! built from the request's `Host`). The connection itself is created by [`Hub::negotiate`];
//! the transports offered come from [`transport::offered`].

use axum::extract::{Query, State};
use axum::http::header::HOST;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use hubwire::protocol::negotiate::AvailableTransport;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::credentials::bearer_token;
use crate::hub::{Endpoint, Hub};
use crate::transport;

/// The highest negotiate version this hub speaks. Version 1 added the separate connection token.
const HIGHEST_NEGOTIATE_VERSION: u32 = 1;

/// The query of a negotiate request.
#[derive(Debug, Deserialize)]
pub struct NegotiateQuery {
    #[serde(rename = "negotiateVersion")]
    negotiate_version: Option<String>,
    /// `true` asks for stateful reconnect. (The spec's older name for it was `useAck`; the
    /// official client sends this one.)
    #[serde(rename = "useStatefulReconnect")]
    use_stateful_reconnect: Option<String>,
}

/// The body of a successful negotiate response.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct NegotiateBody {
    connection_id: String,
    /// Absent in version 0, where the connection id doubles as the token.
    #[serde(skip_serializing_if = "Option::is_none")]
    connection_token: Option<String>,
    negotiate_version: u32,
    available_transports: Vec<AvailableTransport>,
    /// Present (true) only when the client asked for stateful reconnect: leaving it out tells
    /// the client it is off.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    use_stateful_reconnect: bool,
}

/// Answers a negotiate request and records it (with its bearer token) in the log.
pub async fn negotiate(
    State(hub): State<Hub>,
    Extension(endpoint): Extension<Endpoint>,
    Query(query): Query<NegotiateQuery>,
    headers: HeaderMap,
) -> Response {
    let requested = match query.negotiate_version.as_deref() {
        None | Some("") => 0,
        Some(text) => match text.parse::<u32>() {
            Ok(version) => version,
            Err(_) => {
                let message = format!("The client requested an invalid protocol version '{text}'");
                return (StatusCode::BAD_REQUEST, message).into_response();
            }
        },
    };
    // The `negotiateDelayMs` fault: the request is answered late (or, when the client gave up
    // first, not at all: its connection is gone and this future is dropped).
    let delay = hub.read_faults(|faults| faults.negotiate_delay);
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    if endpoint == Endpoint::Main {
        if let Some(token) = hub.redirect_token() {
            return redirect(&hub, &headers, token);
        }
    }
    let version = requested.min(HIGHEST_NEGOTIATE_VERSION);
    let stateful = query
        .use_stateful_reconnect
        .is_some_and(|value| value.eq_ignore_ascii_case("true"));
    let Ok(grant) = hub.negotiate(endpoint, version, bearer_token(&headers), stateful) else {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "Negotiate refused (injected fault)",
        )
            .into_response();
    };
    Json(NegotiateBody {
        connection_id: grant.connection_id,
        connection_token: (version >= 1).then_some(grant.connection_token),
        negotiate_version: version,
        available_transports: transport::offered(&hub),
        use_stateful_reconnect: grant.stateful,
    })
    .into_response()
}

/// The redirect answer, as Azure SignalR Service gives it: negotiate again at `url` with
/// `accessToken` as the bearer token.
fn redirect(hub: &Hub, headers: &HeaderMap, token: String) -> Response {
    let host = headers
        .get(HOST)
        .and_then(|host| host.to_str().ok())
        .unwrap_or("127.0.0.1");
    let url = format!("http://{host}{}", Endpoint::Redirected.path());
    hub.log_redirect(&url);
    Json(json!({ "url": url, "accessToken": token })).into_response()
}
