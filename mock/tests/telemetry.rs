//! The telemetry sink: `POST /api/telemetry`, read back with `GET /control/telemetry`.

mod support;

use serde_json::{json, Value};
use support::TestHub;

async fn stored(hub: &TestHub) -> Value {
    let (status, events) = hub.get("/control/telemetry").await;
    assert_eq!(status, 200);
    events
}

#[tokio::test]
async fn a_json_array_is_stored_in_order() {
    let hub = TestHub::start().await;
    let batch = json!([{ "type": "open", "n": 1 }, { "type": "close", "n": 2 }]);
    let (status, answer) = hub.post("/api/telemetry", Some(batch.clone())).await;
    assert_eq!((status, answer), (200, json!({ "accepted": 2 })));
    assert_eq!(stored(&hub).await, batch);
}

#[tokio::test]
async fn a_single_object_is_stored_as_one_event() {
    let hub = TestHub::start().await;
    hub.post("/api/telemetry", Some(json!({ "type": "reconnected" })))
        .await;
    assert_eq!(stored(&hub).await, json!([{ "type": "reconnected" }]));
}

#[tokio::test]
async fn a_text_plain_body_as_send_beacon_sends_it_is_accepted() {
    let hub = TestHub::start().await;
    let response = reqwest::Client::new()
        .post(format!("{}/api/telemetry", hub.base))
        .header("content-type", "text/plain;charset=UTF-8")
        .body(r#"[{"type":"pagehide"}]"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(stored(&hub).await, json!([{ "type": "pagehide" }]));
}

#[tokio::test]
async fn deleting_the_telemetry_empties_it() {
    let hub = TestHub::start().await;
    hub.post("/api/telemetry", Some(json!([{}, {}]))).await;
    assert_eq!(
        hub.delete("/control/telemetry").await,
        (200, json!({ "cleared": 2 }))
    );
    assert_eq!(stored(&hub).await, json!([]));
}

#[tokio::test]
async fn a_body_that_is_not_event_objects_gets_400() {
    let hub = TestHub::start().await;
    for body in ["not json", "[1, 2]", "\"event\""] {
        let response = reqwest::Client::new()
            .post(format!("{}/api/telemetry", hub.base))
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400, "{body}");
    }
    assert_eq!(stored(&hub).await, json!([]));
}
