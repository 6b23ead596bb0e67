//! The hub's shared state: negotiated connections waiting for their transport, the links the
//! HTTP transports and stateful reconnect find again by connection token, live hub connections
//! with their groups, server-to-client calls waiting for their result, the access tokens the
//! hub paths require, and the event log the control API reads.
//!
//! Every operation that touches more than one connection (publish, close, drop, group sends)
//! lives here, behind one lock, so the control API, the hub methods and the transports all see
//! the same picture. The lock is a plain `std::sync::Mutex` held only for short, synchronous
//! work and never across an `.await`; messages leave through each connection's [`Outbox`] and
//! its unbounded queue, so holding the lock never waits on a slow socket. Lock order: a link's
//! session, then this registry, then an outbox; this module never locks a session.
//!
//! Faults live here too, as one [`HubFaults`] in the registry, each read by the one operation it
//! perturbs, so no transport or route changes shape: negotiate refusals in [`Hub::negotiate`],
//! connect and transport refusals in [`Hub::admit`] (and [`Hub::offered_transports`] for what
//! negotiate offers), method failures in [`Hub::method_failure`], duplicated events in
//! [`Hub::send_to`], the one path every event takes, the hostile handshake in
//! [`Hub::hostile_handshake`] (which the session acts on), closed resumes in
//! [`Hub::resume_attempt`] (which the WebSocket transport acts on). Drops (now, after a delay, after N
//! messages) go through each connection's [`Outbox`].
//!
//! A connection that negotiated stateful reconnect outlives its transport: when the transport
//! is lost (or dropped by a control or fault) the connection stays registered, detached, for
//! [`HubTimings::stateful_grace`]; a new WebSocket with the same connection token resumes it
//! (see [`crate::transport::websocket`]), otherwise it ends as "not resumed".
//!
//! This module knows nothing of sockets or HTTP: transports hand it an [`Admission`], a
//! [`Link`] and an [`Outbox`], and report when they end with [`Hub::transport_ended`].

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::time::Duration;

use hubwire::protocol::negotiate::TransportKind;
use hubwire::protocol::{Completion, HubMessage, RawJson};
use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::Value;
use tokio::sync::oneshot;
use tokio::task::AbortHandle;

use crate::faults::{HostileHandshake, HubFaults};
use crate::log::{DisconnectReason, EventLog, HandshakeAnswer, LogEntry};
use crate::outbox::{Encoded, Outbox};
use crate::stamp::{new_id, now_iso8601};
use crate::transport::Link;

/// The hub's timing knobs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HubTimings {
    /// How long a connection may go without the hub sending anything before it sends a Ping.
    pub keep_alive: Duration,
    /// How long a client may stay silent before the hub closes its connection.
    pub client_timeout: Duration,
    /// How long a stateful-reconnect connection whose transport was lost waits to be resumed.
    pub stateful_grace: Duration,
    /// How long a long poll waits for something to send before answering 200 with no body.
    pub long_poll_timeout: Duration,
}

impl Default for HubTimings {
    /// ASP.NET Core's defaults: ping every 15 s, give up on a client after 30 s of silence,
    /// keep a disconnected stateful connection 15 s, hold a long poll 90 s.
    fn default() -> Self {
        HubTimings {
            keep_alive: Duration::from_secs(15),
            client_timeout: Duration::from_secs(30),
            stateful_grace: Duration::from_secs(15),
            long_poll_timeout: Duration::from_secs(90),
        }
    }
}

/// The two hub paths: the real one, and the one a redirecting negotiate points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// `/hub`.
    Main,
    /// `/hub2`, the target of negotiate redirects; it requires the redirect's access token.
    Redirected,
}

impl Endpoint {
    /// The path it is served at.
    pub fn path(self) -> &'static str {
        match self {
            Endpoint::Main => "/hub",
            Endpoint::Redirected => "/hub2",
        }
    }
}

/// A handle to the hub's shared state; clones share it.
#[derive(Clone)]
pub struct Hub {
    shared: Arc<Shared>,
}

/// A handle that does not keep the hub alive, for background scripts that should stop with it.
#[derive(Clone)]
pub struct WeakHub {
    shared: Weak<Shared>,
}

impl WeakHub {
    /// The hub, if it still exists.
    pub fn upgrade(&self) -> Option<Hub> {
        self.shared.upgrade().map(|shared| Hub { shared })
    }
}

struct Shared {
    timings: HubTimings,
    registry: Mutex<Registry>,
    /// Numbers the server-to-client invocations that expect a result.
    next_client_call: AtomicU64,
}

#[derive(Default)]
struct Registry {
    /// Negotiated connections that have not opened a transport yet, by connection token.
    negotiated: HashMap<String, Negotiated>,
    /// Admitted connections with a connection token, by token: where POSTs, polls and
    /// stateful resumes find their connection.
    links: HashMap<String, Arc<Link>>,
    /// Live hub connections (handshake done), in the order they connected.
    connections: Vec<Connection>,
    /// Server-to-client invocations waiting for the client's Completion, by invocation id.
    client_calls: HashMap<String, ClientCall>,
    log: EventLog,
    faults: HubFaults,
    /// The pending drop-after-a-delay fault, if any (aborted when the faults are cleared).
    scheduled_drop: Option<AbortHandle>,
    /// The bearer token `/hub` requires (auth mode), if any.
    auth_token: Option<String>,
    /// Negotiate redirect mode: the token `/hub2` requires, which the redirect hands out.
    redirect_token: Option<String>,
}

struct Negotiated {
    connection_id: String,
    access_token: Option<String>,
    endpoint: Endpoint,
    stateful: bool,
}

struct Connection {
    connection_id: String,
    token: Option<String>,
    endpoint: Endpoint,
    transport: TransportKind,
    access_token: Option<String>,
    groups: BTreeSet<String>,
    outbox: Outbox,
    /// The attachment whose loss started the current grace period (stateful reconnect).
    grace_epoch: Option<u64>,
}

struct ClientCall {
    connection_id: String,
    answer: oneshot::Sender<Completion>,
}

/// The answer to a negotiate: what the client must use to connect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NegotiateGrant {
    /// The connection id, public (other clients may see it).
    pub connection_id: String,
    /// The secret the client presents as `id=` when it connects. For negotiate version 0 it is
    /// the connection id itself.
    pub connection_token: String,
    /// Whether stateful reconnect is on for the connection (the client asked for it).
    pub stateful: bool,
}

/// A client let onto a transport: who it is and what it presented.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Admission {
    /// The connection id (from negotiate, or fresh when the client skipped negotiate).
    pub connection_id: String,
    /// The connection token it presented (none when it skipped negotiate).
    pub token: Option<String>,
    /// The hub path it connected to.
    pub endpoint: Endpoint,
    /// The transport it connected with.
    pub transport: TransportKind,
    /// The token presented when the transport opened, if any.
    pub presented_token: Option<String>,
    /// The bearer token presented at negotiate, if any.
    pub negotiated_token: Option<String>,
    /// Whether its negotiate turned stateful reconnect on (used only over WebSockets, with a
    /// version 2 handshake).
    pub stateful_negotiated: bool,
}

/// Why a client may not open a transport.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdmitError {
    /// The `id` names no negotiated connection, or one that has already connected.
    UnknownConnection,
    /// The transport is switched off by a fault (and not offered by negotiate).
    TransportRefused,
    /// A refuse-the-next-N-connects fault used up one refusal on this attempt.
    ConnectRefused,
}

/// A negotiate refused by a refuse-the-next-N-negotiations fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NegotiateRefused;

/// A server-to-client call that could not be made: no such connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoSuchConnection;

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
    /// The hub path, `/hub` or `/hub2`.
    pub endpoint: &'static str,
    /// Its groups, sorted.
    pub groups: Vec<String>,
    /// The token it presented on connect, else the one from its negotiate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_token: Option<String>,
    /// Whether stateful reconnect is on.
    pub stateful: bool,
    /// Whether a transport carries it now (false only for a stateful connection waiting to be
    /// resumed).
    pub attached: bool,
    /// Stateful reconnect: messages sent and not yet acknowledged by the client.
    pub unacknowledged: usize,
    /// Long Polling: how many polls the hub is holding open now.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub held_polls: Option<usize>,
}

impl Hub {
    /// An empty hub with the given timings.
    pub fn new(timings: HubTimings) -> Self {
        Hub {
            shared: Arc::new(Shared {
                timings,
                registry: Mutex::new(Registry::default()),
                next_client_call: AtomicU64::new(1),
            }),
        }
    }

    /// A handle that does not keep the hub alive.
    pub fn downgrade(&self) -> WeakHub {
        WeakHub {
            shared: Arc::downgrade(&self.shared),
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

    // --- access tokens --------------------------------------------------------------------

    /// The bearer token `endpoint` requires on every request, if any.
    pub fn required_token(&self, endpoint: Endpoint) -> Option<String> {
        let registry = self.registry();
        match endpoint {
            Endpoint::Main => registry.auth_token.clone(),
            // Without redirect mode nobody is sent to /hub2; it stays closed to everyone.
            Endpoint::Redirected => Some(registry.redirect_token.clone().unwrap_or_default()),
        }
    }

    /// Auth mode: `/hub` requires this bearer token from now on (`None`: no token needed).
    /// Connections already open stay open.
    pub fn set_auth_token(&self, token: Option<String>) {
        self.registry().auth_token = token;
    }

    /// The token `/hub` requires now, if any.
    pub fn auth_token(&self) -> Option<String> {
        self.registry().auth_token.clone()
    }

    /// Redirect mode: `/hub/negotiate` sends clients to `/hub2` with this token (`None`: off).
    pub fn set_redirect_token(&self, token: Option<String>) {
        self.registry().redirect_token = token;
    }

    /// The token redirects hand out, if redirect mode is on.
    pub fn redirect_token(&self) -> Option<String> {
        self.registry().redirect_token.clone()
    }

    // --- negotiate and admission ----------------------------------------------------------

    /// Creates a connection for a negotiate request and logs it, unless a fault refuses it.
    pub fn negotiate(
        &self,
        endpoint: Endpoint,
        negotiate_version: u32,
        access_token: Option<String>,
        stateful: bool,
    ) -> Result<NegotiateGrant, NegotiateRefused> {
        let mut registry = self.registry();
        if registry.faults.take_negotiation_refusal() {
            registry.log_refusal("negotiate", None, 503);
            return Err(NegotiateRefused);
        }
        let connection_id = new_id();
        // Version 0 clients put the connection id itself in `id=`.
        let connection_token = if negotiate_version == 0 {
            connection_id.clone()
        } else {
            new_id()
        };
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
                endpoint,
                stateful,
            },
        );
        Ok(NegotiateGrant {
            connection_id,
            connection_token,
            stateful,
        })
    }

    /// Logs a negotiate answered with a redirect.
    pub fn log_redirect(&self, url: &str) {
        self.registry().log.push(LogEntry::Redirect {
            at: now_iso8601(),
            url: url.to_string(),
        });
    }

    /// Logs a request refused for a missing or wrong access token.
    pub fn log_unauthorized(&self, request: &'static str) {
        self.registry().log_refusal(request, None, 401);
    }

    /// The transports negotiate offers: all three, best first, minus those a fault switched off.
    pub fn offered_transports(&self) -> Vec<TransportKind> {
        let registry = self.registry();
        [
            TransportKind::WebSockets,
            TransportKind::ServerSentEvents,
            TransportKind::LongPolling,
        ]
        .into_iter()
        .filter(|kind| !registry.faults.refuses(*kind))
        .collect()
    }

    /// Lets a client open `transport` for the connection whose token is `id`, using the token up
    /// so it cannot connect twice. Without an `id` (the client skipped negotiate, which only
    /// WebSockets allows) a fresh connection is made. An unknown token is refused before any
    /// fault is consulted, so refusals count real attempts only; a refused attempt leaves the
    /// token usable.
    pub fn admit(
        &self,
        endpoint: Endpoint,
        id: Option<&str>,
        transport: TransportKind,
        presented_token: Option<String>,
    ) -> Result<Admission, AdmitError> {
        let mut registry = self.registry();
        if let Some(id) = id {
            // A token negotiated on the other hub path is not valid here.
            match registry.negotiated.get(id) {
                Some(negotiated) if negotiated.endpoint == endpoint => {}
                _ => return Err(AdmitError::UnknownConnection),
            }
        }
        if registry.faults.refuses(transport) {
            registry.log_refusal("connect", Some(transport), 404);
            return Err(AdmitError::TransportRefused);
        }
        if registry.faults.take_connect_refusal() {
            registry.log_refusal("connect", Some(transport), 503);
            return Err(AdmitError::ConnectRefused);
        }
        let negotiated = id.and_then(|id| registry.negotiated.remove(id));
        let admission = match negotiated {
            None => Admission {
                connection_id: new_id(),
                token: None,
                endpoint,
                transport,
                presented_token,
                negotiated_token: None,
                stateful_negotiated: false,
            },
            Some(negotiated) => Admission {
                connection_id: negotiated.connection_id,
                token: id.map(str::to_string),
                endpoint,
                transport,
                presented_token,
                negotiated_token: negotiated.access_token,
                stateful_negotiated: negotiated.stateful,
            },
        };
        registry.log.push(LogEntry::TransportOpened {
            at: now_iso8601(),
            connection_id: admission.connection_id.clone(),
            transport: transport.name(),
            resume: false,
        });
        Ok(admission)
    }

    /// A WebSocket asks to resume the stateful connection `connection_id` (its checks passed):
    /// logs the attempt, and returns true when a fault wants the socket accepted and closed at
    /// once instead.
    pub fn resume_attempt(&self, connection_id: &str) -> bool {
        let mut registry = self.registry();
        registry.log.push(LogEntry::TransportOpened {
            at: now_iso8601(),
            connection_id: connection_id.to_string(),
            transport: TransportKind::WebSockets.name(),
            resume: true,
        });
        registry.faults.close_resumes
    }

    /// The hostile way to treat handshakes a fault asks for, if any.
    pub fn hostile_handshake(&self) -> Option<HostileHandshake> {
        self.registry().faults.hostile
    }

    /// Logs a complete handshake request from `admission`'s client and the hub's answer.
    pub fn log_handshake(&self, admission: &Admission, answer: HandshakeAnswer) {
        self.registry().log.push(LogEntry::Handshake {
            at: now_iso8601(),
            connection_id: admission.connection_id.clone(),
            transport: admission.transport.name(),
            answer,
        });
    }

    /// Makes an admitted connection findable by its connection token.
    pub fn add_link(&self, link: Arc<Link>) {
        if let Some(token) = &link.token {
            self.registry().links.insert(token.clone(), link.clone());
        }
    }

    /// The admitted connection with this connection token, if it is still around.
    pub fn link(&self, token: &str) -> Option<Arc<Link>> {
        self.registry().links.get(token).cloned()
    }

    // --- the life of a connection ---------------------------------------------------------

    /// Makes an admitted client a hub connection (its handshake succeeded) and logs the connect.
    /// From now on publishes and group sends reach it through `outbox`.
    pub fn register(&self, admission: &Admission, outbox: Outbox) {
        let mut registry = self.registry();
        registry.log.push(LogEntry::Connect {
            at: now_iso8601(),
            connection_id: admission.connection_id.clone(),
            transport: admission.transport.name(),
            access_token: admission.presented_token.clone(),
        });
        registry.connections.push(Connection {
            connection_id: admission.connection_id.clone(),
            token: admission.token.clone(),
            endpoint: admission.endpoint,
            transport: admission.transport,
            access_token: admission
                .presented_token
                .clone()
                .or(admission.negotiated_token.clone()),
            groups: BTreeSet::new(),
            outbox,
            grace_epoch: None,
        });
    }

    /// Forgets a hub connection and logs why it ended. Does nothing if it is already gone (a
    /// control close or drop removes connections itself, with its own reason).
    pub fn unregister(&self, connection_id: &str, reason: DisconnectReason) {
        let mut registry = self.registry();
        if let Some(connection) = registry.take_connection(connection_id) {
            registry.forget(connection, &reason);
        }
    }

    /// A transport of `link` reports that it ended, for `reason`; `epoch` is the outbox
    /// attachment it carried. A connection without stateful reconnect ends with it (if nothing
    /// ended it first); a stateful one is kept, detached, for the grace period. A report from a
    /// transport that was already replaced changes nothing.
    pub fn transport_ended(&self, link: &Link, epoch: u64, reason: DisconnectReason) {
        let mut registry = self.registry();
        let Some(index) = registry.position(&link.connection_id) else {
            // Never registered (no handshake) or already ended: only its token is left.
            if let Some(token) = &link.token {
                registry.links.remove(token);
            }
            return;
        };
        let connection = &mut registry.connections[index];
        if !connection.outbox.is_stateful() {
            let connection = registry.connections.remove(index);
            registry.forget(connection, &reason);
            return;
        }
        if connection.outbox.epoch() != epoch {
            return;
        }
        connection.outbox.detach(epoch);
        if connection.grace_epoch != Some(epoch) {
            connection.grace_epoch = Some(epoch);
            let connection_id = connection.connection_id.clone();
            registry.log.push(LogEntry::TransportLost {
                at: now_iso8601(),
                connection_id: connection_id.clone(),
                reason: reason.to_string(),
            });
            self.start_grace(connection_id, epoch);
        }
    }

    /// A stateful connection was resumed by a new transport (its outbox is attached again).
    pub fn resumed(&self, connection_id: &str) {
        let mut registry = self.registry();
        if let Some(connection) = registry.connection_mut(connection_id) {
            connection.grace_epoch = None;
        }
        registry.log.push(LogEntry::Resumed {
            at: now_iso8601(),
            connection_id: connection_id.to_string(),
        });
    }

    /// Ends the detached connection after the grace period unless it was resumed meanwhile.
    fn start_grace(&self, connection_id: String, epoch: u64) {
        let hub = self.downgrade();
        let grace = self.shared.timings.stateful_grace;
        tokio::spawn(async move {
            tokio::time::sleep(grace).await;
            let Some(hub) = hub.upgrade() else { return };
            let mut registry = hub.registry();
            let Some(index) = registry.position(&connection_id) else {
                return;
            };
            let outbox = &registry.connections[index].outbox;
            if outbox.epoch() == epoch && !outbox.is_attached() {
                let connection = registry.connections.remove(index);
                registry.forget(connection, &DisconnectReason::NotResumed);
            }
        });
    }

    // --- groups and events ----------------------------------------------------------------

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

    /// Every group with at least one member.
    pub fn groups(&self) -> BTreeSet<String> {
        self.registry()
            .connections
            .iter()
            .flat_map(|connection| connection.groups.iter().cloned())
            .collect()
    }

    /// Sends an event (a hub message, normally a non-blocking Invocation) to every connection in
    /// `audience`; returns how many connections it went to. A duplicate-next-events fault makes
    /// it go to each of them twice.
    pub fn send_to(&self, audience: Audience<'_>, message: &HubMessage) -> usize {
        let encoded = Encoded::new(message);
        let mut registry = self.registry();
        let copies = if registry.faults.take_duplicate() {
            2
        } else {
            1
        };
        let recipients: Vec<&Connection> = registry
            .connections
            .iter()
            .filter(|connection| match audience {
                Audience::All => true,
                Audience::Group(group) => connection.groups.contains(group),
            })
            .collect();
        for connection in &recipients {
            for _ in 0..copies {
                connection.outbox.send(&encoded);
            }
        }
        recipients.len()
    }

    // --- server-to-client calls with a result ---------------------------------------------

    /// Invokes `target` on one connection (the newest when `connection_id` is `None`) with an
    /// invocation id, and returns the receiver its Completion will arrive on. The receiver
    /// fails if the connection ends first; [`Hub::forget_client_call`] gives up waiting.
    pub fn call_client(
        &self,
        connection_id: Option<&str>,
        target: &str,
        arguments: RawJson,
    ) -> Result<(String, oneshot::Receiver<Completion>), NoSuchConnection> {
        let invocation_id = format!(
            "server-{}",
            self.shared.next_client_call.fetch_add(1, Ordering::Relaxed)
        );
        let mut registry = self.registry();
        let connection = match connection_id {
            Some(id) => registry
                .connections
                .iter()
                .find(|connection| connection.connection_id == id),
            None => registry.connections.last(),
        }
        .ok_or(NoSuchConnection)?;
        let (answer, answered) = oneshot::channel();
        connection
            .outbox
            .send(&Encoded::new(&HubMessage::Invocation {
                invocation_id: Some(invocation_id.clone()),
                target: target.to_string(),
                arguments: arguments.into(),
                stream_ids: Vec::new(),
            }));
        let connection_id = connection.connection_id.clone();
        registry.client_calls.insert(
            invocation_id.clone(),
            ClientCall {
                connection_id,
                answer,
            },
        );
        Ok((invocation_id, answered))
    }

    /// Hands a client's Completion to the control call waiting for it. Returns false when no
    /// call of this connection waits for that id (the session then ignores the Completion).
    pub fn complete_client_call(
        &self,
        connection_id: &str,
        invocation_id: &str,
        completion: Completion,
    ) -> bool {
        let mut registry = self.registry();
        let belongs = registry
            .client_calls
            .get(invocation_id)
            .is_some_and(|call| call.connection_id == connection_id);
        if !belongs {
            return false;
        }
        if let Some(call) = registry.client_calls.remove(invocation_id) {
            // The control request may have given up already; then nobody needs the answer.
            let _ = call.answer.send(completion);
        }
        true
    }

    /// Stops waiting for a server-to-client call (its control request timed out).
    pub fn forget_client_call(&self, invocation_id: &str) {
        self.registry().client_calls.remove(invocation_id);
    }

    // --- controls -------------------------------------------------------------------------

    /// Sends a Close message to every connection and closes them; returns how many.
    pub fn close_all(&self, error: Option<String>, allow_reconnect: bool) -> usize {
        let close = HubMessage::Close {
            error,
            allow_reconnect,
        }
        .encode();
        let mut registry = self.registry();
        let connections = std::mem::take(&mut registry.connections);
        let count = connections.len();
        for connection in connections {
            connection.outbox.close(Some(close.clone()));
            registry.forget(connection, &DisconnectReason::ClosedByControl);
        }
        count
    }

    /// Cuts every connection's transport with nothing sent, like a network failure; returns
    /// how many. Connections without stateful reconnect are removed at once (so
    /// `GET /control/connections` right after shows none); stateful ones stay, detached, and may
    /// be resumed within the grace period.
    pub fn drop_all(&self, reason: DisconnectReason) -> usize {
        let mut registry = self.registry();
        let connections = std::mem::take(&mut registry.connections);
        // Counted: the transports actually cut. A stateful connection already waiting to be
        // resumed has none to cut.
        let mut count = 0;
        for mut connection in connections {
            let epoch = connection.outbox.epoch();
            let was_attached = connection.outbox.abort(reason.clone());
            count += usize::from(was_attached);
            if !connection.outbox.is_stateful() {
                registry.forget(connection, &reason);
                continue;
            }
            if was_attached && connection.grace_epoch != Some(epoch) {
                connection.grace_epoch = Some(epoch);
                registry.log.push(LogEntry::TransportLost {
                    at: now_iso8601(),
                    connection_id: connection.connection_id.clone(),
                    reason: reason.to_string(),
                });
                self.start_grace(connection.connection_id.clone(), epoch);
            }
            registry.connections.push(connection);
        }
        count
    }

    /// Arms every live connection to be cut right after `count` more messages (Invocations,
    /// StreamItems, Completions) are sent to it; returns how many were armed.
    pub fn drop_after_messages(&self, count: u32) -> usize {
        let registry = self.registry();
        for connection in &registry.connections {
            connection.outbox.drop_after(count);
        }
        registry.connections.len()
    }

    /// Cuts every connection live `delay` from now (a later call replaces an earlier one).
    pub fn drop_after_delay(&self, delay: Duration) {
        let hub = self.clone();
        let task = tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            {
                let mut registry = hub.registry();
                let this_task = tokio::task::id();
                if registry.scheduled_drop.as_ref().map(AbortHandle::id) == Some(this_task) {
                    registry.scheduled_drop = None;
                }
            }
            hub.drop_all(DisconnectReason::DroppedByFault);
        });
        if let Some(earlier) = self.registry().scheduled_drop.replace(task.abort_handle()) {
            earlier.abort();
        }
    }

    /// The injected error for a call of hub method `method` (canonical name) with
    /// `first_argument`, if a method fault matches (using it up by one).
    pub fn method_failure(&self, method: &str, first_argument: Option<&Value>) -> Option<String> {
        self.registry()
            .faults
            .take_method_failure(method, first_argument)
    }

    /// Heals the hub: no standing faults, no scheduled drop. Connections already armed to drop
    /// after N messages stay armed.
    pub fn clear_faults(&self) -> Value {
        let mut registry = self.registry();
        registry.faults = HubFaults::default();
        if let Some(drop) = registry.scheduled_drop.take() {
            drop.abort();
        }
        registry.faults.view()
    }

    /// Changes the standing faults and returns them as `GET /control/faults` shows them.
    pub fn update_faults(&self, change: impl FnOnce(&mut HubFaults)) -> Value {
        let mut registry = self.registry();
        change(&mut registry.faults);
        registry.faults.view()
    }

    /// Reads something from the standing faults without changing them.
    pub fn read_faults<T>(&self, read: impl FnOnce(&HubFaults) -> T) -> T {
        read(&self.registry().faults)
    }

    /// Every live connection, in connect order.
    pub fn connections(&self) -> Vec<ConnectionInfo> {
        let registry = self.registry();
        registry
            .connections
            .iter()
            .map(|connection| ConnectionInfo {
                connection_id: connection.connection_id.clone(),
                transport: connection.transport.name(),
                endpoint: connection.endpoint.path(),
                groups: connection.groups.iter().cloned().collect(),
                access_token: connection.access_token.clone(),
                stateful: connection.outbox.is_stateful(),
                attached: connection.outbox.is_attached(),
                unacknowledged: connection.outbox.unacknowledged(),
                held_polls: (connection.transport == TransportKind::LongPolling).then(|| {
                    connection
                        .token
                        .as_ref()
                        .and_then(|token| registry.links.get(token))
                        .map_or(0, |link| link.held_polls())
                }),
            })
            .collect()
    }

    // --- the log --------------------------------------------------------------------------

    /// Appends an entry made elsewhere (the scenario's polls and sockets).
    pub fn record(&self, entry: LogEntry) {
        self.registry().log.push(entry);
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

    /// Logs a Ping from the client.
    pub fn log_ping(&self, connection_id: &str) {
        self.registry().log.push(LogEntry::Ping {
            at: now_iso8601(),
            connection_id: connection_id.to_string(),
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
    fn position(&self, connection_id: &str) -> Option<usize> {
        self.connections
            .iter()
            .position(|connection| connection.connection_id == connection_id)
    }

    fn connection_mut(&mut self, connection_id: &str) -> Option<&mut Connection> {
        self.connections
            .iter_mut()
            .find(|connection| connection.connection_id == connection_id)
    }

    fn take_connection(&mut self, connection_id: &str) -> Option<Connection> {
        let index = self.position(connection_id)?;
        Some(self.connections.remove(index))
    }

    /// Everything that must go with an ended connection: its token (Long Polling's later, see
    /// below), its waiting server calls (their control requests learn it closed), its outbox's
    /// buffer; then the log entry.
    fn forget(&mut self, connection: Connection, reason: &DisconnectReason) {
        // A Long Polling connection's last records (a handshake answer, a Close) wait in its
        // queue for the next poll, which finds the queue through the link; that transport
        // removes the link itself once it has delivered the end (or the client timed out).
        if connection.transport != TransportKind::LongPolling {
            if let Some(token) = &connection.token {
                self.links.remove(token);
            }
        }
        self.client_calls
            .retain(|_, call| call.connection_id != connection.connection_id);
        connection.outbox.finish();
        self.log.push(LogEntry::Disconnect {
            at: now_iso8601(),
            connection_id: connection.connection_id.clone(),
            reason: reason.to_string(),
        });
    }

    fn log_refusal(
        &mut self,
        request: &'static str,
        transport: Option<TransportKind>,
        status: u16,
    ) {
        self.log.push(LogEntry::Refused {
            at: now_iso8601(),
            request,
            transport: transport.map(TransportKind::name),
            status,
        });
    }
}

/// The arguments as a serde raw value for the log, text unchanged.
fn raw_arguments(arguments: &RawJson) -> Box<RawValue> {
    // RawJson is valid JSON by construction; the default (null) only replaces a panic path.
    RawValue::from_string(arguments.as_str().to_string()).unwrap_or_default()
}
