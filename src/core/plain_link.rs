//! One plain JSON WebSocket link: the socket of one attempt to a server that sends
//! `{ type, payload }` text frames (see [`crate::protocol::plain`]).
//!
//! This is the plain counterpart of [`super::hub::HubConnection`], and much smaller: no
//! negotiate, no handshake, no keep-alive. The link asks for the access token when the app has
//! a factory (it goes in the URL's query, as browsers cannot set WebSocket headers), opens the
//! socket, reports it up once open, turns frames into messages and reports how it ended. Whether
//! to try again is not its business: [`super::plain_session`] puts it under the supervisor.
//!
//! # Contract
//! Deterministic, free of I/O; `now` is passed in. App commands (`start`, `stop`, `send`),
//! inputs (`handle_access_token`, `handle_socket_opened`, `handle_socket_text`,
//! `handle_socket_closed`, `handle_timeout`), then drain [`PlainLink::poll_output`] and read
//! [`PlainLink::poll_timeout`] — the one deadline is the open timeout.
//!
//! # Closing
//! A close with code 1000 (normal closure) from the server means "done": the link reports it
//! without an error and with `reconnect_allowed: false`. Any other code, an abnormal close or a
//! failure to open is an error that allows reconnecting. `stop()` ends the link at once without
//! waiting for the socket's own close event (which browsers may deliver many seconds later).

use std::collections::VecDeque;
use std::time::Duration;

use super::error::HubError;
use super::hub::LogLevel;
use super::text::decimal;
use super::time::Instant;
use super::redact::redact;
use crate::protocol::negotiate::{append_query, encode_query_value, websocket_url};
use crate::protocol::plain::{encode_message, parse_message, PlainMessage, DEFAULT_MAX_MESSAGE_BYTES};
use crate::protocol::RawJson;

/// The WebSocket close code of a normal closure: the server is done, do not reconnect.
pub const NORMAL_CLOSURE: u16 = 1000;

/// Settings of a plain WebSocket link.
#[derive(Debug, Clone)]
pub struct PlainConfig {
    /// The endpoint: `ws(s)://`, or `http(s)://` (turned into the matching ws URL).
    pub url: String,
    /// The app supplied an access token factory: ask for a token before every connect.
    pub uses_access_token: bool,
    /// The query parameter that carries the token.
    pub token_param: String,
    /// Give up on a socket that has not opened within this long.
    pub open_timeout: Duration,
    /// Largest message accepted, in bytes; larger ones are skipped with a warning.
    pub max_message_bytes: usize,
}

impl PlainConfig {
    /// Checks the open timeout and message limit against [`limits`](super::limits).
    pub fn validate(&self) -> Result<(), super::limits::ConfigError> {
        super::limits::check_duration("openTimeoutMs", self.open_timeout)?;
        super::limits::check_size("maxMessageBytes", self.max_message_bytes)?;
        Ok(())
    }

    /// Defaults for `url`: token in `access_token`, 15 s open timeout, 1 MiB messages.
    pub fn new(url: impl Into<String>) -> Self {
        PlainConfig {
            url: url.into(),
            uses_access_token: false,
            token_param: "access_token".to_string(),
            open_timeout: Duration::from_secs(15),
            max_message_bytes: DEFAULT_MAX_MESSAGE_BYTES,
        }
    }
}

/// How the socket closed, as the browser reported it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SocketClose {
    /// The close code (1006 when the connection was lost without a close frame).
    pub code: u16,
    /// The close reason (may be empty).
    pub reason: String,
    /// Whether the closing handshake completed.
    pub clean: bool,
}

/// I/O the link asks the shell for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlainIo {
    /// Call the app's access token factory; answer with `handle_access_token`.
    FetchAccessToken,
    /// Open a WebSocket at this URL; answer with `handle_socket_opened` / `handle_socket_closed`.
    OpenSocket {
        /// The full ws(s) URL, token included.
        url: String,
    },
    /// Send this text frame on the open socket.
    Send(String),
    /// Close and forget the socket (no answer needed: the link is already closed).
    CloseSocket,
}

/// What happened to the link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlainLinkEvent {
    /// The socket is open: the link is up.
    Opened,
    /// The link could not come up.
    OpenFailed(HubError),
    /// A message arrived.
    Message(PlainMessage),
    /// The link ended after being up.
    Closed {
        /// Why, unless the server closed normally or the app stopped.
        error: Option<HubError>,
        /// False after `stop()` and after a normal closure (code 1000) by the server.
        reconnect_allowed: bool,
    },
    /// A line for the app's logger (e.g. a malformed message that was skipped).
    Log {
        /// Severity.
        level: LogLevel,
        /// The text.
        message: String,
    },
}

/// The link's outputs, drained in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlainOutput {
    /// Perform this I/O.
    Io(PlainIo),
    /// Tell the owner.
    Event(PlainLinkEvent),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Idle,
    AwaitingToken,
    Opening,
    Open,
}

/// One plain WebSocket link.
#[derive(Debug)]
pub struct PlainLink {
    config: PlainConfig,
    phase: Phase,
    open_deadline: Option<Instant>,
    outputs: VecDeque<PlainOutput>,
    /// The access token of the latest attempt, removed from every text that comes in.
    token: Option<String>,
}

impl PlainLink {
    /// An idle link.
    pub fn new(config: PlainConfig) -> Self {
        PlainLink { config, phase: Phase::Idle, open_deadline: None, outputs: VecDeque::new(), token: None }
    }

    /// The settings.
    pub fn config(&self) -> &PlainConfig {
        &self.config
    }

    /// Whether the socket is open.
    pub fn is_open(&self) -> bool {
        self.phase == Phase::Open
    }

    /// The next output, if any.
    pub fn poll_output(&mut self) -> Option<PlainOutput> {
        self.outputs.pop_front()
    }

    /// When `handle_timeout` must be called next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.open_deadline
    }

    /// Starts an attempt: a token first when there is a factory, then the socket.
    pub fn start(&mut self, now: Instant) -> Result<(), HubError> {
        if self.phase != Phase::Idle {
            return Err(HubError::AlreadyStarted);
        }
        // Check the URL before anything else, so a bad one fails the start at once.
        socket_url(&self.config.url)?;
        self.open_deadline = Some(now + self.config.open_timeout);
        if self.config.uses_access_token {
            self.phase = Phase::AwaitingToken;
            self.io(PlainIo::FetchAccessToken);
        } else {
            self.open(None);
        }
        Ok(())
    }

    /// Ends the link now. A link that was open reports `Closed` without an error; one still
    /// starting reports `OpenFailed(StoppedDuringStart)`.
    pub fn stop(&mut self, _now: Instant) {
        match self.phase {
            Phase::Idle => {}
            Phase::AwaitingToken => self.fail(HubError::StoppedDuringStart, false),
            Phase::Opening => self.fail(HubError::StoppedDuringStart, true),
            Phase::Open => self.close(None, false, true),
        }
    }

    /// Sends one message.
    pub fn send(&mut self, _now: Instant, kind: &str, payload: RawJson) -> Result<(), HubError> {
        if self.phase != Phase::Open {
            return Err(HubError::NotConnected);
        }
        let text = encode_message(&PlainMessage { kind: kind.to_string(), payload });
        self.io(PlainIo::Send(text));
        Ok(())
    }

    // ----- inputs -------------------------------------------------------------------------

    /// The token factory answered (`Ok(None)`: no token; `Err`: it threw).
    pub fn handle_access_token(&mut self, _now: Instant, token: Result<Option<String>, String>) {
        if self.phase != Phase::AwaitingToken {
            return;
        }
        match token {
            Ok(token) => self.open(token.filter(|t| !t.is_empty())),
            Err(error) => {
                let error = self.redacted(&error);
                self.fail(HubError::AccessToken(error), false)
            }
        }
    }

    /// The socket opened.
    pub fn handle_socket_opened(&mut self, _now: Instant) {
        if self.phase != Phase::Opening {
            return;
        }
        self.phase = Phase::Open;
        self.open_deadline = None;
        self.event(PlainLinkEvent::Opened);
    }

    /// A text frame arrived. A frame that is not a `{ type, payload }` object is skipped with a
    /// warning: one bad message from the server does not cost the connection.
    pub fn handle_socket_text(&mut self, _now: Instant, text: &str) {
        if self.phase != Phase::Open {
            return;
        }
        match parse_message(text, self.config.max_message_bytes) {
            Ok(message) => self.event(PlainLinkEvent::Message(message)),
            Err(error) => self.event(PlainLinkEvent::Log {
                level: LogLevel::Warning,
                message: ["Skipped a WebSocket message that is not { type, payload } JSON: ", &error.message()].concat(),
            }),
        }
    }

    /// The socket closed (or failed to open).
    pub fn handle_socket_closed(&mut self, _now: Instant, mut close: SocketClose) {
        // A constructor exception the shell passes on as the reason quotes the URL and token.
        close.reason = self.redacted(&close.reason);
        match self.phase {
            Phase::Idle | Phase::AwaitingToken => {}
            Phase::Opening => self.fail(
                HubError::Transport(
                    [
                        "The WebSocket could not be opened (status code ",
                        &decimal(close.code),
                        &reason_suffix(&close.reason),
                        ").",
                    ]
                    .concat(),
                ),
                false,
            ),
            Phase::Open if close.code == NORMAL_CLOSURE => self.close(None, false, false),
            Phase::Open => {
                let error = HubError::Transport(
                    ["WebSocket closed with status code: ", &decimal(close.code), &reason_suffix(&close.reason), "."].concat(),
                );
                self.close(Some(error), true, false);
            }
        }
    }

    /// The open timeout passed.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.open_deadline.is_some_and(|at| at <= now) {
            let waited = self.config.open_timeout.as_millis();
            let close_socket = self.phase == Phase::Opening;
            self.fail(
                HubError::Transport(["The WebSocket did not open within ", &decimal(waited), " ms."].concat()),
                close_socket,
            );
        }
    }

    // ----- internals ----------------------------------------------------------------------

    fn io(&mut self, io: PlainIo) {
        self.outputs.push_back(PlainOutput::Io(io));
    }

    fn event(&mut self, event: PlainLinkEvent) {
        self.outputs.push_back(PlainOutput::Event(event));
    }

    /// `text` without the access token (plain or encoded) or any `access_token=` value.
    fn redacted(&self, text: &str) -> String {
        redact(text, &self.token.as_deref().into_iter().collect::<Vec<_>>())
    }

    fn open(&mut self, token: Option<String>) {
        self.token.clone_from(&token);
        let url = match socket_url(&self.config.url) {
            Ok(url) => url,
            Err(error) => return self.fail(error, false),
        };
        let url = match token {
            Some(token) => append_query(&url, &self.config.token_param, &encode_query_value(&token)),
            None => url,
        };
        self.phase = Phase::Opening;
        self.io(PlainIo::OpenSocket { url });
    }

    fn fail(&mut self, error: HubError, close_socket: bool) {
        self.phase = Phase::Idle;
        self.open_deadline = None;
        if close_socket {
            self.io(PlainIo::CloseSocket);
        }
        self.event(PlainLinkEvent::OpenFailed(error));
    }

    fn close(&mut self, error: Option<HubError>, reconnect_allowed: bool, close_socket: bool) {
        self.phase = Phase::Idle;
        self.open_deadline = None;
        if close_socket {
            self.io(PlainIo::CloseSocket);
        }
        self.event(PlainLinkEvent::Closed { error, reconnect_allowed });
    }
}

fn reason_suffix(reason: &str) -> String {
    if reason.is_empty() {
        String::new()
    } else {
        [" (", reason, ")"].concat()
    }
}

/// The ws(s) URL of the endpoint: ws(s) URLs as given, http(s) URLs turned into ws(s).
pub fn socket_url(url: &str) -> Result<String, HubError> {
    let lower = url.get(..6).unwrap_or(url).to_ascii_lowercase();
    if lower.starts_with("ws://") || lower.starts_with("wss://") {
        return Ok(url.to_string());
    }
    Ok(websocket_url(url)?)
}
