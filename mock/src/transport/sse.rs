//! The Server-Sent Events transport: server-to-client over one long `text/event-stream`
//! response, client-to-server as `POST`s (handled in [`super::send`]).
//!
//! Owns the event stream: each queued item becomes one unnamed event whose `data:` lines carry
//! the records (a line break inside a record becomes one more `data:` line, which the client's
//! EventSource joins back with `\n`); a Ping goes out after each keep-alive interval without
//! anything sent (none after a Silence); a Close ends the response after its record; an abort
//! fails the response body, which cuts the TCP connection as a network failure would. The
//! response starts with a comment line so the headers (and the client's `open` event) go out at
//! once. When the response ends or the client goes away, the hub hears that the transport
//! ended. Nothing here parses hub messages.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use futures_util::stream;
use hubwire::protocol::negotiate::TransportKind;
use hubwire::protocol::HubMessage;
use tokio::sync::mpsc::{self, UnboundedReceiver};
use tokio::time::{sleep_until, Instant};

use super::{ping_due, refusal, watch_client, Link, Outgoing};
use crate::hub::{Endpoint, Hub};
use crate::log::DisconnectReason;
use crate::outbox::Outbox;

/// `GET /hub?id=<token>` with `Accept: text/event-stream`: opens the event stream.
pub fn connect(
    hub: Hub,
    endpoint: Endpoint,
    id: &str,
    presented_token: Option<String>,
) -> Response {
    let transport = TransportKind::ServerSentEvents;
    let admission = match hub.admit(endpoint, Some(id), transport, presented_token) {
        Ok(admission) => admission,
        Err(error) => return refusal(error, transport),
    };
    let (outgoing, queue) = mpsc::unbounded_channel();
    let link = Arc::new(Link::new(
        hub.clone(),
        admission,
        Outbox::new(outgoing),
        None,
    ));
    hub.add_link(link.clone());
    watch_client(hub.clone(), link.clone());
    let keep_alive = hub.timings().keep_alive;
    let events = EventStream {
        queue,
        keep_alive,
        next_ping: None,
        opened: false,
        done: false,
        end: TransportEnd {
            hub,
            link,
            reason: DisconnectReason::ConnectionLost,
        },
    };
    let body = Body::from_stream(stream::unfold(events, EventStream::next));
    (
        [
            (CONTENT_TYPE, "text/event-stream"),
            (CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

/// The state of one event stream between chunks.
struct EventStream {
    queue: UnboundedReceiver<Outgoing>,
    keep_alive: Duration,
    next_ping: Option<Instant>,
    opened: bool,
    done: bool,
    end: TransportEnd,
}

impl EventStream {
    /// The next chunk of the response, or `None` when it is complete.
    async fn next(mut self) -> Option<(io::Result<Bytes>, Self)> {
        if self.done {
            return None;
        }
        if !self.opened {
            self.opened = true;
            return Some((Ok(Bytes::from_static(b":\n\n")), self));
        }
        loop {
            let next = match self.next_ping {
                // No Ping before the handshake response, which must be the first record.
                None => self.queue.recv().await,
                Some(at) => tokio::select! {
                    next = self.queue.recv() => next,
                    () = sleep_until(at) => Some(Outgoing::Records(HubMessage::Ping.encode())),
                },
            };
            return match next {
                Some(Outgoing::Records(records)) => {
                    self.next_ping = Some(ping_due(self.keep_alive));
                    Some((Ok(event(&records)), self))
                }
                Some(Outgoing::Close(Some(close))) => {
                    self.done = true;
                    self.end.reason = DisconnectReason::ClientClosed;
                    Some((Ok(event(&close)), self))
                }
                Some(Outgoing::Close(None)) | None => None,
                Some(Outgoing::Abort(reason)) => {
                    self.done = true;
                    self.end.reason = reason;
                    Some((Err(io::Error::other("connection dropped")), self))
                }
                // Silent from now on: no Ping is ever due again, and nothing goes out for this.
                Some(Outgoing::Silence) => {
                    self.next_ping = None;
                    continue;
                }
            };
        }
    }
}

/// Tells the hub the transport ended when the stream is dropped: finished, failed, or given up
/// by the server because the client went away.
struct TransportEnd {
    hub: Hub,
    link: Arc<Link>,
    reason: DisconnectReason,
}

impl Drop for TransportEnd {
    fn drop(&mut self) {
        if !self.link.end() {
            let reason = std::mem::replace(&mut self.reason, DisconnectReason::ConnectionLost);
            self.hub.transport_ended(&self.link, 0, reason);
        }
    }
}

/// One unnamed event carrying `text`: a `data:` line per line of it, then a blank line.
fn event(text: &str) -> Bytes {
    let mut out = String::with_capacity(text.len() + 16);
    for line in text.split(['\n', '\r']).filter(|line| !line.is_empty()) {
        out.push_str("data: ");
        out.push_str(line);
        out.push('\n');
    }
    out.push('\n');
    Bytes::from(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_line_of_the_text_becomes_a_data_line() {
        assert_eq!(event("{\"type\":6}\u{1e}"), "data: {\"type\":6}\u{1e}\n\n");
        assert_eq!(event("[1,\r\n2]\u{1e}"), "data: [1,\ndata: 2]\u{1e}\n\n");
    }
}
