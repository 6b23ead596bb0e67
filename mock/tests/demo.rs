//! The demo scenario (`--demo`), run fast: what a demo page joining its groups receives.

mod support;

use std::time::Duration;

use hubwire::protocol::HubMessage;
use hubwire_mock::payloads::{ChatMessage, JobAssigned, RecommendationReady};
use hubwire_mock::{DemoConfig, MockConfig};
use serde_json::{json, Value};
use support::{HubClient, TestHub};

async fn fast_demo() -> TestHub {
    TestHub::start_with(MockConfig {
        demo: Some(DemoConfig {
            min_interval: Duration::from_millis(10),
            max_interval: Duration::from_millis(20),
        }),
        ..MockConfig::default()
    })
    .await
}

/// Waits for the next event named `target` (others are skipped) and returns its argument.
async fn next_event(client: &mut HubClient, target: &str) -> Value {
    loop {
        if let HubMessage::Invocation {
            target: name,
            arguments,
            invocation_id: None,
            ..
        } = client.next_message().await
        {
            if name == target {
                return arguments.as_json().unwrap().to_value()[0].clone();
            }
        }
    }
}

#[tokio::test]
async fn a_dispatch_region_receives_recommendations_for_that_region() {
    let hub = fast_demo().await;
    let mut client = hub.connect().await;
    client.invoke("JoinDispatchGroup", json!(["europe"])).await;
    let recommendation: RecommendationReady =
        serde_json::from_value(next_event(&mut client, "RecommendationReady").await).unwrap();
    assert_eq!(recommendation.region, "europe");
    assert!(recommendation.job_id.starts_with("job-"));
    assert!(["contractor-3", "contractor-4"].contains(&recommendation.contractor_id.as_str()));
    assert!((0.0..=1.0).contains(&recommendation.score));
}

#[tokio::test]
async fn a_dispatch_region_receives_assignments_of_recommended_jobs() {
    let hub = fast_demo().await;
    let mut client = hub.connect().await;
    client
        .invoke("JoinDispatchGroup", json!(["asia-pacific"]))
        .await;
    let recommended: RecommendationReady =
        serde_json::from_value(next_event(&mut client, "RecommendationReady").await).unwrap();
    let assigned: JobAssigned =
        serde_json::from_value(next_event(&mut client, "JobAssigned").await).unwrap();
    assert_eq!(assigned.job_id, recommended.job_id);
    assert_eq!(assigned.contractor_id, recommended.contractor_id);
    assert_eq!(assigned.region, "asia-pacific");
}

#[tokio::test]
async fn a_contractor_receives_its_own_assignments() {
    let hub = fast_demo().await;
    let mut client = hub.connect().await;
    client
        .invoke("JoinContractorGroup", json!(["contractor-1"]))
        .await;
    let assigned: JobAssigned =
        serde_json::from_value(next_event(&mut client, "JobAssigned").await).unwrap();
    assert_eq!(assigned.contractor_id, "contractor-1");
    assert_eq!(assigned.region, "north-america");
}

#[tokio::test]
async fn the_demo_workflow_receives_bot_messages() {
    let hub = fast_demo().await;
    let mut client = hub.connect().await;
    client.invoke("JoinWorkflow", json!(["wf-demo"])).await;
    let message: ChatMessage =
        serde_json::from_value(next_event(&mut client, "ReceiveMessage").await).unwrap();
    assert_eq!(message.workflow_id, "wf-demo");
    assert_eq!(message.connection_id, "demo-bot");
    assert!(!message.text.is_empty());
}

#[tokio::test]
async fn a_user_group_receives_obligations_updates() {
    let hub = fast_demo().await;
    let mut client = hub.connect().await;
    client.invoke("JoinUserGroup", json!(["demo-user"])).await;
    let summary = next_event(&mut client, "LongTermObligationsUpdated").await;
    assert_eq!(summary["userId"], "demo-user");
    assert_eq!(
        hub.get("/api/obligations/demo-user").await.1["userId"],
        "demo-user"
    );
}
