//! Transport selection and fallback, Server-Sent Events and Long Polling over HTTP, tokens on
//! 401, headers and timeouts — the engine's side, on a virtual clock.

mod util;

use std::time::Duration;

use hubwire::core::hub::{Event, HttpFailure, HttpRequest, HttpResponse, HubConfig, Output};
use hubwire::core::HubError;
use hubwire::protocol::negotiate::TransportKind;
use hubwire::protocol::RawJson;
use util::{Driver, HUB_URL};

const ALL_THREE: &str = r#"{"connectionId":"c","connectionToken":"t","negotiateVersion":1,"availableTransports":[
  {"transport":"WebSockets","transferFormats":["Text","Binary"]},
  {"transport":"ServerSentEvents","transferFormats":["Text"]},
  {"transport":"LongPolling","transferFormats":["Text","Binary"]}]}"#;

fn ok(body: &str) -> Result<HttpResponse, HttpFailure> {
    Ok(HttpResponse { status: 200, status_text: "OK".into(), body: body.into() })
}

fn status(code: u16) -> Result<HttpResponse, HttpFailure> {
    Ok(HttpResponse { status: code, status_text: String::new(), body: String::new().into() })
}

fn last(d: &Driver) -> HttpRequest {
    d.requests.last().expect("a request").clone()
}

fn answer(d: &mut Driver, request: &HttpRequest, response: Result<HttpResponse, HttpFailure>) {
    d.conn.handle_http(d.now, request.id, response);
    d.drain();
}

fn with_transports(flags: u8) -> Driver {
    let mut config = HubConfig::new(HUB_URL);
    config.allowed_transports = flags;
    Driver::new(config)
}

/// Starts on Long Polling only and completes the handshake.
fn long_polling() -> Driver {
    let mut d = with_transports(4);
    d.start();
    d.answer_http(200, ALL_THREE);
    let first_poll = last(&d);
    assert_eq!(first_poll.method, "GET");
    answer(&mut d, &first_poll, ok(""));
    // The handshake goes out as a POST while the next poll is outstanding.
    let post = d.requests.iter().rev().find(|r| r.method == "POST").cloned().unwrap();
    assert_eq!(post.body_text(), Some("{\"protocol\":\"json\",\"version\":1}\u{1e}"));
    answer(&mut d, &post, ok(""));
    let poll = d.requests.iter().rev().find(|r| r.method == "GET").cloned().unwrap();
    answer(&mut d, &poll, ok("{}\u{1e}"));
    assert_eq!(d.conn.state().name(), "Connected");
    d.take_events();
    d
}

fn outstanding_poll(d: &Driver) -> HttpRequest {
    d.requests.iter().rev().find(|r| r.method == "GET").cloned().expect("a poll")
}

#[test]
fn transports_are_tried_in_the_servers_order_with_a_new_negotiate_before_each() {
    let mut d = Driver::with_defaults();
    d.start();
    d.answer_http(200, ALL_THREE);
    assert_eq!(d.opened[0].0, TransportKind::WebSockets);
    d.transport_closed(Some("WebSocket failed to connect."));
    assert_eq!(d.requests.len(), 2, "negotiated again for a fresh connection token");
    assert!(d.requests[1].url.contains("/negotiate"));
    d.answer_http(200, &ALL_THREE.replace("\"t\"", "\"t2\""));
    assert_eq!(d.opened[1], (TransportKind::ServerSentEvents, "http://127.0.0.1:5000/hub?id=t2".to_string()));
    d.transport_closed(Some("EventSource failed to connect."));
    d.answer_http(200, &ALL_THREE.replace("\"t\"", "\"t3\""));
    let poll = last(&d);
    assert_eq!((poll.method, poll.url.starts_with("http://127.0.0.1:5000/hub?id=t3&_=")), ("GET", true));
    answer(&mut d, &poll, status(500));
    let Some(Event::StartFailed(error)) = d.events.last() else { panic!("{:?}", d.events) };
    assert_eq!(
        error.to_string(),
        "Unable to connect to the server with any of the available transports. WebSockets failed: \
         WebSocket failed to connect. ServerSentEvents failed: EventSource failed to connect. \
         LongPolling failed: Long polling failed: Status code '500' "
    );
}

#[test]
fn the_transport_option_filters_the_servers_offer() {
    for (flags, expected) in [
        (1, TransportKind::WebSockets),
        (2, TransportKind::ServerSentEvents),
        (2 | 4, TransportKind::ServerSentEvents),
        (1 | 4, TransportKind::WebSockets),
    ] {
        let mut d = with_transports(flags);
        d.start();
        d.answer_http(200, ALL_THREE);
        assert_eq!(d.opened[0].0, expected, "flags {flags}");
    }
}

#[test]
fn server_sent_events_put_the_token_in_the_url_and_post_with_a_bearer_header() {
    let mut config = HubConfig::new(HUB_URL);
    config.allowed_transports = 2;
    config.uses_access_token = true;
    let mut d = Driver::new(config);
    d.start();
    d.conn.handle_access_token(d.now, Ok(Some("tok 1".into())));
    d.drain();
    d.answer_http(200, ALL_THREE);
    d.conn.handle_access_token(d.now, Ok(Some("tok 2".into())));
    d.drain();
    assert_eq!(d.opened[0], (TransportKind::ServerSentEvents, "http://127.0.0.1:5000/hub?id=t&access_token=tok%202".to_string()));
    d.open_transport();
    let post = last(&d);
    assert_eq!((post.method, post.url.as_str()), ("POST", "http://127.0.0.1:5000/hub?id=t"));
    assert!(post.headers.contains(&("Authorization".into(), "Bearer tok 2".into())));
    assert!(d.sent.is_empty(), "nothing goes through a socket on SSE");
}

#[test]
fn http_sends_go_one_post_at_a_time_and_batch_what_waits() {
    let mut d = with_transports(2);
    d.start();
    d.answer_http(200, ALL_THREE);
    d.open_transport();
    let handshake_post = last(&d);
    d.receive("{}\u{1e}");
    d.conn.send(d.now, "A", RawJson::empty_array()).unwrap();
    d.conn.send(d.now, "B", RawJson::empty_array()).unwrap();
    d.drain();
    assert_eq!(d.requests.len(), 2, "negotiate and the handshake POST only, while it is in flight");
    answer(&mut d, &handshake_post, ok(""));
    let batch = last(&d);
    assert_eq!(
        batch.body_text(),
        Some("{\"type\":1,\"target\":\"A\",\"arguments\":[]}\u{1e}{\"type\":1,\"target\":\"B\",\"arguments\":[]}\u{1e}")
    );
}

#[test]
fn a_send_refused_with_404_closes_the_connection() {
    let mut d = with_transports(2);
    d.start();
    d.answer_http(200, ALL_THREE);
    d.open_transport();
    let post = last(&d);
    d.receive("{}\u{1e}");
    d.take_events();
    answer(&mut d, &post, status(404));
    assert!(matches!(d.events.last(), Some(Event::Closed { error: Some(HubError::Transport(e)), .. }) if e.contains("404")));
}

#[test]
fn long_polling_starts_with_a_first_poll_then_keeps_one_poll_outstanding() {
    let mut d = long_polling();
    let poll = outstanding_poll(&d);
    assert!(poll.url.contains("id=t&_="));
    assert_eq!(poll.timeout, Some(Duration::from_secs(100)));
    d.conn.on("Tick", "h");
    answer(&mut d, &poll, ok("{\"type\":1,\"target\":\"Tick\",\"arguments\":[7]}\u{1e}"));
    assert!(matches!(&d.events[0], Event::Invocation { target, .. } if target == "Tick"));
    let next = outstanding_poll(&d);
    assert_ne!(next.id, poll.id);
    assert_ne!(next.url, poll.url, "a new cache-buster each time");
}

#[test]
fn an_empty_200_or_a_client_timeout_just_polls_again() {
    let mut d = long_polling();
    for response in [ok(""), Err(HttpFailure::TimedOut)] {
        let poll = outstanding_poll(&d);
        answer(&mut d, &poll, response);
        assert!(outstanding_poll(&d).id > poll.id);
        assert_eq!(d.conn.state().name(), "Connected");
    }
}

#[test]
fn a_204_ends_the_connection_cleanly_and_a_404_with_an_error() {
    let mut d = long_polling();
    let poll = outstanding_poll(&d);
    answer(&mut d, &poll, status(204));
    assert!(matches!(d.events.last(), Some(Event::Closed { error: None, .. })));
    let mut d = long_polling();
    let poll = outstanding_poll(&d);
    answer(&mut d, &poll, status(404));
    assert!(matches!(d.events.last(), Some(Event::Closed { error: Some(HubError::Transport(e)), .. }) if e.contains("404")));
}

#[test]
fn long_polling_sends_no_pings_and_has_no_server_timeout() {
    let mut d = long_polling();
    d.advance(Duration::from_secs(300));
    assert_eq!(d.conn.state().name(), "Connected");
    assert!(!d.requests.iter().any(|r| r.body_text().is_some_and(|b| b.contains("\"type\":6"))));
}

#[test]
fn stopping_long_polling_sends_delete() {
    let mut d = long_polling();
    d.conn.stop(d.now);
    d.drain();
    let delete = last(&d);
    assert_eq!((delete.method, delete.url.as_str()), ("DELETE", "http://127.0.0.1:5000/hub?id=t"));
    assert_eq!(d.transport_closes, 1);
}

#[test]
fn a_401_on_a_poll_fetches_a_fresh_token_and_retries_once() {
    let mut config = HubConfig::new(HUB_URL);
    config.allowed_transports = 4;
    config.uses_access_token = true;
    let mut d = Driver::new(config);
    d.start();
    d.conn.handle_access_token(d.now, Ok(Some("old".into())));
    d.drain();
    d.answer_http(200, ALL_THREE);
    d.conn.handle_access_token(d.now, Ok(Some("old".into())));
    d.drain();
    let poll = last(&d);
    answer(&mut d, &poll, status(401));
    assert_eq!(d.token_requests, 3);
    d.conn.handle_access_token(d.now, Ok(Some("new".into())));
    d.drain();
    let retry = last(&d);
    assert_eq!(retry.url, poll.url);
    assert!(retry.headers.contains(&("Authorization".into(), "Bearer new".into())));
    answer(&mut d, &retry, status(401));
    assert_eq!(d.token_requests, 3, "only one refresh per request");
    assert!(matches!(d.events.last(), Some(Event::StartFailed(_))));
}

#[test]
fn configured_headers_and_timeouts_go_on_every_request() {
    let mut config = HubConfig::new(HUB_URL);
    config.headers = vec![("X-Tenant".into(), "acme".into())];
    config.request_timeout = Duration::from_secs(7);
    config.allowed_transports = 4;
    let mut d = Driver::new(config);
    d.start();
    assert_eq!(d.requests[0].timeout, Some(Duration::from_secs(7)));
    d.answer_http(200, ALL_THREE);
    let poll = last(&d);
    answer(&mut d, &poll, ok(""));
    for request in &d.requests {
        assert!(request.headers.contains(&("X-Tenant".into(), "acme".into())), "{request:?}");
    }
}

#[test]
fn garbage_on_an_http_transport_closes_with_a_protocol_error() {
    let mut d = long_polling();
    let poll = outstanding_poll(&d);
    answer(&mut d, &poll, ok("<html>502 Bad Gateway</html>"));
    assert!(matches!(d.events.last(), Some(Event::Closed { error: Some(HubError::Protocol(_)), .. })));
}

#[test]
fn an_html_error_page_from_negotiate_fails_start_clearly() {
    let mut d = Driver::with_defaults();
    d.start();
    d.answer_http(200, "<!doctype html><title>Sign in</title>");
    let Some(Event::StartFailed(error)) = d.events.last() else { panic!() };
    assert!(error.to_string().starts_with("Malformed message: negotiate response:"), "{error}");
}

#[test]
fn every_output_of_a_fallback_start_is_well_formed() {
    // No transport URL carries a token unless one was given, and every request has an id the
    // engine still knows or has finished with.
    // The outputs are read straight from the engine (not through the driver, which would
    // drain them first), and the test checks that there were some.
    let mut d = Driver::with_defaults();
    d.start();
    d.answer_http(200, ALL_THREE);
    let websocket = d.conn.transport_id();
    d.conn.handle_transport_closed(d.now, websocket, Some("nope".into()));
    let mut outputs = Vec::new();
    while let Some(output) = d.conn.poll_output() {
        outputs.push(output);
    }
    // Negotiate again for the fallback, answered: Server-Sent Events opens.
    let negotiate = outputs.iter().find_map(|o| match o {
        Output::Http(request) => Some(request.clone()),
        _ => None,
    });
    let negotiate = negotiate.expect("the fallback negotiates again");
    d.conn.handle_http(d.now, negotiate.id, Ok(HttpResponse { status: 200, status_text: String::new(), body: ALL_THREE.into() }));
    while let Some(output) = d.conn.poll_output() {
        outputs.push(output);
    }
    assert!(outputs.len() >= 4, "close, fallback event, negotiate, open: {outputs:?}");
    let mut request_ids = std::collections::BTreeSet::new();
    for output in &outputs {
        match output {
            Output::Send(text) => panic!("nothing is sent on a transport that never opened: {text:?}"),
            Output::OpenTransport { transport, url, .. } => {
                assert!(!url.contains("access_token"), "{url}");
                assert_ne!(*transport, websocket, "the fallback is a new transport");
            }
            Output::CloseTransport { transport } => assert_eq!(*transport, websocket, "closes the failed one"),
            Output::Http(request) => assert!(request_ids.insert(request.id), "request ids are unique"),
            _ => {}
        }
    }
    assert_eq!(outputs.iter().filter(|o| matches!(o, Output::CloseTransport { .. })).count(), 1);
    assert_eq!(outputs.iter().filter(|o| matches!(o, Output::OpenTransport { .. })).count(), 1);
}

#[test]
fn a_fallback_is_reported_for_telemetry() {
    let mut d = Driver::with_defaults();
    d.start();
    d.answer_http(200, ALL_THREE);
    d.transport_closed(Some("refused"));
    assert!(d.events.contains(&Event::TransportFallback { from: TransportKind::WebSockets, reason: "refused".into() }));
}
