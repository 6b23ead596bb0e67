//! The dashboard scenario's REST side and pushes: obligations polled and pushed together, the
//! flags document, poll faults.

mod support;

use hubwire::protocol::HubMessage;
use hubwire_mock::payloads::ObligationsSummary;
use serde_json::{json, Value};
use support::{HubClient, TestHub};

/// The next `LongTermObligationsUpdated` the client receives.
async fn next_obligations(client: &mut HubClient) -> Value {
    match client.next_message().await {
        HubMessage::Invocation {
            target, arguments, ..
        } if target == "LongTermObligationsUpdated" => arguments.as_json().unwrap().to_value()[0].clone(),
        other => panic!("expected LongTermObligationsUpdated, got {other:?}"),
    }
}

async fn change(hub: &TestHub, user: &str, body: Option<Value>) -> Value {
    let (status, answer) = hub
        .post(&format!("/control/obligations/{user}"), body)
        .await;
    assert_eq!(status, 200, "{answer}");
    answer
}

#[tokio::test]
async fn a_poll_answers_the_users_summary() {
    let hub = TestHub::start().await;
    let (status, body) = hub.get("/api/obligations/u-17").await;
    assert_eq!(status, 200);
    let summary: ObligationsSummary = serde_json::from_value(body).expect("the documented shape");
    assert_eq!(summary.user_id, "u-17");
}

#[tokio::test]
async fn a_change_is_pushed_to_the_users_group_and_polled_the_same() {
    let hub = TestHub::start().await;
    let mut client = hub.connect().await;
    client.invoke("JoinUserGroup", json!(["u1"])).await;
    let answer = change(&hub, "u1", None).await;
    assert_eq!(answer["delivered"], 1);
    let pushed = next_obligations(&mut client).await;
    assert_eq!(pushed, answer["summary"]);
    assert_eq!(hub.get("/api/obligations/u1").await.1, pushed);
}

#[tokio::test]
async fn every_change_has_a_later_updated_at() {
    let hub = TestHub::start().await;
    let first = hub.get("/api/obligations/u1").await.1;
    let second = change(&hub, "u1", None).await["summary"].clone();
    let third = change(&hub, "u1", None).await["summary"].clone();
    let stamps = [&first, &second, &third].map(|s| s["updatedAt"].as_str().unwrap().to_string());
    assert!(stamps[0] < stamps[1] && stamps[1] < stamps[2], "{stamps:?}");
}

#[tokio::test]
async fn a_change_without_push_shows_only_in_the_poll() {
    let hub = TestHub::start().await;
    let mut client = hub.connect().await;
    client.invoke("JoinUserGroup", json!(["u1"])).await;
    let answer = change(&hub, "u1", Some(json!({ "push": false }))).await;
    assert_eq!(answer["delivered"], 0);
    assert_eq!(hub.get("/api/obligations/u1").await.1, answer["summary"]);
    // The next push the client sees is a later change, not the silent one.
    let later = change(&hub, "u1", None).await;
    assert_eq!(next_obligations(&mut client).await, later["summary"]);
}

#[tokio::test]
async fn a_change_may_set_fields() {
    let hub = TestHub::start().await;
    let summary = change(
        &hub,
        "u1",
        Some(
            json!({ "obligationsSummary": { "overdue": 0 }, "totalEstimate": 99.5,
                     "nextDueDate": "2026-04-01" }),
        ),
    )
    .await["summary"]
        .clone();
    assert_eq!(summary["obligationsSummary"]["overdue"], 0);
    assert_eq!(summary["totalEstimate"], 99.5);
    assert_eq!(summary["nextDueDate"], "2026-04-01");
}

#[tokio::test]
async fn a_bad_change_gets_400() {
    let hub = TestHub::start().await;
    for body in [
        json!({ "userId": "someone-else" }),
        json!({ "totalEstimate": "lots" }),
        json!({ "colour": "red" }),
        json!({ "push": "yes" }),
    ] {
        let (status, answer) = hub
            .post("/control/obligations/u1", Some(body.clone()))
            .await;
        assert_eq!(status, 400, "{body}");
        assert!(answer["error"].is_string());
    }
}

#[tokio::test]
async fn failed_polls_get_500_then_recover() {
    let hub = TestHub::start().await;
    hub.post("/control/faults", Some(json!({ "failPolls": 2 })))
        .await;
    let statuses = [
        hub.get("/api/obligations/u1").await.0,
        hub.get("/api/stats/tasks").await.0,
        hub.get("/api/obligations/u1").await.0,
    ];
    assert_eq!(statuses, [500, 500, 200]);
}

#[tokio::test]
async fn poll_faults_show_with_the_other_faults_and_clear_with_them() {
    let hub = TestHub::start().await;
    let (_, set) = hub
        .post(
            "/control/faults",
            Some(json!({ "failPolls": 3, "pollDelayMs": 250 })),
        )
        .await;
    assert_eq!(
        (set["failPolls"].clone(), set["pollDelayMs"].clone()),
        (json!(3), json!(250))
    );
    let (_, cleared) = hub.delete("/control/faults").await;
    assert_eq!(
        (cleared["failPolls"].clone(), cleared["pollDelayMs"].clone()),
        (json!(0), json!(0))
    );
}

#[tokio::test]
async fn polls_are_logged_with_their_path_and_status() {
    let hub = TestHub::start().await;
    hub.post("/control/faults", Some(json!({ "failPolls": 1 })))
        .await;
    hub.get("/api/obligations/u1").await;
    hub.get("/api/flags").await;
    let polls: Vec<(Value, Value)> = hub
        .log()
        .await
        .into_iter()
        .filter(|entry| entry["kind"] == "poll")
        .map(|entry| (entry["path"].clone(), entry["status"].clone()))
        .collect();
    assert_eq!(
        polls,
        vec![
            (json!("/api/obligations/u1"), json!(500)),
            (json!("/api/flags"), json!(200))
        ]
    );
}

#[tokio::test]
async fn the_flags_document_starts_with_signalr_on() {
    let hub = TestHub::start().await;
    assert_eq!(
        hub.get("/api/flags").await,
        (200, json!({ "dashboard_wave4_signalr_enabled": true }))
    );
}

#[tokio::test]
async fn a_flag_set_by_the_control_api_is_read_back() {
    let hub = TestHub::start().await;
    let (status, answer) = hub
        .post(
            "/control/flags",
            Some(json!({ "dashboard_wave4_signalr_enabled": false })),
        )
        .await;
    assert_eq!(
        (status, answer.clone()),
        (200, json!({ "dashboard_wave4_signalr_enabled": false }))
    );
    assert_eq!(hub.get("/api/flags").await.1, answer);
}

#[tokio::test]
async fn a_flag_that_is_not_a_boolean_gets_400() {
    let hub = TestHub::start().await;
    let (status, _) = hub
        .post(
            "/control/flags",
            Some(json!({ "dashboard_wave4_signalr_enabled": "yes" })),
        )
        .await;
    assert_eq!(status, 400);
}
