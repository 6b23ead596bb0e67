//! Stateful reconnect: sequence ids and Acks, the replay buffer, resuming a connection on a
//! new WebSocket with the same connection token, the grace period.

mod support;

use std::time::Duration;

use hubwire::protocol::{Completion, HubMessage, RawJson};
use hubwire_mock::{HubTimings, MockConfig};
use serde_json::json;
use support::{HubClient, TestHub};

fn tick(n: u32) -> HubMessage {
    HubMessage::Invocation {
        invocation_id: None,
        target: "Tick".into(),
        arguments: RawJson::from_value(&[n]).into(),
        stream_ids: Vec::new(),
    }
}

fn echo(id: &str) -> HubMessage {
    HubMessage::Invocation {
        invocation_id: Some(id.into()),
        target: "Echo".into(),
        arguments: RawJson::parse(format!("[\"{id}\"]")).unwrap().into(),
        stream_ids: Vec::new(),
    }
}

fn echoed(id: &str) -> HubMessage {
    HubMessage::Completion {
        invocation_id: id.into(),
        completion: Completion::Result(RawJson::parse(format!("\"{id}\"")).unwrap().into()),
    }
}

async fn publish_tick(hub: &TestHub, n: u32) {
    hub.post(
        "/control/publish",
        Some(json!({ "target": "Tick", "arguments": [n] })),
    )
    .await;
}

async fn messages(client: &mut HubClient, count: usize) -> Vec<HubMessage> {
    let mut seen = Vec::new();
    for _ in 0..count {
        seen.push(client.next_message().await);
    }
    seen
}

/// Waits until the only connection's `field` reads `value` in `/control/connections`.
async fn wait_for_field(hub: &TestHub, field: &str, value: serde_json::Value) {
    let deadline = tokio::time::Instant::now() + support::WAIT;
    loop {
        let connections = hub.connections().await;
        if connections.first().map(|c| &c[field]) == Some(&value) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "expected {field} = {value}: {connections:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn the_hub_acknowledges_what_the_client_sent() {
    let hub = TestHub::start().await;
    let (mut client, _) = hub.connect_stateful().await;
    client.send_message(&echo("a")).await;
    assert_eq!(
        messages(&mut client, 2).await,
        vec![echoed("a"), HubMessage::Ack { sequence_id: 1 }]
    );
}

#[tokio::test]
async fn a_dropped_stateful_connection_stays_listed_detached() {
    let hub = TestHub::start().await;
    let (client, _) = hub.connect_stateful().await;
    hub.post("/control/drop", None).await;
    let connections = hub.connections().await;
    assert_eq!(connections.len(), 1);
    assert_eq!(
        connections[0]["connectionId"],
        client.connection_id.as_str()
    );
    assert_eq!(connections[0]["stateful"], true);
    assert_eq!(connections[0]["attached"], false);
}

#[tokio::test]
async fn a_resume_replays_every_unacknowledged_message_after_a_sequence_message() {
    let hub = TestHub::start().await;
    let (mut client, token) = hub.connect_stateful().await;
    publish_tick(&hub, 1).await;
    publish_tick(&hub, 2).await;
    assert_eq!(messages(&mut client, 2).await, vec![tick(1), tick(2)]);
    hub.post("/control/drop", None).await;
    publish_tick(&hub, 3).await; // while no socket is attached
    let mut resumed = HubClient::open(&hub.socket_url(&token))
        .await
        .expect("resumes");
    assert_eq!(
        messages(&mut resumed, 4).await,
        vec![
            HubMessage::Sequence { sequence_id: 1 },
            tick(1),
            tick(2),
            tick(3)
        ]
    );
    hub.wait_for_log("resumed", &client.connection_id).await;
}

#[tokio::test]
async fn acknowledged_messages_are_not_replayed() {
    let hub = TestHub::start().await;
    let (mut client, token) = hub.connect_stateful().await;
    publish_tick(&hub, 1).await;
    publish_tick(&hub, 2).await;
    messages(&mut client, 2).await;
    client
        .send_message(&HubMessage::Ack { sequence_id: 2 })
        .await;
    wait_for_field(&hub, "unacknowledged", json!(0)).await;
    hub.post("/control/drop", None).await;
    publish_tick(&hub, 3).await;
    let mut resumed = HubClient::open(&hub.socket_url(&token))
        .await
        .expect("resumes");
    assert_eq!(
        messages(&mut resumed, 2).await,
        vec![HubMessage::Sequence { sequence_id: 3 }, tick(3)]
    );
}

#[tokio::test]
async fn replayed_client_messages_are_processed_once() {
    let hub = TestHub::start().await;
    let (mut client, token) = hub.connect_stateful().await;
    client.send_message(&echo("a")).await;
    messages(&mut client, 2).await; // the Completion and the hub's Ack
    let id = client.connection_id.clone();
    client.cut();
    hub.wait_for_log("transportLost", &id).await;
    let mut resumed = HubClient::open(&hub.socket_url(&token))
        .await
        .expect("resumes");
    // The client's side of a resume: its Sequence message, then what it had not seen acked.
    resumed
        .send_message(&HubMessage::Sequence { sequence_id: 1 })
        .await;
    resumed.send_message(&echo("a")).await;
    resumed.send_message(&echo("b")).await;
    assert_eq!(
        messages(&mut resumed, 5).await,
        vec![
            HubMessage::Sequence { sequence_id: 1 },
            echoed("a"), // the hub's replay of its unacknowledged Completion
            // "a" again was a duplicate: no second Completion for it, but its Ack again (the
            // first one may have been lost with the old socket).
            HubMessage::Ack { sequence_id: 1 },
            echoed("b"),
            HubMessage::Ack { sequence_id: 2 },
        ]
    );
}

#[tokio::test]
async fn a_second_socket_while_the_first_is_attached_gets_409() {
    let hub = TestHub::start().await;
    let (_client, token) = hub.connect_stateful().await;
    assert_eq!(
        HubClient::open(&hub.socket_url(&token))
            .await
            .err()
            .as_deref(),
        Some("409")
    );
}

#[tokio::test]
async fn a_connection_not_resumed_within_the_grace_period_ends() {
    let hub = TestHub::start_with(MockConfig {
        timings: HubTimings {
            stateful_grace: Duration::from_millis(50),
            ..HubTimings::default()
        },
        ..MockConfig::default()
    })
    .await;
    let (client, token) = hub.connect_stateful().await;
    hub.post("/control/drop", None).await;
    let entry = hub.wait_for_log("disconnect", &client.connection_id).await;
    assert_eq!(entry["reason"], "not resumed within the grace period");
    assert!(hub.connections().await.is_empty());
    assert_eq!(
        HubClient::open(&hub.socket_url(&token))
            .await
            .err()
            .as_deref(),
        Some("404")
    );
}

#[tokio::test]
async fn a_closed_stateful_connection_cannot_be_resumed() {
    let hub = TestHub::start().await;
    let (mut client, token) = hub.connect_stateful().await;
    hub.post("/control/close", None).await;
    client.read_to_end().await;
    assert_eq!(
        HubClient::open(&hub.socket_url(&token))
            .await
            .err()
            .as_deref(),
        Some("404")
    );
}

#[tokio::test]
async fn a_version_2_handshake_without_the_negotiate_flag_is_not_stateful() {
    let hub = TestHub::start().await;
    let (_, token) = hub.negotiate_token().await;
    let mut client = HubClient::open(&hub.socket_url(&token)).await.unwrap();
    client.handshake_version(2).await;
    client.send_message(&echo("a")).await;
    client.send_message(&echo("b")).await;
    assert_eq!(
        messages(&mut client, 2).await,
        vec![echoed("a"), echoed("b")],
        "no Acks"
    );
    assert_eq!(hub.connections().await[0]["stateful"], false);
}
