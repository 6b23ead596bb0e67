//! Transports: how hub messages travel between the hub and one client, and the `/hub` (and
//! `/hub2`) routes that open, feed and close them.
//!
//! Owns what a transport must do, which transports the hub offers, and the HTTP rules of the
//! connection endpoint: `GET` opens a WebSocket (an upgrade), a Server-Sent Events stream
//! (`Accept: text/event-stream`) or a long poll (anything else); `POST` carries the client's
//! messages for the two HTTP transports; `DELETE` ends a Long Polling connection. A transport
//! takes [`Outgoing`] items off its connection's queue and delivers them, and feeds what the
//! client sends to the connection's [`Session`]; it makes no protocol decisions.
//!
//! Status codes follow ASP.NET Core: 400 without `id` (where one is required), 404 for an
//! unknown or ended connection, 409 for a second request while one is outstanding (a POST
//! during a POST, a WebSocket for a stateful connection that still has one), 503 for a connect
//! refused by a fault, 404 for a transport a fault switched off.
//!
//! Each transport has its module: [`websocket`], [`sse`], [`long_polling`]. A [`Link`] is one
//! admitted connection as the requests that follow find it again by connection token.

pub mod long_polling;
pub mod sse;
pub mod websocket;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::body::Body;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{Query, State};
use axum::http::header::ACCEPT;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use hubwire::protocol::negotiate::{AvailableTransport, TransportKind};
use serde::Deserialize;
use tokio::time::Instant;

use crate::credentials::bearer_token;
use crate::hub::{Admission, AdmitError, Endpoint, Hub};
use crate::log::DisconnectReason;
use crate::outbox::Outbox;
use crate::session::Session;

/// The largest request body a POST may carry.
const MAX_SEND_BYTES: usize = 4 * 1024 * 1024;

/// What a transport is asked to do next for its connection, in queue order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outgoing {
    /// Deliver these framed records (one or more, each ending with 0x1E).
    Records(String),
    /// Deliver this framed Close message, if any, then end the transport cleanly (a WebSocket
    /// close frame; an ended response for the HTTP transports).
    Close(Option<String>),
    /// End the transport at once with nothing more sent, as a network failure would; the
    /// transport reports this reason when it has ended.
    Abort(DisconnectReason),
    /// Send nothing more, not even Pings, and stay open (the `oneFrameThenSilent` fault; the
    /// outbox forwards no records after this). A later Close or Abort still ends the transport.
    Silence,
}

/// One admitted connection: its session and outbox, and what the HTTP transports track
/// between requests. Shared by the requests of one connection (and by successive WebSockets
/// of a stateful-reconnect connection).
pub struct Link {
    /// The connection id.
    pub connection_id: String,
    /// The connection token it was admitted with (none when the client skipped negotiate).
    pub token: Option<String>,
    /// The hub path it was admitted on.
    pub endpoint: Endpoint,
    /// The transport it was admitted with.
    pub transport: TransportKind,
    /// Its way out.
    pub outbox: Outbox,
    session: Mutex<Session>,
    /// Set once the transport is over (HTTP transports: no more requests are served for it).
    ended: AtomicBool,
    /// Set while a POST is being handled (a second one at the same time gets 409).
    posting: AtomicBool,
    /// Long polls being held open.
    polls: AtomicUsize,
    /// When the client last made a request (HTTP transports' liveness).
    last_seen: Mutex<Instant>,
    /// Long Polling's side of the queue, for that transport only.
    poll_queue: Option<long_polling::PollQueue>,
}

impl Link {
    /// A link for an admitted client that sends through `outbox`; `poll_queue` is given for
    /// Long Polling only.
    pub fn new(
        hub: Hub,
        admission: Admission,
        outbox: Outbox,
        poll_queue: Option<long_polling::PollQueue>,
    ) -> Link {
        Link {
            connection_id: admission.connection_id.clone(),
            token: admission.token.clone(),
            endpoint: admission.endpoint,
            transport: admission.transport,
            outbox: outbox.clone(),
            session: Mutex::new(Session::new(hub, admission, outbox)),
            ended: AtomicBool::new(false),
            posting: AtomicBool::new(false),
            polls: AtomicUsize::new(0),
            last_seen: Mutex::new(Instant::now()),
            poll_queue,
        }
    }

    /// The connection's session. Never hold the guard across an `.await`.
    pub fn session(&self) -> MutexGuard<'_, Session> {
        // The session is plain data; a panic in one request must not wedge the others.
        self.session.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// How many long polls are being held open for this connection.
    pub fn held_polls(&self) -> usize {
        self.polls.load(Ordering::SeqCst)
    }

    /// Notes a request from the client now.
    fn touch(&self) {
        *self
            .last_seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Instant::now();
    }

    fn last_seen(&self) -> Instant {
        *self
            .last_seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Marks the transport over; returns whether it already was.
    fn end(&self) -> bool {
        self.ended.swap(true, Ordering::SeqCst)
    }

    fn is_ended(&self) -> bool {
        self.ended.load(Ordering::SeqCst)
    }
}

/// The transports a negotiate response offers, best first.
pub fn offered(hub: &Hub) -> Vec<AvailableTransport> {
    // JSON is text; MessagePack is binary, which an event stream cannot carry.
    hub.offered_transports()
        .into_iter()
        .map(|kind| AvailableTransport {
            transport: kind.name().to_string(),
            transfer_formats: match kind {
                TransportKind::ServerSentEvents => vec!["Text".to_string()],
                _ => vec!["Text".to_string(), "Binary".to_string()],
            },
        })
        .collect()
}

/// The query of the connection endpoint's requests. Other parameters (Long Polling's `_`
/// cache-buster) are ignored.
#[derive(Debug, Deserialize)]
pub struct ConnectQuery {
    /// The connection token from negotiate (the connection id for negotiate version 0).
    id: Option<String>,
    /// The bearer token browsers put in the URL, since they cannot set WebSocket or
    /// EventSource headers.
    access_token: Option<String>,
}

/// `GET /hub`: a WebSocket upgrade, a Server-Sent Events stream or a long poll.
pub async fn get(
    State(hub): State<Hub>,
    Extension(endpoint): Extension<Endpoint>,
    Query(query): Query<ConnectQuery>,
    headers: HeaderMap,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    let presented_token = query.access_token.or_else(|| bearer_token(&headers));
    if let Ok(upgrade) = upgrade {
        return websocket::connect(hub, endpoint, query.id, presented_token, upgrade);
    }
    let Some(id) = query.id else {
        return missing_id();
    };
    if wants_event_stream(&headers) {
        sse::connect(hub, endpoint, &id, presented_token)
    } else {
        long_polling::poll(hub, endpoint, &id, presented_token).await
    }
}

/// `POST /hub?id=<token>`: the client's messages for a Server-Sent Events or Long Polling
/// connection. 200 once the whole body was handled.
pub async fn send(
    State(hub): State<Hub>,
    Extension(endpoint): Extension<Endpoint>,
    Query(query): Query<ConnectQuery>,
    body: Body,
) -> Response {
    let Some(id) = query.id else {
        return missing_id();
    };
    let Some(link) = live_link(&hub, endpoint, &id) else {
        return no_connection();
    };
    if link.transport == TransportKind::WebSockets {
        return (
            StatusCode::METHOD_NOT_ALLOWED,
            "POST requests are not allowed for WebSocket connections.",
        )
            .into_response();
    }
    if link.posting.swap(true, Ordering::SeqCst) {
        return (
            StatusCode::CONFLICT,
            "Another POST request is in progress for this connection.",
        )
            .into_response();
    }
    let answer = receive_post(&link, body).await;
    link.posting.store(false, Ordering::SeqCst);
    answer
}

async fn receive_post(link: &Link, body: Body) -> Response {
    link.touch();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_SEND_BYTES).await else {
        return (StatusCode::PAYLOAD_TOO_LARGE, "The message is too large.").into_response();
    };
    let mut session = link.session();
    if session.is_ended() {
        return no_connection();
    }
    session.receive_bytes(&bytes, "a request body that is not UTF-8 text");
    StatusCode::OK.into_response()
}

/// `DELETE /hub?id=<token>`: ends a Long Polling connection; its pending poll gets 204.
pub async fn delete(
    State(hub): State<Hub>,
    Extension(endpoint): Extension<Endpoint>,
    Query(query): Query<ConnectQuery>,
) -> Response {
    let Some(id) = query.id else {
        return missing_id();
    };
    let Some(link) = live_link(&hub, endpoint, &id) else {
        return no_connection();
    };
    if link.transport != TransportKind::LongPolling {
        return (
            StatusCode::BAD_REQUEST,
            "Cannot terminate this connection using the DELETE endpoint.",
        )
            .into_response();
    }
    link.touch();
    link.session().client_closed();
    hub.transport_ended(&link, 0, DisconnectReason::ClientClosed);
    (StatusCode::ACCEPTED, "").into_response()
}

/// The link for a connection token on this hub path, unless its transport is over.
fn live_link(hub: &Hub, endpoint: Endpoint, id: &str) -> Option<Arc<Link>> {
    hub.link(id)
        .filter(|link| link.endpoint == endpoint && !link.is_ended())
}

/// Whether a GET asks for an event stream (`Accept: text/event-stream`).
fn wants_event_stream(headers: &HeaderMap) -> bool {
    headers
        .get_all(ACCEPT)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .any(|value| value.to_ascii_lowercase().contains("text/event-stream"))
}

/// Closes an HTTP transport's connection when the client has made no request for the client
/// timeout (a held long poll counts as a request in progress). Ends with the transport.
fn watch_client(hub: Hub, link: Arc<Link>) {
    let client_timeout = hub.timings().client_timeout;
    tokio::spawn(async move {
        loop {
            tokio::time::sleep_until(link.last_seen() + client_timeout).await;
            if link.is_ended() {
                return;
            }
            if link.polls.load(Ordering::SeqCst) > 0 || link.last_seen().elapsed() < client_timeout
            {
                if link.polls.load(Ordering::SeqCst) > 0 {
                    link.touch();
                }
                continue;
            }
            link.session().client_timed_out();
            // A long poll that will never come cannot deliver the Close; forget the transport.
            if link.transport == TransportKind::LongPolling && !link.end() {
                hub.transport_ended(&link, 0, DisconnectReason::ClientTimeout);
            }
            return;
        }
    });
}

/// The HTTP answer to a refused transport request, as ASP.NET Core words them.
fn refusal(error: AdmitError, transport: TransportKind) -> Response {
    match error {
        AdmitError::UnknownConnection => no_connection(),
        AdmitError::TransportRefused => (
            StatusCode::NOT_FOUND,
            format!(
                "{} transport not supported by this end point type",
                transport.name()
            ),
        )
            .into_response(),
        AdmitError::ConnectRefused => (
            StatusCode::SERVICE_UNAVAILABLE,
            "Connect refused (injected fault)",
        )
            .into_response(),
    }
}

fn no_connection() -> Response {
    (StatusCode::NOT_FOUND, "No Connection with that ID").into_response()
}

fn missing_id() -> Response {
    (StatusCode::BAD_REQUEST, "Connection ID required").into_response()
}

/// How long a keep-alive interval lasts from now, for the streaming transports.
fn ping_due(keep_alive: Duration) -> Instant {
    Instant::now() + keep_alive
}
