//! The control API: dropping and closing connections, the event log, bad requests.

mod support;

use hubwire::protocol::HubMessage;
use serde_json::json;
use support::TestHub;

#[tokio::test]
async fn drop_cuts_every_socket_without_a_close_message_or_frame() {
    let hub = TestHub::start().await;
    let mut first = hub.connect().await;
    let mut second = hub.connect().await;
    let (status, body) = hub.post("/control/drop", None).await;
    assert_eq!((status, body), (200, json!({ "dropped": 2 })));
    for client in [&mut first, &mut second] {
        assert_eq!(
            client.read_to_end().await,
            (None, false),
            "no Close message, no close frame"
        );
    }
    assert!(hub.connections().await.is_empty());
}

#[tokio::test]
async fn close_with_an_error_sends_close_then_a_close_frame() {
    let hub = TestHub::start().await;
    let mut client = hub.connect().await;
    let (_, body) = hub
        .post(
            "/control/close",
            Some(json!({ "error": "maintenance window" })),
        )
        .await;
    assert_eq!(body, json!({ "closed": 1 }));
    let close = HubMessage::Close {
        error: Some("maintenance window".into()),
        allow_reconnect: false,
    };
    assert_eq!(client.read_to_end().await, (Some(close), true));
}

#[tokio::test]
async fn close_with_allow_reconnect_says_so() {
    let hub = TestHub::start().await;
    let mut client = hub.connect().await;
    hub.post("/control/close", Some(json!({ "allowReconnect": true })))
        .await;
    let close = HubMessage::Close {
        error: None,
        allow_reconnect: true,
    };
    assert_eq!(client.read_to_end().await, (Some(close), true));
}

#[tokio::test]
async fn close_without_a_body_is_a_clean_close() {
    let hub = TestHub::start().await;
    let mut client = hub.connect().await;
    let (status, _) = hub.post("/control/close", None).await;
    assert_eq!(status, 200);
    let close = HubMessage::Close {
        error: None,
        allow_reconnect: false,
    };
    assert_eq!(client.read_to_end().await, (Some(close), true));
}

#[tokio::test]
async fn the_log_records_connects_and_invocations_in_order() {
    let hub = TestHub::start().await;
    let mut client = hub.connect().await;
    client.invoke("Echo", json!([{ "a": 1 }])).await;
    client
        .send_invocation(None, "JoinWorkflow", json!(["w1"]))
        .await;
    client.invoke("Echo", json!(["sync"])).await; // the hub has handled the send by now
    let log = hub.log().await;
    let kinds: Vec<&str> = log
        .iter()
        .map(|entry| entry["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "negotiate",
            "transportOpened",
            "handshake",
            "connect",
            "invocation",
            "invocation",
            "invocation"
        ]
    );
    let id = client.connection_id.as_str();
    assert_eq!(
        log[1],
        json!({ "kind": "transportOpened", "at": log[1]["at"], "connectionId": id,
                "transport": "WebSockets", "resume": false })
    );
    assert_eq!(
        log[2],
        json!({ "kind": "handshake", "at": log[2]["at"], "connectionId": id,
                "transport": "WebSockets", "answer": "accepted" })
    );
    assert_eq!(log[3]["connectionId"], id);
    assert_eq!(log[3]["transport"], "WebSockets");
    assert_eq!(log[4]["target"], "Echo");
    assert_eq!(log[4]["arguments"], json!([{ "a": 1 }]));
    assert!(log[4]["invocationId"].is_string());
    assert_eq!(log[5]["target"], "JoinWorkflow");
    assert!(
        log[5].get("invocationId").is_none(),
        "a send has no invocation id"
    );
}

#[tokio::test]
async fn published_arguments_reach_clients_as_sent() {
    let hub = TestHub::start().await;
    let mut client = hub.connect().await;
    let body = r#"{"target":"JobAssigned","arguments":[{"jobId":"j1","region":"r","contractorId":"c","assignedAt":"t"}]}"#;
    let response = reqwest::Client::new()
        .post(format!("{}/control/publish", hub.base))
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "no Content-Type needed");
    assert_eq!(
        client.next_text().await.as_deref(),
        Some(concat!(
            r#"{"type":1,"target":"JobAssigned","arguments":"#,
            r#"[{"jobId":"j1","region":"r","contractorId":"c","assignedAt":"t"}]}"#,
            "\u{1e}"
        ))
    );
}

#[tokio::test]
async fn deleting_the_log_empties_it() {
    let hub = TestHub::start().await;
    hub.negotiate(Some(1), None).await;
    hub.negotiate(Some(1), None).await;
    assert_eq!(
        hub.delete("/control/log").await,
        (200, json!({ "cleared": 2 }))
    );
    assert!(hub.log().await.is_empty());
}

#[tokio::test]
async fn a_dropped_connection_is_logged_with_its_reason() {
    let hub = TestHub::start().await;
    let client = hub.connect().await;
    hub.post("/control/drop", None).await;
    let last = hub.log().await.pop().unwrap();
    assert_eq!(last["kind"], "disconnect");
    assert_eq!(last["connectionId"], client.connection_id.as_str());
    assert_eq!(last["reason"], "dropped by control");
}

#[tokio::test]
async fn a_bad_publish_body_gets_400_with_an_error() {
    let hub = TestHub::start().await;
    for body in [
        json!({ "arguments": [] }),
        json!({ "target": "X", "groups": "a" }),
        json!({ "target": "" }),
        json!({ "target": "X", "arguments": { "not": "an array" } }),
    ] {
        let (status, answer) = hub.post("/control/publish", Some(body.clone())).await;
        assert_eq!(status, 400, "{body}");
        assert!(answer["error"].is_string(), "{answer}");
    }
}
