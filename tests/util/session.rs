#![allow(dead_code)]

//! A fake hub around a `HubSession` on a virtual clock: answers negotiates, opens and drops
//! links, answers join invocations, so manager tests read as a story in virtual seconds.

use std::time::Duration;

use hubwire::core::hub::{HttpResponse, HubConfig, Output};
use hubwire::core::retry::{DelaySchedule, RetryPolicy};
use hubwire::core::session::{HubSession, SessionEvent, SessionOutput};
use hubwire::core::supervisor::{GroupSpec, ReconnectOptions};
use hubwire::core::Instant;
use hubwire::protocol::framing::DEFAULT_MAX_FRAME_BYTES;
use hubwire::protocol::message::parse_frame;
use hubwire::protocol::{Completion, HubMessage, RawJson};

use super::{Handler, HUB_URL};

/// Records everything a session asks for, in order.
pub struct SessionDriver {
    pub session: HubSession<Handler>,
    pub now: Instant,
    /// Negotiate requests (their ids), in order.
    pub negotiates: Vec<u64>,
    /// Whether a transport open is outstanding.
    pub opening: bool,
    /// Hub messages the client sent on the current link (handshake excluded).
    pub sent: Vec<HubMessage>,
    pub events: Vec<SessionEvent<Handler>>,
    /// When each negotiate was asked for, in virtual ms.
    pub negotiate_times: Vec<u64>,
    /// When each transport open was asked for, in virtual ms.
    pub open_times: Vec<u64>,
    links: u32,
}

pub fn reconnect(policy: impl RetryPolicy + 'static, retry_first_start: bool) -> Option<ReconnectOptions> {
    Some(ReconnectOptions { policy: Box::new(policy), retry_first_start })
}

pub fn default_reconnect() -> Option<ReconnectOptions> {
    reconnect(DelaySchedule::official_default(), false)
}

pub fn group(join: &str, leave: &str, arg: &str) -> GroupSpec {
    GroupSpec { join: join.into(), leave: leave.into(), args: RawJson::from_value(&[arg]).into() }
}

impl SessionDriver {
    pub fn new(reconnect: Option<ReconnectOptions>) -> Self {
        SessionDriver::with_config(HubConfig::new(HUB_URL), reconnect)
    }

    pub fn with_config(config: HubConfig, reconnect: Option<ReconnectOptions>) -> Self {
        SessionDriver {
            session: HubSession::new(config, reconnect),
            now: Instant::from_millis(0),
            negotiates: Vec::new(),
            opening: false,
            sent: Vec::new(),
            events: Vec::new(),
            negotiate_times: Vec::new(),
            open_times: Vec::new(),
            links: 0,
        }
    }

    pub fn drain(&mut self) {
        while let Some(output) = self.session.poll_output() {
            match output {
                SessionOutput::Io(Output::Http(request)) => {
                    self.negotiates.push(request.id);
                    self.negotiate_times.push(self.now.as_millis());
                }
                SessionOutput::Io(Output::OpenTransport { .. }) => {
                    self.opening = true;
                    self.open_times.push(self.now.as_millis());
                }
                SessionOutput::Io(Output::Send(frame)) => {
                    let frame = String::from_utf8_lossy(frame.as_bytes()).into_owned();
                    if !frame.starts_with("{\"protocol\"") {
                        self.sent.extend(parse_frame(&frame, DEFAULT_MAX_FRAME_BYTES).expect("client frames parse"));
                    }
                }
                SessionOutput::Io(Output::CloseTransport { transport }) => {
                    // The shell reports a requested close at once, naming the transport.
                    self.session.handle_transport_closed(self.now, transport, None);
                }
                SessionOutput::Io(Output::FetchAccessToken) => {
                    self.session.handle_access_token(self.now, Ok(None));
                }
                SessionOutput::Io(Output::Event(_)) => unreachable!("the session consumes link events"),
                SessionOutput::Event(event) => self.events.push(event),
            }
        }
    }

    pub fn start(&mut self) {
        self.session.start(self.now).expect("start from Disconnected");
        self.drain();
    }

    /// Answers the latest negotiate with a new connection, opens the link and handshakes.
    pub fn accept_link(&mut self) {
        self.links += 1;
        let n = self.links;
        let id = *self.negotiates.last().expect("a negotiate to answer");
        let body = format!(
            r#"{{"connectionId":"conn-{n}","connectionToken":"token-{n}","negotiateVersion":1,"availableTransports":[{{"transport":"WebSockets","transferFormats":["Text"]}}]}}"#
        );
        self.session.handle_http(self.now, id, Ok(HttpResponse { status: 200, status_text: "OK".into(), body: body.into() }));
        self.drain();
        assert!(self.opening, "negotiate should open a transport");
        self.opening = false;
        self.sent.clear();
        let transport = self.session.transport_id();
        self.session.handle_transport_opened(self.now, transport);
        self.drain();
        self.session.handle_transport_data(self.now, transport, "{}\u{1e}");
        self.drain();
    }

    /// Opens the outstanding transport and answers the handshake (no negotiate: for
    /// `skip_negotiation`).
    pub fn accept_socket(&mut self) {
        assert!(self.opening, "a transport open should be outstanding");
        self.opening = false;
        self.sent.clear();
        let transport = self.session.transport_id();
        self.session.handle_transport_opened(self.now, transport);
        self.drain();
        self.session.handle_transport_data(self.now, transport, "{}\u{1e}");
        self.drain();
    }

    /// Answers the latest negotiate with 503.
    pub fn refuse_negotiate(&mut self) {
        let id = *self.negotiates.last().expect("a negotiate to answer");
        self.session.handle_http(
            self.now,
            id,
            Ok(HttpResponse { status: 503, status_text: "Service Unavailable".into(), body: String::new().into() }),
        );
        self.drain();
    }

    /// The link's socket dies.
    pub fn drop_link(&mut self) {
        let transport = self.session.transport_id();
        self.session.handle_transport_closed(self.now, transport, Some("WebSocket closed with status code: 1006 ().".into()));
        self.drain();
    }

    pub fn server_sends(&mut self, message: &HubMessage) {
        let transport = self.session.transport_id();
        self.session.handle_transport_data(self.now, transport, &message.encode());
        self.drain();
    }

    /// Invocations with an id the client sent on this link, as (id, target).
    pub fn invocations(&self) -> Vec<(String, String)> {
        self.sent
            .iter()
            .filter_map(|m| match m {
                HubMessage::Invocation { invocation_id: Some(id), target, .. } => Some((id.clone(), target.clone())),
                _ => None,
            })
            .collect()
    }

    /// Completes the invocation with this id.
    pub fn complete(&mut self, id: &str, completion: Completion) {
        self.server_sends(&HubMessage::Completion { invocation_id: id.into(), completion });
    }

    /// Completes every invocation sent so far on this link with no result, in order.
    pub fn complete_all(&mut self) {
        for (id, _) in self.invocations() {
            self.complete(&id, Completion::Void);
        }
        self.sent.clear();
    }

    /// Advances virtual time, firing timers at their deadlines.
    pub fn advance(&mut self, by: Duration) {
        let end = self.now + by;
        while let Some(deadline) = self.session.poll_timeout().filter(|at| *at <= end) {
            self.now = deadline.max(self.now);
            self.session.handle_timeout(self.now);
            self.drain();
        }
        self.now = end;
    }

    /// Keeps the connection up past the stable-connection threshold (5 s) with the server
    /// heard from after it, so that the connection counts as established.
    pub fn establish(&mut self) {
        self.advance(Duration::from_secs(6));
        self.server_sends(&HubMessage::Ping);
    }

    pub fn take_events(&mut self) -> Vec<SessionEvent<Handler>> {
        std::mem::take(&mut self.events)
    }

    /// Only the app-level lifecycle events (no state changes, logs or telemetry).
    pub fn lifecycle(&self) -> Vec<String> {
        self.events
            .iter()
            .filter_map(|e| match e {
                SessionEvent::Started => Some("started".to_string()),
                SessionEvent::StartFailed(error) => Some(format!("start failed: {error}")),
                SessionEvent::Reconnecting(_) => Some("reconnecting".to_string()),
                SessionEvent::Reconnected { connection_id } => {
                    Some(format!("reconnected {}", connection_id.as_deref().unwrap_or("-")))
                }
                SessionEvent::Closed(None) => Some("closed".to_string()),
                SessionEvent::Closed(Some(error)) => Some(format!("closed: {error}")),
                SessionEvent::GroupSettled { request, result } => {
                    Some(format!("group {request} {}", if result.is_ok() { "ok" } else { "failed" }))
                }
                SessionEvent::RejoinFailed { spec, .. } => Some(format!("rejoin failed {}", spec.join)),
                _ => None,
            })
            .collect()
    }

    pub fn state(&self) -> &'static str {
        self.session.state().name()
    }
}
