//! The receive path copies no payload: what the engine hands out for a received text frame
//! points into that frame (issue 18, "one copy of each incoming frame at most").

mod util;

use hubwire::core::hub::{Event, HttpResponse, HubConfig};
use hubwire::protocol::message::parse_shared_frame;
use hubwire::protocol::{Completion, HubMessage, Payload, RawJson, SharedText};
use util::{Driver, HUB_URL};

/// Asserts that `payload` is the text `expected` and lies in `frame` at that text's place: the
/// same bytes, not a copy of them.
fn points_into(payload: &Payload, frame: &SharedText, expected: &str) {
    let json = payload.as_json().expect("a JSON payload");
    let (text, start) = json.frame();
    assert!(SharedText::ptr_eq(text, frame), "the payload holds the frame it came from");
    assert_eq!(json.as_str(), expected);
    assert_eq!(&frame[start..start + expected.len()], expected);
    assert!(std::ptr::eq(json.as_str().as_ptr(), frame[start..].as_ptr()), "no copy of the text");
}

#[test]
fn payloads_of_a_shared_frame_point_into_it() {
    let frame = SharedText::new(
        [
            "{\"type\":1,\"target\":\"T\",\"arguments\":[1,\"\u{e9}\"]}\u{1e}",
            "{\"type\":2,\"invocationId\":\"s\",\"item\": {\"x\" : [2]} }\u{1e}",
            "{\"type\":3,\"invocationId\":\"c\",\"result\":\"r\"}\u{1e}",
        ]
        .concat(),
    );
    let messages = parse_shared_frame(&frame, 0, 1 << 20).unwrap();
    let [HubMessage::Invocation { arguments, .. }, HubMessage::StreamItem { item, .. }, HubMessage::Completion { completion: Completion::Result(result), .. }] =
        &messages[..]
    else {
        panic!("three messages: {messages:?}");
    };
    points_into(arguments, &frame, "[1,\"\u{e9}\"]");
    points_into(item, &frame, "{\"x\" : [2]}");
    points_into(result, &frame, "\"r\"");
    // Equality, hashing and the encoder read the text, wherever it lies.
    assert_eq!(arguments, &RawJson::parse("[1,\"\u{e9}\"]").unwrap());
}

#[test]
fn a_start_offset_skips_what_came_before() {
    let frame = SharedText::new("{}\u{1e}{\"type\":2,\"invocationId\":\"s\",\"item\":[3]}\u{1e}".to_string());
    let messages = parse_shared_frame(&frame, 3, 1 << 20).unwrap();
    let [HubMessage::StreamItem { item, .. }] = &messages[..] else { panic!("{messages:?}") };
    points_into(item, &frame, "[3]");
}

#[test]
fn the_engine_hands_out_payloads_that_point_into_the_received_frame() {
    let mut d = Driver::with_defaults();
    d.connect();
    d.take_events();
    d.conn.on("Tick", "h");
    let id = d.conn.invoke(d.now, "Echo", RawJson::empty_array()).unwrap();
    d.drain();
    let frame = SharedText::new(
        "{\"type\":1,\"target\":\"tick\",\"arguments\":[{\"n\":7}]}\u{1e}{\"type\":3,\"invocationId\":\"0\",\"result\":[\"a\"]}\u{1e}"
            .to_string(),
    );
    let transport = d.conn.transport_id();
    d.conn.handle_transport_text(d.now, transport, &frame);
    d.drain();
    let [Event::Invocation { arguments, .. }, Event::InvocationResult { id: done, outcome: Ok(Some(result)) }] = &d.events[..] else {
        panic!("an invocation and a result: {:?}", d.events);
    };
    assert_eq!(*done, id);
    points_into(arguments, &frame, "[{\"n\":7}]");
    points_into(result, &frame, "[\"a\"]");
}

#[test]
fn messages_in_the_handshake_frame_point_into_it_too() {
    let mut d = Driver::with_defaults();
    d.conn.on("Tick", "h");
    d.start();
    d.answer_http(200, util::NEGOTIATE_V1);
    d.open_transport();
    let frame = SharedText::new("{}\u{1e}{\"type\":1,\"target\":\"Tick\",\"arguments\":[1]}\u{1e}".to_string());
    let transport = d.conn.transport_id();
    d.conn.handle_transport_text(d.now, transport, &frame);
    d.drain();
    let arguments = d
        .events
        .iter()
        .find_map(|event| match event {
            Event::Invocation { arguments, .. } => Some(arguments),
            _ => None,
        })
        .expect("the invocation after the handshake");
    points_into(arguments, &frame, "[1]");
}

#[test]
fn a_long_polling_body_becomes_the_frame_its_payloads_point_into() {
    let mut config = HubConfig::new(HUB_URL);
    config.allowed_transports = 4;
    let mut d = Driver::new(config);
    d.conn.on("Tick", "h");
    d.start();
    d.answer_http(
        200,
        r#"{"connectionId":"c","connectionToken":"t","negotiateVersion":1,"availableTransports":[{"transport":"LongPolling","transferFormats":["Text"]}]}"#,
    );
    let poll = |d: &Driver| d.requests.iter().rev().find(|r| r.method == "GET").cloned().unwrap();
    let ok = |body: &str| Ok(HttpResponse { status: 200, status_text: "OK".into(), body: body.into() });
    let first = poll(&d);
    d.conn.handle_http(d.now, first.id, ok(""));
    d.drain();
    let post = d.requests.iter().rev().find(|r| r.method == "POST").cloned().unwrap();
    d.conn.handle_http(d.now, post.id, ok(""));
    let next = poll(&d);
    d.conn.handle_http(d.now, next.id, ok("{}\u{1e}"));
    d.drain();
    d.take_events();
    let body = "{\"type\":6}\u{1e}{\"type\":1,\"target\":\"Tick\",\"arguments\":[\"x\"]}\u{1e}";
    let next = poll(&d);
    d.conn.handle_http(d.now, next.id, ok(body));
    d.drain();
    let [Event::Invocation { arguments, .. }] = &d.events[..] else { panic!("{:?}", d.events) };
    // The engine made the frame from the body (no copy of its own: the String moved in).
    let (frame, start) = arguments.as_json().unwrap().frame();
    assert_eq!((frame.as_str(), &frame[start..start + 5]), (body, "[\"x\"]"));
}
