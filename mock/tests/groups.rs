//! Groups: joining and leaving, group sends from the control API and from `SendMessage`.

mod support;

use hubwire::protocol::HubMessage;
use hubwire_mock::payloads::{ChatMessage, RecommendationReady};
use serde_json::{json, Value};
use support::{HubClient, TestHub};

fn recommendation() -> RecommendationReady {
    RecommendationReady {
        job_id: "job-17".into(),
        region: "north-america".into(),
        contractor_id: "contractor-4".into(),
        score: 0.92,
        recommended_at: "2026-03-01T09:30:00.000Z".into(),
    }
}

/// The target and single argument of the next event a client receives.
async fn next_event(client: &mut HubClient) -> (String, Value) {
    match client.next_message().await {
        HubMessage::Invocation {
            invocation_id: None,
            target,
            arguments,
            ..
        } => (target, arguments.as_json().unwrap().to_value()[0].clone()),
        other => panic!("expected an event, got {other:?}"),
    }
}

/// Proves `client` received nothing (but Pings) so far: an Echo round trip comes back first.
async fn assert_nothing_received(client: &mut HubClient) {
    client
        .send_invocation(Some("probe"), "Echo", json!([0]))
        .await;
    match client.next_message().await {
        HubMessage::Completion { invocation_id, .. } => assert_eq!(invocation_id, "probe"),
        other => panic!("expected nothing before the probe, got {other:?}"),
    }
}

#[tokio::test]
async fn a_publish_to_a_dispatch_group_reaches_only_its_members() {
    let hub = TestHub::start().await;
    let mut member = hub.connect().await;
    let mut outsider = hub.connect().await;
    member
        .invoke("JoinDispatchGroup", json!(["north-america"]))
        .await;
    outsider
        .invoke("JoinDispatchGroup", json!(["europe"]))
        .await;

    let (status, body) = hub
        .post(
            "/control/publish",
            Some(json!({
                "target": "RecommendationReady",
                "arguments": [recommendation()],
                "group": "dispatch:north-america",
            })),
        )
        .await;
    assert_eq!((status, body), (200, json!({ "delivered": 1 })));

    let (target, payload) = next_event(&mut member).await;
    assert_eq!(target, "RecommendationReady");
    assert_eq!(
        serde_json::from_value::<RecommendationReady>(payload).unwrap(),
        recommendation()
    );
    assert_nothing_received(&mut outsider).await;
}

#[tokio::test]
async fn a_publish_without_a_group_reaches_every_connection() {
    let hub = TestHub::start().await;
    let mut first = hub.connect().await;
    let mut second = hub.connect().await;
    let (_, body) = hub
        .post(
            "/control/publish",
            Some(json!({ "target": "Tick", "arguments": [1] })),
        )
        .await;
    assert_eq!(body, json!({ "delivered": 2 }));
    assert_eq!(next_event(&mut first).await, ("Tick".to_string(), json!(1)));
    assert_eq!(
        next_event(&mut second).await,
        ("Tick".to_string(), json!(1))
    );
}

#[tokio::test]
async fn a_left_group_is_no_longer_delivered_to() {
    let hub = TestHub::start().await;
    let mut client = hub.connect().await;
    client.invoke("JoinContractorGroup", json!(["c9"])).await;
    client.invoke("LeaveContractorGroup", json!(["c9"])).await;
    let (_, body) = hub
        .post(
            "/control/publish",
            Some(json!({ "target": "JobAssigned", "arguments": [{}], "group": "contractor:c9" })),
        )
        .await;
    assert_eq!(body, json!({ "delivered": 0 }));
    assert_nothing_received(&mut client).await;
}

#[tokio::test]
async fn send_message_reaches_every_member_of_the_callers_workflows() {
    let hub = TestHub::start().await;
    let mut sender = hub.connect().await;
    let mut member = hub.connect().await;
    let mut outsider = hub.connect().await;
    sender.invoke("JoinWorkflow", json!(["w1"])).await;
    member.invoke("JoinWorkflow", json!(["w1"])).await;
    outsider.invoke("JoinWorkflow", json!(["w2"])).await;

    sender
        .send_invocation(Some("say"), "SendMessage", json!(["on my way"]))
        .await;
    // The sender is a member too, and hears its own message before the Completion.
    let (target, payload) = next_event(&mut sender).await;
    assert_eq!(target, "ReceiveMessage");
    let message: ChatMessage = serde_json::from_value(payload).unwrap();
    assert_eq!(message.workflow_id, "w1");
    assert_eq!(message.connection_id, sender.connection_id);
    assert_eq!(message.text, "on my way");
    assert!(
        message.sent_at.ends_with('Z') && message.sent_at.len() == 24,
        "{}",
        message.sent_at
    );
    assert!(matches!(
        sender.next_message().await,
        HubMessage::Completion { .. }
    ));

    let (_, payload) = next_event(&mut member).await;
    assert_eq!(
        serde_json::from_value::<ChatMessage>(payload).unwrap(),
        message
    );
    assert_nothing_received(&mut outsider).await;
}

#[tokio::test]
async fn the_connections_list_shows_groups_and_transport() {
    let hub = TestHub::start().await;
    let mut client = hub.connect().await;
    client
        .invoke("JoinDispatchGroup", json!(["north-america"]))
        .await;
    client.invoke("JoinContractorGroup", json!(["c1"])).await;
    client.invoke("JoinWorkflow", json!(["w5"])).await;
    assert_eq!(
        hub.connections().await,
        vec![json!({
            "connectionId": client.connection_id,
            "transport": "WebSockets",
            "endpoint": "/hub",
            "groups": ["contractor:c1", "dispatch:north-america", "workflow:w5"],
            "stateful": false,
            "attached": true,
            "unacknowledged": 0,
        })]
    );
}

#[tokio::test]
async fn a_closed_connection_leaves_the_list() {
    let hub = TestHub::start().await;
    let client = hub.connect().await;
    hub.wait_for_connections(1).await;
    drop(client);
    hub.wait_for_connections(0).await;
    let log = hub.log().await;
    assert_eq!(log.last().unwrap()["kind"], "disconnect", "{log:?}");
}
