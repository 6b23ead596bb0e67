//! Bad input from a hostile or broken server, on every transport: each case ends in a clear
//! error or a logged-and-ignored message, never a panic.

mod util;

use hubwire::core::hub::{Event, HttpFailure, HttpResponse, HubConfig, LogLevel};
use hubwire::core::HubError;
use hubwire::protocol::negotiate::TransportKind;
use util::{Driver, HUB_URL};

const ALL_THREE: &str = r#"{"connectionId":"c","connectionToken":"t","negotiateVersion":1,"availableTransports":[
  {"transport":"WebSockets","transferFormats":["Text"]},
  {"transport":"ServerSentEvents","transferFormats":["Text"]},
  {"transport":"LongPolling","transferFormats":["Text"]}]}"#;

const TRANSPORTS: [TransportKind; 3] = [TransportKind::WebSockets, TransportKind::ServerSentEvents, TransportKind::LongPolling];

fn ok(body: &str) -> Result<HttpResponse, HttpFailure> {
    Ok(HttpResponse { status: 200, status_text: "OK".into(), body: body.into() })
}

/// A connected driver on `kind`.
fn connected(kind: TransportKind) -> Driver {
    let mut config = HubConfig::new(HUB_URL);
    config.allowed_transports = hubwire::core::hub::transport_bit(kind);
    let mut d = Driver::new(config);
    d.start();
    d.answer_http(200, ALL_THREE);
    if kind == TransportKind::LongPolling {
        let first = d.requests.last().unwrap().clone();
        d.conn.handle_http(d.now, first.id, ok(""));
        d.drain();
    } else {
        d.open_transport();
    }
    deliver(&mut d, kind, "{}\u{1e}");
    assert_eq!(d.conn.state().name(), "Connected", "{kind:?}");
    d.take_events();
    d
}

/// Hands `data` to the client the way `kind` carries it.
fn deliver(d: &mut Driver, kind: TransportKind, data: &str) {
    if kind == TransportKind::LongPolling {
        let poll = d.requests.iter().rev().find(|r| r.method == "GET").unwrap().clone();
        d.conn.handle_http(d.now, poll.id, ok(data));
        d.drain();
    } else {
        d.receive(data);
    }
}

fn closed_with_protocol_error(d: &Driver) -> bool {
    matches!(d.events.last(), Some(Event::Closed { error: Some(HubError::Protocol(_)), .. }))
}

#[test]
fn garbage_and_truncated_frames_close_with_a_protocol_error_on_every_transport() {
    let cases = [
        "this is not json\u{1e}",
        "{\"type\":1,\"target\":\"x\"\u{1e}",
        "{\"type\":3,\"invocationId\":\"0\",\"result\":",
        "[1,2,3]\u{1e}",
        "{\"type\":\"ping\"}\u{1e}",
        "\u{1e}{\"type\":1}\u{1e}",
    ];
    for kind in TRANSPORTS {
        for data in cases {
            let mut d = connected(kind);
            deliver(&mut d, kind, data);
            assert!(closed_with_protocol_error(&d), "{kind:?} {data:?}: {:?}", d.events);
        }
    }
}

#[test]
fn unknown_message_types_and_unknown_completions_are_logged_and_ignored_on_every_transport() {
    for kind in TRANSPORTS {
        let mut d = connected(kind);
        deliver(&mut d, kind, "{\"type\":42,\"x\":1}\u{1e}{\"type\":3,\"invocationId\":\"77\"}\u{1e}{\"type\":2,\"invocationId\":\"5\",\"item\":1}\u{1e}");
        assert_eq!(d.conn.state().name(), "Connected", "{kind:?}");
        let warnings = d.events.iter().filter(|e| matches!(e, Event::Log { level: LogLevel::Warning, .. })).count();
        assert_eq!(warnings, 2, "{kind:?}: {:?}", d.events);
    }
}

#[test]
fn a_huge_frame_closes_the_connection_on_every_transport() {
    for kind in TRANSPORTS {
        let mut config = HubConfig::new(HUB_URL);
        config.max_frame_bytes = 1024;
        config.allowed_transports = hubwire::core::hub::transport_bit(kind);
        let mut d = Driver::new(config);
        d.start();
        d.answer_http(200, ALL_THREE);
        if kind == TransportKind::LongPolling {
            let first = d.requests.last().unwrap().clone();
            d.conn.handle_http(d.now, first.id, ok(""));
            d.drain();
        } else {
            d.open_transport();
        }
        deliver(&mut d, kind, "{}\u{1e}");
        d.take_events();
        deliver(&mut d, kind, &format!("{{\"type\":6,\"pad\":\"{}\"}}\u{1e}", "x".repeat(4096)));
        assert!(closed_with_protocol_error(&d), "{kind:?}");
    }
}

#[test]
fn negotiate_failures_fail_start_clearly() {
    let cases: Vec<(u16, &str, &str)> = vec![
        (200, "<html><body>Sign in</body></html>", "Malformed message: negotiate response"),
        (500, "Internal Server Error", "Status code '500'"),
        (502, "", "Status code '502'"),
        (200, "{\"connectionId\":1}", "Malformed message"),
        (200, "", "Malformed message"),
        (200, "{\"availableTransports\":\"all\"}", "Malformed message"),
    ];
    for (status, body, expected) in cases {
        let mut d = Driver::with_defaults();
        d.start();
        d.answer_http(status, body);
        let Some(Event::StartFailed(error)) = d.events.last() else { panic!("{status} {body:?}: {:?}", d.events) };
        assert!(error.to_string().contains(expected), "{status} {body:?}: {error}");
    }
}

#[test]
fn server_errors_on_http_transport_requests_close_with_the_status() {
    for kind in [TransportKind::ServerSentEvents, TransportKind::LongPolling] {
        let mut d = connected(kind);
        d.conn.send(d.now, "Echo", hubwire::protocol::RawJson::empty_array()).unwrap();
        d.drain();
        let post = d.requests.iter().rev().find(|r| r.method == "POST").unwrap().clone();
        d.conn.handle_http(d.now, post.id, Ok(HttpResponse { status: 500, status_text: "Internal Server Error".into(), body: String::new().into() }));
        d.drain();
        assert!(
            matches!(d.events.last(), Some(Event::Closed { error: Some(HubError::Transport(e)), .. }) if e.contains("500")),
            "{kind:?}: {:?}",
            d.events
        );
    }
}
