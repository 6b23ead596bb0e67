//! Transports: how hub messages travel between the hub and one client, and the `GET /hub`
//! route that opens one.
//!
//! Owns what a transport must do and which transports the hub offers. A transport takes
//! [`Outgoing`] items off its connection's queue and delivers them, and feeds what the client
//! sends to a [`Session`](crate::session::Session); it makes no protocol decisions. Today there is
//! WebSockets ([`websocket`]). Server-Sent Events and Long Polling fit the same shape: each gets a
//! module here, an entry in [`offered`], and a branch in [`connect`] (plus `POST` and `DELETE`
//! routes on `/hub` for Long Polling's sends and close).

pub mod websocket;

use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use hubwire::protocol::negotiate::{AvailableTransport, TransportKind};
use serde::Deserialize;

use crate::credentials::bearer_token;
use crate::hub::{AdmitError, Hub};

/// What a transport is asked to do next for its connection, in queue order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outgoing {
    /// Deliver these framed records (one or more, each ending with 0x1E).
    Records(String),
    /// Deliver this framed Close message, if any, then end the transport cleanly (a WebSocket
    /// close frame; an ended response for the HTTP transports).
    Close(Option<String>),
    /// End the transport at once with nothing more sent, as a network failure would.
    Abort,
}

/// The transports a negotiate response offers, best first.
pub fn offered() -> Vec<AvailableTransport> {
    // Only the JSON hub protocol is spoken, so only the Text transfer format is offered.
    vec![AvailableTransport {
        transport: TransportKind::WebSockets.name().to_string(),
        transfer_formats: vec!["Text".to_string()],
    }]
}

/// The query of `GET /hub`.
#[derive(Debug, Deserialize)]
pub struct ConnectQuery {
    /// The connection token from negotiate (the connection id for negotiate version 0).
    id: Option<String>,
    /// The bearer token browsers put in the URL, since they cannot set WebSocket headers.
    access_token: Option<String>,
}

/// `GET /hub?id=<token>`: opens a transport for a negotiated connection.
///
/// Unknown or already used tokens get 404, as ASP.NET Core answers. Only WebSocket upgrades are
/// served for now; other requests get 400.
pub async fn connect(
    State(hub): State<Hub>,
    Query(query): Query<ConnectQuery>,
    headers: HeaderMap,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    let id = query.id.as_deref();
    // Checked before anything is used up, so a request that is refused for another reason does
    // not burn the token.
    if id.is_some_and(|id| !hub.is_negotiated(id)) {
        return no_connection();
    }
    let Ok(upgrade) = upgrade else {
        return (
            StatusCode::BAD_REQUEST,
            "Expected a WebSocket upgrade: WebSockets is the only transport offered.",
        )
            .into_response();
    };
    let presented_token = query.access_token.or_else(|| bearer_token(&headers));
    match hub.admit(id, TransportKind::WebSockets, presented_token) {
        Ok(admission) => websocket::accept(hub, upgrade, admission),
        Err(AdmitError::UnknownConnection) => no_connection(),
    }
}

fn no_connection() -> Response {
    (StatusCode::NOT_FOUND, "No Connection with that ID").into_response()
}
