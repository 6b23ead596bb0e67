//! `health()`: the round-trip time and the time of the last message, in virtual milliseconds.

mod util;

use std::time::Duration;

use hubwire::core::Instant;
use hubwire::protocol::{Completion, HubMessage, RawJson};
use util::session::{default_reconnect, SessionDriver};

/// Negotiated at 0, socket open at 100 ms, handshake answered at 150 ms.
fn connected_with_a_50_ms_handshake() -> SessionDriver {
    let mut d = SessionDriver::new(default_reconnect());
    d.start();
    let id = *d.negotiates.last().unwrap();
    let body = r#"{"connectionId":"c","connectionToken":"t","negotiateVersion":1,"availableTransports":[{"transport":"WebSockets","transferFormats":["Text"]}]}"#;
    d.session.handle_http(
        d.now,
        id,
        Ok(hubwire::core::HttpResponse { status: 200, status_text: "OK".into(), body: body.into() }),
    );
    d.drain();
    d.now = Instant::from_millis(100);
    let transport = d.session.transport_id();
    d.session.handle_transport_opened(d.now, transport);
    d.drain();
    d.now = Instant::from_millis(150);
    d.session.handle_transport_data(d.now, transport, "{}\u{1e}");
    d.drain();
    assert_eq!(d.state(), "Connected");
    d
}

#[test]
fn the_handshake_gives_the_first_round_trip_and_last_message_time() {
    let d = connected_with_a_50_ms_handshake();
    let health = d.session.health();
    assert_eq!(health.round_trip, Some(Duration::from_millis(50)));
    assert_eq!(health.last_message_at, Some(Instant::from_millis(150)));
}

#[test]
fn an_invocation_and_its_completion_update_the_round_trip() {
    let mut d = connected_with_a_50_ms_handshake();
    d.now = Instant::from_millis(1_000);
    d.session.invoke(d.now, "Echo", RawJson::from_value(&[1])).unwrap();
    d.drain();
    let (id, _) = d.invocations().pop().unwrap();
    d.now = Instant::from_millis(1_300);
    d.complete(&id, Completion::Void);
    let health = d.session.health();
    assert_eq!(health.round_trip, Some(Duration::from_millis(300)));
    assert_eq!(health.last_message_at, Some(Instant::from_millis(1_300)));
}

#[test]
fn any_message_updates_the_last_message_time_but_not_the_round_trip() {
    let mut d = connected_with_a_50_ms_handshake();
    d.now = Instant::from_millis(5_000);
    d.server_sends(&HubMessage::Ping);
    let health = d.session.health();
    assert_eq!(health.last_message_at, Some(Instant::from_millis(5_000)));
    assert_eq!(health.round_trip, Some(Duration::from_millis(50)));
}
