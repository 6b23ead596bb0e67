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
//!   `handle_transport_data`, `handle_transport_closed`, `handle_timeout`;
//! - **outputs**, drained after every call: [`poll_output`](HubConnection::poll_output) until it
//!   returns `None`, then [`poll_timeout`](HubConnection::poll_timeout) for the one time the
//!   engine must next be woken with `handle_timeout`.
//!
//! States: Disconnected → Connecting → Connected → Disconnecting → Disconnected. The state is
//! derived from the current [`Phase`], never stored twice.

use std::collections::{BTreeSet, VecDeque};
use std::time::Duration;

use super::error::HubError;
use super::handlers::HandlerRegistry;
use super::time::Instant;
use super::timer::{Timer, TimerTable};
use crate::protocol::framing::DEFAULT_MAX_FRAME_BYTES;
use crate::protocol::handshake::{self, HandshakeParse, HandshakeRequest};
use crate::protocol::message::parse_frame;
use crate::protocol::negotiate::{
    self, encode_query_value, ConnectionDetails, NegotiateResponse, TransportKind,
};
use crate::protocol::{Completion, HubMessage, RawJson};

/// How many negotiate redirects are followed before giving up (as the official client).
pub const MAX_REDIRECTS: u32 = 100;

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
        }
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
    /// Request body, if any.
    pub body: Option<String>,
}

/// An HTTP answer as the shell received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    /// Status code.
    pub status: u16,
    /// Status text (may be empty).
    pub status_text: String,
    /// Body as text.
    pub body: String,
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
    /// The server called a client method: call each handler with the arguments.
    Invocation {
        /// The method name as the server sent it.
        target: String,
        /// The arguments, a JSON array.
        arguments: RawJson,
        /// The handlers registered for the name.
        handlers: Vec<H>,
    },
    /// An `invoke` finished.
    InvocationResult {
        /// The id `invoke` returned.
        id: u64,
        /// The result (`None` for a void method) or the error.
        outcome: Result<Option<RawJson>, HubError>,
    },
    /// A started connection closed (after `stop()`, an error, or a server Close).
    Closed {
        /// Why, when it was not a clean stop.
        error: Option<HubError>,
        /// Whether reconnecting makes sense: false after `stop()` or a server Close that did
        /// not allow it.
        reconnect_allowed: bool,
    },
    /// A line for the app's logger.
    Log {
        /// Severity.
        level: LogLevel,
        /// The text.
        message: String,
    },
}

/// What the engine asks the shell to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Output<H> {
    /// Make an HTTP request.
    Http(HttpRequest),
    /// Call the app's access token factory and answer with `handle_access_token`.
    FetchAccessToken,
    /// Open a transport at `url`; answer with `handle_transport_opened` or
    /// `handle_transport_closed`.
    OpenTransport {
        /// Which transport.
        kind: TransportKind,
        /// Its URL, ready to use (ws:// for WebSockets).
        url: String,
    },
    /// Send this text on the open transport.
    Send(String),
    /// Close the transport; answer with `handle_transport_closed` once it is closed (the shell
    /// may answer at once rather than wait for a slow close handshake).
    CloseTransport,
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
    Opening,
    Handshaking { buffer: String },
    Connected,
    Disconnecting,
}

#[derive(Debug, Clone, PartialEq)]
enum AfterToken {
    Negotiate,
    Connect { details: Option<ConnectionDetails> },
}

/// One hub connection's state machine. `H` is the shell's handler type.
#[derive(Debug)]
pub struct HubConnection<H> {
    config: HubConfig,
    phase: Phase,
    handlers: HandlerRegistry<H>,
    pending: BTreeSet<u64>,
    next_invocation_id: u64,
    next_request_id: u64,
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
}

impl<H: Clone + PartialEq> HubConnection<H> {
    /// A disconnected connection with `config`.
    pub fn new(config: HubConfig) -> Self {
        HubConnection {
            hub_url: config.url.clone(),
            config,
            phase: Phase::Idle,
            handlers: HandlerRegistry::default(),
            pending: BTreeSet::new(),
            next_invocation_id: 0,
            next_request_id: 0,
            timers: TimerTable::default(),
            outputs: VecDeque::new(),
            connection_id: None,
            redirects: 0,
            access_token: None,
            redirect_token: false,
        }
    }

    /// The settings.
    pub fn config(&self) -> &HubConfig {
        &self.config
    }

    /// The current state.
    pub fn state(&self) -> ConnectionState {
        match self.phase {
            Phase::Idle => ConnectionState::Disconnected,
            Phase::AwaitingToken { .. }
            | Phase::Negotiating { .. }
            | Phase::Opening
            | Phase::Handshaking { .. } => ConnectionState::Connecting,
            Phase::Connected => ConnectionState::Connected,
            Phase::Disconnecting => ConnectionState::Disconnecting,
        }
    }

    /// The server's id for this connection while connected (after negotiate).
    pub fn connection_id(&self) -> Option<&str> {
        self.connection_id.as_deref()
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
    pub fn start(&mut self, _now: Instant) -> Result<(), HubError> {
        if self.phase != Phase::Idle {
            return Err(HubError::AlreadyStarted);
        }
        // This release speaks WebSockets only: a configuration that rules it out cannot work.
        if self.config.allowed_transports & 1 == 0 {
            return Err(HubError::NoTransport(
                "The 'transport' option excludes WebSockets, the only transport this release supports."
                    .into(),
            ));
        }
        self.hub_url = self.config.url.clone();
        self.redirects = 0;
        self.access_token = None;
        self.redirect_token = false;
        if self.config.skip_negotiation {
            self.connect_with_token(None);
        } else {
            self.negotiate_with_token();
        }
        Ok(())
    }

    /// Stops the connection. A start in progress fails with
    /// [`HubError::StoppedDuringStart`]; a connected hub goes Disconnecting until the shell
    /// reports the transport closed. Stopping a stopped connection does nothing.
    pub fn stop(&mut self, _now: Instant) {
        match self.phase {
            Phase::Idle | Phase::Disconnecting => {}
            Phase::Connected => {
                self.phase = Phase::Disconnecting;
                self.timers.clear();
                self.outputs.push_back(Output::CloseTransport);
            }
            _ => self.fail_start(HubError::StoppedDuringStart),
        }
    }

    /// Calls a hub method and expects its result as [`Event::InvocationResult`] with the
    /// returned id.
    pub fn invoke(&mut self, now: Instant, target: &str, arguments: RawJson) -> Result<u64, HubError> {
        self.ensure_connected()?;
        let id = self.next_invocation_id;
        self.next_invocation_id += 1;
        self.pending.insert(id);
        self.send_message(
            now,
            &HubMessage::Invocation {
                invocation_id: Some(id.to_string()),
                target: target.to_string(),
                arguments,
                stream_ids: Vec::new(),
            },
        );
        Ok(id)
    }

    /// Calls a hub method without waiting for a result.
    pub fn send(&mut self, now: Instant, target: &str, arguments: RawJson) -> Result<(), HubError> {
        self.ensure_connected()?;
        self.send_message(
            now,
            &HubMessage::Invocation {
                invocation_id: None,
                target: target.to_string(),
                arguments,
                stream_ids: Vec::new(),
            },
        );
        Ok(())
    }

    // ----- inputs -------------------------------------------------------------------------

    /// The app's access token factory answered (`Ok(None)`: no token; `Err`: it threw).
    pub fn handle_access_token(&mut self, _now: Instant, token: Result<Option<String>, String>) {
        let Phase::AwaitingToken { next } = &self.phase else { return };
        let next = next.clone();
        match token {
            Err(error) => self.fail_start(HubError::AccessToken(error)),
            Ok(token) => {
                self.access_token = token.filter(|t| !t.is_empty());
                match next {
                    AfterToken::Negotiate => self.send_negotiate(),
                    AfterToken::Connect { details } => self.open_transport(details),
                }
            }
        }
    }

    /// An HTTP request finished (`Err`: it could not be made, with the reason).
    pub fn handle_http(&mut self, _now: Instant, id: u64, response: Result<HttpResponse, String>) {
        // Answers to requests of an earlier start, or after a stop, are stale.
        if self.phase != (Phase::Negotiating { request_id: id }) {
            return;
        }
        let response = match response {
            Err(reason) => return self.fail_start(HubError::Negotiate(reason)),
            Ok(response) => response,
        };
        if response.status != 200 {
            let text = if response.status_text.is_empty() { "Error" } else { &response.status_text };
            return self.fail_start(HubError::Negotiate(format!(
                "{text}: Status code '{}'",
                response.status
            )));
        }
        match negotiate::parse_response(&response.body) {
            Err(error) => self.fail_start(error.into()),
            Ok(NegotiateResponse::Redirect { url, access_token }) => {
                self.redirects += 1;
                if self.redirects > MAX_REDIRECTS {
                    return self.fail_start(HubError::TooManyRedirects(MAX_REDIRECTS));
                }
                self.hub_url = url;
                if let Some(token) = access_token {
                    self.access_token = Some(token);
                    self.redirect_token = true;
                }
                self.negotiate_with_token();
            }
            Ok(NegotiateResponse::Connect(details)) => {
                let offers_websockets = details.available_transports.iter().any(|t| {
                    TransportKind::from_name(&t.transport) == Some(TransportKind::WebSockets)
                        && t.transfer_formats.iter().any(|f| f == "Text")
                });
                if !offers_websockets {
                    let offered: Vec<&str> =
                        details.available_transports.iter().map(|t| t.transport.as_str()).collect();
                    return self.fail_start(HubError::NoTransport(format!(
                        "The server offers [{}]; this client connects over WebSockets with the \
                         text format.",
                        offered.join(", ")
                    )));
                }
                self.connect_with_token(Some(details));
            }
        }
    }

    /// The transport is open: send the handshake.
    pub fn handle_transport_opened(&mut self, now: Instant) {
        if self.phase != Phase::Opening {
            return;
        }
        self.phase = Phase::Handshaking { buffer: String::new() };
        self.timers.set(Timer::Handshake, now + self.config.handshake_timeout);
        self.outputs.push_back(Output::Send(HandshakeRequest::json(1).encode()));
    }

    /// Text arrived on the transport.
    pub fn handle_transport_data(&mut self, now: Instant, data: &str) {
        match &mut self.phase {
            Phase::Handshaking { buffer } => {
                if buffer.len() + data.len() > self.config.max_frame_bytes {
                    let size = buffer.len() + data.len();
                    let limit = self.config.max_frame_bytes;
                    return self.fail_start(crate::protocol::ProtocolError::TooLarge { size, limit }.into());
                }
                buffer.push_str(data);
                let buffer = std::mem::take(buffer);
                match handshake::parse_response(&buffer) {
                    Err(error) => self.fail_start(error.into()),
                    Ok(HandshakeParse::Incomplete) => {
                        self.phase = Phase::Handshaking { buffer };
                    }
                    Ok(HandshakeParse::Accepted { rest }) => {
                        self.phase = Phase::Connected;
                        self.timers.stop(Timer::Handshake);
                        self.timers.set(Timer::KeepAlive, now + self.config.keep_alive_interval);
                        self.timers.set(Timer::ServerTimeout, now + self.config.server_timeout);
                        self.emit(Event::Started { connection_id: self.connection_id.clone() });
                        if !rest.is_empty() {
                            let rest = rest.to_string();
                            self.receive_messages(now, &rest);
                        }
                    }
                }
            }
            Phase::Connected => {
                self.timers.set(Timer::ServerTimeout, now + self.config.server_timeout);
                self.receive_messages(now, data);
            }
            // Data before the transport reported open, or after we began closing, is ignored:
            // the shell detaches a closed transport, so this can only be a late straggler.
            _ => {}
        }
    }

    /// The transport closed or failed to open (`error`: why, when not requested).
    pub fn handle_transport_closed(&mut self, _now: Instant, error: Option<String>) {
        match self.phase {
            Phase::Opening | Phase::Handshaking { .. } => {
                let reason = error.unwrap_or_else(|| "The transport closed during the handshake.".into());
                self.fail_start(HubError::Transport(reason));
            }
            Phase::Connected => self.finish_close(error.map(HubError::Transport), true, false),
            Phase::Disconnecting => self.finish_close(None, false, false),
            _ => {}
        }
    }

    /// Time passed: fire every timer due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        while let Some(timer) = self.timers.pop_expired(now) {
            match timer {
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
            }
        }
    }

    // ----- internals ----------------------------------------------------------------------

    fn emit(&mut self, event: Event<H>) {
        self.outputs.push_back(Output::Event(event));
    }

    fn log(&mut self, level: LogLevel, message: String) {
        self.emit(Event::Log { level, message });
    }

    fn ensure_connected(&self) -> Result<(), HubError> {
        match self.phase {
            Phase::Connected => Ok(()),
            _ => Err(HubError::NotConnected),
        }
    }

    fn send_message(&mut self, now: Instant, message: &HubMessage) {
        self.outputs.push_back(Output::Send(message.encode()));
        // Anything sent proves we are alive, so the keep-alive Ping waits a full interval again.
        self.timers.set(Timer::KeepAlive, now + self.config.keep_alive_interval);
    }

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

    fn connect_with_token(&mut self, details: Option<ConnectionDetails>) {
        if self.wants_token_from_factory() {
            self.phase = Phase::AwaitingToken { next: AfterToken::Connect { details } };
            self.outputs.push_back(Output::FetchAccessToken);
        } else {
            self.open_transport(details);
        }
    }

    fn send_negotiate(&mut self) {
        let url = match negotiate::negotiate_url(&self.hub_url, false) {
            Ok(url) => url,
            Err(error) => return self.fail_start(error.into()),
        };
        let id = self.next_request_id;
        self.next_request_id += 1;
        let mut headers = vec![
            ("X-Requested-With".to_string(), "XMLHttpRequest".to_string()),
            ("X-SignalR-User-Agent".to_string(), self.config.user_agent.clone()),
        ];
        if let Some(token) = &self.access_token {
            headers.push(("Authorization".to_string(), format!("Bearer {token}")));
        }
        self.phase = Phase::Negotiating { request_id: id };
        self.outputs.push_back(Output::Http(HttpRequest {
            id,
            method: "POST",
            url,
            headers,
            body: None,
        }));
    }

    fn open_transport(&mut self, details: Option<ConnectionDetails>) {
        let mut url = match &details {
            Some(details) => negotiate::connect_url(&self.hub_url, &details.connection_token),
            None => self.hub_url.clone(),
        };
        if let Some(token) = &self.access_token {
            url = negotiate::append_query(&url, "access_token", &encode_query_value(token));
        }
        let url = match negotiate::websocket_url(&url) {
            Ok(url) => url,
            Err(error) => return self.fail_start(error.into()),
        };
        self.connection_id = details.map(|d| d.connection_id);
        self.phase = Phase::Opening;
        self.outputs.push_back(Output::OpenTransport { kind: TransportKind::WebSockets, url });
    }

    /// Ends a start that did not reach Connected. `onclose` is not involved: the app hears
    /// about it through the failed `start()`.
    fn fail_start(&mut self, error: HubError) {
        let transport_may_be_open = matches!(self.phase, Phase::Opening | Phase::Handshaking { .. });
        self.phase = Phase::Idle;
        self.timers.clear();
        self.connection_id = None;
        if transport_may_be_open {
            self.outputs.push_back(Output::CloseTransport);
        }
        self.emit(Event::StartFailed(error));
    }

    /// Ends a connected (or disconnecting) connection: every pending invocation is rejected,
    /// then the app hears `Closed`.
    fn finish_close(&mut self, error: Option<HubError>, reconnect_allowed: bool, close_transport: bool) {
        self.phase = Phase::Idle;
        self.timers.clear();
        self.connection_id = None;
        if close_transport {
            self.outputs.push_back(Output::CloseTransport);
        }
        for id in std::mem::take(&mut self.pending) {
            self.emit(Event::InvocationResult { id, outcome: Err(HubError::ConnectionClosed) });
        }
        self.emit(Event::Closed { error, reconnect_allowed });
    }

    fn receive_messages(&mut self, now: Instant, frame: &str) {
        let messages = match parse_frame(frame, self.config.max_frame_bytes) {
            Ok(messages) => messages,
            // A server that breaks the protocol cannot be trusted with the rest of the frame.
            Err(error) => return self.finish_close(Some(error.into()), true, true),
        };
        for message in messages {
            if self.phase != Phase::Connected {
                break;
            }
            self.dispatch(now, message);
        }
    }

    fn dispatch(&mut self, now: Instant, message: HubMessage) {
        match message {
            HubMessage::Invocation { invocation_id, target, arguments, .. } => {
                let handlers = self.handlers.get(&target);
                if handlers.is_empty() {
                    self.log(
                        LogLevel::Warning,
                        format!("No client method with the name '{target}' found."),
                    );
                    if let Some(invocation_id) = invocation_id {
                        // The server waits for a result that will never come otherwise.
                        self.send_message(
                            now,
                            &HubMessage::Completion {
                                invocation_id,
                                completion: Completion::Error("Client didn't provide a result.".into()),
                            },
                        );
                    }
                    return;
                }
                self.emit(Event::Invocation { target, arguments, handlers });
            }
            HubMessage::Completion { invocation_id, completion } => {
                let id = invocation_id.parse::<u64>().ok().filter(|id| self.pending.remove(id));
                let Some(id) = id else {
                    return self.log(
                        LogLevel::Warning,
                        format!("Completion for unknown invocation id '{invocation_id}' ignored."),
                    );
                };
                let outcome = match completion {
                    Completion::Void => Ok(None),
                    Completion::Result(result) => Ok(Some(result)),
                    Completion::Error(error) => Err(HubError::Server(error)),
                };
                self.emit(Event::InvocationResult { id, outcome });
            }
            HubMessage::Ping => {}
            HubMessage::Close { error, allow_reconnect } => {
                self.finish_close(error.map(HubError::ServerClosed), allow_reconnect, true);
            }
            other => self.log(
                LogLevel::Debug,
                format!("Ignoring message of type {} (not supported yet).", other.type_id()),
            ),
        }
    }
}
