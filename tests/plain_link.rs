//! The plain JSON WebSocket link on its own, and its `{ type, payload }` wire format: URLs and
//! tokens, messages, how closes are reported, the open timeout.

use hubwire::core::hub::LogLevel;
use hubwire::core::plain_link::{PlainConfig, PlainIo, PlainLink, PlainLinkEvent, PlainOutput, SocketClose};
use hubwire::core::{HubError, Instant};
use hubwire::protocol::plain::{encode_message, parse_message, PlainMessage, DEFAULT_MAX_MESSAGE_BYTES};
use hubwire::protocol::{ProtocolError, RawJson};

const T0: Instant = Instant::from_millis(0);

fn drain(link: &mut PlainLink) -> Vec<PlainOutput> {
    std::iter::from_fn(|| link.poll_output()).collect()
}

fn opened_url(outputs: &[PlainOutput]) -> Option<String> {
    outputs.iter().find_map(|o| match o {
        PlainOutput::Io(PlainIo::OpenSocket { url }) => Some(url.clone()),
        _ => None,
    })
}

fn events(outputs: Vec<PlainOutput>) -> Vec<PlainLinkEvent> {
    outputs
        .into_iter()
        .filter_map(|o| match o {
            PlainOutput::Event(event) => Some(event),
            PlainOutput::Io(_) => None,
        })
        .collect()
}

fn open_link() -> PlainLink {
    let mut link = PlainLink::new(PlainConfig::new("ws://127.0.0.1:5000/ws"));
    link.start(T0).expect("an idle link starts");
    link.handle_socket_opened(T0);
    drain(&mut link);
    link
}

fn close(code: u16, reason: &str, clean: bool) -> SocketClose {
    SocketClose { code, reason: reason.into(), clean }
}

#[test]
fn the_socket_url_is_the_endpoint_in_ws_form() {
    let cases = [
        ("ws://host/ws", "ws://host/ws"),
        ("wss://host/ws", "wss://host/ws"),
        ("http://host:8080/ws?x=1", "ws://host:8080/ws?x=1"),
        ("https://host/ws", "wss://host/ws"),
    ];
    for (endpoint, expected) in cases {
        let mut link = PlainLink::new(PlainConfig::new(endpoint));
        link.start(T0).expect("starts");
        assert_eq!(opened_url(&drain(&mut link)).as_deref(), Some(expected), "{endpoint}");
    }
}

#[test]
fn an_endpoint_that_is_not_a_web_url_fails_the_start() {
    let mut link = PlainLink::new(PlainConfig::new("ftp://host/ws"));
    assert!(matches!(link.start(T0), Err(HubError::Protocol(ProtocolError::InvalidUrl(_)))));
}

#[test]
fn the_token_goes_in_the_query_encoded() {
    let cases = [
        ("ws://host/ws", "access_token", "ws://host/ws?access_token=a%2Bb%2Fc"),
        ("ws://host/ws?room=1", "access_token", "ws://host/ws?room=1&access_token=a%2Bb%2Fc"),
        ("ws://host/ws", "token", "ws://host/ws?token=a%2Bb%2Fc"),
    ];
    for (endpoint, param, expected) in cases {
        let mut config = PlainConfig::new(endpoint);
        config.uses_access_token = true;
        config.token_param = param.into();
        let mut link = PlainLink::new(config);
        link.start(T0).expect("starts");
        assert_eq!(drain(&mut link), vec![PlainOutput::Io(PlainIo::FetchAccessToken)]);
        link.handle_access_token(T0, Ok(Some("a+b/c".into())));
        assert_eq!(opened_url(&drain(&mut link)).as_deref(), Some(expected));
    }
}

#[test]
fn a_failing_token_factory_fails_the_start() {
    let mut config = PlainConfig::new("ws://host/ws");
    config.uses_access_token = true;
    let mut link = PlainLink::new(config);
    link.start(T0).expect("starts");
    drain(&mut link);
    link.handle_access_token(T0, Err("no session".into()));
    assert_eq!(
        events(drain(&mut link)),
        vec![PlainLinkEvent::OpenFailed(HubError::AccessToken("no session".into()))]
    );
}

#[test]
fn the_link_is_up_once_the_socket_opens_without_a_handshake() {
    let mut link = PlainLink::new(PlainConfig::new("ws://host/ws"));
    link.start(T0).expect("starts");
    drain(&mut link);
    link.handle_socket_opened(T0);
    let outputs = drain(&mut link);
    assert_eq!(outputs, vec![PlainOutput::Event(PlainLinkEvent::Opened)], "nothing is sent");
    assert!(link.is_open());
}

#[test]
fn each_text_frame_is_one_message() {
    let mut link = open_link();
    link.handle_socket_text(T0, r#"{"type":"stats:tasks","payload":{"open":3,"overdue":1}}"#);
    assert_eq!(
        events(drain(&mut link)),
        vec![PlainLinkEvent::Message(PlainMessage {
            kind: "stats:tasks".into(),
            payload: RawJson::parse(r#"{"open":3,"overdue":1}"#).expect("valid JSON"),
        })]
    );
}

#[test]
fn frames_that_are_not_type_payload_objects_are_skipped_with_a_warning() {
    for frame in ["not json", "[1,2]", r#"{"payload":1}"#, r#"{"type":7,"payload":1}"#, ""] {
        let mut link = open_link();
        link.handle_socket_text(T0, frame);
        let events = events(drain(&mut link));
        assert!(
            matches!(events.as_slice(), [PlainLinkEvent::Log { level: LogLevel::Warning, .. }]),
            "{frame:?} gave {events:?}"
        );
        assert!(link.is_open(), "{frame:?} does not cost the connection");
    }
}

#[test]
fn the_wire_format_parses_and_encodes() {
    /// A frame and what it parses to: (type, payload text) or the error.
    type Case = (&'static str, Result<(&'static str, &'static str), ProtocolError>);
    let cases: &[Case] = &[
        (r#"{"type":"stats:approvals","payload":{"pending":2}}"#, Ok(("stats:approvals", r#"{"pending":2}"#))),
        (r#"{"type":"ping"}"#, Ok(("ping", "null"))),
        (r#"{"payload":[],"type":"x","extra":true}"#, Ok(("x", "[]"))),
        (r#"{"payload":1}"#, Err(ProtocolError::MissingField { message: "PlainMessage", field: "type" })),
        (
            r#"{"type":null}"#,
            Err(ProtocolError::InvalidField { message: "PlainMessage", field: "type", expected: "a string" }),
        ),
    ];
    for (frame, expected) in cases {
        let parsed = parse_message(frame, DEFAULT_MAX_MESSAGE_BYTES);
        let parsed = parsed.as_ref().map(|m| (m.kind.as_str(), m.payload.as_str())).map_err(Clone::clone);
        assert_eq!(parsed, *expected, "{frame}");
    }
    let message = PlainMessage { kind: "a\"b".into(), payload: RawJson::parse("[1]").expect("valid JSON") };
    assert_eq!(parse_message(&encode_message(&message), DEFAULT_MAX_MESSAGE_BYTES), Ok(message));
}

#[test]
fn a_message_over_the_size_limit_is_refused() {
    let frame = format!(r#"{{"type":"x","payload":"{}"}}"#, "a".repeat(100));
    assert_eq!(parse_message(&frame, 50), Err(ProtocolError::TooLarge { size: frame.len(), limit: 50 }));
}

#[test]
fn how_a_close_is_reported_depends_on_its_code() {
    let cases = [
        (close(1000, "done", true), None, false),
        (close(1001, "going away", true), Some("WebSocket closed with status code: 1001 (going away)."), true),
        (close(1006, "", false), Some("WebSocket closed with status code: 1006."), true),
        (close(1011, "crash", true), Some("WebSocket closed with status code: 1011 (crash)."), true),
    ];
    for (socket_close, error, reconnect_allowed) in cases {
        let mut link = open_link();
        let code = socket_close.code;
        link.handle_socket_closed(T0, socket_close);
        assert_eq!(
            events(drain(&mut link)),
            vec![PlainLinkEvent::Closed { error: error.map(|e| HubError::Transport(e.into())), reconnect_allowed }],
            "code {code}"
        );
    }
}

#[test]
fn a_socket_that_closes_before_opening_fails_the_start() {
    let mut link = PlainLink::new(PlainConfig::new("ws://host/ws"));
    link.start(T0).expect("starts");
    drain(&mut link);
    link.handle_socket_closed(T0, close(1006, "", false));
    assert!(matches!(events(drain(&mut link)).as_slice(), [PlainLinkEvent::OpenFailed(HubError::Transport(_))]));
}

#[test]
fn a_socket_that_does_not_open_in_time_is_closed_and_fails_the_start() {
    let mut link = PlainLink::new(PlainConfig::new("ws://host/ws"));
    link.start(T0).expect("starts");
    drain(&mut link);
    assert_eq!(link.poll_timeout(), Some(Instant::from_millis(15_000)));
    link.handle_timeout(Instant::from_millis(15_000));
    let outputs = drain(&mut link);
    assert_eq!(outputs[0], PlainOutput::Io(PlainIo::CloseSocket));
    assert_eq!(
        outputs[1],
        PlainOutput::Event(PlainLinkEvent::OpenFailed(HubError::Transport(
            "The WebSocket did not open within 15000 ms.".into()
        )))
    );
}

#[test]
fn stop_closes_the_socket_and_reports_a_clean_close_at_once() {
    let mut link = open_link();
    link.stop(Instant::from_millis(5));
    assert_eq!(
        drain(&mut link),
        vec![
            PlainOutput::Io(PlainIo::CloseSocket),
            PlainOutput::Event(PlainLinkEvent::Closed { error: None, reconnect_allowed: false })
        ]
    );
    link.handle_socket_closed(Instant::from_millis(9), close(1000, "", true));
    assert!(drain(&mut link).is_empty(), "the socket's own late close is ignored");
}

#[test]
fn send_needs_an_open_socket() {
    let mut link = PlainLink::new(PlainConfig::new("ws://host/ws"));
    assert_eq!(link.send(T0, "hello", RawJson::null()), Err(HubError::NotConnected));
    let mut link = open_link();
    link.send(T0, "hello", RawJson::parse("{\"a\":1}").expect("valid JSON")).expect("open");
    assert_eq!(drain(&mut link), vec![PlainOutput::Io(PlainIo::Send(r#"{"type":"hello","payload":{"a":1}}"#.into()))]);
}

#[test]
fn a_link_cannot_start_twice() {
    let mut link = open_link();
    assert_eq!(link.start(T0), Err(HubError::AlreadyStarted));
}
