//! Invocations both ways: invoke/send from the app, client methods called by the server.

mod util;

use hubwire::core::hub::{Event, LogLevel};
use hubwire::core::HubError;
use hubwire::protocol::{Completion, HubMessage, RawJson};
use util::Driver;

fn raw(text: &str) -> RawJson {
    RawJson::parse(text).unwrap()
}

fn connected() -> Driver {
    let mut d = Driver::with_defaults();
    d.connect();
    d.take_events();
    d
}

fn completion(id: &str, completion: Completion) -> HubMessage {
    HubMessage::Completion { invocation_id: id.into(), completion }
}

#[test]
fn invoke_sends_an_invocation_with_increasing_ids() {
    let mut d = connected();
    let first = d.conn.invoke(d.now, "Echo", raw("[\"a\"]")).unwrap();
    let second = d.conn.invoke(d.now, "Echo", raw("[{\"b\":2}]")).unwrap();
    d.drain();
    assert_eq!((first, second), (0, 1));
    assert_eq!(
        d.sent_messages(),
        vec![
            HubMessage::Invocation { invocation_id: Some("0".into()), target: "Echo".into(), arguments: raw("[\"a\"]").into(), stream_ids: vec![] },
            HubMessage::Invocation { invocation_id: Some("1".into()), target: "Echo".into(), arguments: raw("[{\"b\":2}]").into(), stream_ids: vec![] },
        ]
    );
}

#[test]
fn completion_with_a_result_resolves_the_invocation() {
    let mut d = connected();
    let id = d.conn.invoke(d.now, "Echo", raw("[\"a\"]")).unwrap();
    d.server_sends(&[completion("0", Completion::Result(raw("\"a\"").into()))]);
    assert_eq!(d.events, vec![Event::InvocationResult { id, outcome: Ok(Some(raw("\"a\"").into())) }]);
}

#[test]
fn completion_without_a_result_resolves_with_nothing() {
    let mut d = connected();
    let id = d.conn.invoke(d.now, "JoinDispatchGroup", raw("[\"north\"]")).unwrap();
    d.server_sends(&[completion("0", Completion::Void)]);
    assert_eq!(d.events, vec![Event::InvocationResult { id, outcome: Ok(None) }]);
}

#[test]
fn completion_with_an_error_rejects_with_the_server_message() {
    let mut d = connected();
    d.conn.invoke(d.now, "Fail", raw("[]")).unwrap();
    d.server_sends(&[completion("0", Completion::Error("HubException: nope".into()))]);
    let Event::InvocationResult { outcome: Err(error), .. } = &d.events[0] else { panic!("{:?}", d.events) };
    assert_eq!(error.to_string(), "HubException: nope");
}

#[test]
fn completions_resolve_out_of_order() {
    let mut d = connected();
    let a = d.conn.invoke(d.now, "A", raw("[]")).unwrap();
    let b = d.conn.invoke(d.now, "B", raw("[]")).unwrap();
    d.server_sends(&[completion("1", Completion::Result(raw("2").into())), completion("0", Completion::Result(raw("1").into()))]);
    assert_eq!(
        d.events,
        vec![
            Event::InvocationResult { id: b, outcome: Ok(Some(raw("2").into())) },
            Event::InvocationResult { id: a, outcome: Ok(Some(raw("1").into())) },
        ]
    );
}

#[test]
fn a_completion_for_an_unknown_id_is_logged_and_ignored() {
    let mut d = connected();
    d.server_sends(&[completion("99", Completion::Void), completion("x", Completion::Void)]);
    assert!(d.events.iter().all(|e| matches!(e, Event::Log { level: LogLevel::Warning, .. })));
    assert_eq!(d.events.len(), 2);
    assert_eq!(d.conn.state().name(), "Connected");
}

#[test]
fn a_completion_resolves_only_once() {
    let mut d = connected();
    d.conn.invoke(d.now, "A", raw("[]")).unwrap();
    d.server_sends(&[completion("0", Completion::Void), completion("0", Completion::Void)]);
    assert!(matches!(d.events[0], Event::InvocationResult { .. }));
    assert!(matches!(d.events[1], Event::Log { .. }));
}

#[test]
fn invoke_and_send_need_a_connection() {
    let mut d = Driver::with_defaults();
    assert_eq!(d.conn.invoke(d.now, "Echo", raw("[]")), Err(HubError::NotConnected));
    d.start();
    assert_eq!(d.conn.send(d.now, "Echo", raw("[]")), Err(HubError::NotConnected));
}

#[test]
fn send_carries_no_invocation_id() {
    let mut d = connected();
    d.conn.send(d.now, "SendMessage", raw("[\"hi\"]")).unwrap();
    d.drain();
    assert_eq!(
        d.sent_messages(),
        vec![HubMessage::Invocation { invocation_id: None, target: "SendMessage".into(), arguments: raw("[\"hi\"]").into(), stream_ids: vec![] }]
    );
}

#[test]
fn server_invocations_reach_every_handler_by_case_insensitive_name() {
    let mut d = connected();
    d.conn.on("ReceiveMessage", "first");
    d.conn.on("receivemessage", "second");
    d.server_sends(&[HubMessage::Invocation {
        invocation_id: None,
        target: "RECEIVEMESSAGE".into(),
        arguments: raw("[{\"text\":\"hi\"}]").into(),
        stream_ids: vec![],
    }]);
    assert_eq!(
        d.events,
        vec![Event::Invocation {
            invocation_id: None,
            target: "RECEIVEMESSAGE".into(),
            arguments: raw("[{\"text\":\"hi\"}]").into(),
            handlers: vec!["first", "second"].into(),
        }]
    );
}

#[test]
fn off_removes_one_handler_or_all() {
    let mut d = connected();
    d.conn.on("Tick", "a");
    d.conn.on("Tick", "b");
    d.conn.off("tick", Some(&"a"));
    let tick = HubMessage::Invocation { invocation_id: None, target: "Tick".into(), arguments: raw("[]").into(), stream_ids: vec![] };
    d.server_sends(std::slice::from_ref(&tick));
    assert!(matches!(&d.events[0], Event::Invocation { handlers, .. } if **handlers == ["b"]));
    d.conn.off("Tick", None);
    d.take_events();
    d.server_sends(&[tick]);
    assert!(matches!(&d.events[0], Event::Log { level: LogLevel::Warning, .. }));
}

#[test]
fn an_invocation_without_a_handler_is_warned_about() {
    let mut d = connected();
    d.server_sends(&[HubMessage::Invocation { invocation_id: None, target: "Nobody".into(), arguments: raw("[]").into(), stream_ids: vec![] }]);
    assert_eq!(
        d.events,
        vec![Event::Log { level: LogLevel::Warning, message: "No client method with the name 'Nobody' found.".into() }]
    );
    assert_eq!(d.sent_messages(), vec![]);
}

#[test]
fn a_server_call_awaiting_a_result_without_a_handler_gets_an_error_completion() {
    let mut d = connected();
    d.server_sends(&[HubMessage::Invocation { invocation_id: Some("s1".into()), target: "GetLocation".into(), arguments: raw("[]").into(), stream_ids: vec![] }]);
    assert_eq!(
        d.sent_messages(),
        vec![HubMessage::Completion {
            invocation_id: "s1".into(),
            completion: Completion::Error("Client didn't provide a result.".into())
        }]
    );
}
