//! How a started connection ends: stop, server Close, transport loss, protocol violations.

mod util;

use hubwire::core::hub::Event;
use hubwire::core::HubError;
use hubwire::protocol::{HubMessage, ProtocolError, RawJson};
use util::Driver;

fn connected_with_pending_invoke() -> (Driver, u64) {
    let mut d = Driver::with_defaults();
    d.connect();
    let id = d.conn.invoke(d.now, "Slow", RawJson::empty_array()).unwrap();
    d.drain();
    d.take_events();
    (d, id)
}

/// The pending invoke fails first, with the closing error (the official client's rule: the
/// transport's or the server's error when there is one, the generic cancellation when not).
fn assert_pending_rejected_then_closed(d: &Driver, id: u64, error: Option<HubError>, reconnect_allowed: bool) {
    let rejection = error.clone().unwrap_or(HubError::ConnectionClosed);
    assert_eq!(
        d.events,
        vec![
            Event::InvocationResult { id, outcome: Err(rejection) },
            Event::Closed { error, reconnect_allowed },
        ]
    );
    assert_eq!(d.conn.state().name(), "Disconnected");
    assert_eq!(d.conn.connection_id(), None);
}

#[test]
fn stop_goes_disconnecting_until_the_transport_closes() {
    let (mut d, id) = connected_with_pending_invoke();
    d.conn.stop(d.now);
    d.drain();
    assert_eq!(d.conn.state().name(), "Disconnecting");
    assert_eq!(d.transport_closes, 1);
    assert!(d.events.is_empty());
    d.transport_closed(None);
    assert_pending_rejected_then_closed(&d, id, None, false);
}

#[test]
fn stop_sends_a_close_message_before_closing_the_transport() {
    let (mut d, _) = connected_with_pending_invoke();
    let sent_before = d.sent_messages().len();
    d.conn.stop(d.now);
    d.drain();
    assert_eq!(d.sent_messages()[sent_before..], [HubMessage::Close { error: None, allow_reconnect: false }]);
    assert_eq!(d.transport_closes, 1);
}

#[test]
fn stop_when_stopped_does_nothing() {
    let mut d = Driver::with_defaults();
    d.conn.stop(d.now);
    d.drain();
    assert!(d.events.is_empty());
    assert_eq!(d.transport_closes, 0);
}

#[test]
fn server_close_with_error_closes_with_that_error() {
    let (mut d, id) = connected_with_pending_invoke();
    d.server_sends(&[HubMessage::Close { error: Some("Connection closed with an error.".into()), allow_reconnect: false }]);
    assert_eq!(d.transport_closes, 1);
    assert_pending_rejected_then_closed(&d, id, Some(HubError::ServerClosed("Connection closed with an error.".into())), false);
    assert_eq!(
        HubError::ServerClosed("x".into()).to_string(),
        "Server returned an error on close: x"
    );
}

#[test]
fn server_close_can_allow_reconnect() {
    let (mut d, id) = connected_with_pending_invoke();
    d.server_sends(&[HubMessage::Close { error: None, allow_reconnect: true }]);
    assert_pending_rejected_then_closed(&d, id, None, true);
}

#[test]
fn messages_after_a_close_in_the_same_frame_are_dropped() {
    let (mut d, id) = connected_with_pending_invoke();
    d.conn.on("Late", "h");
    d.server_sends(&[
        HubMessage::Close { error: None, allow_reconnect: false },
        HubMessage::Invocation { invocation_id: None, target: "Late".into(), arguments: RawJson::empty_array().into(), stream_ids: vec![] },
    ]);
    assert_pending_rejected_then_closed(&d, id, None, false);
}

#[test]
fn transport_loss_closes_with_the_transport_error() {
    let (mut d, id) = connected_with_pending_invoke();
    d.transport_closed(Some("WebSocket closed with status code: 1006 ()."));
    assert_pending_rejected_then_closed(&d, id, Some(HubError::Transport("WebSocket closed with status code: 1006 ().".into())), true);
}

#[test]
fn a_malformed_frame_closes_the_connection_with_a_protocol_error() {
    let (mut d, id) = connected_with_pending_invoke();
    d.receive("{\"type\":3,\"invocationId\":0}\u{1e}");
    assert_pending_rejected_then_closed(
        &d,
        id,
        Some(HubError::Protocol(ProtocolError::InvalidField { message: "Completion", field: "invocationId", expected: "a string" })),
        true,
    );
    assert_eq!(d.transport_closes, 1);
}

#[test]
fn a_truncated_frame_closes_the_connection() {
    let (mut d, id) = connected_with_pending_invoke();
    d.receive("{\"type\":6}\u{1e}{\"type\":3,\"invoc");
    assert_pending_rejected_then_closed(&d, id, Some(HubError::Protocol(ProtocolError::IncompleteRecord)), true);
}

#[test]
fn an_oversized_frame_closes_the_connection() {
    let mut config = hubwire::core::HubConfig::new(util::HUB_URL);
    config.max_frame_bytes = 64;
    let mut d = Driver::new(config);
    d.connect();
    d.take_events();
    d.receive(&format!("{{\"type\":6,\"pad\":\"{}\"}}\u{1e}", "x".repeat(100)));
    assert!(matches!(
        d.events.last(),
        Some(Event::Closed { error: Some(HubError::Protocol(ProtocolError::TooLarge { limit: 64, .. })), .. })
    ));
}

#[test]
fn a_closed_connection_can_start_again() {
    let (mut d, _) = connected_with_pending_invoke();
    d.transport_closed(None);
    d.take_events();
    d.start();
    assert_eq!(d.requests.len(), 2);
    assert_eq!(d.conn.state().name(), "Connecting");
}

#[test]
fn late_transport_events_after_close_are_ignored() {
    let (mut d, _) = connected_with_pending_invoke();
    d.transport_closed(None);
    d.take_events();
    d.receive("{\"type\":6}\u{1e}");
    d.transport_closed(Some("again"));
    assert!(d.events.is_empty());
}
