//! The hub's shared state: negotiated connections waiting for their transport, live hub
//! connections with their groups, and the event log the control API reads.
//!
//! Every operation that touches more than one connection (publish, close, drop, group sends)
//! lives here, behind one lock, so the control API, the hub methods and the transports all see
//! the same picture. The lock is a plain `std::sync::Mutex` held only for short, synchronous
//! work and never across an `.await`; messages leave through each connection's unbounded
//! [`Outgoing`] queue, so holding the lock never waits on a slow socket.
//!
//! Faults switched on by later controls (refuse WebSockets, refuse the next N connects, fail
//! polls, send the next event twice) belong in `Registry` as one `faults` field, each set by a
//! control route and read by the one operation it perturbs, so no transport or route changes
//! shape: connect refusals in [`Hub::admit`] (and [`Hub::negotiate`] for the transports offered),
//! failed polls in the Long Polling transport's admission, duplicated events in [`Hub::send_to`],
//! the one path every server-to-client invocation takes.
//!
//! This module knows nothing of sockets or HTTP: transports hand it an [`Admission`] and a queue,
//! and take [`Outgoing`] items (records encoded with `hubwire::protocol`) off the queue.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use hubwire::protocol::negotiate::TransportKind;
use hubwire::protocol::HubMessage;
use hubwire::protocol::RawJson;
use serde::Serialize;
use serde_json::value::RawValue;
use tokio::sync::mpsc::UnboundedSender;

use crate::log::{DisconnectReason, EventLog, LogEntry};
use crate::stamp::{new_id, now_iso8601};
use crate::transport::Outgoing;

/// The hub's timing knobs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HubTimings {
    /// How long a connection may go without the hub sending anything before it sends a Ping.
    pub keep_alive: Duration,
    /// How long a client may stay silent before the hub closes its connection.
    pub client_timeout: Duration,
}

impl Default for HubTimings {
    /// ASP.NET Core's defaults: ping every 15 s, give up on a client after 30 s of silence.
    fn default() -> Self {
        HubTimings {
            keep_alive: Duration::from_secs(15),
            client_timeout: Duration::from_secs(30),
        }
    }
}

/// A handle to the hub's shared state; clones share it.
#[derive(Clone)]
pub struct Hub {
    shared: Arc<Shared>,
}

struct Shared {
    timings: HubTimings,
    registry: Mutex<Registry>,
}

#[derive(Default)]
struct Registry {
    /// Negotiated connections that have not opened a transport yet, by connection token.
    negotiated: HashMap<String, Negotiated>,
    /// Live hub connections (handshake done), in the order they connected.
    connections: Vec<Connection>,
    log: EventLog,
}

struct Negotiated {
    connection_id: String,
    access_token: Option<String>,
}

struct Connection {
    connection_id: String,
    transport: TransportKind,
    access_token: Option<String>,
    groups: BTreeSet<String>,
    outgoing: UnboundedSender<Outgoing>,
}

/// The answer to a negotiate: what the client must use to connect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NegotiateGrant {
    /// The connection id, public (other clients may see it).
    pub connection_id: String,
    /// The secret the client presents as `id=` when it connects. For negotiate version 0 it is
    /// the connection id itself.
    pub connection_token: String,
}

/// A client let onto a transport: who it is and what it presented.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Admission {
    /// The connection id (from negotiate, or fresh when the client skipped negotiate).
    pub connection_id: String,
    /// The transport it connected with.
    pub transport: TransportKind,
    /// The token presented when the transport opened, if any.
    pub presented_token: Option<String>,
    /// The bearer token presented at negotiate, if any.
    pub negotiated_token: Option<String>,
}

/// Why a client may not open a transport.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdmitError {
    /// The `id` names no negotiated connection, or one that has already connected.
    UnknownConnection,
}

/// Where a published invocation goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience<'a> {
    /// Every hub connection.
    All,
    /// The members of one group.
    Group(&'a str),
}

/// One live connection as `GET /control/connections` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionInfo {
    /// The connection id.
    pub connection_id: String,
    /// The transport's wire name.
    pub transport: &'static str,
    /// Its groups, sorted.
    pub groups: Vec<String>,
    /// The token it presented on connect, else the one from its negotiate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_token: Option<String>,
}

impl Hub {
    /// An empty hub with the given timings.
    pub fn new(timings: HubTimings) -> Self {
        Hub {
            shared: Arc::new(Shared {
                timings,
                registry: Mutex::new(Registry::default()),
            }),
        }
    }

    /// The hub's timing knobs.
    pub fn timings(&self) -> HubTimings {
        self.shared.timings
    }

    fn registry(&self) -> MutexGuard<'_, Registry> {
        // A panic elsewhere while holding the lock leaves plain data behind, still usable; the
        // hub must keep serving the other connections rather than fail every later request.
        self.shared
            .registry
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Creates a connection for a negotiate request and logs it.
    pub fn negotiate(
        &self,
        negotiate_version: u32,
        access_token: Option<String>,
    ) -> NegotiateGrant {
        let connection_id = new_id();
        // Version 0 clients put the connection id itself in `id=`.
        let connection_token = if negotiate_version == 0 {
            connection_id.clone()
        } else {
            new_id()
        };
        let mut registry = self.registry();
        registry.log.push(LogEntry::Negotiate {
            at: now_iso8601(),
            connection_id: connection_id.clone(),
            negotiate_version,
            access_token: access_token.clone(),
        });
        registry.negotiated.insert(
            connection_token.clone(),
            Negotiated {
                connection_id: connection_id.clone(),
                access_token,
            },
        );
        NegotiateGrant {
            connection_id,
            connection_token,
        }
    }

    /// Lets a client open `transport` for the connection whose token is `id`, using the token up
    /// so it cannot connect twice. Without an `id` (the client skipped negotiate, which only
    /// WebSockets allows) a fresh connection is made.
    pub fn admit(
        &self,
        id: Option<&str>,
        transport: TransportKind,
        presented_token: Option<String>,
    ) -> Result<Admission, AdmitError> {
        let (connection_id, negotiated_token) = match id {
            None => (new_id(), None),
            Some(token) => {
                let negotiated = self
                    .registry()
                    .negotiated
                    .remove(token)
                    .ok_or(AdmitError::UnknownConnection)?;
                (negotiated.connection_id, negotiated.access_token)
            }
        };
        Ok(Admission {
            connection_id,
            transport,
            presented_token,
            negotiated_token,
        })
    }

    /// Whether `id` names a negotiated connection that has not connected yet.
    pub fn is_negotiated(&self, id: &str) -> bool {
        self.registry().negotiated.contains_key(id)
    }

    /// Makes an admitted client a hub connection (its handshake succeeded) and logs the connect.
    /// From now on publishes and group sends reach it through `outgoing`.
    pub fn register(&self, admission: &Admission, outgoing: UnboundedSender<Outgoing>) {
        let mut registry = self.registry();
        registry.log.push(LogEntry::Connect {
            at: now_iso8601(),
            connection_id: admission.connection_id.clone(),
            transport: admission.transport.name(),
            access_token: admission.presented_token.clone(),
        });
        registry.connections.push(Connection {
            connection_id: admission.connection_id.clone(),
            transport: admission.transport,
            access_token: admission
                .presented_token
                .clone()
                .or(admission.negotiated_token.clone()),
            groups: BTreeSet::new(),
            outgoing,
        });
    }

    /// Forgets a hub connection and logs why it ended. Does nothing if it is already gone (a
    /// control close or drop removes connections itself, with its own reason).
    pub fn unregister(&self, connection_id: &str, reason: DisconnectReason) {
        let mut registry = self.registry();
        if let Some(connection) = registry.take_connection(connection_id) {
            registry.log_disconnect(&connection, &reason);
        }
    }

    /// Adds a connection to a group. Unknown connections are ignored.
    pub fn join_group(&self, connection_id: &str, group: &str) {
        if let Some(connection) = self.registry().connection_mut(connection_id) {
            connection.groups.insert(group.to_string());
        }
    }

    /// Removes a connection from a group. Leaving a group one is not in is not an error.
    pub fn leave_group(&self, connection_id: &str, group: &str) {
        if let Some(connection) = self.registry().connection_mut(connection_id) {
            connection.groups.remove(group);
        }
    }

    /// The groups a connection is in, sorted.
    pub fn groups_of(&self, connection_id: &str) -> Vec<String> {
        self.registry()
            .connection_mut(connection_id)
            .map(|connection| connection.groups.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// Sends a hub message to every connection in `audience`; returns how many it was queued for.
    pub fn send_to(&self, audience: Audience<'_>, message: &HubMessage) -> usize {
        let record = message.encode();
        let registry = self.registry();
        registry
            .connections
            .iter()
            .filter(|connection| match audience {
                Audience::All => true,
                Audience::Group(group) => connection.groups.contains(group),
            })
            .filter(|connection| {
                connection
                    .outgoing
                    .send(Outgoing::Records(record.clone()))
                    .is_ok()
            })
            .count()
    }

    /// Sends a Close message to every connection and closes them; returns how many.
    pub fn close_all(&self, error: Option<String>, allow_reconnect: bool) -> usize {
        let close = HubMessage::Close {
            error,
            allow_reconnect,
        }
        .encode();
        self.end_all(DisconnectReason::ClosedByControl, || {
            Outgoing::Close(Some(close.clone()))
        })
    }

    /// Cuts every connection with nothing sent, like a network failure; returns how many.
    pub fn drop_all(&self) -> usize {
        self.end_all(DisconnectReason::DroppedByControl, || Outgoing::Abort)
    }

    /// Removes every connection at once (so `GET /control/connections` right after shows none)
    /// and tells each transport how to end.
    fn end_all(&self, reason: DisconnectReason, ending: impl Fn() -> Outgoing) -> usize {
        let mut registry = self.registry();
        let connections = std::mem::take(&mut registry.connections);
        for connection in &connections {
            // A transport that already ended has dropped its queue; nothing is left to end.
            let _ = connection.outgoing.send(ending());
            registry.log_disconnect(connection, &reason);
        }
        connections.len()
    }

    /// Every live connection, in connect order.
    pub fn connections(&self) -> Vec<ConnectionInfo> {
        self.registry()
            .connections
            .iter()
            .map(|connection| ConnectionInfo {
                connection_id: connection.connection_id.clone(),
                transport: connection.transport.name(),
                groups: connection.groups.iter().cloned().collect(),
                access_token: connection.access_token.clone(),
            })
            .collect()
    }

    /// Logs an Invocation (`invocation_id` is `None` for a non-blocking `send`).
    pub fn log_invocation(
        &self,
        connection_id: &str,
        invocation_id: Option<&str>,
        target: &str,
        arguments: &RawJson,
    ) {
        let arguments = raw_arguments(arguments);
        self.registry().log.push(LogEntry::Invocation {
            at: now_iso8601(),
            connection_id: connection_id.to_string(),
            invocation_id: invocation_id.map(str::to_string),
            target: target.to_string(),
            arguments,
        });
    }

    /// Logs a StreamInvocation.
    pub fn log_stream_invocation(
        &self,
        connection_id: &str,
        invocation_id: &str,
        target: &str,
        arguments: &RawJson,
    ) {
        let arguments = raw_arguments(arguments);
        self.registry().log.push(LogEntry::StreamInvocation {
            at: now_iso8601(),
            connection_id: connection_id.to_string(),
            invocation_id: invocation_id.to_string(),
            target: target.to_string(),
            arguments,
        });
    }

    /// The event log, oldest first.
    pub fn log_entries(&self) -> Vec<LogEntry> {
        self.registry().log.entries()
    }

    /// Empties the event log; returns how many entries it had.
    pub fn clear_log(&self) -> usize {
        self.registry().log.clear()
    }
}

impl Registry {
    fn connection_mut(&mut self, connection_id: &str) -> Option<&mut Connection> {
        self.connections
            .iter_mut()
            .find(|connection| connection.connection_id == connection_id)
    }

    fn take_connection(&mut self, connection_id: &str) -> Option<Connection> {
        let index = self
            .connections
            .iter()
            .position(|connection| connection.connection_id == connection_id)?;
        Some(self.connections.remove(index))
    }

    fn log_disconnect(&mut self, connection: &Connection, reason: &DisconnectReason) {
        self.log.push(LogEntry::Disconnect {
            at: now_iso8601(),
            connection_id: connection.connection_id.clone(),
            reason: reason.to_string(),
        });
    }
}

/// The arguments as a serde raw value for the log, text unchanged.
fn raw_arguments(arguments: &RawJson) -> Box<RawValue> {
    // RawJson is valid JSON by construction; the default (null) only replaces a panic path.
    RawValue::from_string(arguments.as_str().to_string()).unwrap_or_default()
}
