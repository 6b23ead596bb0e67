//! Streams both ways: `Count` (server to client) and `UploadSum` (client to server).

mod support;

use hubwire::protocol::{Completion, HubMessage, RawJson};
use serde_json::json;
use support::{error_of, HubClient, TestHub};

fn raw(json: &str) -> RawJson {
    RawJson::parse(json).unwrap()
}

async fn start_count(client: &mut HubClient, id: &str, arguments: &str) {
    client
        .send_message(&HubMessage::StreamInvocation {
            invocation_id: id.into(),
            target: "Count".into(),
            arguments: raw(arguments).into(),
            stream_ids: Vec::new(),
        })
        .await;
}

async fn start_upload(client: &mut HubClient, id: &str, stream: &str) {
    client
        .send_message(&HubMessage::Invocation {
            invocation_id: Some(id.into()),
            target: "UploadSum".into(),
            arguments: RawJson::empty_array().into(),
            stream_ids: vec![stream.into()],
        })
        .await;
}

async fn send_item(client: &mut HubClient, stream: &str, item: &str) {
    client
        .send_message(&HubMessage::StreamItem {
            invocation_id: stream.into(),
            item: raw(item).into(),
        })
        .await;
}

async fn end_stream(client: &mut HubClient, stream: &str, completion: Completion) {
    client
        .send_message(&HubMessage::Completion {
            invocation_id: stream.into(),
            completion,
        })
        .await;
}

/// The Completion of `id`, once it comes.
async fn completion_of(client: &mut HubClient, id: &str) -> Completion {
    loop {
        if let HubMessage::Completion {
            invocation_id,
            completion,
        } = client.next_message().await
        {
            if invocation_id == id {
                return completion;
            }
        }
    }
}

#[tokio::test]
async fn count_streams_its_items_then_completes() {
    let hub = TestHub::start().await;
    let mut client = hub.connect().await;
    start_count(&mut client, "s1", "[3]").await;
    let mut seen = Vec::new();
    for _ in 0..4 {
        seen.push(client.next_message().await);
    }
    let item = |n: &str| HubMessage::StreamItem {
        invocation_id: "s1".into(),
        item: raw(n).into(),
    };
    assert_eq!(
        seen,
        vec![
            item("0"),
            item("1"),
            item("2"),
            HubMessage::Completion {
                invocation_id: "s1".into(),
                completion: Completion::Void
            }
        ]
    );
}

#[tokio::test]
async fn cancel_invocation_stops_the_stream_with_a_completion() {
    let hub = TestHub::start().await;
    let mut client = hub.connect().await;
    start_count(&mut client, "s1", "[100000, 20]").await;
    assert!(matches!(
        client.next_message().await,
        HubMessage::StreamItem { .. }
    ));
    client
        .send_message(&HubMessage::CancelInvocation {
            invocation_id: "s1".into(),
        })
        .await;
    assert_eq!(completion_of(&mut client, "s1").await, Completion::Void);
    // Nothing more for the stream: the next thing to arrive is the answer to a later call.
    client
        .send_invocation(Some("probe"), "Echo", json!(["after"]))
        .await;
    assert_eq!(
        client.next_message().await,
        HubMessage::Completion {
            invocation_id: "probe".into(),
            completion: Completion::Result(raw("\"after\"").into())
        }
    );
}

#[tokio::test]
async fn count_called_without_streaming_is_an_error() {
    let hub = TestHub::start().await;
    let mut client = hub.connect().await;
    let error = error_of(client.invoke("Count", json!([3])).await);
    assert!(error.contains("streaming method 'Count'"), "{error}");
}

#[tokio::test]
async fn count_with_a_bad_argument_completes_with_an_error() {
    let hub = TestHub::start().await;
    let mut client = hub.connect().await;
    start_count(&mut client, "s1", "[\"three\"]").await;
    let error = error_of(completion_of(&mut client, "s1").await);
    assert!(error.contains("Error binding arguments"), "{error}");
}

#[tokio::test]
async fn upload_sum_adds_the_items_of_the_client_stream() {
    let hub = TestHub::start().await;
    let mut client = hub.connect().await;
    start_upload(&mut client, "u1", "7").await;
    for item in ["1", "2", "39"] {
        send_item(&mut client, "7", item).await;
    }
    end_stream(&mut client, "7", Completion::Void).await;
    assert_eq!(
        completion_of(&mut client, "u1").await,
        Completion::Result(raw("42").into())
    );
}

#[tokio::test]
async fn an_upload_item_that_is_not_a_number_fails_the_call() {
    let hub = TestHub::start().await;
    let mut client = hub.connect().await;
    start_upload(&mut client, "u1", "7").await;
    send_item(&mut client, "7", "\"one\"").await;
    let error = error_of(completion_of(&mut client, "u1").await);
    assert!(error.contains("Stream items must be numbers"), "{error}");
}

#[tokio::test]
async fn an_upload_ended_with_an_error_fails_the_call() {
    let hub = TestHub::start().await;
    let mut client = hub.connect().await;
    start_upload(&mut client, "u1", "7").await;
    end_stream(&mut client, "7", Completion::Error("sensor offline".into())).await;
    let error = error_of(completion_of(&mut client, "u1").await);
    assert!(
        error.ends_with("The client stream failed: sensor offline"),
        "{error}"
    );
}

#[tokio::test]
async fn upload_sum_without_a_stream_is_a_binding_error() {
    let hub = TestHub::start().await;
    let mut client = hub.connect().await;
    let error = error_of(client.invoke("UploadSum", json!([])).await);
    assert!(
        error.contains("Client sent 0 stream(s), Hub method expects 1."),
        "{error}"
    );
}
