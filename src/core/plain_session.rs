//! A managed plain WebSocket session: one [`PlainLink`] under the same [`Supervisor`] that keeps
//! hub connections alive.
//!
//! The glue mirrors [`super::session`]: it passes the link's I/O through, turns the link's
//! events into supervisor inputs (`Opened` → `link_up`, `OpenFailed` → `link_failed`,
//! `Closed` → `link_down`), performs the supervisor's start and stop on the link, and merges both
//! sides' events into one stream. So the retry schedule, first-start retry, online/offline and
//! page lifecycle behave exactly as for a hub; the one plain-specific rule (a server's normal
//! closure, code 1000, ends the session instead of reconnecting) is the link's
//! `reconnect_allowed: false`.
//!
//! Message handlers are registered per message `type` (exact, case-sensitive match: plain
//! servers name their types freely, unlike hub methods). Plain endpoints have no groups; the
//! supervisor is never asked to join any.

use std::collections::VecDeque;

use super::error::HubError;
use super::hub::LogLevel;
use super::plain_link::{PlainConfig, PlainIo, PlainLink, PlainLinkEvent, PlainOutput, SocketClose};
use super::supervisor::{
    ManagedState, ReconnectOptions, StateChange, Supervisor, SupervisorEvent, SupervisorOutput, Telemetry,
};
use super::time::Instant;
use crate::protocol::RawJson;

/// What the app hears from a plain session.
#[derive(Debug, Clone, PartialEq)]
pub enum PlainSessionEvent<H> {
    /// The state changed.
    StateChanged(StateChange),
    /// `start()` succeeded.
    Started,
    /// `start()` failed for good.
    StartFailed(HubError),
    /// The link was lost and will be retried.
    Reconnecting(Option<HubError>),
    /// The link is back.
    Reconnected,
    /// The session ended for good (after `stop()`, a normal closure, or when retries ran out).
    Closed(Option<HubError>),
    /// A message arrived: call each handler with the payload.
    Message {
        /// The message `type`.
        kind: String,
        /// Its payload, JSON text.
        payload: RawJson,
        /// The handlers registered for the type.
        handlers: Vec<H>,
    },
    /// A line for the logger.
    Log {
        /// Severity.
        level: LogLevel,
        /// Text.
        message: String,
    },
    /// A telemetry record (the supervisor's).
    Telemetry(Telemetry),
}

/// What the session asks of the shell.
#[derive(Debug, Clone, PartialEq)]
pub enum PlainSessionOutput<H> {
    /// The link's I/O.
    Io(PlainIo),
    /// An event for the app.
    Event(PlainSessionEvent<H>),
}

/// A plain WebSocket link kept alive by a supervisor.
#[derive(Debug)]
pub struct PlainSession<H> {
    link: PlainLink,
    supervisor: Supervisor,
    handlers: Vec<(String, H)>,
    outputs: VecDeque<PlainSessionOutput<H>>,
}

impl<H: Clone + PartialEq> PlainSession<H> {
    /// A stopped session; `reconnect: None` turns automatic reconnect off.
    pub fn new(config: PlainConfig, reconnect: Option<ReconnectOptions>) -> Self {
        PlainSession {
            link: PlainLink::new(config),
            supervisor: Supervisor::new(reconnect),
            handlers: Vec::new(),
            outputs: VecDeque::new(),
        }
    }

    /// The state the app sees.
    pub fn state(&self) -> ManagedState {
        self.supervisor.state()
    }

    /// The link's settings.
    pub fn config(&self) -> &PlainConfig {
        self.link.config()
    }

    /// Successful reconnects since creation.
    pub fn reconnect_count(&self) -> u32 {
        self.supervisor.reconnect_count()
    }

    /// Next output for the shell.
    pub fn poll_output(&mut self) -> Option<PlainSessionOutput<H>> {
        self.outputs.pop_front()
    }

    /// When to call `handle_timeout` next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        match (self.link.poll_timeout(), self.supervisor.poll_timeout()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    // ----- app commands -------------------------------------------------------------------

    /// Starts; the outcome is `Started` or `StartFailed`.
    pub fn start(&mut self, now: Instant) -> Result<(), HubError> {
        self.supervisor.start(now)?;
        self.process(now);
        Ok(())
    }

    /// Stops (also cancels a pending retry).
    pub fn stop(&mut self, now: Instant) {
        self.supervisor.stop(now);
        self.process(now);
    }

    /// Registers a handler for messages of `kind`; the same handler twice is kept once.
    pub fn on(&mut self, kind: &str, handler: H) {
        if !self.handlers.iter().any(|(k, h)| k == kind && *h == handler) {
            self.handlers.push((kind.to_string(), handler));
        }
    }

    /// Removes one handler of `kind`, or all of them when `handler` is `None`.
    pub fn off(&mut self, kind: &str, handler: Option<&H>) {
        self.handlers.retain(|(k, h)| k != kind || handler.is_some_and(|wanted| h != wanted));
    }

    /// Sends a `{ type, payload }` message on the open link.
    pub fn send(&mut self, now: Instant, kind: &str, payload: RawJson) -> Result<(), HubError> {
        if self.supervisor.state() != ManagedState::Connected {
            return Err(HubError::NotConnected);
        }
        self.link.send(now, kind, payload)?;
        self.process(now);
        Ok(())
    }

    // ----- browser lifecycle --------------------------------------------------------------

    /// `online` (true) / `offline` (false).
    pub fn set_online(&mut self, now: Instant, online: bool) {
        self.supervisor.set_online(now, online);
        self.process(now);
    }

    /// The page became visible.
    pub fn page_visible(&mut self, now: Instant) {
        self.supervisor.page_visible(now);
        self.process(now);
    }

    /// `pagehide`.
    pub fn page_hidden(&mut self, now: Instant) {
        self.supervisor.page_hidden(now);
        self.process(now);
    }

    /// `pageshow` (`persisted`: restored from the back/forward cache).
    pub fn page_shown(&mut self, now: Instant, persisted: bool) {
        self.supervisor.page_shown(now, persisted);
        self.process(now);
    }

    // ----- link inputs (see `PlainLink` for each) -----------------------------------------

    /// The access token factory answered.
    pub fn handle_access_token(&mut self, now: Instant, token: Result<Option<String>, String>) {
        self.link.handle_access_token(now, token);
        self.process(now);
    }

    /// The socket opened.
    pub fn handle_socket_opened(&mut self, now: Instant) {
        self.link.handle_socket_opened(now);
        self.process(now);
    }

    /// A text frame arrived.
    pub fn handle_socket_text(&mut self, now: Instant, text: &str) {
        self.link.handle_socket_text(now, text);
        self.process(now);
    }

    /// The socket closed or failed.
    pub fn handle_socket_closed(&mut self, now: Instant, close: SocketClose) {
        self.link.handle_socket_closed(now, close);
        self.process(now);
    }

    /// Timers due.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.link.handle_timeout(now);
        self.supervisor.handle_timeout(now);
        self.process(now);
    }

    // ----- glue ---------------------------------------------------------------------------

    /// Moves outputs between link and supervisor until both are drained.
    fn process(&mut self, now: Instant) {
        loop {
            let mut progressed = false;
            while let Some(output) = self.link.poll_output() {
                progressed = true;
                match output {
                    PlainOutput::Io(io) => self.outputs.push_back(PlainSessionOutput::Io(io)),
                    PlainOutput::Event(event) => self.on_link_event(now, event),
                }
            }
            while let Some(output) = self.supervisor.poll_output() {
                progressed = true;
                self.on_supervisor_output(now, output);
            }
            if !progressed {
                break;
            }
        }
        // One pump ends: a zero-delay retry may again start at once (see the supervisor).
        self.supervisor.end_pump();
    }

    fn emit(&mut self, event: PlainSessionEvent<H>) {
        self.outputs.push_back(PlainSessionOutput::Event(event));
    }

    fn on_link_event(&mut self, now: Instant, event: PlainLinkEvent) {
        match event {
            PlainLinkEvent::Opened => self.supervisor.link_up(now, None),
            PlainLinkEvent::OpenFailed(error) => self.supervisor.link_failed(now, error),
            PlainLinkEvent::Closed { error, reconnect_allowed } => {
                self.supervisor.link_down(now, error, reconnect_allowed)
            }
            PlainLinkEvent::Message(message) => {
                let handlers =
                    self.handlers.iter().filter(|(k, _)| *k == message.kind).map(|(_, h)| h.clone()).collect();
                self.emit(PlainSessionEvent::Message { kind: message.kind, payload: message.payload, handlers });
            }
            PlainLinkEvent::Log { level, message } => self.emit(PlainSessionEvent::Log { level, message }),
        }
    }

    fn on_supervisor_output(&mut self, now: Instant, output: SupervisorOutput) {
        match output {
            SupervisorOutput::StartLink => {
                if let Err(error) = self.link.start(now) {
                    self.supervisor.link_failed(now, error);
                }
            }
            SupervisorOutput::StopLink => self.link.stop(now),
            // Never asked for: nothing here declares memberships. Answered so that nothing waits.
            SupervisorOutput::Join { membership, .. } => self.supervisor.join_settled(
                now,
                membership,
                Err(HubError::Server("Plain WebSocket endpoints have no groups.".into())),
            ),
            SupervisorOutput::Leave { request, .. } => self.supervisor.leave_settled(request, Ok(())),
            SupervisorOutput::Event(event) => {
                let event = match event {
                    SupervisorEvent::StateChanged(change) => PlainSessionEvent::StateChanged(change),
                    SupervisorEvent::Started => PlainSessionEvent::Started,
                    SupervisorEvent::StartFailed(error) => PlainSessionEvent::StartFailed(error),
                    SupervisorEvent::Reconnecting(error) => PlainSessionEvent::Reconnecting(error),
                    SupervisorEvent::Reconnected => PlainSessionEvent::Reconnected,
                    SupervisorEvent::Closed(error) => PlainSessionEvent::Closed(error),
                    SupervisorEvent::Telemetry(record) => PlainSessionEvent::Telemetry(record),
                    // Only memberships produce these, and a plain session has none.
                    SupervisorEvent::GroupSettled { .. } | SupervisorEvent::RejoinFailed { .. } => return,
                };
                self.emit(event);
            }
        }
    }
}
