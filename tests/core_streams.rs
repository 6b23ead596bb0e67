//! Streams both ways and client results.

mod util;

use hubwire::core::hub::Event;
use hubwire::core::HubError;
use hubwire::protocol::{Completion, HubMessage, Payload, RawJson};
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

#[test]
fn a_server_stream_delivers_items_then_completes() {
    let mut d = connected();
    let (id, uploads) = d.conn.stream(d.now, "Count", raw("[3]"), 0).unwrap();
    d.drain();
    assert!(uploads.is_empty());
    assert_eq!(
        d.sent_messages(),
        vec![HubMessage::StreamInvocation { invocation_id: id.to_string(), target: "Count".into(), arguments: raw("[3]").into(), stream_ids: vec![] }]
    );
    for n in 1..=3 {
        d.server_sends(&[HubMessage::StreamItem { invocation_id: id.to_string(), item: raw(&n.to_string()).into() }]);
    }
    d.server_sends(&[HubMessage::Completion { invocation_id: id.to_string(), completion: Completion::Void }]);
    assert_eq!(
        d.events,
        vec![
            Event::StreamItem { id, item: raw("1").into() },
            Event::StreamItem { id, item: raw("2").into() },
            Event::StreamItem { id, item: raw("3").into() },
            Event::InvocationResult { id, outcome: Ok(None) },
        ]
    );
}

#[test]
fn a_server_stream_error_fails_it() {
    let mut d = connected();
    let (id, _) = d.conn.stream(d.now, "Count", raw("[-1]"), 0).unwrap();
    d.server_sends(&[HubMessage::Completion { invocation_id: id.to_string(), completion: Completion::Error("negative".into()) }]);
    assert_eq!(d.events, vec![Event::InvocationResult { id, outcome: Err(HubError::Server("negative".into())) }]);
}

#[test]
fn cancelling_a_stream_sends_cancel_invocation_and_ignores_later_items() {
    let mut d = connected();
    let (id, _) = d.conn.stream(d.now, "Count", raw("[100]"), 0).unwrap();
    d.conn.cancel_stream(d.now, id);
    d.drain();
    assert_eq!(d.sent_messages()[1], HubMessage::CancelInvocation { invocation_id: id.to_string() });
    d.server_sends(&[HubMessage::StreamItem { invocation_id: id.to_string(), item: raw("1").into() }]);
    assert!(matches!(&d.events[..], [Event::Log { .. }]));
}

#[test]
fn upload_streams_get_ids_items_and_a_completion() {
    let mut d = connected();
    let (id, streams) = d.conn.invoke_with_uploads(d.now, "UploadSum", raw("[]"), 1).unwrap();
    // As in the official client, the stream takes its id from the shared counter first.
    assert_eq!(streams, vec![(id - 1).to_string()]);
    d.conn.send_stream_item(d.now, &streams[0], raw("5")).unwrap();
    d.conn.send_stream_item(d.now, &streams[0], raw("7")).unwrap();
    d.conn.complete_upload(d.now, &streams[0], None).unwrap();
    d.drain();
    assert_eq!(
        d.sent_messages(),
        vec![
            HubMessage::Invocation { invocation_id: Some(id.to_string()), target: "UploadSum".into(), arguments: raw("[]").into(), stream_ids: streams.clone() },
            HubMessage::StreamItem { invocation_id: streams[0].clone(), item: raw("5").into() },
            HubMessage::StreamItem { invocation_id: streams[0].clone(), item: raw("7").into() },
            HubMessage::Completion { invocation_id: streams[0].clone(), completion: Completion::Void },
        ]
    );
    assert_eq!(d.conn.send_stream_item(d.now, &streams[0], raw("1")), Err(HubError::UnknownStream(streams[0].clone())));
}

#[test]
fn ids_are_numbered_as_the_official_client_numbers_them() {
    // Official order: each upload's stream id, then the invocation id, from one counter that
    // lives as long as the connection object.
    let mut d = connected();
    let (first, first_streams) = d.conn.invoke_with_uploads(d.now, "UploadSum", raw("[]"), 2).unwrap();
    assert_eq!((first, first_streams), (2, vec!["0".to_string(), "1".to_string()]));
    let (stream, stream_uploads) = d.conn.stream(d.now, "Count", raw("[]"), 1).unwrap();
    assert_eq!((stream, stream_uploads), (4, vec!["3".to_string()]));
    assert_eq!(d.conn.invoke(d.now, "Echo", raw("[1]")).unwrap(), 5);
    assert_eq!(d.conn.send_with_uploads(d.now, "UploadSum", raw("[]"), 1).unwrap(), vec!["6".to_string()]);
}

#[test]
fn an_upload_that_fails_completes_with_its_error() {
    let mut d = connected();
    let streams = d.conn.send_with_uploads(d.now, "UploadSum", raw("[]"), 1).unwrap();
    d.conn.complete_upload(d.now, &streams[0], Some("source broke".into())).unwrap();
    d.drain();
    assert_eq!(
        d.sent_messages().last(),
        Some(&HubMessage::Completion { invocation_id: streams[0].clone(), completion: Completion::Error("source broke".into()) })
    );
}

#[test]
fn a_server_call_with_an_id_reaches_the_handler_with_its_id() {
    let mut d = connected();
    d.conn.on("GetLocation", "h");
    d.server_sends(&[HubMessage::Invocation { invocation_id: Some("9".into()), target: "GetLocation".into(), arguments: raw("[]").into(), stream_ids: vec![] }]);
    assert!(matches!(&d.events[0], Event::Invocation { invocation_id: Some(id), .. } if id == "9"));
}

#[test]
fn client_results_are_sent_as_completions() {
    let cases: Vec<(Result<Option<Payload>, String>, Completion)> = vec![
        (Ok(Some(raw("{\"lat\":1}").into())), Completion::Result(raw("{\"lat\":1}").into())),
        (Ok(None), Completion::Error("Client didn't provide a result.".into())),
        (Err("Error: gps off".into()), Completion::Error("Error: gps off".into())),
    ];
    for (result, completion) in cases {
        let mut d = connected();
        d.conn.complete_client_invocation(d.now, "9", result);
        d.drain();
        assert_eq!(d.sent_messages(), vec![HubMessage::Completion { invocation_id: "9".into(), completion }]);
    }
}

#[test]
fn pending_streams_fail_when_the_connection_closes() {
    let mut d = connected();
    let (id, _) = d.conn.stream(d.now, "Count", raw("[10]"), 0).unwrap();
    d.transport_closed(Some("gone"));
    // With the transport's error, as the official client fails them.
    assert!(d.events.contains(&Event::InvocationResult { id, outcome: Err(HubError::Transport("gone".into())) }));
}

#[test]
fn cancel_stream_given_an_invoke_id_leaves_the_invoke_to_settle() {
    let mut d = connected();
    let id = d.conn.invoke(d.now, "Slow", raw("[]")).unwrap();
    d.conn.cancel_stream(d.now, id);
    d.drain();
    assert!(
        !d.sent_messages().iter().any(|m| matches!(m, HubMessage::CancelInvocation { .. })),
        "an invoke is not a stream: nothing to cancel"
    );
    d.server_sends(&[HubMessage::Completion { invocation_id: id.to_string(), completion: Completion::Result(raw("7").into()) }]);
    assert_eq!(d.events, vec![Event::InvocationResult { id, outcome: Ok(Some(raw("7").into())) }]);
}

#[test]
fn an_invoke_given_to_cancel_stream_still_settles_when_the_connection_closes() {
    let mut d = connected();
    let id = d.conn.invoke(d.now, "Slow", raw("[]")).unwrap();
    d.conn.cancel_stream(d.now, id);
    d.transport_closed(Some("gone"));
    assert!(d.events.contains(&Event::InvocationResult { id, outcome: Err(HubError::Transport("gone".into())) }));
}

#[test]
fn pending_calls_fail_with_the_generic_cancellation_when_the_close_carries_no_error() {
    let mut d = connected();
    let (stream, _) = d.conn.stream(d.now, "Count", raw("[10]"), 0).unwrap();
    let invoke = d.conn.invoke(d.now, "Slow", raw("[]")).unwrap();
    d.transport_closed(None);
    for id in [stream, invoke] {
        assert!(d.events.contains(&Event::InvocationResult { id, outcome: Err(HubError::ConnectionClosed) }));
    }
    assert_eq!(
        HubError::ConnectionClosed.to_string(),
        "Invocation canceled due to the underlying connection being closed."
    );
}
