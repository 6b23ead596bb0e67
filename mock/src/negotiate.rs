//! `POST /hub/negotiate`: hands a client a connection id, a connection token and the transports
//! it may use.
//!
//! Owns the negotiate response's shape and the version choice (the highest this hub speaks, 1,
//! or whatever lower version the client asked for; no `negotiateVersion` means 0). The
//! connection itself is created by [`Hub::negotiate`]; the transports offered come from
//! [`transport::offered`].

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use hubwire::protocol::negotiate::AvailableTransport;
use serde::{Deserialize, Serialize};

use crate::credentials::bearer_token;
use crate::hub::Hub;
use crate::transport;

/// The highest negotiate version this hub speaks. Version 1 added the separate connection token.
const HIGHEST_NEGOTIATE_VERSION: u32 = 1;

/// The query of a negotiate request. Other parameters (such as `useStatefulReconnect`) are
/// ignored: leaving `useStatefulReconnect` out of the answer tells the client it is off.
#[derive(Debug, Deserialize)]
pub struct NegotiateQuery {
    #[serde(rename = "negotiateVersion")]
    negotiate_version: Option<String>,
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
}

/// Answers a negotiate request and records it (with its bearer token) in the log.
pub async fn negotiate(
    State(hub): State<Hub>,
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
    let version = requested.min(HIGHEST_NEGOTIATE_VERSION);
    let grant = hub.negotiate(version, bearer_token(&headers));
    Json(NegotiateBody {
        connection_id: grant.connection_id,
        connection_token: (version >= 1).then_some(grant.connection_token),
        negotiate_version: version,
        available_transports: transport::offered(),
    })
    .into_response()
}
