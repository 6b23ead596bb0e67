//! Injected faults (`/control/faults`): refusals, drops, failing methods, doubled events.

mod support;

use hubwire::protocol::{Completion, HubMessage};
use serde_json::{json, Value};
use support::{error_of, result_of, HubClient, TestHub};

/// A join completes with `"result": null`, which the protocol layer reads as no result.
fn assert_succeeded(completion: Completion) {
    assert!(
        !matches!(completion, Completion::Error(_)),
        "{completion:?}"
    );
}

async fn set_faults(hub: &TestHub, body: Value) -> Value {
    let (status, answer) = hub.post("/control/faults", Some(body)).await;
    assert_eq!(status, 200, "{answer}");
    answer
}

async fn publish_tick(hub: &TestHub, n: u32) {
    let (status, _) = hub
        .post(
            "/control/publish",
            Some(json!({ "target": "Tick", "arguments": [n] })),
        )
        .await;
    assert_eq!(status, 200);
}

/// The argument of the next `Tick` event the client receives.
async fn next_tick(client: &mut HubClient) -> Value {
    match client.next_message().await {
        HubMessage::Invocation {
            target, arguments, ..
        } if target == "Tick" => arguments.as_json().unwrap().to_value()[0].clone(),
        other => panic!("expected a Tick, got {other:?}"),
    }
}

#[tokio::test]
async fn refused_negotiations_get_503_n_times_then_succeed() {
    let hub = TestHub::start().await;
    set_faults(&hub, json!({ "refuseNegotiations": 2 })).await;
    let statuses = [
        hub.negotiate(Some(1), None).await.0,
        hub.negotiate(Some(1), None).await.0,
        hub.negotiate(Some(1), None).await.0,
    ];
    assert_eq!(statuses, [503, 503, 200]);
}

#[tokio::test]
async fn a_refused_connect_gets_503_and_leaves_the_token_usable() {
    let hub = TestHub::start().await;
    let (_, negotiated) = hub.negotiate(Some(1), None).await;
    let url = hub.socket_url(negotiated["connectionToken"].as_str().unwrap());
    set_faults(&hub, json!({ "refuseConnects": 1 })).await;
    assert_eq!(HubClient::open(&url).await.err().as_deref(), Some("503"));
    let mut client = HubClient::open(&url)
        .await
        .expect("the second attempt gets in");
    client.handshake().await;
}

#[tokio::test]
async fn refusals_are_logged_with_their_status() {
    let hub = TestHub::start().await;
    set_faults(&hub, json!({ "refuseNegotiations": 1 })).await;
    hub.negotiate(Some(1), None).await;
    let log = hub.log().await;
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!(log[0]["kind"], "refused");
    assert_eq!(log[0]["request"], "negotiate");
    assert_eq!(log[0]["status"], 503);
}

#[tokio::test]
async fn a_refused_transport_is_not_offered_and_a_direct_attempt_gets_404() {
    let hub = TestHub::start().await;
    set_faults(&hub, json!({ "refuseTransports": ["WebSockets"] })).await;
    let (_, negotiated) = hub.negotiate(Some(1), None).await;
    let offered: Vec<&str> = negotiated["availableTransports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["transport"].as_str().unwrap())
        .collect();
    assert!(!offered.contains(&"WebSockets"), "{offered:?}");
    let url = hub.socket_url(negotiated["connectionToken"].as_str().unwrap());
    assert_eq!(HubClient::open(&url).await.err().as_deref(), Some("404"));
}

#[tokio::test]
async fn drop_after_messages_cuts_the_socket_right_after_the_nth_message() {
    let hub = TestHub::start().await;
    let mut client = hub.connect().await;
    let answer = set_faults(&hub, json!({ "dropAfterMessages": 2 })).await;
    assert_eq!(answer["armedConnections"], 1);
    for n in 1..=3 {
        publish_tick(&hub, n).await;
    }
    assert_eq!(next_tick(&mut client).await, json!(1));
    assert_eq!(next_tick(&mut client).await, json!(2));
    assert_eq!(
        client.read_to_end().await,
        (None, false),
        "cut: no third event, no Close, no close frame"
    );
    hub.wait_for_connections(0).await;
    let last = hub.log().await.pop().unwrap();
    assert_eq!(last["reason"], "dropped by fault");
}

#[tokio::test]
async fn drop_after_ms_cuts_the_connections_later() {
    let hub = TestHub::start().await;
    let mut client = hub.connect().await;
    set_faults(&hub, json!({ "dropAfterMs": 50 })).await;
    assert_eq!(client.read_to_end().await, (None, false));
    hub.wait_for_connections(0).await;
}

#[tokio::test]
async fn a_failing_join_answers_with_an_error_and_does_not_join() {
    let hub = TestHub::start().await;
    let mut client = hub.connect().await;
    set_faults(
        &hub,
        json!({ "failMethod": { "method": "JoinDispatchGroup", "times": 1, "error": "region offline" } }),
    )
    .await;
    let error = error_of(client.invoke("JoinDispatchGroup", json!(["europe"])).await);
    assert_eq!(
        error,
        "An unexpected error occurred invoking 'JoinDispatchGroup' on the server. HubException: \
         region offline"
    );
    assert_eq!(hub.connections().await[0]["groups"], json!([]));
    assert_succeeded(client.invoke("JoinDispatchGroup", json!(["europe"])).await);
    assert_eq!(
        hub.connections().await[0]["groups"],
        json!(["dispatch:europe"])
    );
}

#[tokio::test]
async fn a_method_fault_for_one_argument_spares_other_arguments() {
    let hub = TestHub::start().await;
    let mut client = hub.connect().await;
    set_faults(
        &hub,
        json!({ "failMethod": { "method": "joindispatchgroup", "argument": "europe" } }),
    )
    .await;
    for _ in 0..2 {
        error_of(client.invoke("JoinDispatchGroup", json!(["europe"])).await);
    }
    assert_succeeded(
        client
            .invoke("JoinDispatchGroup", json!(["asia-pacific"]))
            .await,
    );
}

#[tokio::test]
async fn the_next_event_is_sent_twice_and_the_one_after_once() {
    let hub = TestHub::start().await;
    let mut client = hub.connect().await;
    set_faults(&hub, json!({ "duplicateNextEvents": 1 })).await;
    publish_tick(&hub, 1).await;
    publish_tick(&hub, 2).await;
    let ticks = [
        next_tick(&mut client).await,
        next_tick(&mut client).await,
        next_tick(&mut client).await,
    ];
    assert_eq!(ticks, [json!(1), json!(1), json!(2)]);
}

#[tokio::test]
async fn deleting_the_faults_heals_the_hub() {
    let hub = TestHub::start().await;
    set_faults(
        &hub,
        json!({ "refuseNegotiations": 5, "refuseTransports": ["WebSockets"],
                "failMethod": { "method": "Echo" } }),
    )
    .await;
    let (status, healed) = hub.delete("/control/faults").await;
    assert_eq!(status, 200);
    assert_eq!(healed, hub.get("/control/faults").await.1);
    assert_eq!(healed["refuseNegotiations"], 0);
    assert_eq!(healed["refuseTransports"], json!([]));
    assert_eq!(healed["failMethods"], json!([]));
    let mut client = hub.connect().await;
    result_of(client.invoke("Echo", json!([1])).await);
}

#[tokio::test]
async fn a_bad_faults_body_gets_400_and_changes_nothing() {
    let hub = TestHub::start().await;
    let before = hub.get("/control/faults").await.1;
    for body in [
        json!({ "refuseConnects": 1, "refuseTransports": ["Carrier pigeon"] }),
        json!({ "refuseConnects": 1, "failMethod": { "method": "NoSuchMethod" } }),
        json!({ "failMethod": { "method": "Echo", "times": 0 } }),
        json!({ "refuseConnects": -1 }),
        json!({ "refuseEverything": true }),
    ] {
        let (status, answer) = hub.post("/control/faults", Some(body.clone())).await;
        assert_eq!(status, 400, "{body}");
        assert!(answer["error"].is_string(), "{answer}");
    }
    assert_eq!(hub.get("/control/faults").await.1, before);
}

#[tokio::test]
async fn a_negotiate_delay_holds_each_negotiate_until_it_is_switched_off() {
    let hub = TestHub::start().await;
    let answer = set_faults(&hub, json!({ "negotiateDelayMs": 400 })).await;
    assert_eq!(answer["negotiateDelayMs"], 400);
    let started = std::time::Instant::now();
    assert_eq!(hub.negotiate(Some(1), None).await.0, 200);
    assert!(started.elapsed() >= std::time::Duration::from_millis(400));
    set_faults(&hub, json!({ "negotiateDelayMs": 0 })).await;
    assert_eq!(hub.get("/control/faults").await.1["negotiateDelayMs"], 0);
    let (status, answer) = hub
        .post(
            "/control/faults",
            Some(json!({ "negotiateDelayMs": 60_001 })),
        )
        .await;
    assert_eq!(status, 400, "{answer}");
}
