//! The WebSockets transport: one socket per hub connection, pumped by two tasks.
//!
//! Owns moving text between a WebSocket and the connection's [`Session`] and queue. The receive
//! task reads frames and hands their text to the session, enforcing the client timeout; the send
//! task drains the [`Outgoing`] queue and sends a Ping whenever the keep-alive interval passes
//! without anything sent. Whichever task ends first ends the other, then the connection is
//! unregistered. Nothing here parses hub messages.

use std::time::Duration;

use axum::extract::ws::{close_code, CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use hubwire::protocol::HubMessage;
use tokio::sync::mpsc::{self, UnboundedReceiver};
use tokio::time::{sleep_until, timeout, Instant};

use super::Outgoing;
use crate::hub::{Admission, Hub};
use crate::log::DisconnectReason;
use crate::session::{Flow, Session};

/// How long the send task may take to deliver a final Close after the receive side decided to
/// close, before the socket is cut anyway.
const CLOSE_GRACE: Duration = Duration::from_secs(2);

/// Completes the upgrade and runs the connection until it ends.
pub fn accept(hub: Hub, upgrade: WebSocketUpgrade, admission: Admission) -> Response {
    upgrade.on_upgrade(move |socket| run(hub, socket, admission))
}

/// How the receive task ended.
enum ReceiveEnd {
    /// The session queued a final item; let the send task deliver it before the socket goes.
    Closing,
    /// The socket failed or ended: nothing more can be delivered.
    Lost,
}

async fn run(hub: Hub, socket: WebSocket, admission: Admission) {
    let connection_id = admission.connection_id.clone();
    let timings = hub.timings();
    let (sink, stream) = socket.split();
    let (outgoing, queue) = mpsc::unbounded_channel();
    let session = Session::new(hub.clone(), admission, outgoing);
    let mut sender = tokio::spawn(send_loop(sink, queue, timings.keep_alive));
    let mut receiver = tokio::spawn(receive_loop(stream, session, timings.client_timeout));

    tokio::select! {
        _ = &mut sender => receiver.abort(),
        received = &mut receiver => {
            if let Ok(ReceiveEnd::Closing) = received {
                let _ = timeout(CLOSE_GRACE, &mut sender).await;
            }
            sender.abort();
        }
    }
    // Both halves are dropped now that both tasks are gone, which closes the TCP connection.
    // Whoever decided to end the connection (the session, a control request) has unregistered
    // it with the reason; if it is still registered, the socket itself gave out.
    hub.unregister(&connection_id, DisconnectReason::ConnectionLost);
}

async fn receive_loop(
    mut stream: SplitStream<WebSocket>,
    mut session: Session,
    client_timeout: Duration,
) -> ReceiveEnd {
    loop {
        let Ok(next) = timeout(client_timeout, stream.next()).await else {
            session.client_timed_out();
            return ReceiveEnd::Closing;
        };
        let flow = match next {
            None | Some(Err(_)) => return ReceiveEnd::Lost,
            Some(Ok(Message::Text(text))) => session.receive(text.as_str()),
            // The JSON protocol is text; a binary frame is accepted if it is UTF-8, as ASP.NET
            // Core reads both frame kinds the same way.
            Some(Ok(Message::Binary(bytes))) => match std::str::from_utf8(&bytes) {
                Ok(text) => session.receive(text),
                Err(_) => session.protocol_error("a binary frame that is not UTF-8 text"),
            },
            Some(Ok(Message::Close(_))) => session.client_closed(),
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
) {
    // No Ping before the first record (the handshake response): the client reads the first
    // record as the handshake answer, so a Ping there would break its handshake.
    let mut next_ping: Option<Instant> = None;
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
                if sink.send(Message::text(records)).await.is_err() {
                    return;
                }
                next_ping = Some(Instant::now() + keep_alive);
            }
            Some(Outgoing::Close(close)) => {
                // Failures here change nothing: the socket is going away either way.
                if let Some(close) = close {
                    let _ = sink.send(Message::text(close)).await;
                }
                let frame = CloseFrame {
                    code: close_code::NORMAL,
                    reason: "".into(),
                };
                let _ = sink.send(Message::Close(Some(frame))).await;
                return;
            }
            // Every sender being gone means nothing can ever be queued again.
            Some(Outgoing::Abort) | None => return,
        }
    }
}
