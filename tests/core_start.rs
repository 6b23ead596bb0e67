//! Starting a hub connection: negotiate, redirects, tokens, transport open and handshake.

mod util;

use std::time::Duration;

use hubwire::core::hub::{Event, HttpResponse, HubConfig, MAX_REDIRECTS};
use hubwire::core::HubError;
use hubwire::protocol::negotiate::TransportKind;
use hubwire::protocol::ProtocolError;
use util::{Driver, HUB_URL, NEGOTIATE_V1};

fn start_failure(driver: &Driver) -> HubError {
    match driver.events.last() {
        Some(Event::StartFailed(error)) => error.clone(),
        other => panic!("expected StartFailed, got {other:?}"),
    }
}

#[test]
fn start_posts_negotiate_with_version_and_headers() {
    let mut d = Driver::with_defaults();
    d.start();
    assert_eq!(d.conn.state().name(), "Connecting");
    let request = &d.requests[0];
    assert_eq!(request.method, "POST");
    assert_eq!(request.url, "http://127.0.0.1:5000/hub/negotiate?negotiateVersion=1");
    assert!(request.headers.iter().any(|(k, v)| k == "X-Requested-With" && v == "XMLHttpRequest"));
    assert!(!request.headers.iter().any(|(k, _)| k == "Authorization"));
}

#[test]
fn negotiate_answer_opens_a_websocket_with_the_connection_token() {
    let mut d = Driver::with_defaults();
    d.start();
    d.answer_http(200, NEGOTIATE_V1);
    assert_eq!(
        d.opened,
        vec![(TransportKind::WebSockets, "ws://127.0.0.1:5000/hub?id=token-1".to_string())]
    );
}

#[test]
fn open_transport_sends_the_json_handshake_first() {
    let mut d = Driver::with_defaults();
    d.start();
    d.answer_http(200, NEGOTIATE_V1);
    d.open_transport();
    assert_eq!(d.sent, vec!["{\"protocol\":\"json\",\"version\":1}\u{1e}".to_string()]);
}

#[test]
fn handshake_acceptance_starts_the_connection_with_its_id() {
    let mut d = Driver::with_defaults();
    d.connect();
    assert_eq!(d.events, vec![Event::Started { connection_id: Some("conn-1".into()) }]);
    assert_eq!(d.conn.connection_id(), Some("conn-1"));
}

#[test]
fn messages_in_the_handshake_frame_are_delivered() {
    let mut d = Driver::with_defaults();
    d.conn.on("Notify", "h");
    d.start();
    d.answer_http(200, NEGOTIATE_V1);
    d.open_transport();
    d.receive("{}\u{1e}{\"type\":1,\"target\":\"Notify\",\"arguments\":[1]}\u{1e}");
    assert!(matches!(&d.events[0], Event::Started { .. }));
    assert!(matches!(&d.events[1], Event::Invocation { target, .. } if target == "Notify"));
}

#[test]
fn a_handshake_split_over_frames_is_reassembled() {
    let mut d = Driver::with_defaults();
    d.start();
    d.answer_http(200, NEGOTIATE_V1);
    d.open_transport();
    d.receive("{");
    assert_eq!(d.conn.state().name(), "Connecting");
    d.receive("}\u{1e}");
    assert_eq!(d.conn.state().name(), "Connected");
}

#[test]
fn handshake_error_fails_start_and_closes_the_transport() {
    let mut d = Driver::with_defaults();
    d.start();
    d.answer_http(200, NEGOTIATE_V1);
    d.open_transport();
    d.receive("{\"error\":\"Requested protocol 'json' is not available.\"}\u{1e}");
    assert_eq!(
        start_failure(&d),
        HubError::Protocol(ProtocolError::HandshakeRejected(
            "Requested protocol 'json' is not available.".into()
        ))
    );
    assert_eq!(d.transport_closes, 1);
    assert_eq!(d.conn.state().name(), "Disconnected");
}

#[test]
fn a_hub_message_before_the_handshake_response_fails_start() {
    let mut d = Driver::with_defaults();
    d.start();
    d.answer_http(200, NEGOTIATE_V1);
    d.open_transport();
    d.receive("{\"type\":6}\u{1e}");
    assert!(matches!(start_failure(&d), HubError::Protocol(ProtocolError::UnexpectedMessage(_))));
}

#[test]
fn malformed_handshake_response_fails_start() {
    let mut d = Driver::with_defaults();
    d.start();
    d.answer_http(200, NEGOTIATE_V1);
    d.open_transport();
    d.receive("<html>\u{1e}");
    assert!(matches!(start_failure(&d), HubError::Protocol(ProtocolError::MalformedJson(_))));
}

#[test]
fn negotiate_http_errors_fail_start_with_the_status() {
    let mut d = Driver::with_defaults();
    d.start();
    d.answer_http(404, "");
    // The official client's text: its HTTP client's error (body, else status text, here both
    // empty), then the hint it adds for a 404.
    assert_eq!(
        start_failure(&d).to_string(),
        "Failed to complete negotiation with the server: Error: : Status code '404' Either this is not a SignalR endpoint or there is a proxy blocking the connection."
    );
}

#[test]
fn a_negotiate_error_quotes_the_answer_s_body_else_its_status_text_cut_to_a_bound() {
    let mut d = Driver::with_defaults();
    d.start();
    d.conn.handle_http(d.now, d.requests[0].id, Ok(HttpResponse {
        status: 503,
        status_text: "Service Unavailable".into(),
        body: "Negotiate refused".into(),
    }));
    d.drain();
    assert_eq!(
        start_failure(&d).to_string(),
        "Failed to complete negotiation with the server: Error: Negotiate refused: Status code '503'"
    );
    let mut d = Driver::with_defaults();
    d.start();
    d.conn.handle_http(d.now, d.requests[0].id, Ok(HttpResponse {
        status: 401,
        status_text: "Unauthorized".into(),
        body: String::new().into(),
    }));
    d.drain();
    assert_eq!(
        start_failure(&d).to_string(),
        "Failed to complete negotiation with the server: Error: Unauthorized: Status code '401'"
    );
    let mut d = Driver::with_defaults();
    d.start();
    d.conn.handle_http(d.now, d.requests[0].id, Ok(HttpResponse {
        status: 500,
        status_text: String::new(),
        body: "x".repeat(10_000).into(),
    }));
    d.drain();
    let text = start_failure(&d).to_string();
    assert!(text.len() < 700, "{} chars", text.len());
    assert!(text.ends_with("x: Status code '500'"), "{text}");
}

#[test]
fn negotiate_network_failure_fails_start() {
    let mut d = Driver::with_defaults();
    d.start();
    let id = d.requests[0].id;
    d.conn.handle_http(d.now, id, Err(hubwire::core::hub::HttpFailure::Network("Failed to fetch".into())));
    d.drain();
    assert_eq!(start_failure(&d), HubError::Negotiate("Failed to fetch".into()));
}

#[test]
fn negotiate_v0_connects_with_the_connection_id() {
    let mut d = Driver::with_defaults();
    d.start();
    d.answer_http(200, r#"{"connectionId":"legacy","availableTransports":[{"transport":"WebSockets","transferFormats":["Text"]}]}"#);
    assert_eq!(d.opened[0].1, "ws://127.0.0.1:5000/hub?id=legacy");
}

#[test]
fn negotiate_server_error_and_classic_signalr_fail_start() {
    let mut d = Driver::with_defaults();
    d.start();
    d.answer_http(200, r#"{"error":"This connection is not allowed."}"#);
    assert_eq!(
        start_failure(&d),
        HubError::Protocol(ProtocolError::NegotiateRejected("This connection is not allowed.".into()))
    );
    d.start();
    d.answer_http(200, r#"{"ProtocolVersion":"1.5","ConnectionId":"x"}"#);
    assert_eq!(start_failure(&d), HubError::Protocol(ProtocolError::ClassicAspNetSignalR));
}

#[test]
fn a_server_offering_only_disabled_transports_is_refused_with_the_reasons() {
    let mut config = HubConfig::new(HUB_URL);
    config.allowed_transports = 1;
    let mut d = Driver::new(config);
    d.start();
    d.answer_http(200, r#"{"connectionId":"a","connectionToken":"b","negotiateVersion":1,"availableTransports":[{"transport":"LongPolling","transferFormats":["Text"]},{"transport":"WebTransport","transferFormats":["Text"]}]}"#);
    let error = start_failure(&d);
    assert!(matches!(error, HubError::NoTransport(_)));
    assert!(error.to_string().contains("'LongPolling' is disabled by the client."), "{error}");
    assert!(error.to_string().contains("'WebTransport' is not a transport this client knows."), "{error}");
    assert!(d.opened.is_empty());
}

#[test]
fn redirect_is_followed_with_its_access_token() {
    let mut d = Driver::with_defaults();
    d.start();
    d.answer_http(200, r#"{"url":"https://asrs.example/client/?hub=chat","accessToken":"jwt-1"}"#);
    let second = &d.requests[1];
    assert_eq!(second.url, "https://asrs.example/client/negotiate?hub=chat&negotiateVersion=1");
    assert!(second.headers.contains(&("Authorization".into(), "Bearer jwt-1".into())));
    d.answer_http(200, NEGOTIATE_V1);
    assert_eq!(d.opened[0].1, "wss://asrs.example/client/?hub=chat&id=token-1&access_token=jwt-1");
}

#[test]
fn endless_redirects_end_with_a_clear_error() {
    let mut d = Driver::with_defaults();
    d.start();
    for _ in 0..=MAX_REDIRECTS {
        d.answer_http(200, r#"{"url":"http://127.0.0.1:5000/hub"}"#);
    }
    assert_eq!(start_failure(&d), HubError::TooManyRedirects(MAX_REDIRECTS));
    assert_eq!(d.requests.len(), MAX_REDIRECTS as usize + 1);
}

#[test]
fn access_token_is_fetched_for_negotiate_and_for_connect() {
    let mut config = HubConfig::new(HUB_URL);
    config.uses_access_token = true;
    let mut d = Driver::new(config);
    d.start();
    assert_eq!(d.token_requests, 1);
    assert!(d.requests.is_empty(), "negotiate waits for the token");
    d.conn.handle_access_token(d.now, Ok(Some("secret token/1".into())));
    d.drain();
    assert!(d.requests[0].headers.contains(&("Authorization".into(), "Bearer secret token/1".into())));
    d.answer_http(200, NEGOTIATE_V1);
    assert_eq!(d.token_requests, 2);
    d.conn.handle_access_token(d.now, Ok(Some("secret token/2".into())));
    d.drain();
    assert_eq!(d.opened[0].1, "ws://127.0.0.1:5000/hub?id=token-1&access_token=secret%20token%2F2");
}

#[test]
fn a_failing_token_factory_fails_start() {
    let mut config = HubConfig::new(HUB_URL);
    config.uses_access_token = true;
    let mut d = Driver::new(config);
    d.start();
    d.conn.handle_access_token(d.now, Err("no session".into()));
    d.drain();
    // The official client asks the factory inside its negotiate step: the failure reads as a
    // failed negotiation, quoting the thrown value as `${error}` (the shell's text).
    assert_eq!(start_failure(&d).to_string(), "Failed to complete negotiation with the server: no session");
}

#[test]
fn skip_negotiation_opens_the_websocket_directly() {
    let mut config = HubConfig::new("https://h/hub?x=1");
    config.skip_negotiation = true;
    config.allowed_transports = 1;
    let mut d = Driver::new(config);
    d.start();
    assert!(d.requests.is_empty());
    assert_eq!(d.opened[0].1, "wss://h/hub?x=1");
    d.open_transport();
    d.receive("{}\u{1e}");
    assert_eq!(d.events, vec![Event::Started { connection_id: None }]);
}

#[test]
fn starting_twice_is_an_error() {
    let mut d = Driver::with_defaults();
    d.start();
    assert_eq!(d.conn.start(d.now), Err(HubError::AlreadyStarted));
}

#[test]
fn stop_during_the_transport_or_handshake_fails_start_with_the_handshake_text() {
    // Before the transport opened, and after it opened with the handshake unanswered.
    for open_first in [false, true] {
        let mut d = Driver::with_defaults();
        d.start();
        d.answer_http(200, NEGOTIATE_V1);
        if open_first {
            d.open_transport();
        }
        d.conn.stop(d.now);
        d.drain();
        assert_eq!(start_failure(&d), HubError::StoppedDuringHandshake, "opened: {open_first}");
        assert_eq!(d.conn.state().name(), "Disconnected");
    }
    // The official client's texts for the two moments.
    assert_eq!(HubError::StoppedDuringStart.to_string(), "The connection was stopped during negotiation.");
    assert_eq!(
        HubError::StoppedDuringHandshake.to_string(),
        "The connection was stopped before the hub handshake could complete."
    );
}

#[test]
fn stop_during_negotiate_fails_start_and_ignores_the_late_answer() {
    let mut d = Driver::with_defaults();
    d.start();
    d.conn.stop(d.now);
    d.drain();
    assert_eq!(start_failure(&d), HubError::StoppedDuringStart);
    d.answer_http(200, NEGOTIATE_V1);
    assert!(d.opened.is_empty());
    assert_eq!(d.conn.state().name(), "Disconnected");
}

#[test]
fn a_transport_that_fails_to_open_fails_start() {
    let mut d = Driver::with_defaults();
    d.start();
    d.answer_http(200, NEGOTIATE_V1);
    d.transport_closed(Some("WebSocket failed to connect."));
    assert_eq!(start_failure(&d), HubError::NoTransport("WebSockets failed: WebSocket failed to connect.".into()));
}

#[test]
fn an_unanswered_handshake_times_out_after_15_virtual_seconds() {
    let mut d = Driver::with_defaults();
    d.start();
    d.answer_http(200, NEGOTIATE_V1);
    d.open_transport();
    d.advance(Duration::from_millis(14_999));
    assert_eq!(d.conn.state().name(), "Connecting");
    d.advance(Duration::from_millis(1));
    assert_eq!(start_failure(&d), HubError::HandshakeTimeout(Duration::from_secs(15)));
    assert_eq!(d.now.as_millis(), 15_000);
}

#[test]
fn a_relative_hub_url_fails_start_with_a_clear_error() {
    let mut d = Driver::new(HubConfig::new("/hub"));
    d.start();
    assert!(matches!(start_failure(&d), HubError::Protocol(ProtocolError::InvalidUrl(_))));
}

#[test]
fn a_transport_option_allowing_nothing_is_refused_at_start() {
    let mut config = HubConfig::new(HUB_URL);
    config.allowed_transports = 0;
    let mut d = Driver::new(config);
    assert!(matches!(d.conn.start(d.now), Err(HubError::NoTransport(_))));
    assert_eq!(d.conn.state().name(), "Disconnected");
}

#[test]
fn skipping_negotiation_requires_the_websocket_transport_alone() {
    let mut config = HubConfig::new(HUB_URL);
    config.skip_negotiation = true;
    let mut d = Driver::new(config);
    let error = d.conn.start(d.now).unwrap_err();
    assert!(error.to_string().contains("Negotiation can only be skipped"), "{error}");
}

#[test]
fn transports_that_cannot_be_used_are_listed_as_the_official_client_lists_them() {
    let mut config = HubConfig::new(HUB_URL);
    config.allowed_transports = 1; // WebSockets only
    let mut d = Driver::new(config);
    d.start();
    d.answer_http(
        200,
        r#"{"connectionId":"c","connectionToken":"t","negotiateVersion":1,"availableTransports":[{"transport":"ServerSentEvents","transferFormats":["Text"]},{"transport":"LongPolling","transferFormats":["Text","Binary"]}]}"#,
    );
    assert_eq!(
        start_failure(&d).to_string(),
        "Unable to connect to the server with any of the available transports. \
         ServerSentEvents failed: Error: 'ServerSentEvents' is disabled by the client. \
         LongPolling failed: Error: 'LongPolling' is disabled by the client."
    );
    let mut d = Driver::with_defaults();
    d.start();
    d.answer_http(
        200,
        r#"{"connectionId":"c","connectionToken":"t","negotiateVersion":1,"availableTransports":[{"transport":"WebSockets","transferFormats":["Binary"]}]}"#,
    );
    assert_eq!(
        start_failure(&d).to_string(),
        "Unable to connect to the server with any of the available transports. \
         WebSockets failed: Error: 'WebSockets' does not support Text."
    );
}
