//! A fake hub and a virtual clock for driving the sans-IO engine in tests.
//!
//! `Driver` plays the shell's part: it feeds inputs, drains outputs into inspectable lists and
//! moves virtual time forward one timer deadline at a time, so timeout tests assert virtual
//! seconds without waiting.

#![allow(dead_code)]

pub mod session;

use std::time::Duration;

use hubwire::core::hub::{Event, HttpRequest, HttpResponse, HubConfig, HubConnection, Output};
use hubwire::core::Instant;
use hubwire::protocol::framing::DEFAULT_MAX_FRAME_BYTES;
use hubwire::protocol::message::parse_frame;
use hubwire::protocol::negotiate::TransportKind;
use hubwire::protocol::HubMessage;

pub const HUB_URL: &str = "http://127.0.0.1:5000/hub";

pub const NEGOTIATE_V1: &str = r#"{"connectionId":"conn-1","connectionToken":"token-1","negotiateVersion":1,"availableTransports":[{"transport":"WebSockets","transferFormats":["Text","Binary"]}]}"#;

/// The handler type of tests: a name to recognise it by.
pub type Handler = &'static str;

/// Drives one engine on a virtual clock and records everything it asked for.
pub struct Driver {
    pub conn: HubConnection<Handler>,
    pub now: Instant,
    pub requests: Vec<HttpRequest>,
    pub opened: Vec<(TransportKind, String)>,
    /// Text frames the client sent, in order (the handshake included).
    pub sent: Vec<String>,
    pub events: Vec<Event<Handler>>,
    pub token_requests: usize,
    pub transport_closes: usize,
}

impl Driver {
    pub fn new(config: HubConfig) -> Self {
        Driver {
            conn: HubConnection::new(config),
            now: Instant::from_millis(0),
            requests: Vec::new(),
            opened: Vec::new(),
            sent: Vec::new(),
            events: Vec::new(),
            token_requests: 0,
            transport_closes: 0,
        }
    }

    pub fn with_defaults() -> Self {
        Driver::new(HubConfig::new(HUB_URL))
    }

    /// Moves every pending output into the recording lists.
    pub fn drain(&mut self) {
        while let Some(output) = self.conn.poll_output() {
            match output {
                Output::Http(request) => self.requests.push(request),
                Output::FetchAccessToken => self.token_requests += 1,
                Output::OpenTransport { kind, url, .. } => self.opened.push((kind, url)),
                Output::Send(text) => self.sent.push(String::from_utf8_lossy(text.as_bytes()).into_owned()),
                Output::CloseTransport { .. } => self.transport_closes += 1,
                Output::Event(event) => self.events.push(event),
            }
        }
    }

    pub fn start(&mut self) {
        self.conn.start(self.now).expect("start from Disconnected");
        self.drain();
    }

    /// Answers the latest HTTP request.
    pub fn answer_http(&mut self, status: u16, body: &str) {
        let id = self.requests.last().expect("a request to answer").id;
        self.conn.handle_http(
            self.now,
            id,
            Ok(HttpResponse { status, status_text: String::new(), body: body.into() }),
        );
        self.drain();
    }

    pub fn open_transport(&mut self) {
        let transport = self.conn.transport_id();
        self.conn.handle_transport_opened(self.now, transport);
        self.drain();
    }

    pub fn receive(&mut self, data: &str) {
        let transport = self.conn.transport_id();
        self.conn.handle_transport_data(self.now, transport, data);
        self.drain();
    }

    pub fn server_sends(&mut self, messages: &[HubMessage]) {
        let frame: String = messages.iter().map(HubMessage::encode).collect();
        self.receive(&frame);
    }

    pub fn transport_closed(&mut self, error: Option<&str>) {
        let transport = self.conn.transport_id();
        self.conn.handle_transport_closed(self.now, transport, error.map(str::to_string));
        self.drain();
    }

    /// start → negotiate v1 → WebSocket open → handshake accepted.
    pub fn connect(&mut self) {
        self.start();
        self.answer_http(200, NEGOTIATE_V1);
        self.open_transport();
        self.receive("{}\u{1e}");
        assert_eq!(self.conn.state().name(), "Connected");
    }

    /// Advances virtual time by `by`, firing each timer at its own deadline on the way.
    pub fn advance(&mut self, by: Duration) {
        let end = self.now + by;
        while let Some(deadline) = self.conn.poll_timeout().filter(|at| *at <= end) {
            self.now = deadline.max(self.now);
            self.conn.handle_timeout(self.now);
            self.drain();
        }
        self.now = end;
    }

    /// The hub messages the client sent after the handshake, parsed.
    pub fn sent_messages(&self) -> Vec<HubMessage> {
        self.sent
            .iter()
            .skip(1)
            .flat_map(|frame| parse_frame(frame, DEFAULT_MAX_FRAME_BYTES).expect("client frames parse"))
            .collect()
    }

    /// Events recorded so far, removing them from the list.
    pub fn take_events(&mut self) -> Vec<Event<Handler>> {
        std::mem::take(&mut self.events)
    }
}
