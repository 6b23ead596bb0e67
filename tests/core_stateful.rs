//! Stateful reconnect: a dropped WebSocket is replaced without the app noticing, and
//! unacknowledged messages are replayed both ways exactly once.

mod util;

use std::time::Duration;

use hubwire::core::hub::{Event, HubConfig};
use hubwire::protocol::{Completion, HubMessage, RawJson};
use util::{Driver, HUB_URL};

const STATEFUL: &str = r#"{"connectionId":"c1","connectionToken":"t1","negotiateVersion":1,"useStatefulReconnect":true,"availableTransports":[{"transport":"WebSockets","transferFormats":["Text"]}]}"#;

fn raw(text: &str) -> RawJson {
    RawJson::parse(text).unwrap()
}

fn stateful(limit: usize) -> Driver {
    let mut config = HubConfig::new(HUB_URL);
    config.stateful_reconnect = true;
    config.replay_buffer_bytes = limit;
    let mut d = Driver::new(config);
    d.start();
    d.answer_http(200, STATEFUL);
    d.open_transport();
    d.receive("{}\u{1e}");
    // Only a socket that outlived the stable-connection threshold is resumed.
    d.advance(Duration::from_secs(6));
    d.take_events();
    d
}

fn tick(n: u32) -> HubMessage {
    HubMessage::Invocation { invocation_id: None, target: "Tick".into(), arguments: raw(&format!("[{n}]")).into(), stream_ids: vec![] }
}

fn ticks_delivered(d: &Driver) -> Vec<String> {
    d.events
        .iter()
        .filter_map(|e| match e {
            Event::Invocation { arguments, .. } => Some(arguments.as_json().unwrap().as_str().to_string()),
            _ => None,
        })
        .collect()
}

#[test]
fn negotiate_asks_for_it_and_the_handshake_uses_version_2() {
    let d = stateful(100_000);
    assert!(d.requests[0].url.ends_with("negotiateVersion=1&useStatefulReconnect=true"));
    assert_eq!(d.sent[0], "{\"protocol\":\"json\",\"version\":2}\u{1e}");
}

#[test]
fn a_server_that_does_not_agree_gets_version_1() {
    let mut config = HubConfig::new(HUB_URL);
    config.stateful_reconnect = true;
    let mut d = Driver::new(config);
    d.start();
    d.answer_http(200, &STATEFUL.replace("true", "false"));
    d.open_transport();
    assert_eq!(d.sent[0], "{\"protocol\":\"json\",\"version\":1}\u{1e}");
}

#[test]
fn a_dropped_socket_is_replaced_quietly_keeping_the_connection_id() {
    let mut d = stateful(100_000);
    d.transport_closed(Some("WebSocket closed with status code: 1006 ()."));
    assert_eq!(d.opened.len(), 2);
    assert_eq!(d.opened[1], d.opened[0], "the same connection token");
    // Nothing for the app: a log line and the manager's `Resuming`.
    assert!(d.events.iter().all(|e| matches!(e, Event::Log { .. } | Event::Resuming { .. })), "{:?}", d.events);
    assert_eq!(d.conn.state().name(), "Connected");
    assert_eq!(d.conn.connection_id(), Some("c1"));
}

#[test]
fn unacknowledged_messages_are_replayed_after_a_sequence() {
    let mut d = stateful(100_000);
    d.conn.send(d.now, "A", raw("[1]")).unwrap();
    d.conn.send(d.now, "B", raw("[2]")).unwrap();
    d.drain();
    d.server_sends(&[HubMessage::Ack { sequence_id: 1 }]);
    d.transport_closed(None);
    d.conn.send(d.now, "C", raw("[3]")).unwrap();
    d.drain();
    let before = d.sent.len();
    d.open_transport();
    let resent: Vec<HubMessage> = d.sent[before..]
        .iter()
        .flat_map(|f| hubwire::protocol::message::parse_frame(f, 1 << 20).unwrap())
        .collect();
    assert_eq!(
        resent,
        vec![
            HubMessage::Sequence { sequence_id: 2 },
            HubMessage::Invocation { invocation_id: None, target: "B".into(), arguments: raw("[2]").into(), stream_ids: vec![] },
            HubMessage::Invocation { invocation_id: None, target: "C".into(), arguments: raw("[3]").into(), stream_ids: vec![] },
        ]
    );
}

#[test]
fn messages_the_server_replays_are_delivered_once() {
    let mut d = stateful(100_000);
    d.conn.on("Tick", "h");
    d.server_sends(&[tick(1), tick(2), tick(3)]);
    d.transport_closed(None);
    d.open_transport();
    // Before its Sequence, nothing counts; then it resumes at 2: 2 and 3 are duplicates.
    d.server_sends(&[tick(99)]);
    d.server_sends(&[HubMessage::Sequence { sequence_id: 2 }, tick(2), tick(3), tick(4)]);
    assert_eq!(ticks_delivered(&d), vec!["[1]", "[2]", "[3]", "[4]"]);
}

#[test]
fn a_sequence_beyond_what_was_received_closes_the_connection() {
    let mut d = stateful(100_000);
    d.conn.on("Tick", "h");
    d.server_sends(&[tick(1)]);
    d.transport_closed(None);
    d.open_transport();
    d.server_sends(&[HubMessage::Sequence { sequence_id: 5 }]);
    assert!(matches!(d.events.last(), Some(Event::Closed { error: Some(_), reconnect_allowed: true })));
}

#[test]
fn received_messages_are_acknowledged_a_second_later() {
    let mut d = stateful(100_000);
    d.conn.on("Tick", "h");
    d.server_sends(&[tick(1), tick(2)]);
    d.advance(Duration::from_millis(999));
    assert!(!d.sent_messages().iter().any(|m| matches!(m, HubMessage::Ack { .. })));
    d.advance(Duration::from_millis(1));
    assert!(d.sent_messages().contains(&HubMessage::Ack { sequence_id: 2 }));
}

#[test]
fn a_full_buffer_holds_further_messages_until_acknowledged() {
    let mut d = stateful(120);
    for n in 0..4 {
        d.conn.send(d.now, "Work", RawJson::from_value(&[n])).unwrap();
    }
    d.drain();
    let sent_work = |d: &Driver| d.sent_messages().iter().filter(|m| matches!(m, HubMessage::Invocation { .. })).count();
    let held_back = sent_work(&d);
    assert!(held_back < 4, "some messages wait for room");
    d.server_sends(&[HubMessage::Ack { sequence_id: held_back as u64 }]);
    assert_eq!(sent_work(&d), 4, "acks make room and the rest go out in order");
}

#[test]
fn a_failed_resume_closes_as_a_normal_connection_loss() {
    let mut d = stateful(100_000);
    d.transport_closed(None);
    d.transport_closed(Some("refused"));
    assert!(matches!(d.events.last(), Some(Event::Closed { reconnect_allowed: true, .. })));
}

#[test]
fn invocations_across_a_resume_complete() {
    let mut d = stateful(100_000);
    let id = d.conn.invoke(d.now, "Echo", raw("[1]")).unwrap();
    d.transport_closed(None);
    d.open_transport();
    d.server_sends(&[
        HubMessage::Sequence { sequence_id: 1 },
        HubMessage::Completion { invocation_id: id.to_string(), completion: Completion::Result(raw("1").into()) },
    ]);
    assert!(d.events.contains(&Event::InvocationResult { id, outcome: Ok(Some(raw("1").into())) }));
}

#[test]
fn a_resume_is_done_only_when_the_server_speaks_on_the_new_socket() {
    let mut d = stateful(100_000);
    d.transport_closed(None);
    d.open_transport();
    assert!(!d.events.contains(&Event::Resumed), "an open socket alone proves nothing");
    d.server_sends(&[HubMessage::Sequence { sequence_id: 1 }]);
    assert!(d.events.contains(&Event::Resumed));
}

#[test]
fn a_new_socket_the_server_never_speaks_on_closes_after_the_handshake_timeout() {
    let mut d = stateful(100_000);
    d.transport_closed(None);
    d.open_transport();
    d.advance(Duration::from_millis(14_999));
    assert_eq!(d.conn.state().name(), "Connected");
    d.advance(Duration::from_millis(1));
    match d.events.last() {
        Some(Event::Closed { error: Some(error), reconnect_allowed: true }) => {
            assert!(error.to_string().starts_with("Stateful reconnect failed"), "{error}")
        }
        other => panic!("expected a Closed that allows reconnecting, got {other:?}"),
    }
    assert_eq!(d.opened.len(), 2, "one resume per loss");
}

#[test]
fn a_socket_lost_right_after_the_handshake_or_a_resume_is_not_resumed() {
    let mut config = HubConfig::new(HUB_URL);
    config.stateful_reconnect = true;
    let mut d = Driver::new(config);
    d.start();
    d.answer_http(200, STATEFUL);
    d.open_transport();
    d.receive("{}\u{1e}");
    d.advance(Duration::from_secs(4));
    d.transport_closed(None);
    assert_eq!(d.opened.len(), 1, "younger than the 5 s threshold: a normal loss");
    assert!(matches!(d.events.last(), Some(Event::Closed { reconnect_allowed: true, .. })));

    let mut d = stateful(100_000);
    d.transport_closed(None);
    d.open_transport();
    d.server_sends(&[HubMessage::Sequence { sequence_id: 1 }]);
    d.transport_closed(None);
    assert_eq!(d.opened.len(), 2, "the resumed socket died at once: not resumed again");
    assert!(matches!(d.events.last(), Some(Event::Closed { reconnect_allowed: true, .. })));
}

#[test]
fn a_late_close_of_the_lost_socket_does_not_fail_the_resume() {
    let mut d = stateful(100_000);
    let lost = d.conn.transport_id();
    d.transport_closed(None);
    d.conn.handle_transport_closed(d.now, lost, Some("the old socket's own close event".into()));
    d.drain();
    d.open_transport();
    d.server_sends(&[HubMessage::Sequence { sequence_id: 1 }]);
    assert!(d.events.contains(&Event::Resumed));
    assert_eq!(d.conn.state().name(), "Connected");
}

#[test]
fn an_ack_owed_when_the_socket_dropped_is_sent_after_the_resume_even_if_only_duplicates_follow() {
    // A server whose replay buffer is full sends nothing new until it hears our Ack; if the
    // Ack timer died with the old socket and the resumed socket brings only duplicates, the
    // connection would stall for good.
    let mut d = stateful(100_000);
    d.conn.on("Tick", "h");
    d.server_sends(&[tick(1), tick(2)]);
    d.transport_closed(None);
    d.open_transport();
    d.server_sends(&[HubMessage::Sequence { sequence_id: 1 }, tick(1), tick(2)]);
    d.advance(Duration::from_secs(2));
    let acks: Vec<HubMessage> = d.sent_messages().into_iter().filter(|m| matches!(m, HubMessage::Ack { .. })).collect();
    assert_eq!(acks, vec![HubMessage::Ack { sequence_id: 2 }], "the owed Ack goes out on the new socket");
}
