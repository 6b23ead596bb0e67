//! The WebSockets transport: one socket per hub connection (or, with stateful reconnect, one
//! socket after another for the same connection), pumped by two tasks.
//!
//! Owns moving text (or, for MessagePack, binary frames) between a WebSocket and the connection's [`Session`] and queue, and the
//! upgrade rules: a new connection (negotiated token, or none to skip negotiation), or the
//! resume of a stateful-reconnect connection whose socket was lost (same token; 409 while its
//! old socket is still attached; with the `closeResumes` fault, accepted and closed at once
//! with a close frame and nothing else). The receive task reads frames and hands their text to the
//! session, enforcing the client timeout; the send task drains the [`Outgoing`] queue and sends
//! a Ping whenever the keep-alive interval passes without anything sent. Whichever task ends
//! first ends the other, then the hub hears that this transport ended (and decides whether the
//! connection ends with it). Nothing here parses hub messages.
//!
//! [`Session`]: crate::session::Session

use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{close_code, CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use hubwire::protocol::negotiate::TransportKind;
use hubwire::protocol::HubMessage;
use tokio::sync::mpsc::{self, UnboundedReceiver};
use tokio::time::{sleep_until, timeout, Instant};

use super::{no_connection, ping_due, refusal, Link, Outgoing};
use crate::hub::{Admission, Endpoint, Hub};
use crate::log::DisconnectReason;
use crate::outbox::Outbox;
use crate::binary::records_to_frame;
use crate::session::Flow;

/// How long the send task may take to deliver a final Close after the receive side decided to
/// close, before the socket is cut anyway.
const CLOSE_GRACE: Duration = Duration::from_secs(2);

/// `GET /hub` with a WebSocket upgrade: a new connection, or the resume of a stateful one.
pub fn connect(
    hub: Hub,
    endpoint: Endpoint,
    id: Option<String>,
    presented_token: Option<String>,
    upgrade: WebSocketUpgrade,
) -> Response {
    if let Some(link) = id.as_deref().and_then(|id| hub.link(id)) {
        return resume(hub, endpoint, link, upgrade);
    }
    match hub.admit(
        endpoint,
        id.as_deref(),
        TransportKind::WebSockets,
        presented_token,
    ) {
        Ok(admission) => accept(hub, upgrade, admission),
        Err(error) => refusal(error, TransportKind::WebSockets),
    }
}

/// Completes the upgrade for a new connection and runs it until it ends.
fn accept(hub: Hub, upgrade: WebSocketUpgrade, admission: Admission) -> Response {
    upgrade.on_upgrade(move |socket| async move {
        let (outgoing, queue) = mpsc::unbounded_channel();
        let link = Arc::new(Link::new(
            hub.clone(),
            admission,
            Outbox::new(outgoing),
            None,
        ));
        hub.add_link(link.clone());
        run(hub, socket, link, queue, 0).await;
    })
}

/// A WebSocket for a connection token already in use: only a stateful-reconnect connection
/// whose socket is gone may be resumed; a used token is otherwise unknown (404), as a token is
/// good for one connect.
fn resume(hub: Hub, endpoint: Endpoint, link: Arc<Link>, upgrade: WebSocketUpgrade) -> Response {
    if link.endpoint != endpoint
        || link.transport != TransportKind::WebSockets
        || !link.outbox.is_stateful()
        || link.outbox.is_finished()
    {
        return no_connection();
    }
    if link.outbox.is_attached() {
        return (
            StatusCode::CONFLICT,
            "The connection already has a WebSocket.",
        )
            .into_response();
    }
    if hub.resume_attempt(&link.connection_id) {
        // The closeResumes fault: the connection stays detached and its grace period runs on.
        return upgrade.on_upgrade(|mut socket| async move {
            let frame = CloseFrame {
                code: close_code::NORMAL,
                reason: "".into(),
            };
            // The client may already be gone; the socket is dropped either way.
            let _ = socket.send(Message::Close(Some(frame))).await;
        });
    }
    upgrade.on_upgrade(move |socket| async move {
        let (outgoing, queue) = mpsc::unbounded_channel();
        // Another resume may have won the race since the check; then this socket just closes.
        let Some(epoch) = link.outbox.resume(outgoing) else {
            return;
        };
        link.session().resumed();
        hub.resumed(&link.connection_id);
        run(hub, socket, link, queue, epoch).await;
    })
}

/// How the receive task ended.
enum ReceiveEnd {
    /// The session queued a final item; let the send task deliver it before the socket goes.
    Closing,
    /// The socket failed or ended: nothing more can be delivered.
    Lost,
}

/// How the send task ended.
enum SendEnd {
    /// It delivered a final Close, or the socket failed, or the queue closed.
    Finished,
    /// It was told to cut the socket, for this reason.
    Aborted(DisconnectReason),
}

async fn run(
    hub: Hub,
    socket: WebSocket,
    link: Arc<Link>,
    queue: UnboundedReceiver<Outgoing>,
    epoch: u64,
) {
    let timings = hub.timings();
    let (sink, stream) = socket.split();
    // A resumed connection's first record is the Sequence message, not a handshake answer, so
    // Pings may come at once.
    let mut sender = tokio::spawn(send_loop(
        sink,
        queue,
        timings.keep_alive,
        epoch > 0,
        link.outbox.clone(),
    ));
    let mut receiver = tokio::spawn(receive_loop(stream, link.clone(), timings.client_timeout));

    let mut reason = DisconnectReason::ConnectionLost;
    tokio::select! {
        sent = &mut sender => {
            receiver.abort();
            if let Ok(SendEnd::Aborted(why)) = sent {
                reason = why;
            }
        }
        received = &mut receiver => {
            if let Ok(ReceiveEnd::Closing) = received {
                let _ = timeout(CLOSE_GRACE, &mut sender).await;
            }
            sender.abort();
        }
    }
    // Both halves are dropped now that both tasks are gone, which closes the TCP connection.
    // Whoever decided to end the connection (the session, a control request) has unregistered
    // it with the reason; if it is still registered, the socket itself gave out, or a fault cut
    // it: the hub decides what that means (the end, or a wait for a stateful resume).
    hub.transport_ended(&link, epoch, reason);
}

async fn receive_loop(
    mut stream: SplitStream<WebSocket>,
    link: Arc<Link>,
    client_timeout: Duration,
) -> ReceiveEnd {
    loop {
        let Ok(next) = timeout(client_timeout, stream.next()).await else {
            link.session().client_timed_out();
            return ReceiveEnd::Closing;
        };
        let flow = match next {
            None | Some(Err(_)) => return ReceiveEnd::Lost,
            Some(Ok(Message::Text(text))) => link.session().receive(text.as_str()),
            // MessagePack is binary; for the JSON protocol a binary frame is accepted if it is
            // UTF-8, as ASP.NET Core reads both frame kinds the same way.
            Some(Ok(Message::Binary(bytes))) => link
                .session()
                .receive_bytes(&bytes, "a binary frame that is not UTF-8 text"),
            Some(Ok(Message::Close(_))) => link.session().client_closed(),
            // Control frames still show the client is alive (the timeout restarts), nothing more.
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => Flow::Continue,
        };
        if flow == Flow::Closing {
            return ReceiveEnd::Closing;
        }
    }
}

async fn send_loop(
    mut sink: SplitSink<WebSocket, Message>,
    mut queue: UnboundedReceiver<Outgoing>,
    keep_alive: Duration,
    ping_at_once: bool,
    outbox: Outbox,
) -> SendEnd {
    // Records as a frame: text, or MessagePack in a binary frame for a connection that chose it.
    let frame = |records: String| {
        if outbox.is_binary() {
            Message::Binary(records_to_frame(&records).into())
        } else {
            Message::text(records)
        }
    };
    // No Ping before the first record of a new connection (the handshake response): the client
    // reads the first record as the handshake answer, so a Ping there would break its handshake.
    let mut next_ping: Option<Instant> = ping_at_once.then(|| ping_due(keep_alive));
    loop {
        let next = match next_ping {
            None => queue.recv().await,
            Some(at) => tokio::select! {
                next = queue.recv() => next,
                () = sleep_until(at) => Some(Outgoing::Records(HubMessage::Ping.encode())),
            },
        };
        match next {
            Some(Outgoing::Records(records)) => {
                if sink.send(frame(records)).await.is_err() {
                    return SendEnd::Finished;
                }
                next_ping = Some(ping_due(keep_alive));
            }
            Some(Outgoing::Close(close)) => {
                // Failures here change nothing: the socket is going away either way.
                if let Some(close) = close {
                    let _ = sink.send(frame(close)).await;
                }
                let frame = CloseFrame {
                    code: close_code::NORMAL,
                    reason: "".into(),
                };
                let _ = sink.send(Message::Close(Some(frame))).await;
                return SendEnd::Finished;
            }
            Some(Outgoing::Abort(reason)) => return SendEnd::Aborted(reason),
            // Nothing but a Close or an Abort can follow, so no Ping is due ever again.
            Some(Outgoing::Silence) => next_ping = None,
            // Every sender being gone means nothing can ever be queued again.
            None => return SendEnd::Finished,
        }
    }
}
