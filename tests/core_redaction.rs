//! Tokens never leave the core in text: a browser exception or network error that quotes the
//! access token or the connection token (plain, or percent-encoded inside a URL) reaches the
//! app's events with the token removed, on every path text comes in by.

mod util;

use std::time::Duration;

use hubwire::core::hub::{Event, HttpFailure, HubConfig};
use hubwire::core::plain_link::{PlainConfig, PlainIo, PlainLink, PlainOutput, SocketClose};
use hubwire::core::Instant;
use hubwire::protocol::negotiate::encode_query_value;
use util::{Driver, Handler, HUB_URL};

const ACCESS_TOKEN: &str = "eyJhbGciOi.s3cr3t-access";
const CONNECTION_TOKEN: &str = "conn#tok&en 42";

fn negotiate_answer() -> String {
    format!(
        r#"{{"connectionId":"c1","connectionToken":"{CONNECTION_TOKEN}","negotiateVersion":1,"availableTransports":[{{"transport":"WebSockets","transferFormats":["Text"]}},{{"transport":"LongPolling","transferFormats":["Text"]}}]}}"#
    )
}

/// What a browser's exception would say about the transport URL, token and all.
fn exception_quoting_the_url() -> String {
    format!(
        "SyntaxError: Failed to construct 'WebSocket': The URL 'ws://127.0.0.1:5000/hub?id={}&access_token={}' is invalid. (token {ACCESS_TOKEN}, id {CONNECTION_TOKEN})",
        encode_query_value(CONNECTION_TOKEN),
        encode_query_value(ACCESS_TOKEN)
    )
}

fn assert_no_token(events: &[Event<Handler>], what: &str) {
    let text = format!("{events:?}");
    for secret in [ACCESS_TOKEN.to_string(), CONNECTION_TOKEN.to_string(), encode_query_value(ACCESS_TOKEN), encode_query_value(CONNECTION_TOKEN)] {
        assert!(!text.contains(&secret), "{what}: {secret:?} leaked in {text}");
    }
    assert!(text.contains('…'), "{what}: the redaction mark is missing, so the error text did not arrive: {text}");
}

fn with_token() -> Driver {
    let mut config = HubConfig::new(HUB_URL);
    config.uses_access_token = true;
    let mut d = Driver::new(config);
    d.start();
    d.conn.handle_access_token(d.now, Ok(Some(ACCESS_TOKEN.to_string())));
    d.drain();
    d.answer_http(200, &negotiate_answer());
    d.conn.handle_access_token(d.now, Ok(Some(ACCESS_TOKEN.to_string())));
    d.drain();
    d
}

#[test]
fn a_failing_transport_open_quoting_the_url_is_redacted_in_the_start_error() {
    let mut d = with_token();
    // WebSockets fails to open with the exception text; Long Polling's first poll fails too.
    d.transport_closed(Some(&exception_quoting_the_url()));
    d.conn.handle_access_token(d.now, Ok(Some(ACCESS_TOKEN.to_string())));
    d.drain();
    let poll = d.requests.last().expect("a poll").id;
    d.conn.handle_http(d.now, poll, Err(HttpFailure::Network(exception_quoting_the_url())));
    d.drain();
    assert!(d.events.iter().any(|e| matches!(e, Event::StartFailed(_))), "{:?}", d.events);
    assert_no_token(&d.events, "start failure");
}

#[test]
fn a_connected_transport_closing_with_a_quoting_error_is_redacted_in_the_close() {
    let mut d = with_token();
    d.open_transport();
    d.receive("{}\u{1e}");
    d.take_events();
    d.transport_closed(Some(&exception_quoting_the_url()));
    d.advance(Duration::from_secs(1));
    assert!(d.events.iter().any(|e| matches!(e, Event::Closed { .. })), "{:?}", d.events);
    assert_no_token(&d.events, "close");
}

#[test]
fn an_access_token_factory_error_quoting_the_token_is_redacted() {
    let mut config = HubConfig::new(HUB_URL);
    config.uses_access_token = true;
    let mut d = Driver::new(config);
    d.start();
    d.conn.handle_access_token(d.now, Err(format!("refresh failed for Bearer {ACCESS_TOKEN}; see https://idp/x?access_token={ACCESS_TOKEN}")));
    d.drain();
    let text = format!("{:?}", d.events);
    assert!(!text.contains(ACCESS_TOKEN), "{text}");
}

#[test]
fn a_plain_socket_close_reason_quoting_its_token_is_redacted() {
    let mut config = PlainConfig::new("ws://127.0.0.1:5000/ws");
    config.uses_access_token = true;
    config.token_param = "t".into();
    let mut link = PlainLink::new(config);
    let now = Instant::from_millis(0);
    link.start(now).expect("start");
    link.handle_access_token(now, Ok(Some(ACCESS_TOKEN.to_string())));
    let mut opened = None;
    while let Some(output) = link.poll_output() {
        if let PlainOutput::Io(PlainIo::OpenSocket { url }) = output {
            opened = Some(url);
        }
    }
    let url = opened.expect("the socket was opened");
    assert!(url.contains(&encode_query_value(ACCESS_TOKEN)), "{url}");
    link.handle_socket_closed(now, SocketClose { code: 1006, reason: format!("could not connect to {url}"), clean: false });
    let mut outputs = Vec::new();
    while let Some(output) = link.poll_output() {
        outputs.push(output);
    }
    let text = format!("{outputs:?}");
    assert!(text.contains("could not connect to"), "{text}");
    assert!(!text.contains(ACCESS_TOKEN) && !text.contains(&encode_query_value(ACCESS_TOKEN)), "{text}");
}
