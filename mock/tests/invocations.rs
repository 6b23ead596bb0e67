//! The handshake and hub method calls over a real WebSocket.

mod support;

use hubwire::protocol::{Completion, HubMessage};
use serde_json::json;
use support::{error_of, result_of, HubClient, TestHub};

#[tokio::test]
async fn the_json_v1_handshake_is_answered_with_an_empty_object() {
    let hub = TestHub::start().await;
    let (_, body) = hub.negotiate(Some(1), None).await;
    let mut client = HubClient::open(&hub.socket_url(body["connectionToken"].as_str().unwrap()))
        .await
        .unwrap();
    client
        .send_text("{\"protocol\":\"json\",\"version\":1}\u{1e}")
        .await;
    assert_eq!(client.next_text().await.as_deref(), Some("{}\u{1e}"));
}

#[tokio::test]
async fn another_protocol_gets_an_error_handshake_response_and_a_close() {
    let hub = TestHub::start().await;
    let (_, body) = hub.negotiate(Some(1), None).await;
    let mut client = HubClient::open(&hub.socket_url(body["connectionToken"].as_str().unwrap()))
        .await
        .unwrap();
    client
        .send_text("{\"protocol\":\"bson\",\"version\":1}\u{1e}")
        .await;
    assert_eq!(
        client.next_text().await.as_deref(),
        Some("{\"error\":\"The protocol 'bson' is not supported.\"}\u{1e}")
    );
    assert_eq!(client.next_text().await, None, "the socket closes");
}

#[tokio::test]
async fn echo_returns_a_string_argument() {
    let hub = TestHub::start().await;
    let mut client = hub.connect().await;
    assert_eq!(
        result_of(client.invoke("Echo", json!(["hello"])).await),
        json!("hello")
    );
}

#[tokio::test]
async fn echo_returns_an_object_argument() {
    let hub = TestHub::start().await;
    let mut client = hub.connect().await;
    let value = json!({ "jobId": "j1", "nested": { "list": [1, 2.5, null, true] } });
    assert_eq!(
        result_of(client.invoke("Echo", json!([value.clone()])).await),
        value
    );
}

#[tokio::test]
async fn method_names_match_case_insensitively() {
    let hub = TestHub::start().await;
    let mut client = hub.connect().await;
    assert_eq!(result_of(client.invoke("eCHO", json!([3])).await), json!(3));
}

#[tokio::test]
async fn an_unknown_method_gets_an_error_completion() {
    let hub = TestHub::start().await;
    let mut client = hub.connect().await;
    assert_eq!(
        error_of(client.invoke("Teleport", json!([])).await),
        "Unknown hub method 'Teleport'"
    );
}

#[tokio::test]
async fn a_wrong_argument_count_gets_an_error_completion() {
    let hub = TestHub::start().await;
    let mut client = hub.connect().await;
    assert_eq!(
        error_of(client.invoke("Echo", json!([1, 2])).await),
        "Failed to invoke 'Echo' due to an error on the server. InvalidDataException: \
         Invocation provides 2 argument(s) but target expects 1."
    );
}

#[tokio::test]
async fn a_wrong_argument_type_gets_an_error_completion() {
    let hub = TestHub::start().await;
    let mut client = hub.connect().await;
    let error = error_of(client.invoke("JoinDispatchGroup", json!([42])).await);
    assert!(error.starts_with("Failed to invoke 'JoinDispatchGroup' due to an error on the server. InvalidDataException: Error binding arguments."), "{error}");
}

#[tokio::test]
async fn fail_completes_with_the_hub_exception_text() {
    let hub = TestHub::start().await;
    let mut client = hub.connect().await;
    assert_eq!(
        error_of(client.invoke("Fail", json!(["no contractor available"])).await),
        "An unexpected error occurred invoking 'Fail' on the server. HubException: no contractor available"
    );
}

#[tokio::test]
async fn methods_without_a_return_value_complete_with_a_null_result() {
    let hub = TestHub::start().await;
    let mut client = hub.connect().await;
    client
        .send_invocation(Some("j"), "JoinWorkflow", json!(["w1"]))
        .await;
    assert_eq!(
        client.next_text().await.as_deref(),
        Some("{\"type\":3,\"invocationId\":\"j\",\"result\":null}\u{1e}")
    );
}

#[tokio::test]
async fn echo_answers_with_the_exact_json_text_sent() {
    let hub = TestHub::start().await;
    let mut client = hub.connect().await;
    client
        .send_text("{\"type\":1,\"invocationId\":\"e\",\"target\":\"Echo\",\"arguments\":[{\"z\":1,\"a\":2.50}]}\u{1e}")
        .await;
    assert_eq!(
        client.next_text().await.as_deref(),
        Some("{\"type\":3,\"invocationId\":\"e\",\"result\":{\"z\":1,\"a\":2.50}}\u{1e}")
    );
}

#[tokio::test]
async fn a_send_without_invocation_id_gets_no_completion() {
    let hub = TestHub::start().await;
    let mut client = hub.connect().await;
    client
        .send_invocation(None, "Echo", json!(["ignored"]))
        .await;
    client
        .send_invocation(Some("second"), "Echo", json!(["answered"]))
        .await;
    // The first message back must be the answer to the second call.
    assert_eq!(
        client.next_message().await,
        HubMessage::Completion {
            invocation_id: "second".into(),
            completion: Completion::Result(hubwire::protocol::RawJson::from_value(&"answered").into()),
        }
    );
}

#[tokio::test]
async fn a_stream_invocation_gets_an_error_completion() {
    let hub = TestHub::start().await;
    let mut client = hub.connect().await;
    client
        .send_text(
            "{\"type\":4,\"invocationId\":\"s1\",\"target\":\"Echo\",\"arguments\":[1]}\u{1e}",
        )
        .await;
    match client.next_message().await {
        HubMessage::Completion {
            invocation_id,
            completion: Completion::Error(error),
        } => {
            assert_eq!(invocation_id, "s1");
            assert!(error.contains("non-streaming method 'Echo'"), "{error}");
        }
        other => panic!("expected an error Completion, got {other:?}"),
    }
}

#[tokio::test]
async fn several_records_in_one_frame_are_all_answered_in_order() {
    let hub = TestHub::start().await;
    let mut client = hub.connect().await;
    client
        .send_text(concat!(
            "{\"type\":1,\"invocationId\":\"a\",\"target\":\"Echo\",\"arguments\":[1]}\u{1e}",
            "{\"type\":6}\u{1e}",
            "{\"type\":1,\"invocationId\":\"b\",\"target\":\"Echo\",\"arguments\":[2]}\u{1e}",
        ))
        .await;
    for expected in ["a", "b"] {
        match client.next_message().await {
            HubMessage::Completion { invocation_id, .. } => assert_eq!(invocation_id, expected),
            other => panic!("expected a Completion, got {other:?}"),
        }
    }
}
