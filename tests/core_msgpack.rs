//! The engine speaking the MessagePack hub protocol: the handshake names it and stays text,
//! messages travel as binary frames (WebSockets) and byte bodies (Long Polling), transports
//! without the Binary transfer format are skipped with the official client's words, and
//! stateful reconnect replays binary messages.

use std::time::Duration;

use hubwire::core::hub::{Event, HttpRequest, HttpResponse, HubConfig, HubConnection, Output};
use hubwire::core::{HubError, Instant};
use hubwire::protocol::msgpack::{self, from_json};
use hubwire::protocol::negotiate::TransportKind;
use hubwire::protocol::{Completion, HubMessage, HubProtocol, Payload, RawMessagePack, TransportData};

const HUB_URL: &str = "http://127.0.0.1:5000/hub";

fn negotiate(transports: &str, stateful: bool) -> String {
    format!(
        r#"{{"connectionId":"c","connectionToken":"t","negotiateVersion":1,"useStatefulReconnect":{stateful},"availableTransports":{transports}}}"#
    )
}

const WS_BINARY: &str = r#"[{"transport":"WebSockets","transferFormats":["Text","Binary"]}]"#;
const ALL_THREE: &str = r#"[{"transport":"WebSockets","transferFormats":["Text","Binary"]},{"transport":"ServerSentEvents","transferFormats":["Text"]},{"transport":"LongPolling","transferFormats":["Text","Binary"]}]"#;

/// A driver of one MessagePack connection that keeps what it sent as transport data.
struct Client {
    conn: HubConnection<&'static str>,
    now: Instant,
    requests: Vec<HttpRequest>,
    opened: Vec<TransportKind>,
    sent: Vec<TransportData>,
    events: Vec<Event<&'static str>>,
}

impl Client {
    fn new(configure: impl FnOnce(&mut HubConfig)) -> Self {
        let mut config = HubConfig::new(HUB_URL);
        config.protocol = HubProtocol::MessagePack;
        configure(&mut config);
        Client {
            conn: HubConnection::new(config),
            now: Instant::from_millis(0),
            requests: Vec::new(),
            opened: Vec::new(),
            sent: Vec::new(),
            events: Vec::new(),
        }
    }

    fn drain(&mut self) {
        while let Some(output) = self.conn.poll_output() {
            match output {
                Output::Http(request) => self.requests.push(request),
                Output::OpenTransport { kind, .. } => self.opened.push(kind),
                Output::Send(data) => self.sent.push(data),
                Output::CloseTransport { transport } => self.conn.handle_transport_closed(self.now, transport, None),
                Output::Event(event) => self.events.push(event),
                Output::FetchAccessToken => {}
            }
        }
    }

    fn answer(&mut self, request: &HttpRequest, status: u16, body: TransportData) {
        let response = HttpResponse { status, status_text: String::new(), body };
        self.conn.handle_http(self.now, request.id, Ok(response));
        self.drain();
    }

    fn last_request(&self) -> HttpRequest {
        self.requests.last().expect("a request").clone()
    }

    fn receive(&mut self, data: &[u8]) {
        let transport = self.conn.transport_id();
        self.conn.handle_transport_binary(self.now, transport, data);
        self.drain();
    }

    fn open(&mut self) {
        let transport = self.conn.transport_id();
        self.conn.handle_transport_opened(self.now, transport);
        self.drain();
    }

    /// start → negotiate → WebSocket open → handshake accepted.
    fn connect(&mut self, stateful: bool) {
        self.conn.start(self.now).unwrap();
        self.drain();
        let negotiate_request = self.last_request();
        self.answer(&negotiate_request, 200, negotiate(WS_BINARY, stateful).into());
        self.open();
        self.receive(b"{}\x1e");
        assert_eq!(self.conn.state().name(), "Connected");
    }

    fn sent_messages(&self) -> Vec<HubMessage> {
        self.sent
            .iter()
            .filter_map(|data| match data {
                TransportData::Binary(bytes) => Some(msgpack::parse_frame(bytes, usize::MAX).expect("client frames parse")),
                _ => None,
            })
            .flatten()
            .collect()
    }

    fn advance(&mut self, by: Duration) {
        let end = self.now + by;
        while let Some(deadline) = self.conn.poll_timeout().filter(|at| *at <= end) {
            self.now = deadline.max(self.now);
            self.conn.handle_timeout(self.now);
            self.drain();
        }
        self.now = end;
    }
}

fn value(json: serde_json::Value) -> RawMessagePack {
    from_json(&json)
}

fn frame(messages: &[HubMessage]) -> Vec<u8> {
    messages.iter().flat_map(msgpack::encode).collect()
}

#[test]
fn the_handshake_names_messagepack_and_is_sent_as_text() {
    let mut c = Client::new(|_| {});
    c.connect(false);
    assert_eq!(c.sent[0], TransportData::Text("{\"protocol\":\"messagepack\",\"version\":1}\u{1e}".into()));
}

#[test]
fn invocations_go_out_as_binary_frames_with_the_payload_bytes_untouched() {
    let mut c = Client::new(|_| {});
    c.connect(false);
    // A float32 the app's encoder chose: the core must not re-encode it.
    let arguments = RawMessagePack::parse(vec![0x92, 0xca, 0x3f, 0xc0, 0x00, 0x00, 0xc4, 0x01, 0xff]).unwrap();
    let id = c.conn.invoke(c.now, "Echo", arguments.clone()).unwrap();
    c.drain();
    let TransportData::Binary(bytes) = c.sent.last().unwrap() else { panic!("a binary frame") };
    assert!(bytes.windows(arguments.as_bytes().len()).any(|w| w == arguments.as_bytes()));
    assert_eq!(
        c.sent_messages(),
        vec![HubMessage::Invocation {
            invocation_id: Some(id.to_string()),
            target: "Echo".into(),
            arguments: arguments.into(),
            stream_ids: vec![],
        }]
    );
}

#[test]
fn messages_after_the_handshake_in_the_same_frame_are_read() {
    let mut c = Client::new(|_| {});
    c.conn.on("Tick", "tick");
    c.conn.start(c.now).unwrap();
    c.drain();
    let negotiate_request = c.last_request();
    c.answer(&negotiate_request, 200, negotiate(WS_BINARY, false).into());
    c.open();
    let mut data = b"{}\x1e".to_vec();
    let arguments: Payload = value(serde_json::json!([1, "a"])).into();
    data.extend(frame(&[
        HubMessage::Ping,
        HubMessage::Invocation { invocation_id: None, target: "Tick".into(), arguments: arguments.clone(), stream_ids: vec![] },
    ]));
    c.receive(&data);
    assert!(c.events.iter().any(|e| matches!(e, Event::Started { .. })));
    assert!(c.events.contains(&Event::Invocation {
        invocation_id: None,
        target: "Tick".into(),
        arguments,
        handlers: vec!["tick"].into(),
    }));
}

#[test]
fn results_items_and_errors_reach_the_app_as_payload_bytes() {
    let mut c = Client::new(|_| {});
    c.connect(false);
    let invoke = c.conn.invoke(c.now, "Add", value(serde_json::json!([1, 2]))).unwrap();
    let failing = c.conn.invoke(c.now, "Fail", RawMessagePack::empty_array()).unwrap();
    let (stream, _) = c.conn.stream(c.now, "Count", value(serde_json::json!([2])), 0).unwrap();
    c.drain();
    let result: Payload = value(serde_json::json!({"sum": 3})).into();
    let item: Payload = RawMessagePack::parse(vec![0xc4, 0x02, 0x01, 0x02]).unwrap().into();
    c.receive(&frame(&[
        HubMessage::Completion { invocation_id: invoke.to_string(), completion: Completion::Result(result.clone()) },
        HubMessage::Completion { invocation_id: failing.to_string(), completion: Completion::Error("boom".into()) },
        HubMessage::StreamItem { invocation_id: stream.to_string(), item: item.clone() },
        HubMessage::Completion { invocation_id: stream.to_string(), completion: Completion::Void },
    ]));
    assert!(c.events.contains(&Event::InvocationResult { id: invoke, outcome: Ok(Some(result)) }));
    assert!(c.events.contains(&Event::InvocationResult { id: failing, outcome: Err(HubError::Server("boom".into())) }));
    assert!(c.events.contains(&Event::StreamItem { id: stream, item }));
    assert!(c.events.contains(&Event::InvocationResult { id: stream, outcome: Ok(None) }));
}

#[test]
fn a_server_close_with_allow_reconnect_is_read() {
    let mut c = Client::new(|_| {});
    c.connect(false);
    c.receive(&frame(&[HubMessage::Close { error: Some("going".into()), allow_reconnect: true }]));
    assert!(c.events.contains(&Event::Closed {
        error: Some(HubError::ServerClosed("going".into())),
        reconnect_allowed: true,
    }));
}

#[test]
fn a_bad_binary_frame_closes_the_connection_with_a_protocol_error() {
    let mut c = Client::new(|_| {});
    c.connect(false);
    // A length prefix that claims more than the frame holds.
    c.receive(&[0x7f, 0x91, 0x06]);
    let Some(Event::Closed { error: Some(HubError::Protocol(_)), .. }) = c.events.last() else {
        panic!("expected a protocol error close, got {:?}", c.events.last())
    };
}

#[test]
fn keep_alive_pings_are_binary() {
    let mut c = Client::new(|_| {});
    c.connect(false);
    c.sent.clear();
    c.advance(Duration::from_secs(15));
    assert_eq!(c.sent, vec![TransportData::Binary(vec![0x02, 0x91, 0x06])]);
}

#[test]
fn server_sent_events_are_skipped_with_the_official_words_and_long_polling_is_used() {
    let mut c = Client::new(|config| config.allowed_transports = 2 | 4);
    c.conn.start(c.now).unwrap();
    c.drain();
    let negotiate_request = c.last_request();
    c.answer(&negotiate_request, 200, negotiate(ALL_THREE, false).into());
    let first_poll = c.last_request();
    assert_eq!(first_poll.method, "GET");
    assert!(first_poll.binary_response, "polls of a MessagePack connection read bytes");
    c.answer(&first_poll, 200, TransportData::Binary(vec![]));
    // The handshake POST is text; the next poll is outstanding.
    let post = c.requests.iter().rev().find(|r| r.method == "POST").unwrap().clone();
    assert_eq!(post.body_text(), Some("{\"protocol\":\"messagepack\",\"version\":1}\u{1e}"));
    let poll = c.requests.iter().rev().find(|r| r.method == "GET").unwrap().clone();
    c.answer(&post, 200, "".into());
    c.answer(&poll, 200, TransportData::Binary(b"{}\x1e".to_vec()));
    assert_eq!(c.conn.state().name(), "Connected");

    c.conn.send(c.now, "Note", value(serde_json::json!(["x"]))).unwrap();
    c.drain();
    let send = c.last_request();
    assert_eq!(send.method, "POST");
    assert!(send.headers.contains(&("Content-Type".into(), "application/octet-stream".into())));
    let Some(TransportData::Binary(body)) = &send.body else { panic!("a byte body: {:?}", send.body) };
    assert_eq!(
        msgpack::parse_frame(body, usize::MAX).unwrap(),
        vec![HubMessage::Invocation {
            invocation_id: None,
            target: "Note".into(),
            arguments: value(serde_json::json!(["x"])).into(),
            stream_ids: vec![],
        }]
    );
}

#[test]
fn a_server_offering_only_text_transports_fails_the_start_naming_binary() {
    let mut c = Client::new(|_| {});
    c.conn.start(c.now).unwrap();
    c.drain();
    let negotiate_request = c.last_request();
    let text_only = r#"[{"transport":"LongPolling","transferFormats":["Text"]}]"#;
    c.answer(&negotiate_request, 200, negotiate(text_only, false).into());
    let Some(Event::StartFailed(error)) = c.events.last() else { panic!("{:?}", c.events) };
    assert!(error.to_string().contains("'LongPolling' does not support Binary."), "{error}");
    assert!(c.opened.is_empty());
}

#[test]
fn stateful_reconnect_replays_binary_messages_after_a_binary_sequence() {
    let mut c = Client::new(|config| config.stateful_reconnect = true);
    c.connect(true);
    assert_eq!(c.sent[0], TransportData::Text("{\"protocol\":\"messagepack\",\"version\":2}\u{1e}".into()));
    c.advance(Duration::from_secs(6));
    c.conn.send(c.now, "Note", value(serde_json::json!([1]))).unwrap();
    c.drain();
    let transport = c.conn.transport_id();
    c.conn.handle_transport_closed(c.now, transport, Some("dropped".into()));
    c.drain();
    assert!(c.events.iter().any(|e| matches!(e, Event::Resuming { .. })));
    c.sent.clear();
    c.open();
    assert_eq!(
        c.sent_messages(),
        vec![
            HubMessage::Sequence { sequence_id: 1 },
            HubMessage::Invocation {
                invocation_id: None,
                target: "Note".into(),
                arguments: value(serde_json::json!([1])).into(),
                stream_ids: vec![],
            },
        ]
    );
    assert!(c.sent.iter().all(|data| matches!(data, TransportData::Binary(_))));
    c.receive(&frame(&[HubMessage::Sequence { sequence_id: 1 }]));
    assert!(c.events.contains(&Event::Resumed));
}

#[test]
fn server_sent_events_are_refused_even_when_the_server_claims_binary() {
    let mut c = Client::new(|config| config.allowed_transports = 2);
    c.conn.start(c.now).unwrap();
    c.drain();
    let negotiate_request = c.last_request();
    let claims_binary = r#"[{"transport":"ServerSentEvents","transferFormats":["Text","Binary"]}]"#;
    c.answer(&negotiate_request, 200, negotiate(claims_binary, false).into());
    let Some(Event::StartFailed(error)) = c.events.last() else { panic!("{:?}", c.events) };
    assert!(error.to_string().contains("The Server-Sent Events transport only supports the 'Text' transfer format"), "{error}");
    assert!(c.opened.is_empty());
}
