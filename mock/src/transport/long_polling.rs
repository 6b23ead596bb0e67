//! The Long Polling transport: server-to-client as a loop of `GET`s, each answered when there is
//! something to send; client-to-server as `POST`s (handled in [`super::send`]); `DELETE` ends it
//! (handled in [`super::delete`]).
//!
//! Owns the poll rules. The first poll of a negotiated connection admits it and is answered at
//! once with 200 and no body (it only completes initialisation, as ASP.NET Core does and the
//! official client expects). Later polls wait for the connection's queue: 200 with every
//! record queued so far; 200 with no body when nothing came for the poll timeout (the client
//! polls again); 204 when the connection ended cleanly (DELETE, or a Close without a
//! message), or when a newer poll for the same connection arrived (the older one steps aside);
//! a cut response body when a drop cut the connection. A Close message is delivered as data and
//! ends the transport. There are no server Pings here: a client on this transport checks
//! liveness by polling. Nothing here parses hub messages.

use std::io;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::http::header::CONTENT_TYPE;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use futures_util::stream;
use hubwire::protocol::negotiate::TransportKind;
use tokio::sync::mpsc::{self, UnboundedReceiver};
use tokio::sync::{watch, Mutex};

use super::{no_connection, refusal, watch_client, Link, Outgoing};
use crate::binary::records_to_frame;
use crate::hub::{Endpoint, Hub};
use crate::log::DisconnectReason;
use crate::outbox::Outbox;

/// A Long Polling connection's side of its queue.
pub struct PollQueue {
    /// The queue; the poll holding the lock is the one being answered.
    receiver: Mutex<UnboundedReceiver<Outgoing>>,
    /// Counts polls, so an older poll sees that a newer one arrived.
    generation: watch::Sender<u64>,
}

/// `GET /hub?id=<token>` (not a WebSocket upgrade, not an event stream): a poll.
pub async fn poll(
    hub: Hub,
    endpoint: Endpoint,
    id: &str,
    presented_token: Option<String>,
) -> Response {
    match hub.link(id) {
        None => first_poll(hub, endpoint, id, presented_token),
        Some(link)
            if link.endpoint == endpoint
                && link.transport == TransportKind::LongPolling
                && !link.is_ended() =>
        {
            next_poll(&hub, &link).await
        }
        Some(link) if link.endpoint == endpoint && !link.is_ended() => (
            StatusCode::BAD_REQUEST,
            "Cannot change transports mid-connection.",
        )
            .into_response(),
        Some(_) => no_connection(),
    }
}

/// The first poll: admits the connection and answers at once, with no data.
fn first_poll(hub: Hub, endpoint: Endpoint, id: &str, presented_token: Option<String>) -> Response {
    let transport = TransportKind::LongPolling;
    let admission = match hub.admit(endpoint, Some(id), transport, presented_token) {
        Ok(admission) => admission,
        Err(error) => return refusal(error, transport),
    };
    let (outgoing, receiver) = mpsc::unbounded_channel();
    let queue = PollQueue {
        receiver: Mutex::new(receiver),
        generation: watch::Sender::new(0),
    };
    let link = Arc::new(Link::new(
        hub.clone(),
        admission,
        Outbox::new(outgoing),
        Some(queue),
    ));
    hub.add_link(link.clone());
    watch_client(hub, link);
    StatusCode::OK.into_response()
}

/// Counts a poll as held open for as long as it lives, and as the client's latest request.
struct HeldPoll<'a>(&'a Link);

impl<'a> HeldPoll<'a> {
    fn new(link: &'a Link) -> Self {
        link.touch();
        link.polls.fetch_add(1, Ordering::SeqCst);
        HeldPoll(link)
    }
}

impl Drop for HeldPoll<'_> {
    fn drop(&mut self) {
        self.0.touch();
        self.0.polls.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Every poll after the first: waits for something to deliver.
async fn next_poll(hub: &Hub, link: &Link) -> Response {
    let Some(queue) = &link.poll_queue else {
        return no_connection();
    };
    let _held = HeldPoll::new(link);
    queue.generation.send_modify(|generation| *generation += 1);
    let mut generations = queue.generation.subscribe();
    let mine = *generations.borrow_and_update();
    let mut receiver = queue.receiver.lock().await;
    if *generations.borrow() != mine {
        return superseded();
    }
    let timeout = tokio::time::sleep(hub.timings().long_poll_timeout);
    tokio::pin!(timeout);
    let first = loop {
        let item = tokio::select! {
            item = receiver.recv() => item,
            () = &mut timeout => return StatusCode::OK.into_response(),
            _ = generations.changed() => return superseded(),
        };
        // Silence only means "send nothing more", which a poll does anyway: keep waiting.
        if item != Some(Outgoing::Silence) {
            break item;
        }
    };
    // Everything queued so far goes in this one answer, up to the end of the transport.
    let mut body = String::new();
    let mut item = first;
    let ended = loop {
        match item {
            Some(Outgoing::Records(records)) => body.push_str(&records),
            Some(Outgoing::Close(close)) => {
                body.push_str(close.as_deref().unwrap_or_default());
                break Some(DisconnectReason::ClientClosed);
            }
            None => break Some(DisconnectReason::ClientClosed),
            Some(Outgoing::Abort(reason)) => {
                if !link.end() {
                    hub.transport_ended(link, 0, reason);
                }
                return cut();
            }
            Some(Outgoing::Silence) => {}
        }
        match receiver.try_recv() {
            Ok(next) => item = Some(next),
            Err(_) => break None,
        }
    };
    if let Some(reason) = ended {
        if !link.end() {
            hub.transport_ended(link, 0, reason);
        }
    }
    if body.is_empty() {
        StatusCode::NO_CONTENT.into_response()
    } else if link.outbox.is_binary() {
        let bytes = records_to_frame(&body);
        ([(CONTENT_TYPE, "application/octet-stream")], bytes).into_response()
    } else {
        ([(CONTENT_TYPE, "text/plain; charset=utf-8")], body).into_response()
    }
}

/// The answer to a poll replaced by a newer one.
fn superseded() -> Response {
    StatusCode::NO_CONTENT.into_response()
}

/// A response whose body fails at once: the connection is cut as a network failure would,
/// after the status line went out.
fn cut() -> Response {
    let failing =
        stream::once(async { Err::<Bytes, io::Error>(io::Error::other("connection dropped")) });
    Body::from_stream(failing).into_response()
}
