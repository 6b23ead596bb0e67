//! The engine of one hub connection: negotiate, transport, handshake, invocations, keep-alive.
//!
//! # Contract
//! Fully deterministic and free of I/O. The shell drives it with three kinds of calls, always
//! passing the current time:
//!
//! - **app commands**: [`start`](HubConnection::start), [`stop`](HubConnection::stop),
//!   [`invoke`](HubConnection::invoke), [`send`](HubConnection::send), [`on`](HubConnection::on),
//!   [`off`](HubConnection::off);
//! - **inputs** from the world: `handle_access_token`, `handle_http`, `handle_transport_opened`,
//!   `handle_transport_data` (or `handle_transport_text`, for a frame kept as shared text that
//!   the payloads parsed from it point into), `handle_transport_closed`, `handle_timeout`;
//! - **outputs**, drained after every call: [`poll_output`](HubConnection::poll_output) until it
//!   returns `None`, then [`poll_timeout`](HubConnection::poll_timeout) for the one time the
//!   engine must next be woken with `handle_timeout`.
//!
//! States: Disconnected → Connecting → Connected → Disconnecting → Disconnected. The state is
//! derived from the current [`Phase`], never stored twice.
//!
//! # Transports are named
//! Every transport the engine opens gets a new [`TransportId`]; `OpenTransport` and
//! `CloseTransport` carry it and the transport inputs name it. An input about any other
//! transport is ignored: the shell answers `CloseTransport` at once, and when the same pump has
//! already started the next attempt (a zero-delay retry), that answer must not be read as the
//! new transport failing.
//!
//! # Stateful resume
//! With stateful reconnect, a socket lost while connected is replaced by one new socket to the
//! same connection, at most once per loss. The resume is done only when the server has spoken
//! on the new socket (its Sequence, or any first frame) within the handshake timeout; otherwise
//! the connection closes as a normal loss and automatic reconnect takes over with its delays.
//! A socket that dies within [`HubConfig::stable_connection_threshold`] of the server
//! confirming it (handshake answer, or first frame after a resume) is not resumed (a server
//! that accepts and drops every socket would otherwise be retried on every round trip); it
//! closes as a normal loss. [`Event::Resuming`] and [`Event::Resumed`] tell the manager, which
//! counts the resume as the first retry of the episode and may refuse it
//! ([`HubConnection::abandon_resume`]) when its policy allows no retry. Deliberate difference
//! from the official client, which resumes any lost socket at once.
//!
//! # Nothing spins
//! Settings are checked by [`HubConfig::validate`] (also at `start`), every timer is armed at
//! least [`MIN_TIMER`] ahead, and one `handle_timeout` call fires
//! each timer reason at most once.

use std::collections::VecDeque;
use std::time::Duration;

use super::error::HubError;
use super::handlers::{HandlerRegistry, Handlers};
use super::id_map::IdMap;
use super::text::decimal;
use super::limits::{check_duration, check_size, ConfigError, MIN_TIMER};
use super::time::Instant;
use super::replay::Replay;
use super::redact::redact;
use super::timer::{Timer, TimerTable};
use crate::protocol::framing::DEFAULT_MAX_FRAME_BYTES;
use crate::protocol::handshake::{self, HandshakeParse, HandshakeRequest};
use crate::protocol::negotiate::{
    self, encode_query_value, ConnectionDetails, NegotiateResponse, TransportKind,
};
use crate::protocol::wire::handshake_end;
use crate::protocol::{Completion, HubMessage, HubProtocol, Payload, SharedText, TransportData};

/// How many negotiate redirects are followed before giving up (as the official client).
pub const MAX_REDIRECTS: u32 = 100;

/// Default of [`HubConfig::stable_connection_threshold`]: 5 seconds.
pub const DEFAULT_STABLE_CONNECTION_THRESHOLD: Duration = super::supervisor::DEFAULT_STABLE_CONNECTION_THRESHOLD;

/// Names one transport the engine opened (see the module docs): a report about another
/// transport than the current one is stale and ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct TransportId(pub u64);

/// Settings of one hub connection.
#[derive(Debug, Clone)]
pub struct HubConfig {
    /// The hub's absolute http(s) URL.
    pub url: String,
    /// Connect over WebSockets straight away, without negotiate.
    pub skip_negotiation: bool,
    /// Whether the app supplied an access token factory: if so the engine asks for a token
    /// before every negotiate and every transport connect.
    pub uses_access_token: bool,
    /// Send a Ping after this long without sending anything.
    pub keep_alive_interval: Duration,
    /// Close the connection after this long without receiving anything.
    pub server_timeout: Duration,
    /// Fail the start when the handshake is not answered within this.
    pub handshake_timeout: Duration,
    /// Largest transport frame accepted from the server, in bytes.
    pub max_frame_bytes: usize,
    /// Value of the `X-SignalR-User-Agent` header.
    pub user_agent: String,
    /// Transports the app allows, as the official `HttpTransportType` bit flags
    /// (WebSockets = 1, ServerSentEvents = 2, LongPolling = 4).
    pub allowed_transports: u8,
    /// Extra headers for every HTTP request (negotiate, sends, polls). Browsers cannot put
    /// headers on a WebSocket or an EventSource, so those carry only the token in the URL.
    pub headers: Vec<(String, String)>,
    /// Timeout of negotiate and send requests (the official default is 100 s).
    pub request_timeout: Duration,
    /// How long one long poll may stay open before the client simply polls again.
    pub poll_timeout: Duration,
    /// Ask for stateful reconnect: over WebSockets, a dropped socket is replaced by a new one
    /// to the same connection and unacknowledged messages are replayed both ways.
    pub stateful_reconnect: bool,
    /// The hub protocol: JSON (text) or MessagePack (binary, on WebSockets and Long Polling;
    /// Server-Sent Events cannot carry it). Payloads given to the engine must be in its encoding.
    pub protocol: HubProtocol,
    /// Bytes of unacknowledged messages kept for replay before further sends wait.
    pub replay_buffer_bytes: usize,
    /// The flapping threshold. A connection is established (automatic reconnect restarts its
    /// retry schedule) only when the server is heard from at least this long after it
    /// connected or resumed; one lost before that continues the interrupted schedule. A socket
    /// lost within this long of the server confirming it is not resumed but reconnected on the
    /// schedule. Default [`DEFAULT_STABLE_CONNECTION_THRESHOLD`] (5 s); must be above zero.
    pub stable_connection_threshold: Duration,
}

impl HubConfig {
    /// The defaults of the official client for the hub at `url`: keep-alive 15 s, server
    /// timeout 30 s, handshake timeout 15 s.
    pub fn new(url: impl Into<String>) -> Self {
        HubConfig {
            url: url.into(),
            skip_negotiation: false,
            uses_access_token: false,
            keep_alive_interval: Duration::from_secs(15),
            server_timeout: Duration::from_secs(30),
            handshake_timeout: Duration::from_secs(15),
            max_frame_bytes: DEFAULT_MAX_FRAME_BYTES,
            user_agent: concat!("hubwire/", env!("CARGO_PKG_VERSION")).to_string(),
            allowed_transports: 1 | 2 | 4,
            headers: Vec::new(),
            request_timeout: Duration::from_secs(100),
            poll_timeout: Duration::from_secs(100),
            stateful_reconnect: false,
            protocol: HubProtocol::Json,
            replay_buffer_bytes: 100_000,
            stable_connection_threshold: DEFAULT_STABLE_CONNECTION_THRESHOLD,
        }
    }

    /// Checks every interval, timeout and size against [`limits`](super::limits): each must be
    /// above zero, and each duration at most [`MAX_TIMER`](super::limits::MAX_TIMER). The
    /// setting names in the error are the app's option names where it has one.
    pub fn validate(&self) -> Result<(), ConfigError> {
        check_duration("keepAliveIntervalInMilliseconds", self.keep_alive_interval)?;
        check_duration("serverTimeoutInMilliseconds", self.server_timeout)?;
        check_duration("handshakeTimeoutInMilliseconds", self.handshake_timeout)?;
        check_duration("timeout", self.request_timeout)?;
        check_duration("pollTimeoutInMilliseconds", self.poll_timeout)?;
        check_duration("stableConnectionThresholdInMilliseconds", self.stable_connection_threshold)?;
        check_size("maxFrameBytes", self.max_frame_bytes)?;
        check_size("statefulReconnect.bufferSize", self.replay_buffer_bytes)?;
        Ok(())
    }
}

/// The connection state the app sees, named as in the official client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectionState {
    /// Not connected; `start()` may be called.
    Disconnected,
    /// Negotiating, opening the transport or handshaking.
    Connecting,
    /// Ready for invocations.
    Connected,
    /// `stop()` was called; waiting for the transport to close.
    Disconnecting,
}

impl ConnectionState {
    /// The state's name as the official client spells it.
    pub fn name(self) -> &'static str {
        match self {
            ConnectionState::Disconnected => "Disconnected",
            ConnectionState::Connecting => "Connecting",
            ConnectionState::Connected => "Connected",
            ConnectionState::Disconnecting => "Disconnecting",
        }
    }
}

/// An HTTP request the shell must make; its answer comes back through
/// [`HubConnection::handle_http`] with the same `id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRequest {
    /// Matches the answer to the request.
    pub id: u64,
    /// `POST`, `GET` or `DELETE`.
    pub method: &'static str,
    /// Absolute URL.
    pub url: String,
    /// Headers to set.
    pub headers: Vec<(String, String)>,
    /// Request body, if any: text, or bytes for MessagePack sends (`application/octet-stream`).
    pub body: Option<TransportData>,
    /// Read the response body as bytes (`arraybuffer`): the polls of a MessagePack connection.
    pub binary_response: bool,
    /// Abort and answer [`HttpFailure::TimedOut`] after this long.
    pub timeout: Option<Duration>,
}

/// Why an HTTP request produced no response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpFailure {
    /// The request could not be made or was cut off (network, CORS, bad URL), with the reason.
    Network(String),
    /// The request's timeout passed first.
    TimedOut,
}

impl HttpFailure {
    /// The failure as text (also what `Display` writes).
    pub fn message(&self) -> &str {
        match self {
            HttpFailure::Network(reason) => reason,
            HttpFailure::TimedOut => "The request timed out.",
        }
    }
}

impl std::fmt::Display for HttpFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.message())
    }
}

/// An HTTP answer as the shell received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    /// Status code.
    pub status: u16,
    /// Status text (may be empty).
    pub status_text: String,
    /// Body as text, or as bytes when the request asked for [`HttpRequest::binary_response`].
    pub body: TransportData,
}

impl HttpRequest {
    /// The body, when it is text.
    pub fn body_text(&self) -> Option<&str> {
        self.body.as_ref().and_then(TransportData::as_text)
    }
}

/// Severity of a [`Event::Log`] line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogLevel {
    /// Detail for debugging.
    Debug,
    /// Something the app probably wants to know about.
    Warning,
}

/// What the app should hear about.
#[derive(Debug, Clone, PartialEq)]
pub enum Event<H> {
    /// `start()` succeeded.
    Started {
        /// The server's connection id (none when negotiate was skipped).
        connection_id: Option<String>,
    },
    /// `start()` failed; the connection is Disconnected again.
    StartFailed(HubError),
    /// The server called a client method: call each handler with the arguments. With an
    /// `invocation_id` the server waits for a result: answer with
    /// [`HubConnection::complete_client_invocation`].
    Invocation {
        /// Set when the server expects a result.
        invocation_id: Option<String>,
        /// The method name as the server sent it.
        target: String,
        /// The arguments, an array in the connection's protocol.
        arguments: Payload,
        /// The handlers registered for the name (the registry's shared list).
        handlers: Handlers<H>,
    },
    /// One item of a stream started with `stream`.
    StreamItem {
        /// The id `stream` returned.
        id: u64,
        /// The item.
        item: Payload,
    },
    /// An `invoke` finished, or a `stream` ended (`Ok(_)` completes it, `Err` fails it).
    InvocationResult {
        /// The id `invoke` returned.
        id: u64,
        /// The result (`None` for a void method) or the error.
        outcome: Result<Option<Payload>, HubError>,
    },
    /// A started connection closed (after `stop()`, an error, or a server Close).
    Closed {
        /// Why, when it was not a clean stop.
        error: Option<HubError>,
        /// Whether reconnecting makes sense: false after `stop()` or a server Close that did
        /// not allow it.
        reconnect_allowed: bool,
    },
    /// A transport could not open and the next one is tried.
    TransportFallback {
        /// The transport that failed.
        from: TransportKind,
        /// Why.
        reason: String,
    },
    /// A line for the app's logger.
    Log {
        /// Severity.
        level: LogLevel,
        /// The text.
        message: String,
    },
    /// Stateful reconnect: the socket was lost and one new socket to the same connection is
    /// opening. The app still sees Connected; the manager counts the attempt.
    Resuming {
        /// Why the socket was lost.
        reason: Option<String>,
    },
    /// The server spoke on the resumed socket: the resume is done.
    Resumed,
}

/// What the engine asks the shell to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Output<H> {
    /// Make an HTTP request.
    Http(HttpRequest),
    /// Call the app's access token factory and answer with `handle_access_token`.
    FetchAccessToken,
    /// Open a transport at `url`; answer with `handle_transport_opened` or
    /// `handle_transport_closed`, naming `transport`.
    OpenTransport {
        /// Names this transport in every input about it.
        transport: TransportId,
        /// Which transport.
        kind: TransportKind,
        /// Its URL, ready to use (ws:// for WebSockets).
        url: String,
    },
    /// Send this on the open transport: text as a text frame, bytes as a binary frame.
    Send(TransportData),
    /// Close the transport; answer with `handle_transport_closed` naming it once it is closed
    /// (the shell may answer at once rather than wait for a slow close handshake).
    CloseTransport {
        /// The transport to close.
        transport: TransportId,
    },
    /// Tell the app.
    Event(Event<H>),
}

/// Where the connection is in its life. The public [`ConnectionState`] is derived from this.
#[derive(Debug, Clone, PartialEq)]
enum Phase {
    Idle,
    /// Waiting for the access token, then `next` continues.
    AwaitingToken { next: AfterToken },
    Negotiating { request_id: u64 },
    /// The transport is opening (a WebSocket or EventSource, or the first long poll).
    Opening,
    Handshaking { buffer: Vec<u8> },
    Connected,
    /// Stateful reconnect: the socket dropped and a new one to the same connection is opening
    /// (`opened`: it is open, the replay went out, and the server has not spoken yet). The app
    /// still sees Connected; what it sends before the socket opens is kept for the replay.
    Resuming { opened: bool },
    Disconnecting,
}

#[derive(Debug, Clone, PartialEq)]
enum AfterToken {
    Negotiate,
    Connect { details: Option<ConnectionDetails> },
}

/// What an HTTP request the engine made is for.
#[derive(Debug, Clone, PartialEq)]
enum Purpose {
    Negotiate,
    /// A batch of messages POSTed on Server-Sent Events or Long Polling.
    Send,
    /// A long poll; the first one only completes the transport's start.
    Poll { first: bool },
    /// The long polling transport's goodbye; its answer does not matter.
    Delete,
}

#[derive(Debug, Clone)]
struct InFlight {
    purpose: Purpose,
    request: HttpRequest,
    /// Already re-sent once after a 401 with a fresh token.
    retried_after_401: bool,
}

/// The transport in use and its HTTP-side state.
#[derive(Debug, Clone)]
struct Transport {
    kind: TransportKind,
    /// The http(s) URL with `id=`, without the token (the token goes in a header or the query).
    connect_url: String,
    /// Messages waiting to be POSTed (Server-Sent Events and Long Polling only).
    outbox: Option<TransportData>,
    /// A POST of the outbox is on its way.
    sending: bool,
}

impl Transport {
    /// Long polling keeps the connection alive by itself: no pings and no server timeout.
    fn inherent_keep_alive(&self) -> bool {
        self.kind == TransportKind::LongPolling
    }
}

/// What a pending invocation of the app is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pending {
    Invoke,
    Stream,
}

/// One hub connection's state machine. `H` is the shell's handler type.
#[derive(Debug)]
pub struct HubConnection<H> {
    config: HubConfig,
    phase: Phase,
    handlers: HandlerRegistry<H>,
    pending: IdMap<Pending>,
    /// The ids of the client-to-server streams still open (a few at most: searched in turn).
    uploads: Vec<String>,
    /// Invocation and stream ids come from one counter, as in the official client.
    next_invocation_id: u64,
    next_request_id: u64,
    requests: IdMap<InFlight>,
    /// Requests waiting for a fresh token after a 401.
    awaiting_token_retry: Vec<InFlight>,
    timers: TimerTable,
    outputs: VecDeque<Output<H>>,
    connection_id: Option<String>,
    /// Where negotiate goes next: the configured URL, or the latest redirect target.
    hub_url: String,
    redirects: u32,
    /// The bearer token for this start: from the factory, or from a redirect (which then
    /// replaces the factory for the rest of the start, as in the official client).
    access_token: Option<String>,
    redirect_token: bool,
    transport: Option<Transport>,
    /// Transports still to try in this start, in the server's order.
    candidates: VecDeque<TransportKind>,
    /// Why each transport tried so far failed.
    transport_failures: Vec<String>,
    /// Stateful reconnect's buffers and counters, when the server agreed to it.
    replay: Option<Replay>,
    /// The server agreed to stateful reconnect in the latest negotiate.
    stateful_agreed: bool,
    /// The transport URL of the current connection, kept for a stateful resume.
    transport_url: Option<String>,
    /// The current (latest) transport's id.
    transport_id: TransportId,
    /// The latest access and connection tokens this connection used (at most
    /// [`REMEMBERED_SECRETS`]), removed from every text that comes in from the outside
    /// ([`redact`]): an error may arrive after the token it quotes was replaced.
    secrets: VecDeque<String>,
    /// When the server last confirmed the current socket: the handshake's answer, or its first
    /// frame on a resumed socket. A socket younger than the stable-connection threshold is not
    /// resumed.
    confirmed_at: Option<Instant>,
}

/// How many past tokens a connection keeps for redaction.
const REMEMBERED_SECRETS: usize = 8;

impl<H: Clone + PartialEq> HubConnection<H> {
    /// A disconnected connection with `config`.
    pub fn new(config: HubConfig) -> Self {
        HubConnection {
            hub_url: config.url.clone(),
            config,
            phase: Phase::Idle,
            handlers: HandlerRegistry::default(),
            pending: IdMap::new(),
            uploads: Vec::new(),
            next_invocation_id: 0,
            next_request_id: 0,
            requests: IdMap::new(),
            awaiting_token_retry: Vec::new(),
            timers: TimerTable::default(),
            outputs: VecDeque::new(),
            connection_id: None,
            redirects: 0,
            access_token: None,
            redirect_token: false,
            transport: None,
            candidates: VecDeque::new(),
            transport_failures: Vec::new(),
            replay: None,
            stateful_agreed: false,
            transport_url: None,
            transport_id: TransportId::default(),
            secrets: VecDeque::new(),
            confirmed_at: None,
        }
    }

    /// The settings.
    pub fn config(&self) -> &HubConfig {
        &self.config
    }

    /// The settings, to change between uses: the server timeout and keep-alive interval are
    /// read whenever their timers are armed (the next message), the URL at the next start or
    /// reconnect attempt, as the official client's `serverTimeoutInMilliseconds`,
    /// `keepAliveIntervalInMilliseconds` and `baseUrl` are.
    pub fn config_mut(&mut self) -> &mut HubConfig {
        &mut self.config
    }

    /// The current state.
    pub fn state(&self) -> ConnectionState {
        match self.phase {
            Phase::Idle => ConnectionState::Disconnected,
            Phase::AwaitingToken { .. }
            | Phase::Negotiating { .. }
            | Phase::Opening
            | Phase::Handshaking { .. } => ConnectionState::Connecting,
            Phase::Connected | Phase::Resuming { .. } => ConnectionState::Connected,
            Phase::Disconnecting => ConnectionState::Disconnecting,
        }
    }

    /// The server's id for this connection while connected (after negotiate).
    pub fn connection_id(&self) -> Option<&str> {
        self.connection_id.as_deref()
    }

    /// The transport in use, once one was chosen.
    pub fn transport(&self) -> Option<TransportKind> {
        self.transport.as_ref().map(|t| t.kind)
    }

    /// The id of the latest transport the engine opened (see [`TransportId`]).
    pub fn transport_id(&self) -> TransportId {
        self.transport_id
    }

    /// Registers a handler for the client method `name`.
    pub fn on(&mut self, name: &str, handler: H) {
        self.handlers.add(name, handler);
    }

    /// Removes one handler of `name`, or all of them.
    pub fn off(&mut self, name: &str, handler: Option<&H>) {
        self.handlers.remove(name, handler);
    }

    /// The next output for the shell, if any.
    pub fn poll_output(&mut self) -> Option<Output<H>> {
        self.outputs.pop_front()
    }

    /// When to call `handle_timeout` next, if ever.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.next_deadline()
    }

    // ----- app commands -------------------------------------------------------------------

    /// Starts connecting. The outcome arrives as [`Event::Started`] or [`Event::StartFailed`].
    pub fn start(&mut self, now: Instant) -> Result<(), HubError> {
        if self.phase != Phase::Idle {
            return Err(HubError::AlreadyStarted);
        }
        self.config.validate()?;
        if self.config.allowed_transports & 7 == 0 {
            return Err(HubError::NoTransport("The 'transport' option allows no transport.".into()));
        }
        // Without negotiate there is no connection token, which only WebSockets can do without.
        if self.config.skip_negotiation && self.config.allowed_transports != 1 {
            return Err(HubError::NoTransport(
                "Negotiation can only be skipped when using the WebSocket transport directly \
                 (set 'transport' to WebSockets)."
                    .into(),
            ));
        }
        self.hub_url = self.config.url.clone();
        self.redirects = 0;
        self.access_token = None;
        self.redirect_token = false;
        self.candidates.clear();
        self.transport_failures.clear();
        self.confirmed_at = None;
        if self.config.skip_negotiation {
            self.connect_with_token(now, None);
        } else {
            self.negotiate_with_token();
        }
        Ok(())
    }

    /// Stops the connection. A start in progress fails with
    /// [`HubError::StoppedDuringStart`] (token or negotiate) or
    /// [`HubError::StoppedDuringHandshake`] (transport or handshake); a connected hub goes Disconnecting until the shell
    /// reports the transport closed. Stopping a stopped connection does nothing.
    pub fn stop(&mut self, now: Instant) {
        match self.phase {
            Phase::Idle | Phase::Disconnecting => {}
            Phase::Connected => {
                // As the official client does, the server hears a Close message first (on
                // Server-Sent Events it is the only sign of a client that left on purpose).
                self.send_message(now, &HubMessage::Close { error: None, allow_reconnect: false });
                self.phase = Phase::Disconnecting;
                self.timers.clear();
                self.close_transport();
            }
            Phase::Resuming { .. } => {
                self.phase = Phase::Disconnecting;
                self.timers.clear();
                self.close_transport();
            }
            Phase::Opening | Phase::Handshaking { .. } => self.fail_start(HubError::StoppedDuringHandshake),
            Phase::AwaitingToken { .. } | Phase::Negotiating { .. } => {
                self.fail_start(HubError::StoppedDuringStart)
            }
        }
    }

    /// Calls a hub method and expects its result as [`Event::InvocationResult`] with the
    /// returned id.
    pub fn invoke(&mut self, now: Instant, target: &str, arguments: impl Into<Payload>) -> Result<u64, HubError> {
        self.invoke_with_uploads(now, target, arguments, 0).map(|(id, _)| id)
    }

    /// Like [`invoke`](Self::invoke), with `uploads` client-to-server streams as extra
    /// arguments; returns the invocation id and the stream ids to feed with
    /// [`send_stream_item`](Self::send_stream_item) and end with
    /// [`complete_upload`](Self::complete_upload).
    pub fn invoke_with_uploads(
        &mut self,
        now: Instant,
        target: &str,
        arguments: impl Into<Payload>,
        uploads: usize,
    ) -> Result<(u64, Vec<String>), HubError> {
        // Stream ids come first from the one counter, as in the official client: the
        // invocation of `invoke("UploadSum", subject)` is id 1 and its stream id 0. The ids are
        // taken even when the call is refused for not being connected, as there.
        let stream_ids = self.reserve_ids(uploads);
        let id = self.next_id();
        self.ensure_connected()?;
        self.open_uploads(&stream_ids);
        self.pending.insert(id, Pending::Invoke);
        self.send_message(
            now,
            &HubMessage::Invocation {
                invocation_id: Some(decimal(id)),
                target: target.to_string(),
                arguments: arguments.into(),
                stream_ids: stream_ids.clone(),
            },
        );
        Ok((id, stream_ids))
    }

    /// Calls a hub method without waiting for a result.
    pub fn send(&mut self, now: Instant, target: &str, arguments: impl Into<Payload>) -> Result<(), HubError> {
        self.send_with_uploads(now, target, arguments, 0).map(|_| ())
    }

    /// Like [`send`](Self::send) with client-to-server streams; returns their ids.
    pub fn send_with_uploads(
        &mut self,
        now: Instant,
        target: &str,
        arguments: impl Into<Payload>,
        uploads: usize,
    ) -> Result<Vec<String>, HubError> {
        let stream_ids = self.reserve_ids(uploads);
        self.ensure_connected()?;
        self.open_uploads(&stream_ids);
        self.send_message(
            now,
            &HubMessage::Invocation {
                invocation_id: None,
                target: target.to_string(),
                arguments: arguments.into(),
                stream_ids: stream_ids.clone(),
            },
        );
        Ok(stream_ids)
    }

    /// Starts a server-to-client stream: items arrive as [`Event::StreamItem`], the end as
    /// [`Event::InvocationResult`] with the returned id.
    pub fn stream(
        &mut self,
        now: Instant,
        target: &str,
        arguments: impl Into<Payload>,
        uploads: usize,
    ) -> Result<(u64, Vec<String>), HubError> {
        // Stream ids first, as for an invoke, taken even when refused.
        let stream_ids = self.reserve_ids(uploads);
        let id = self.next_id();
        self.ensure_connected()?;
        self.open_uploads(&stream_ids);
        self.pending.insert(id, Pending::Stream);
        self.send_message(
            now,
            &HubMessage::StreamInvocation {
                invocation_id: decimal(id),
                target: target.to_string(),
                arguments: arguments.into(),
                stream_ids: stream_ids.clone(),
            },
        );
        Ok((id, stream_ids))
    }

    /// Stops a server-to-client stream early (the app disposed its subscription). Nothing more
    /// is reported for it.
    pub fn cancel_stream(&mut self, now: Instant, id: u64) {
        // Only a stream is cancelled: an invoke's id given here stays pending and settles.
        if self.pending.get(&id) != Some(&Pending::Stream) {
            return;
        }
        self.pending.remove(&id);
        if self.ensure_connected().is_ok() {
            self.send_message(now, &HubMessage::CancelInvocation { invocation_id: decimal(id) });
        }
    }

    /// Sends one item of a client-to-server stream.
    pub fn send_stream_item(&mut self, now: Instant, stream_id: &str, item: impl Into<Payload>) -> Result<(), HubError> {
        self.ensure_connected()?;
        if !self.uploads.iter().any(|id| id == stream_id) {
            return Err(HubError::UnknownStream(stream_id.to_string()));
        }
        self.send_message(now, &HubMessage::StreamItem { invocation_id: stream_id.to_string(), item: item.into() });
        Ok(())
    }

    /// Ends a client-to-server stream, with an error if the source failed.
    pub fn complete_upload(&mut self, now: Instant, stream_id: &str, error: Option<String>) -> Result<(), HubError> {
        self.ensure_connected()?;
        let Some(open) = self.uploads.iter().position(|id| id == stream_id) else {
            return Err(HubError::UnknownStream(stream_id.to_string()));
        };
        self.uploads.remove(open);
        let completion = error.map_or(Completion::Void, Completion::Error);
        self.send_message(now, &HubMessage::Completion { invocation_id: stream_id.to_string(), completion });
        Ok(())
    }

    /// Answers a server call that expects a result ([`Event::Invocation`] with an
    /// `invocation_id`): `Ok(Some(value))`, `Ok(None)` when no handler returned anything, or
    /// `Err(message)` when a handler threw.
    pub fn complete_client_invocation(
        &mut self,
        now: Instant,
        invocation_id: &str,
        result: Result<Option<Payload>, String>,
    ) {
        if self.ensure_connected().is_err() {
            return;
        }
        let completion = match result {
            Ok(Some(value)) => Completion::Result(value),
            Ok(None) => Completion::Error("Client didn't provide a result.".into()),
            Err(error) => Completion::Error(error),
        };
        self.send_message(now, &HubMessage::Completion { invocation_id: invocation_id.to_string(), completion });
    }

    // ----- inputs -------------------------------------------------------------------------

    /// The app's access token factory answered (`Ok(None)`: no token; `Err`: it threw).
    pub fn handle_access_token(&mut self, now: Instant, token: Result<Option<String>, String>) {
        let token = token.map_err(|error| self.redacted(&error));
        if let Phase::AwaitingToken { next } = &self.phase {
            let next = next.clone();
            match token {
                // The official client calls the factory inside its negotiate step, so a failure
                // there reads as a failed negotiation; before a transport connect it stays an
                // access token error.
                Err(error) => self.fail_start(match next {
                    AfterToken::Negotiate => HubError::Negotiate(error),
                    AfterToken::Connect { .. } => HubError::AccessToken(error),
                }),
                Ok(token) => {
                    self.access_token = token.filter(|t| !t.is_empty());
                    if let Some(token) = self.access_token.clone() {
                        self.remember_secret(&token);
                    }
                    match next {
                        AfterToken::Negotiate => self.send_negotiate(),
                        AfterToken::Connect { details } => self.open_transport(now, details),
                    }
                }
            }
            return;
        }
        // A refresh after a 401: re-send what was refused, once, with the new token.
        let waiting = std::mem::take(&mut self.awaiting_token_retry);
        if waiting.is_empty() {
            return;
        }
        match token {
            Ok(token) => {
                self.access_token = token.filter(|t| !t.is_empty());
                if let Some(token) = self.access_token.clone() {
                    self.remember_secret(&token);
                }
                for mut in_flight in waiting {
                    in_flight.request.headers.retain(|(name, _)| name != "Authorization");
                    if let Some(token) = &self.access_token {
                        in_flight.request.headers.push(("Authorization".into(), ["Bearer ", token.as_str()].concat()));
                    }
                    in_flight.retried_after_401 = true;
                    self.reissue(in_flight);
                }
            }
            Err(error) => self.transport_failed(now, ["accessTokenFactory failed: ", error.as_str()].concat()),
        }
    }

    /// An HTTP request finished.
    pub fn handle_http(&mut self, now: Instant, id: u64, response: Result<HttpResponse, HttpFailure>) {
        // Answers to requests of an earlier start, or after a stop, are stale.
        let Some(in_flight) = self.requests.remove(&id) else { return };
        let response = response.map_err(|failure| match failure {
            HttpFailure::Network(reason) => HttpFailure::Network(self.redacted(&reason)),
            other => other,
        });
        if let Ok(response) = &response {
            if response.status == 401
                && !in_flight.retried_after_401
                && self.wants_token_from_factory()
                && in_flight.purpose != Purpose::Negotiate
                && in_flight.purpose != Purpose::Delete
            {
                if self.awaiting_token_retry.is_empty() {
                    self.outputs.push_back(Output::FetchAccessToken);
                }
                self.awaiting_token_retry.push(in_flight);
                return;
            }
        }
        match in_flight.purpose {
            Purpose::Negotiate => self.on_negotiate_response(now, response),
            Purpose::Send => self.on_send_response(now, response),
            Purpose::Poll { first } => self.on_poll_response(now, first, response),
            Purpose::Delete => {}
        }
    }

    /// The transport named `transport` is open: send the handshake. A stale id is ignored.
    pub fn handle_transport_opened(&mut self, now: Instant, transport: TransportId) {
        if self.is_current(transport) {
            self.transport_opened(now);
        }
    }

    /// Text arrived on the transport named `transport`. A stale id is ignored.
    pub fn handle_transport_data(&mut self, now: Instant, transport: TransportId, data: &str) {
        self.handle_transport_binary(now, transport, data.as_bytes());
    }

    /// Bytes arrived on the transport named `transport` (a binary frame; a MessagePack
    /// connection's data, or JSON text sent as a binary frame). A stale id is ignored.
    pub fn handle_transport_binary(&mut self, now: Instant, transport: TransportId, data: &[u8]) {
        if self.is_current(transport) {
            self.transport_data(now, data, None);
        }
    }

    /// A text frame arrived on the transport named `transport`, kept as shared text: the
    /// payloads parsed from it point into it. A stale id is ignored.
    pub fn handle_transport_text(&mut self, now: Instant, transport: TransportId, text: &SharedText) {
        if self.is_current(transport) {
            self.transport_data(now, text.as_bytes(), Some(text));
        }
    }

    /// The transport named `transport` closed or failed to open (`error`: why, when not
    /// requested). A stale id (an earlier transport's late close) is ignored.
    pub fn handle_transport_closed(&mut self, now: Instant, transport: TransportId, error: Option<String>) {
        if self.is_current(transport) {
            // Browser exceptions quote URLs, and URLs carry tokens.
            let error = error.map(|error| self.redacted(&error));
            self.transport_closed(now, error);
        }
    }

    /// `text` (from the outside: a browser exception, a network error) without this
    /// connection's access token or connection token in it.
    fn redacted(&self, text: &str) -> String {
        let secrets: Vec<&str> = self.access_token.as_deref().into_iter().chain(self.secrets.iter().map(String::as_str)).collect();
        redact(text, &secrets)
    }

    /// Remembers a token for [`Self::redacted`], forgetting the oldest beyond the bound.
    fn remember_secret(&mut self, secret: &str) {
        if secret.is_empty() || self.secrets.iter().any(|s| s == secret) {
            return;
        }
        if self.secrets.len() == REMEMBERED_SECRETS {
            self.secrets.pop_front();
        }
        self.secrets.push_back(secret.to_string());
    }

    fn is_current(&self, transport: TransportId) -> bool {
        transport == self.transport_id
    }

    fn transport_opened(&mut self, now: Instant) {
        if !matches!(self.phase, Phase::Opening | Phase::Resuming { opened: false }) {
            return;
        }
        if self.phase == (Phase::Resuming { opened: false }) {
            return self.resume(now);
        }
        self.phase = Phase::Handshaking { buffer: Vec::new() };
        self.arm(Timer::Handshake, now, self.config.handshake_timeout);
        // Stateful reconnect is hub protocol version 2; older servers only know version 1.
        let version = if self.stateful_agreed { 2 } else { 1 };
        let request = HandshakeRequest { protocol: self.config.protocol.name().to_string(), version };
        self.transport_send(TransportData::Text(request.encode()));
    }

    /// `data` arrived; `shared` is the same data as shared text, when the shell kept it so.
    fn transport_data(&mut self, now: Instant, data: &[u8], shared: Option<&SharedText>) {
        match &mut self.phase {
            Phase::Handshaking { buffer } => {
                // Messages after the response may point into the shared frame when the response
                // began in it (the usual case): then the buffer's offsets are the frame's.
                let shared = shared.filter(|_| buffer.is_empty());
                if buffer.len() + data.len() > self.config.max_frame_bytes {
                    let size = buffer.len() + data.len();
                    let limit = self.config.max_frame_bytes;
                    return self.fail_start(crate::protocol::ProtocolError::TooLarge { size, limit }.into());
                }
                buffer.extend_from_slice(data);
                let buffer = std::mem::take(buffer);
                // The response is JSON text whatever the protocol; binary messages may follow
                // it in the same frame.
                let Some(end) = handshake_end(&buffer) else {
                    self.phase = Phase::Handshaking { buffer };
                    return;
                };
                let parsed = std::str::from_utf8(&buffer[..end])
                    .map_err(|_| crate::protocol::ProtocolError::MalformedJson("handshake response is not UTF-8 text".into()))
                    .and_then(handshake::parse_response);
                match parsed {
                    Err(error) => self.fail_start(error.into()),
                    Ok(HandshakeParse::Incomplete) => {
                        self.phase = Phase::Handshaking { buffer };
                    }
                    Ok(HandshakeParse::Accepted { .. }) => {
                        let rest = &buffer[end..];
                        self.phase = Phase::Connected;
                        self.confirmed_at = Some(now);
                        self.timers.stop(Timer::Handshake);
                        let websockets = self.transport() == Some(TransportKind::WebSockets);
                        self.replay = (self.stateful_agreed && websockets)
                            .then(|| Replay::new(self.config.replay_buffer_bytes, self.config.protocol));
                        if !self.transport.as_ref().is_some_and(Transport::inherent_keep_alive) {
                            self.arm(Timer::KeepAlive, now, self.config.keep_alive_interval);
                            self.arm(Timer::ServerTimeout, now, self.config.server_timeout);
                        }
                        self.emit(Event::Started { connection_id: self.connection_id.clone() });
                        if !rest.is_empty() {
                            self.receive_messages(now, rest, shared.map(|frame| (frame, end)));
                        }
                    }
                }
            }
            Phase::Connected => {
                if !self.transport.as_ref().is_some_and(Transport::inherent_keep_alive) {
                    self.arm(Timer::ServerTimeout, now, self.config.server_timeout);
                }
                self.receive_messages(now, data, shared.map(|frame| (frame, 0)));
            }
            Phase::Resuming { opened: true } => {
                // The server spoke on the new socket: only now is the resume done.
                self.phase = Phase::Connected;
                self.timers.stop(Timer::Handshake);
                self.confirmed_at = Some(now);
                self.arm(Timer::KeepAlive, now, self.config.keep_alive_interval);
                self.arm(Timer::ServerTimeout, now, self.config.server_timeout);
                // The Ack timer died with the old socket, and the server may hold everything
                // new back until it hears our Ack (its buffer is full): owe it one, send it.
                if self.replay.as_ref().is_some_and(Replay::ack_pending) {
                    self.arm(Timer::Ack, now, super::replay::ACK_DELAY);
                }
                self.emit(Event::Resumed);
                self.receive_messages(now, data, shared.map(|frame| (frame, 0)));
            }
            // Data before the transport reported open, or after we began closing, is ignored:
            // the shell detaches a closed transport, so this can only be a late straggler.
            _ => {}
        }
    }

    fn transport_closed(&mut self, now: Instant, error: Option<String>) {
        match self.phase {
            Phase::Opening => {
                let reason = error.unwrap_or_else(|| "The transport closed while opening.".into());
                self.transport_failed(now, reason);
            }
            Phase::Handshaking { .. } => {
                let reason = error.unwrap_or_else(|| "The transport closed during the handshake.".into());
                self.fail_start(HubError::Transport(reason));
            }
            Phase::Connected if self.may_resume(now) => self.begin_resume(now, error),
            Phase::Connected => self.finish_close(error.map(HubError::Transport), true, false),
            Phase::Resuming { .. } => {
                // The one attempt to resume failed: the connection is lost after all.
                let reason = error.unwrap_or_else(|| "Stateful reconnect failed.".into());
                self.finish_close(Some(HubError::Transport(reason)), true, false)
            }
            Phase::Disconnecting => self.finish_close(None, false, false),
            _ => {}
        }
    }

    /// Time passed: fire every timer due at `now`, each reason at most once per call.
    pub fn handle_timeout(&mut self, now: Instant) {
        for _ in 0..Timer::COUNT {
            let Some(timer) = self.timers.pop_expired(now) else { break };
            match timer {
                Timer::Handshake if matches!(self.phase, Phase::Resuming { .. }) => {
                    let waited = self.config.handshake_timeout.as_millis();
                    self.finish_close(
                        Some(HubError::Transport(
                            [
                                "Stateful reconnect failed: the server did not answer on the new socket within ",
                                &decimal(waited),
                                " ms.",
                            ]
                            .concat(),
                        )),
                        true,
                        true,
                    )
                }
                Timer::Handshake => {
                    self.fail_start(HubError::HandshakeTimeout(self.config.handshake_timeout))
                }
                Timer::KeepAlive => {
                    if self.phase == Phase::Connected {
                        self.send_message(now, &HubMessage::Ping);
                    }
                }
                Timer::ServerTimeout => {
                    if self.phase == Phase::Connected {
                        self.finish_close(
                            Some(HubError::ServerTimeout(self.config.server_timeout)),
                            true,
                            true,
                        );
                    }
                }
                Timer::Ack => {
                    let ack = self.replay.as_mut().and_then(Replay::ack_due);
                    if let (Some(sequence_id), Phase::Connected) = (ack, &self.phase) {
                        self.transport_send(self.config.protocol.encode(&HubMessage::Ack { sequence_id }));
                    }
                }
            }
        }
    }

    /// Arms `timer` `after` from `now`, never less than [`MIN_TIMER`] ahead: a timer due at
    /// `now` would fire again in the same pump.
    fn arm(&mut self, timer: Timer, now: Instant, after: Duration) {
        self.timers.set(timer, now + after.max(MIN_TIMER));
    }

    // ----- internals: sending -------------------------------------------------------------

    fn emit(&mut self, event: Event<H>) {
        self.outputs.push_back(Output::Event(event));
    }

    fn log(&mut self, level: LogLevel, message: String) {
        self.emit(Event::Log { level, message });
    }

    fn next_id(&mut self) -> u64 {
        let id = self.next_invocation_id;
        self.next_invocation_id += 1;
        id
    }

    /// Takes `count` ids from the invocation counter for client-to-server streams.
    fn reserve_ids(&mut self, count: usize) -> Vec<String> {
        (0..count).map(|_| decimal(self.next_id())).collect()
    }

    /// Opens the upload streams with these ids.
    fn open_uploads(&mut self, stream_ids: &[String]) {
        for id in stream_ids {
            if !self.uploads.contains(id) {
                self.uploads.push(id.clone());
            }
        }
    }

    fn ensure_connected(&self) -> Result<(), HubError> {
        match self.phase {
            Phase::Connected | Phase::Resuming { .. } => Ok(()),
            _ => Err(HubError::NotConnected),
        }
    }

    fn send_message(&mut self, now: Instant, message: &HubMessage) {
        let text = self.config.protocol.encode(message);
        if let Some(replay) = &mut self.replay {
            if Replay::is_trackable(message) {
                // Kept for replay; sent now unless resuming or over the buffer limit.
                // Until the new socket is open, kept for its replay; after, sent on it.
                let hold = self.phase == (Phase::Resuming { opened: false });
                for text in replay.outgoing(text, hold) {
                    self.transport_send(text);
                }
                return self.rearm_keep_alive(now);
            }
        }
        self.transport_send(text);
        self.rearm_keep_alive(now);
    }

    fn rearm_keep_alive(&mut self, now: Instant) {
        // Anything sent proves we are alive, so the keep-alive Ping waits a full interval again.
        let pings = !self.transport.as_ref().is_some_and(Transport::inherent_keep_alive);
        if self.phase == Phase::Connected && pings {
            self.arm(Timer::KeepAlive, now, self.config.keep_alive_interval);
        }
    }

    /// Hands text to the transport: straight to the socket for WebSockets, into the POST
    /// outbox for the HTTP transports (one POST in flight at a time; what accumulates meanwhile
    /// goes in the next one, in order).
    fn transport_send(&mut self, text: TransportData) {
        let Some(transport) = &mut self.transport else { return };
        if transport.kind == TransportKind::WebSockets {
            self.outputs.push_back(Output::Send(text));
            return;
        }
        match &mut transport.outbox {
            Some(outbox) => outbox.append(text),
            None => transport.outbox = Some(text),
        }
        if !transport.sending {
            self.flush_outbox();
        }
    }

    fn flush_outbox(&mut self) {
        let Some(transport) = &mut self.transport else { return };
        let Some(body) = transport.outbox.take().filter(|body| !body.is_empty()) else {
            transport.sending = false;
            return;
        };
        transport.sending = true;
        let url = transport.connect_url.clone();
        let mut headers = self.base_headers();
        let content_type = match body {
            TransportData::Binary(_) => "application/octet-stream",
            _ => "text/plain;charset=UTF-8",
        };
        headers.push(("Content-Type".to_string(), content_type.to_string()));
        self.http(Purpose::Send, "POST", url, headers, Some(body), Some(self.config.request_timeout));
    }

    fn base_headers(&self) -> Vec<(String, String)> {
        let mut headers = vec![
            ("X-Requested-With".to_string(), "XMLHttpRequest".to_string()),
            ("X-SignalR-User-Agent".to_string(), self.config.user_agent.clone()),
        ];
        headers.extend(self.config.headers.iter().cloned());
        if let Some(token) = &self.access_token {
            headers.push(("Authorization".to_string(), ["Bearer ", token.as_str()].concat()));
        }
        headers
    }

    fn http(
        &mut self,
        purpose: Purpose,
        method: &'static str,
        url: String,
        headers: Vec<(String, String)>,
        body: Option<TransportData>,
        timeout: Option<Duration>,
    ) -> u64 {
        let binary_response = matches!(purpose, Purpose::Poll { .. }) && self.config.protocol.is_binary();
        let request = HttpRequest { id: 0, method, url, headers, body, binary_response, timeout };
        self.reissue(InFlight { purpose, request, retried_after_401: false })
    }

    /// Sends (or re-sends) a request under a fresh id, which it returns.
    fn reissue(&mut self, mut in_flight: InFlight) -> u64 {
        let id = self.next_request_id;
        self.next_request_id += 1;
        in_flight.request.id = id;
        if in_flight.purpose == Purpose::Negotiate {
            self.phase = Phase::Negotiating { request_id: id };
        }
        self.outputs.push_back(Output::Http(in_flight.request.clone()));
        self.requests.insert(id, in_flight);
        id
    }

    fn close_transport(&mut self) {
        if let Some(transport) = &self.transport {
            if transport.kind == TransportKind::LongPolling {
                // Tell the server we are leaving; it completes the outstanding poll with 204.
                let url = transport.connect_url.clone();
                let headers = self.base_headers();
                self.http(Purpose::Delete, "DELETE", url, headers, None, Some(self.config.request_timeout));
            }
        }
        self.outputs.push_back(Output::CloseTransport { transport: self.transport_id });
    }

    // ----- internals: starting ------------------------------------------------------------

    fn wants_token_from_factory(&self) -> bool {
        self.config.uses_access_token && !self.redirect_token
    }

    fn negotiate_with_token(&mut self) {
        if self.wants_token_from_factory() {
            self.phase = Phase::AwaitingToken { next: AfterToken::Negotiate };
            self.outputs.push_back(Output::FetchAccessToken);
        } else {
            self.send_negotiate();
        }
    }

    fn connect_with_token(&mut self, now: Instant, details: Option<ConnectionDetails>) {
        if self.wants_token_from_factory() {
            self.phase = Phase::AwaitingToken { next: AfterToken::Connect { details } };
            self.outputs.push_back(Output::FetchAccessToken);
        } else {
            self.open_transport(now, details);
        }
    }

    fn send_negotiate(&mut self) {
        let url = match negotiate::negotiate_url(&self.hub_url, self.config.stateful_reconnect) {
            Ok(url) => url,
            Err(error) => return self.fail_start(error.into()),
        };
        let headers = self.base_headers();
        self.http(Purpose::Negotiate, "POST", url, headers, None, Some(self.config.request_timeout));
    }

    fn on_negotiate_response(&mut self, now: Instant, response: Result<HttpResponse, HttpFailure>) {
        if !matches!(self.phase, Phase::Negotiating { .. }) {
            return;
        }
        let response = match response {
            Err(failure) => return self.fail_start(HubError::Negotiate(failure.message().to_string())),
            Ok(response) => response,
        };
        if response.status != 200 {
            return self.fail_start(HubError::Negotiate(negotiate_status_text(
                &self.redacted(&String::from_utf8_lossy(response.body.as_bytes())),
                &response.status_text,
                response.status,
            )));
        }
        match negotiate::parse_response(&String::from_utf8_lossy(response.body.as_bytes())) {
            Err(error) => self.fail_start(error.into()),
            Ok(NegotiateResponse::Redirect { url, access_token }) => {
                self.redirects += 1;
                if self.redirects > MAX_REDIRECTS {
                    return self.fail_start(HubError::TooManyRedirects(MAX_REDIRECTS));
                }
                self.hub_url = url;
                if let Some(token) = access_token {
                    self.remember_secret(&token);
                    self.access_token = Some(token);
                    self.redirect_token = true;
                }
                self.negotiate_with_token();
            }
            Ok(NegotiateResponse::Connect(details)) => {
                // A secret from the moment it is seen, whether or not a transport uses it.
                self.remember_secret(&details.connection_token.clone());
                self.stateful_agreed = self.config.stateful_reconnect && details.use_stateful_reconnect;
                // The first answer of a start fixes the transports to try, in its order; a
                // fallback negotiates again only for a fresh connection token.
                if self.transport_failures.is_empty() && self.candidates.is_empty() {
                    if let Err(error) = self.choose_candidates(&details) {
                        return self.fail_start(error);
                    }
                }
                self.connect_with_token(now, Some(details));
            }
        }
    }

    /// Fills `candidates` from the server's offer, filtered by the app's `transport` option
    /// and the text transfer format; explains what was left out when nothing remains.
    fn choose_candidates(&mut self, details: &ConnectionDetails) -> Result<(), HubError> {
        let mut skipped = Vec::new();
        for offer in &details.available_transports {
            let Some(kind) = TransportKind::from_name(&offer.transport) else {
                skipped.push(["'", offer.transport.as_str(), "' is not a transport this client knows."].concat());
                continue;
            };
            // Worded as the official client lists each transport it could not use.
            let name = kind.name();
            if self.config.allowed_transports & transport_bit(kind) == 0 {
                skipped.push([name, " failed: Error: '", name, "' is disabled by the client."].concat());
            } else if kind == TransportKind::ServerSentEvents && self.config.protocol.is_binary() {
                // Whatever the server claims, an EventSource carries text only (the official
                // transport's own refusal).
                skipped.push(
                    [name, " failed: Error: The Server-Sent Events transport only supports the 'Text' transfer format"]
                        .concat(),
                );
            } else if !offer.transfer_formats.iter().any(|f| f == self.config.protocol.transfer_format()) {
                let format = self.config.protocol.transfer_format();
                skipped.push([name, " failed: Error: '", name, "' does not support ", format, "."].concat());
            } else {
                self.candidates.push_back(kind);
            }
        }
        if self.candidates.is_empty() {
            let offered = if skipped.is_empty() {
                "The server offered no transports.".to_string()
            } else {
                skipped.join(" ")
            };
            return Err(HubError::NoTransport(offered));
        }
        Ok(())
    }

    fn open_transport(&mut self, now: Instant, details: Option<ConnectionDetails>) {
        let kind = if details.is_none() {
            TransportKind::WebSockets
        } else {
            match self.candidates.pop_front() {
                Some(kind) => kind,
                None => return self.fail_start(self.all_transports_failed()),
            }
        };
        let connect_url = match &details {
            Some(details) => negotiate::connect_url(&self.hub_url, &details.connection_token),
            None => self.hub_url.clone(),
        };
        self.connection_id = details.map(|d| d.connection_id);
        let transport = self.new_transport_id();
        self.transport = Some(Transport {
            kind,
            connect_url: connect_url.clone(),
            outbox: None,
            sending: false,
        });
        self.phase = Phase::Opening;
        let with_token = |url: &str, token: &Option<String>| match token {
            Some(token) => negotiate::append_query(url, "access_token", &encode_query_value(token)),
            None => url.to_string(),
        };
        match kind {
            TransportKind::WebSockets => {
                match negotiate::websocket_url(&with_token(&connect_url, &self.access_token)) {
                    Ok(url) => {
                        self.transport_url = Some(url.clone());
                        self.outputs.push_back(Output::OpenTransport { transport, kind, url });
                    }
                    Err(error) => self.fail_start(error.into()),
                }
            }
            TransportKind::ServerSentEvents => {
                // An EventSource cannot send headers: the token rides in the query.
                let url = with_token(&connect_url, &self.access_token);
                self.outputs.push_back(Output::OpenTransport { transport, kind, url });
            }
            TransportKind::LongPolling => self.poll(now, true),
        }
    }

    fn new_transport_id(&mut self) -> TransportId {
        self.transport_id = TransportId(self.transport_id.0 + 1);
        self.transport_id
    }

    /// Issues one long poll. The cache-buster keeps proxies from answering from a cache.
    fn poll(&mut self, now: Instant, first: bool) {
        let Some(transport) = &self.transport else { return };
        let url = negotiate::append_query(&transport.connect_url, "_", &[decimal(now.as_millis()), decimal(self.next_request_id)].join("-"));
        let headers = self.base_headers();
        let timeout = Some(self.config.poll_timeout);
        self.http(Purpose::Poll { first }, "GET", url, headers, None, timeout);
    }

    fn on_poll_response(&mut self, now: Instant, first: bool, response: Result<HttpResponse, HttpFailure>) {
        let active = match self.phase {
            Phase::Opening => first,
            Phase::Handshaking { .. } | Phase::Connected => !first,
            _ => false,
        };
        if !active {
            return;
        }
        match response {
            // A poll the client gave up on simply goes again.
            Err(HttpFailure::TimedOut) => self.poll(now, first),
            // The fetch's own error, as the official transport closes with it.
            Err(HttpFailure::Network(reason)) => self.transport_failed(now, reason),
            Ok(response) => match response.status {
                200 if first => {
                    // The first poll only completes the start; then the poll loop begins.
                    self.transport_opened(now);
                    self.poll(now, false);
                }
                200 => {
                    // A text body is the shared frame its payloads point into (the String moves
                    // in: no copy), unless the shell already shared it.
                    let body = match response.body {
                        TransportData::Text(text) => TransportData::Shared(SharedText::new(text)),
                        body => body,
                    };
                    if !body.is_empty() {
                        let shared = match &body {
                            TransportData::Shared(text) => Some(text),
                            _ => None,
                        };
                        self.transport_data(now, body.as_bytes(), shared);
                    }
                    if matches!(self.phase, Phase::Handshaking { .. } | Phase::Connected) {
                        self.poll(now, false);
                    }
                }
                // The server ended the connection.
                204 => self.transport_closed_by_server(now, None),
                404 => self.transport_closed_by_server(
                    now,
                    Some("Long polling ended: the server no longer knows this connection (404).".into()),
                ),
                status => self.transport_closed_by_server(
                    now,
                    Some(["Long polling failed: Status code '", &decimal(status), "' ", &response.status_text].concat()),
                ),
            },
        }
    }

    fn on_send_response(&mut self, now: Instant, response: Result<HttpResponse, HttpFailure>) {
        if !matches!(self.phase, Phase::Handshaking { .. } | Phase::Connected) {
            return;
        }
        let failure = match response {
            Ok(response) if (200..300).contains(&response.status) => None,
            Ok(response) if response.status == 404 => {
                Some("Sending failed: the server no longer knows this connection (404).".to_string())
            }
            Ok(response) if response.status == 409 => {
                Some("Sending failed: the connection is in use by another transport (409).".to_string())
            }
            Ok(response) => {
                Some(["Sending failed: Status code '", &decimal(response.status), "' ", &response.status_text].concat())
            }
            Err(failure) => Some(["Sending failed: ", failure.message()].concat()),
        };
        match failure {
            None => self.flush_outbox(),
            Some(reason) => self.transport_closed_by_server(now, Some(reason)),
        }
    }

    /// The HTTP side of the transport reports its end: like the transport closing.
    fn transport_closed_by_server(&mut self, now: Instant, error: Option<String>) {
        match self.phase {
            Phase::Connected => self.finish_close(error.map(HubError::Transport), true, true),
            Phase::Handshaking { .. } => self.fail_start(HubError::Transport(
                error.unwrap_or_else(|| "The transport closed during the handshake.".into()),
            )),
            _ => self.transport_closed(now, error),
        }
    }

    /// The chosen transport could not open: try the next one (after a fresh negotiate), or
    /// give up with every reason.
    fn transport_failed(&mut self, _now: Instant, reason: String) {
        if self.phase != Phase::Opening {
            let error = HubError::Transport(reason);
            return match self.phase {
                Phase::Connected => self.finish_close(Some(error), true, true),
                _ => self.fail_start(error),
            };
        }
        let kind = self.transport.take().map(|t| t.kind);
        self.outputs.push_back(Output::CloseTransport { transport: self.transport_id });
        if let Some(kind) = kind {
            self.transport_failures.push([kind.name(), " failed: ", &reason].concat());
            if !self.candidates.is_empty() && !self.config.skip_negotiation {
                self.emit(Event::TransportFallback { from: kind, reason: reason.clone() });
            }
        }
        self.requests.retain(|_, r| r.purpose == Purpose::Negotiate);
        if self.candidates.is_empty() || self.config.skip_negotiation {
            let error = if self.config.skip_negotiation {
                HubError::Transport(reason)
            } else {
                self.all_transports_failed()
            };
            return self.fail_start(error);
        }
        self.log(LogLevel::Warning, [self.transport_failures.join(" ").as_str(), " Trying the next transport."].concat());
        self.negotiate_with_token();
    }

    fn all_transports_failed(&self) -> HubError {
        HubError::NoTransport(self.transport_failures.join(" "))
    }

    /// Ends a start that did not reach Connected. `onclose` is not involved: the app hears
    /// about it through the failed `start()`.
    fn fail_start(&mut self, error: HubError) {
        let transport_may_be_open = matches!(self.phase, Phase::Opening | Phase::Handshaking { .. });
        self.phase = Phase::Idle;
        self.timers.clear();
        self.connection_id = None;
        if transport_may_be_open {
            self.close_transport();
        }
        self.transport = None;
        self.transport_url = None;
        self.replay = None;
        self.confirmed_at = None;
        self.requests.retain(|_, r| r.purpose == Purpose::Delete);
        self.awaiting_token_retry.clear();
        self.emit(Event::StartFailed(error));
    }

    /// Ends a connected (or disconnecting) connection: every pending invocation is rejected
    /// (with `error` when there is one), then the app hears `Closed`.
    fn finish_close(&mut self, error: Option<HubError>, reconnect_allowed: bool, close_transport: bool) {
        self.phase = Phase::Idle;
        self.timers.clear();
        self.connection_id = None;
        if close_transport {
            self.close_transport();
        }
        self.transport = None;
        self.transport_url = None;
        self.replay = None;
        self.confirmed_at = None;
        self.requests.retain(|_, r| r.purpose == Purpose::Delete);
        self.awaiting_token_retry.clear();
        self.uploads.clear();
        // As in the official client, pending calls fail with the error that closed the
        // connection (the transport's, the server's Close, the server timeout), and with the
        // generic cancellation only when it closed without one.
        let cause = error.clone().unwrap_or(HubError::ConnectionClosed);
        for (id, _) in std::mem::take(&mut self.pending) {
            self.emit(Event::InvocationResult { id, outcome: Err(cause.clone()) });
        }
        self.emit(Event::Closed { error, reconnect_allowed });
    }

    // ----- internals: receiving -----------------------------------------------------------

    /// `shared`: the frame as shared text and where `frame` starts in it, when the shell kept it.
    fn receive_messages(&mut self, now: Instant, frame: &[u8], shared: Option<(&SharedText, usize)>) {
        let max = self.config.max_frame_bytes;
        let parsed = match shared {
            Some((text, start)) => self.config.protocol.parse_shared_frame(text, start, max),
            None => self.config.protocol.parse_frame(frame, max),
        };
        let messages = match parsed {
            Ok(messages) => messages,
            // A server that breaks the protocol cannot be trusted with the rest of the frame.
            Err(error) => return self.finish_close(Some(error.into()), true, true),
        };
        for message in messages {
            if self.phase != Phase::Connected {
                break;
            }
            if let Some(replay) = &mut self.replay {
                match replay.incoming(&message) {
                    Ok(true) => {
                        if Replay::is_trackable(&message) && self.timers.get(Timer::Ack).is_none() {
                            self.arm(Timer::Ack, now, super::replay::ACK_DELAY);
                        }
                    }
                    // A duplicate replayed by the server, or anything before its Sequence.
                    Ok(false) => continue,
                    Err(error) => return self.finish_close(Some(error), true, true),
                }
            }
            self.dispatch(now, message);
        }
    }

    /// Whether a socket lost now may be resumed: stateful reconnect is on, and the socket has
    /// lived through the stable-connection threshold since the server confirmed it. A younger
    /// socket's loss is a normal loss, so a server that drops every socket at once is retried
    /// on the policy's schedule rather than on every round trip.
    fn may_resume(&self, now: Instant) -> bool {
        self.replay.is_some()
            && self.transport_url.is_some()
            && self.confirmed_at.is_some_and(|at| {
                now.saturating_duration_since(at) >= self.config.stable_connection_threshold
            })
    }

    /// The manager refused the resume just announced with [`Event::Resuming`] (its retry
    /// policy allows no attempt): the new socket is not opened and the connection closes as a
    /// normal loss. Does nothing unless a resume is waiting to open.
    pub fn abandon_resume(&mut self, _now: Instant, reason: Option<String>) {
        if self.phase != (Phase::Resuming { opened: false }) {
            return;
        }
        let transport = self.transport_id;
        self.outputs.retain(|o| !matches!(o, Output::OpenTransport { transport: t, .. } if *t == transport));
        let reason = reason.unwrap_or_else(|| "The connection was lost.".into());
        self.finish_close(Some(HubError::Transport(reason)), true, false);
    }

    /// The socket dropped while stateful reconnect is on: open one new socket to the same
    /// connection instead of closing. The app hears nothing; the manager hears `Resuming`.
    /// The handshake timer bounds the whole resume: open, replay, and the server's first word.
    fn begin_resume(&mut self, now: Instant, error: Option<String>) {
        self.phase = Phase::Resuming { opened: false };
        self.timers.clear();
        self.arm(Timer::Handshake, now, self.config.handshake_timeout);
        if let Some(replay) = &mut self.replay {
            replay.disconnected();
        }
        self.log(
            LogLevel::Debug,
            ["Transport lost (", error.as_deref().unwrap_or("closed"), "); resuming the same connection."].concat(),
        );
        self.emit(Event::Resuming { reason: error });
        if let Some(url) = self.transport_url.clone() {
            let transport = self.new_transport_id();
            self.outputs.push_back(Output::OpenTransport { transport, kind: TransportKind::WebSockets, url });
        }
    }

    /// The new socket is open: announce where our numbering continues and replay. The resume
    /// is done when the server answers (see `transport_data`).
    fn resume(&mut self, _now: Instant) {
        self.phase = Phase::Resuming { opened: true };
        let texts = self.replay.as_mut().map(Replay::resend).unwrap_or_default();
        for text in texts {
            self.transport_send(text);
        }
    }

    fn pending_id(&mut self, invocation_id: &str) -> Option<(u64, Pending)> {
        let id = invocation_id.parse::<u64>().ok()?;
        self.pending.get(&id).map(|kind| (id, *kind))
    }

    fn dispatch(&mut self, now: Instant, message: HubMessage) {
        match message {
            HubMessage::Invocation { invocation_id, target, arguments, .. } => {
                let handlers = self.handlers.get(&target);
                if handlers.is_empty() {
                    self.log(
                        LogLevel::Warning,
                        ["No client method with the name '", target.as_str(), "' found."].concat(),
                    );
                    if let Some(invocation_id) = invocation_id {
                        // The server waits for a result that will never come otherwise.
                        self.complete_client_invocation(now, &invocation_id, Ok(None));
                    }
                    return;
                }
                self.emit(Event::Invocation { invocation_id, target, arguments, handlers });
            }
            HubMessage::StreamItem { invocation_id, item } => match self.pending_id(&invocation_id) {
                Some((id, Pending::Stream)) => self.emit(Event::StreamItem { id, item }),
                _ => self.log(
                    LogLevel::Warning,
                    ["StreamItem for unknown stream '", invocation_id.as_str(), "' ignored."].concat(),
                ),
            },
            HubMessage::Completion { invocation_id, completion } => {
                let Some((id, _)) = self.pending_id(&invocation_id) else {
                    return self.log(
                        LogLevel::Warning,
                        ["Completion for unknown invocation id '", invocation_id.as_str(), "' ignored."].concat(),
                    );
                };
                self.pending.remove(&id);
                let outcome = match completion {
                    Completion::Void => Ok(None),
                    Completion::Result(result) => Ok(Some(result)),
                    Completion::Error(error) => Err(HubError::Server(error)),
                };
                self.emit(Event::InvocationResult { id, outcome });
            }
            HubMessage::Ping => {}
            HubMessage::Ack { sequence_id } => {
                let released = self.replay.as_mut().map(|r| r.acknowledged(sequence_id)).unwrap_or_default();
                for text in released {
                    self.transport_send(text);
                }
            }
            // Handled by the replay filter before dispatch.
            HubMessage::Sequence { .. } => {}
            HubMessage::Close { error, allow_reconnect } => {
                self.finish_close(error.map(HubError::ServerClosed), allow_reconnect, true);
            }
            other => self.log(
                LogLevel::Debug,
                ["Ignoring message of type ", &decimal(other.type_id()), " from the server."].concat(),
            ),
        }
    }
}

/// The `HttpTransportType` bit of a transport.
pub fn transport_bit(kind: TransportKind) -> u8 {
    match kind {
        TransportKind::WebSockets => 1,
        TransportKind::ServerSentEvents => 2,
        TransportKind::LongPolling => 4,
    }
}

/// The most of an error answer's body quoted in a negotiate error.
const MAX_QUOTED_BODY_CHARS: usize = 500;

/// The official client's text for a negotiate answered with an error status: its HTTP client's
/// error (`Error: <body, or the status text>: Status code '<n>'`), with the official hint for a
/// 404. The body is cut to [`MAX_QUOTED_BODY_CHARS`].
fn negotiate_status_text(body: &str, status_text: &str, status: u16) -> String {
    let quoted: String = body.chars().take(MAX_QUOTED_BODY_CHARS).collect();
    let detail = if !quoted.is_empty() { quoted.as_str() } else { status_text };
    let hint = if status == 404 {
        " Either this is not a SignalR endpoint or there is a proxy blocking the connection."
    } else {
        ""
    };
    ["Error: ", detail, ": Status code '", &decimal(status), "'", hint].concat()
}
