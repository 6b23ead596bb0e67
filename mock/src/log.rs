//! The ordered record of what the hub received, read by tests through `GET /control/log`.
//!
//! Owns the entry shapes and the bounded buffer. Entries are appended by the hub state
//! ([`crate::hub`]) under its lock, so their order is the order the hub saw things in. This
//! module does not decide what gets logged.

use std::collections::VecDeque;
use std::fmt;

use serde::Serialize;
use serde_json::value::RawValue;

/// Most entries kept; older ones are dropped first, so a demo left running for days stays small.
pub const LOG_CAPACITY: usize = 10_000;

/// One thing the hub received or noticed. Serialized with a `kind` tag and camelCase fields.
#[derive(Debug, Clone, Serialize)]
#[serde(
    tag = "kind",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum LogEntry {
    /// `POST /hub/negotiate` was answered.
    Negotiate {
        /// When, ISO 8601 UTC.
        at: String,
        /// The connection id handed out.
        connection_id: String,
        /// The negotiate version the hub answered with.
        negotiate_version: u32,
        /// The bearer token of the request's `Authorization` header.
        #[serde(skip_serializing_if = "Option::is_none")]
        access_token: Option<String>,
    },
    /// A client's transport was let in: a WebSocket upgrade accepted, an event stream opened,
    /// a first long poll answered, or (`resume`) a WebSocket accepted to resume a stateful
    /// connection. Refused attempts are logged as [`LogEntry::Refused`] instead.
    TransportOpened {
        /// When, ISO 8601 UTC.
        at: String,
        /// The connection.
        connection_id: String,
        /// The transport's wire name, e.g. `WebSockets`.
        transport: &'static str,
        /// Whether it resumes a stateful-reconnect connection (false for a new connection).
        resume: bool,
    },
    /// A complete handshake request arrived, and how the hub answered it.
    Handshake {
        /// When, ISO 8601 UTC.
        at: String,
        /// The connection.
        connection_id: String,
        /// The transport's wire name.
        transport: &'static str,
        /// What the hub sent back (see [`HandshakeAnswer`]).
        answer: HandshakeAnswer,
    },
    /// A client completed the handshake on a transport: it is now a hub connection.
    Connect {
        /// When, ISO 8601 UTC.
        at: String,
        /// The connection.
        connection_id: String,
        /// The transport's wire name, e.g. `WebSockets`.
        transport: &'static str,
        /// The token presented when the transport opened (`access_token` query, or a bearer
        /// `Authorization` header as non-browser clients send).
        #[serde(skip_serializing_if = "Option::is_none")]
        access_token: Option<String>,
    },
    /// A hub connection ended.
    Disconnect {
        /// When, ISO 8601 UTC.
        at: String,
        /// The connection.
        connection_id: String,
        /// Why it ended, in words (see [`DisconnectReason`]).
        reason: String,
    },
    /// An Invocation message (type 1) arrived.
    Invocation {
        /// When, ISO 8601 UTC.
        at: String,
        /// The caller.
        connection_id: String,
        /// Present when the caller expects a Completion (`invoke`), absent for `send`.
        #[serde(skip_serializing_if = "Option::is_none")]
        invocation_id: Option<String>,
        /// The method name exactly as the client sent it.
        target: String,
        /// The arguments array, as sent.
        arguments: Box<RawValue>,
    },
    /// A negotiate was answered with a redirect to the second hub path (redirect mode).
    Redirect {
        /// When, ISO 8601 UTC.
        at: String,
        /// Where the client was sent.
        url: String,
    },
    /// A stateful-reconnect connection lost its transport and waits to be resumed.
    TransportLost {
        /// When, ISO 8601 UTC.
        at: String,
        /// The connection.
        connection_id: String,
        /// Why the transport ended, in words (see [`DisconnectReason`]).
        reason: String,
    },
    /// A new WebSocket resumed a stateful-reconnect connection.
    Resumed {
        /// When, ISO 8601 UTC.
        at: String,
        /// The connection.
        connection_id: String,
    },
    /// A request was refused: by an injected fault (503, or 404 for a switched-off
    /// transport), or for a missing or wrong access token (401).
    Refused {
        /// When, ISO 8601 UTC.
        at: String,
        /// `negotiate`, `connect`, `send`, `poll` or `close`.
        request: &'static str,
        /// The transport the client tried, for connects.
        #[serde(skip_serializing_if = "Option::is_none")]
        transport: Option<&'static str>,
        /// The HTTP status it got.
        status: u16,
    },
    /// A data poll or a flags read of the scenario (`/api/obligations/*`, `/api/stats/*`,
    /// `/api/flags`) was answered.
    Poll {
        /// When, ISO 8601 UTC.
        at: String,
        /// The request path.
        path: String,
        /// The HTTP status it got.
        status: u16,
    },
    /// A plain `/ws` stats socket opened.
    StatsConnect {
        /// When, ISO 8601 UTC.
        at: String,
        /// The socket's id.
        socket_id: String,
        /// The `access_token` query parameter, if any.
        #[serde(skip_serializing_if = "Option::is_none")]
        access_token: Option<String>,
    },
    /// A plain `/ws` stats socket ended.
    StatsDisconnect {
        /// When, ISO 8601 UTC.
        at: String,
        /// The socket's id.
        socket_id: String,
        /// Why, in words.
        reason: String,
    },
    /// A Ping message (type 6) arrived from the client: what its keep-alive interval shows as.
    Ping {
        /// When, ISO 8601 UTC.
        at: String,
        /// The sender.
        connection_id: String,
    },
    /// A StreamInvocation message (type 4) arrived.
    StreamInvocation {
        /// When, ISO 8601 UTC.
        at: String,
        /// The caller.
        connection_id: String,
        /// The stream's id.
        invocation_id: String,
        /// The method name exactly as the client sent it.
        target: String,
        /// The arguments array, as sent.
        arguments: Box<RawValue>,
    },
}

/// How the hub answered a handshake request, as recorded in the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum HandshakeAnswer {
    /// `{}`: the client became a hub connection (a `connect` entry follows).
    Accepted,
    /// `{"error": ...}`: refused (a bad request, or the `handshakeError` fault).
    Error,
    /// Nothing: a fault closed the transport, or keeps it open in silence.
    None,
}

/// Why a hub connection ended, as recorded in the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DisconnectReason {
    /// The client sent a Close message or closed its socket.
    ClientClosed,
    /// The socket failed or ended without a close.
    ConnectionLost,
    /// The client sent nothing for longer than the client timeout.
    ClientTimeout,
    /// The client broke the protocol; the text says how.
    ProtocolError(String),
    /// The handshake was refused or malformed; the text says why.
    HandshakeFailed(String),
    /// `POST /control/close` closed it.
    ClosedByControl,
    /// `POST /control/drop` cut it.
    DroppedByControl,
    /// A fault of `POST /control/faults` cut it (after N messages, or after a delay).
    DroppedByFault,
    /// A hostile-handshake fault closed it right after its handshake.
    ClosedByFault,
    /// Stateful reconnect: the client left more unacknowledged messages than the hub buffers.
    ReplayBufferFull,
    /// Stateful reconnect: the transport was lost and no new one resumed the connection within
    /// the grace period.
    NotResumed,
}

impl fmt::Display for DisconnectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DisconnectReason::ClientClosed => f.write_str("client closed"),
            DisconnectReason::ConnectionLost => f.write_str("connection lost"),
            DisconnectReason::ClientTimeout => f.write_str("client timeout"),
            DisconnectReason::ProtocolError(detail) => write!(f, "protocol error: {detail}"),
            DisconnectReason::HandshakeFailed(detail) => write!(f, "handshake failed: {detail}"),
            DisconnectReason::ClosedByControl => f.write_str("closed by control"),
            DisconnectReason::DroppedByControl => f.write_str("dropped by control"),
            DisconnectReason::DroppedByFault => f.write_str("dropped by fault"),
            DisconnectReason::ClosedByFault => f.write_str("closed by fault"),
            DisconnectReason::ReplayBufferFull => f.write_str("replay buffer full"),
            DisconnectReason::NotResumed => f.write_str("not resumed within the grace period"),
        }
    }
}

/// The log itself: entries in arrival order, at most [`LOG_CAPACITY`] of them.
#[derive(Debug, Default)]
pub struct EventLog {
    entries: VecDeque<LogEntry>,
}

impl EventLog {
    /// Appends an entry, forgetting the oldest one when full.
    pub fn push(&mut self, entry: LogEntry) {
        if self.entries.len() == LOG_CAPACITY {
            self.entries.pop_front();
        }
        self.entries.push_back(entry);
    }

    /// A copy of every entry, oldest first.
    pub fn entries(&self) -> Vec<LogEntry> {
        self.entries.iter().cloned().collect()
    }

    /// Forgets everything; returns how many entries there were.
    pub fn clear(&mut self) -> usize {
        let count = self.entries.len();
        self.entries.clear();
        count
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_serialize_with_a_kind_tag_and_camel_case_fields() {
        let entry = LogEntry::Invocation {
            at: "t".into(),
            connection_id: "c1".into(),
            invocation_id: None,
            target: "Echo".into(),
            arguments: RawValue::from_string("[1]".into()).unwrap(),
        };
        assert_eq!(
            serde_json::to_value(&entry).unwrap(),
            serde_json::json!({
                "kind": "invocation", "at": "t", "connectionId": "c1",
                "target": "Echo", "arguments": [1]
            })
        );
    }

    #[test]
    fn a_full_log_forgets_its_oldest_entry() {
        let mut log = EventLog::default();
        for n in 0..=LOG_CAPACITY {
            log.push(LogEntry::Disconnect {
                at: n.to_string(),
                connection_id: String::new(),
                reason: String::new(),
            });
        }
        let entries = log.entries();
        assert_eq!(entries.len(), LOG_CAPACITY);
        assert!(matches!(&entries[0], LogEntry::Disconnect { at, .. } if at == "1"));
    }
}
