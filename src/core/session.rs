//! A managed hub session: one [`HubConnection`] (the link) under a [`Supervisor`].
//!
//! This is the glue the browser shell drives. It passes the link's I/O requests through,
//! turns the link's lifecycle events into supervisor inputs, performs the supervisor's
//! requests on the link (start, stop, join and leave invocations) and merges both sides'
//! events into one stream for the app. Neither side knows the other: the supervisor would
//! manage a plain WebSocket link the same way.

use std::collections::VecDeque;
use std::time::Duration;

use super::error::HubError;
use super::hub::{ConnectionState, Event, HubConfig, HubConnection, LogLevel, Output, TransportId};
use super::supervisor::{
    GroupSpec, ManagedState, ReconnectOptions, StateChange, Supervisor, SupervisorEvent,
    SupervisorOutput, Telemetry,
};
use super::id_map::IdMap;
use super::time::Instant;
use crate::protocol::{Payload, SharedText};

/// What the app hears from a session.
#[derive(Debug, Clone, PartialEq)]
pub enum SessionEvent<H> {
    /// The state changed; `connection_id` is the current one, if connected.
    StateChanged {
        /// The transition.
        change: StateChange,
        /// The connection id now.
        connection_id: Option<String>,
    },
    /// `start()` succeeded.
    Started,
    /// `start()` failed for good.
    StartFailed(HubError),
    /// Connection lost; retrying (the official `onreconnecting`).
    Reconnecting(Option<HubError>),
    /// Back, with groups re-joined (the official `onreconnected`).
    Reconnected {
        /// The new connection id.
        connection_id: Option<String>,
    },
    /// Ended for good (the official `onclose`).
    Closed(Option<HubError>),
    /// The server called a client method (with an id: it waits for a result, answered with
    /// [`HubSession::complete_client_invocation`]).
    Invocation {
        /// Set when the server expects a result.
        invocation_id: Option<String>,
        /// Method name as sent.
        target: String,
        /// Arguments, a JSON array.
        arguments: Payload,
        /// The handlers for it (the registry's shared list).
        handlers: crate::core::handlers::Handlers<H>,
    },
    /// One item of an app `stream`.
    StreamItem {
        /// The id `stream` returned.
        id: u64,
        /// The item.
        item: Payload,
    },
    /// An app `invoke` finished, or a `stream` ended.
    InvocationResult {
        /// The id `invoke` returned.
        id: u64,
        /// Result or error.
        outcome: Result<Option<Payload>, HubError>,
    },
    /// A `join_group` / `leave_group` request settled.
    GroupSettled {
        /// The id the call returned.
        request: u64,
        /// Its outcome.
        result: Result<(), HubError>,
    },
    /// A membership failed to re-join after a reconnect (it is retried at the next one).
    RejoinFailed {
        /// The membership.
        spec: GroupSpec,
        /// Why.
        error: HubError,
    },
    /// A line for the logger.
    Log {
        /// Severity.
        level: LogLevel,
        /// Text.
        message: String,
    },
    /// A telemetry record.
    Telemetry(Telemetry),
}

/// What the session asks of the shell: the link's I/O, or an event for the app.
#[derive(Debug, Clone, PartialEq)]
pub enum SessionOutput<H> {
    /// An I/O request of the link (never its `Output::Event`, which the session consumes).
    Io(Output<H>),
    /// An event for the app.
    Event(SessionEvent<H>),
}

/// A snapshot of the connection's health.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Health {
    /// The state.
    pub state: ManagedState,
    /// The connection id, if connected.
    pub connection_id: Option<String>,
    /// When data last arrived from the server.
    pub last_message_at: Option<Instant>,
    /// The latest round trip: handshake, or an invocation and its completion.
    pub round_trip: Option<Duration>,
    /// Successful reconnects since creation.
    pub reconnects: u32,
}

#[derive(Debug, Clone, Copy)]
enum GroupCall {
    Join { membership: u64 },
    Leave { request: u64 },
}

/// A hub connection kept alive by a supervisor.
#[derive(Debug)]
pub struct HubSession<H> {
    link: HubConnection<H>,
    supervisor: Supervisor,
    outputs: VecDeque<SessionOutput<H>>,
    group_calls: IdMap<GroupCall>,
    next_group_request: u64,
    sent_at: IdMap<Instant>,
    handshake_sent_at: Option<Instant>,
    last_message_at: Option<Instant>,
    round_trip: Option<Duration>,
}

impl<H: Clone + PartialEq> HubSession<H> {
    /// A stopped session; `reconnect: None` turns automatic reconnect off.
    pub fn new(config: HubConfig, reconnect: Option<ReconnectOptions>) -> Self {
        HubSession {
            supervisor: Supervisor::new(reconnect)
                .with_stable_connection_threshold(config.stable_connection_threshold)
                .with_established_by_traffic(true)
                .with_error_when_retries_used_up(false),
            link: HubConnection::new(config),
            outputs: VecDeque::new(),
            group_calls: IdMap::new(),
            next_group_request: 0,
            sent_at: IdMap::new(),
            handshake_sent_at: None,
            last_message_at: None,
            round_trip: None,
        }
    }

    /// The state the app sees.
    pub fn state(&self) -> ManagedState {
        self.supervisor.state()
    }

    /// The connection id while connected.
    pub fn connection_id(&self) -> Option<&str> {
        self.link.connection_id()
    }

    /// The link's settings.
    pub fn config(&self) -> &HubConfig {
        self.link.config()
    }

    /// The link's settings, to change between uses (see [`HubConnection::config_mut`]).
    pub fn config_mut(&mut self) -> &mut HubConfig {
        self.link.config_mut()
    }

    /// A health snapshot.
    pub fn health(&self) -> Health {
        Health {
            state: self.supervisor.state(),
            connection_id: self.link.connection_id().map(str::to_string),
            last_message_at: self.last_message_at,
            round_trip: self.round_trip,
            reconnects: self.supervisor.reconnect_count(),
        }
    }

    /// The group memberships, in join order.
    pub fn groups(&self) -> Vec<GroupSpec> {
        self.supervisor.groups()
    }

    /// Next output for the shell.
    pub fn poll_output(&mut self) -> Option<SessionOutput<H>> {
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

    /// Starts; the outcome is `Started` or `StartFailed`. Settings out of their bounds
    /// ([`HubConfig::validate`]) are an error here, before any attempt.
    pub fn start(&mut self, now: Instant) -> Result<(), HubError> {
        self.link.config().validate()?;
        self.supervisor.start(now)?;
        self.process(now);
        Ok(())
    }

    /// Stops (also cancels a pending retry).
    pub fn stop(&mut self, now: Instant) {
        self.supervisor.stop(now);
        self.process(now);
    }

    /// Registers a client method handler.
    pub fn on(&mut self, name: &str, handler: H) {
        self.link.on(name, handler);
    }

    /// Removes one or all handlers of a method.
    pub fn off(&mut self, name: &str, handler: Option<&H>) {
        self.link.off(name, handler);
    }

    /// Invokes a hub method; the result comes as `InvocationResult` with the returned id.
    pub fn invoke(&mut self, now: Instant, target: &str, arguments: impl Into<Payload>) -> Result<u64, HubError> {
        let id = self.link.invoke(now, target, arguments)?;
        self.sent_at.insert(id, now);
        self.process(now);
        Ok(id)
    }

    /// Sends a hub method call without a result.
    pub fn send(&mut self, now: Instant, target: &str, arguments: impl Into<Payload>) -> Result<(), HubError> {
        self.send_with_uploads(now, target, arguments, 0).map(|_| ())
    }

    /// `invoke` with client-to-server streams; returns the invocation id and the stream ids.
    pub fn invoke_with_uploads(
        &mut self,
        now: Instant,
        target: &str,
        arguments: impl Into<Payload>,
        uploads: usize,
    ) -> Result<(u64, Vec<String>), HubError> {
        let result = self.link.invoke_with_uploads(now, target, arguments, uploads)?;
        self.sent_at.insert(result.0, now);
        self.process(now);
        Ok(result)
    }

    /// `send` with client-to-server streams; returns the stream ids.
    pub fn send_with_uploads(
        &mut self,
        now: Instant,
        target: &str,
        arguments: impl Into<Payload>,
        uploads: usize,
    ) -> Result<Vec<String>, HubError> {
        let ids = self.link.send_with_uploads(now, target, arguments, uploads)?;
        self.process(now);
        Ok(ids)
    }

    /// Starts a server-to-client stream (with client-to-server streams as arguments).
    pub fn stream(
        &mut self,
        now: Instant,
        target: &str,
        arguments: impl Into<Payload>,
        uploads: usize,
    ) -> Result<(u64, Vec<String>), HubError> {
        let result = self.link.stream(now, target, arguments, uploads)?;
        self.process(now);
        Ok(result)
    }

    /// Stops a server-to-client stream early.
    pub fn cancel_stream(&mut self, now: Instant, id: u64) {
        self.link.cancel_stream(now, id);
        self.process(now);
    }

    /// Sends an item of a client-to-server stream.
    pub fn send_stream_item(&mut self, now: Instant, stream_id: &str, item: impl Into<Payload>) -> Result<(), HubError> {
        self.link.send_stream_item(now, stream_id, item)?;
        self.process(now);
        Ok(())
    }

    /// Ends a client-to-server stream.
    pub fn complete_upload(&mut self, now: Instant, stream_id: &str, error: Option<String>) -> Result<(), HubError> {
        self.link.complete_upload(now, stream_id, error)?;
        self.process(now);
        Ok(())
    }

    /// Answers a server call that expects a result.
    pub fn complete_client_invocation(&mut self, now: Instant, invocation_id: &str, result: Result<Option<Payload>, String>) {
        self.link.complete_client_invocation(now, invocation_id, result);
        self.process(now);
    }

    /// The transport in use.
    pub fn transport(&self) -> Option<crate::protocol::negotiate::TransportKind> {
        self.link.transport()
    }

    /// Declares a membership: joined now if connected, and after every new connection.
    /// Returns the request id of the `GroupSettled` event.
    pub fn join_group(&mut self, now: Instant, spec: GroupSpec) -> u64 {
        let request = self.next_group_request;
        self.next_group_request += 1;
        self.supervisor.join_group(spec, request);
        self.process(now);
        request
    }

    /// Drops a membership and leaves it on the hub. Returns the request id.
    pub fn leave_group(&mut self, now: Instant, spec: GroupSpec) -> u64 {
        let request = self.next_group_request;
        self.next_group_request += 1;
        self.supervisor.leave_group(spec, request);
        self.process(now);
        request
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

    // ----- link inputs (see `HubConnection` for each) -------------------------------------

    /// The access token factory answered.
    pub fn handle_access_token(&mut self, now: Instant, token: Result<Option<String>, String>) {
        self.link.handle_access_token(now, token);
        self.process(now);
    }

    /// An HTTP request finished.
    pub fn handle_http(
        &mut self,
        now: Instant,
        id: u64,
        response: Result<super::hub::HttpResponse, super::hub::HttpFailure>,
    ) {
        // Long polling's data comes this way; an empty answer (a send's, or a poll's with
        // nothing in it) proves the endpoint is up, not that the server is talking.
        if response.as_ref().is_ok_and(|r| (200..300).contains(&r.status) && !r.body.is_empty()) {
            self.heard(now);
        }
        self.link.handle_http(now, id, response);
        self.process(now);
    }

    /// The server was heard from: tells the supervisor, which judges whether the connection
    /// is established (see its module docs on flapping).
    fn heard(&mut self, now: Instant) {
        if self.supervisor.state() == ManagedState::Connected {
            self.supervisor.link_heard(now);
        }
    }

    /// The id of the latest transport the link opened.
    pub fn transport_id(&self) -> TransportId {
        self.link.transport_id()
    }

    /// The transport named `transport` opened (a stale id is ignored).
    pub fn handle_transport_opened(&mut self, now: Instant, transport: TransportId) {
        if transport == self.link.transport_id() {
            self.handshake_sent_at = Some(now);
        }
        self.link.handle_transport_opened(now, transport);
        self.process(now);
    }

    /// Text arrived on the transport named `transport` (a stale id is ignored).
    pub fn handle_transport_data(&mut self, now: Instant, transport: TransportId, data: &str) {
        self.handle_transport_binary(now, transport, data.as_bytes());
    }

    /// Bytes arrived on the transport named `transport` (a binary frame; a stale id is ignored).
    pub fn handle_transport_binary(&mut self, now: Instant, transport: TransportId, data: &[u8]) {
        self.received_on(now, transport);
        self.link.handle_transport_binary(now, transport, data);
        self.process(now);
    }

    /// A text frame arrived, kept as shared text that its payloads point into (a stale id is
    /// ignored).
    pub fn handle_transport_text(&mut self, now: Instant, transport: TransportId, text: &SharedText) {
        self.received_on(now, transport);
        self.link.handle_transport_text(now, transport, text);
        self.process(now);
    }

    fn received_on(&mut self, now: Instant, transport: TransportId) {
        if transport == self.link.transport_id() {
            self.last_message_at = Some(now);
            self.heard(now);
        }
    }

    /// The transport named `transport` closed (a stale id is ignored).
    pub fn handle_transport_closed(&mut self, now: Instant, transport: TransportId, error: Option<String>) {
        self.link.handle_transport_closed(now, transport, error);
        self.process(now);
    }

    /// Timers due.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.link.handle_timeout(now);
        self.supervisor.handle_timeout(now);
        self.process(now);
    }

    // ----- glue ---------------------------------------------------------------------------

    /// Moves outputs between link and supervisor until both are drained: one pump. It ends:
    /// each round consumes queued outputs, and the supervisor starts at most one zero-delay
    /// attempt synchronously per pump (later ones wait on the timer).
    fn process(&mut self, now: Instant) {
        loop {
            let mut progressed = false;
            while let Some(output) = self.link.poll_output() {
                progressed = true;
                match output {
                    Output::Event(event) => self.on_link_event(now, event),
                    io => self.outputs.push_back(SessionOutput::Io(io)),
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
        self.supervisor.end_pump();
    }

    fn emit(&mut self, event: SessionEvent<H>) {
        self.outputs.push_back(SessionOutput::Event(event));
    }

    fn on_link_event(&mut self, now: Instant, event: Event<H>) {
        match event {
            Event::Started { connection_id } => {
                if let Some(sent) = self.handshake_sent_at.take() {
                    self.round_trip = Some(now.saturating_duration_since(sent));
                }
                self.supervisor.link_up(now, connection_id);
            }
            Event::StartFailed(error) => self.supervisor.link_failed(now, error),
            Event::Closed { error, reconnect_allowed } => {
                self.sent_at.clear();
                self.supervisor.link_down(now, error, reconnect_allowed);
            }
            Event::InvocationResult { id, outcome } => {
                if let Some(sent) = self.sent_at.remove(&id) {
                    self.round_trip = Some(now.saturating_duration_since(sent));
                }
                match self.group_calls.remove(&id) {
                    Some(GroupCall::Join { membership }) => {
                        // A join failed by the connection closing under it carries the closing
                        // error (as every pending call does); for the membership it is a cut-off
                        // join, to be completed on the next connection, not a refusal.
                        let cut_off = outcome.is_err() && self.link.state() != ConnectionState::Connected;
                        let result = if cut_off { Err(HubError::ConnectionClosed) } else { outcome.map(|_| ()) };
                        self.supervisor.join_settled(now, membership, result)
                    }
                    Some(GroupCall::Leave { request }) => {
                        self.supervisor.leave_settled(request, outcome.map(|_| ()))
                    }
                    None => self.emit(SessionEvent::InvocationResult { id, outcome }),
                }
            }
            Event::Invocation { invocation_id, target, arguments, handlers } => {
                self.emit(SessionEvent::Invocation { invocation_id, target, arguments, handlers })
            }
            Event::StreamItem { id, item } => self.emit(SessionEvent::StreamItem { id, item }),
            Event::Log { level, message } => self.emit(SessionEvent::Log { level, message }),
            Event::TransportFallback { from, reason } => {
                self.emit(SessionEvent::Telemetry(Telemetry::TransportFallback { from: from.name(), reason }))
            }
            Event::Resuming { reason } => {
                if !self.supervisor.link_resuming(now, reason.as_deref()) {
                    self.link.abandon_resume(now, reason);
                }
            }
            Event::Resumed => self.supervisor.link_resumed(now),
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
            SupervisorOutput::Join { membership, spec } => {
                match self.link.invoke(now, &spec.join, spec.args.clone()) {
                    Ok(id) => {
                        self.group_calls.insert(id, GroupCall::Join { membership });
                    }
                    Err(error) => self.supervisor.join_settled(now, membership, Err(error)),
                }
            }
            SupervisorOutput::Leave { request, spec } => {
                match self.link.invoke(now, &spec.leave, spec.args.clone()) {
                    Ok(id) => {
                        self.group_calls.insert(id, GroupCall::Leave { request });
                    }
                    Err(error) => self.supervisor.leave_settled(request, Err(error)),
                }
            }
            SupervisorOutput::Event(event) => {
                let event = match event {
                    SupervisorEvent::StateChanged(change) => SessionEvent::StateChanged {
                        change,
                        connection_id: self.link.connection_id().map(str::to_string),
                    },
                    SupervisorEvent::Started => SessionEvent::Started,
                    SupervisorEvent::StartFailed(error) => SessionEvent::StartFailed(error),
                    SupervisorEvent::Reconnecting(error) => SessionEvent::Reconnecting(error),
                    SupervisorEvent::Reconnected => SessionEvent::Reconnected {
                        connection_id: self.link.connection_id().map(str::to_string),
                    },
                    SupervisorEvent::Closed(error) => SessionEvent::Closed(error),
                    SupervisorEvent::GroupSettled { request, result } => {
                        SessionEvent::GroupSettled { request, result }
                    }
                    SupervisorEvent::RejoinFailed { spec, error } => {
                        SessionEvent::RejoinFailed { spec, error }
                    }
                    SupervisorEvent::Telemetry(record) => SessionEvent::Telemetry(record),
                };
                self.emit(event);
            }
        }
    }
}
