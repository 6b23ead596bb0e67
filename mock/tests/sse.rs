//! The Server-Sent Events transport: an event stream down, POSTs up.

mod support;

use hubwire::protocol::handshake::HandshakeRequest;
use hubwire::protocol::{Completion, HubMessage, RawJson};
use serde_json::json;
use support::{post_to_hub, EventStream, Sse, TestHub};

fn echo(id: &str, value: &str) -> String {
    HubMessage::Invocation {
        invocation_id: Some(id.into()),
        target: "Echo".into(),
        arguments: RawJson::parse(format!("[{value}]")).unwrap().into(),
        stream_ids: Vec::new(),
    }
    .encode()
}

/// Opens the stream and completes the handshake over POST.
async fn open(hub: &TestHub) -> (EventStream, String, String) {
    let (id, token) = hub.negotiate_token().await;
    let mut events = EventStream::open(hub, &token).await.expect("stream opens");
    let handshake = HandshakeRequest::json(1).encode();
    assert_eq!(post_to_hub(hub, &token, &handshake).await, 200);
    assert_eq!(events.next().await, Sse::Data("{}\u{1e}".into()));
    (events, id, token)
}

#[tokio::test]
async fn posted_invocations_are_answered_on_the_event_stream() {
    let hub = TestHub::start().await;
    let (mut events, _, token) = open(&hub).await;
    assert_eq!(post_to_hub(&hub, &token, &echo("1", "\"hi\"")).await, 200);
    assert_eq!(
        events.next_messages().await,
        vec![HubMessage::Completion {
            invocation_id: "1".into(),
            completion: Completion::Result(RawJson::parse("\"hi\"").unwrap().into()),
        }]
    );
}

#[tokio::test]
async fn the_connection_is_listed_with_its_transport() {
    let hub = TestHub::start().await;
    let (_events, id, _) = open(&hub).await;
    let connections = hub.connections().await;
    assert_eq!(connections[0]["connectionId"], id.as_str());
    assert_eq!(connections[0]["transport"], "ServerSentEvents");
}

#[tokio::test]
async fn a_record_with_line_breaks_arrives_whole() {
    let hub = TestHub::start().await;
    let (mut events, _, token) = open(&hub).await;
    post_to_hub(&hub, &token, &echo("1", "[1,\n2]")).await;
    let messages = events.next_messages().await;
    assert_eq!(
        messages,
        vec![HubMessage::Completion {
            invocation_id: "1".into(),
            completion: Completion::Result(RawJson::parse("[1,\n2]").unwrap().into()),
        }]
    );
}

#[tokio::test]
async fn an_unknown_connection_token_gets_404() {
    let hub = TestHub::start().await;
    assert_eq!(
        EventStream::open(&hub, "no-such-token").await.err(),
        Some(404)
    );
}

#[tokio::test]
async fn a_post_for_an_unknown_connection_gets_404() {
    let hub = TestHub::start().await;
    assert_eq!(post_to_hub(&hub, "no-such-token", "{}\u{1e}").await, 404);
}

#[tokio::test]
async fn a_post_without_an_id_gets_400() {
    let hub = TestHub::start().await;
    let (status, _) = hub.post("/hub", Some(json!({}))).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn a_control_close_is_delivered_and_ends_the_stream() {
    let hub = TestHub::start().await;
    let (mut events, _, _) = open(&hub).await;
    hub.post("/control/close", Some(json!({ "error": "bye" })))
        .await;
    assert_eq!(
        events.next_messages().await,
        vec![HubMessage::Close {
            error: Some("bye".into()),
            allow_reconnect: false
        }]
    );
    assert_eq!(events.next().await, Sse::Ended);
}

#[tokio::test]
async fn a_drop_cuts_the_stream() {
    let hub = TestHub::start().await;
    let (mut events, _, token) = open(&hub).await;
    hub.post("/control/drop", None).await;
    assert_eq!(events.next().await, Sse::Failed);
    assert_eq!(post_to_hub(&hub, &token, &echo("1", "1")).await, 404);
}

#[tokio::test]
async fn a_client_that_goes_away_is_forgotten() {
    let hub = TestHub::start().await;
    let (events, id, _) = open(&hub).await;
    drop(events);
    let entry = hub.wait_for_log("disconnect", &id).await;
    assert_eq!(entry["reason"], "connection lost");
}
