//! `POST /control/invoke-client`: the hub calls a client method and waits for its result.

mod support;

use hubwire::protocol::{Completion, HubMessage, RawJson};
use serde_json::{json, Value};
use support::{HubClient, TestHub};

/// Starts the control call in the background; it waits for the client's answer.
fn invoke_client(hub: &TestHub, body: Value) -> tokio::task::JoinHandle<(u16, Value)> {
    let http = hub.http().clone();
    let url = hub.url("/control/invoke-client");
    tokio::spawn(async move {
        let response = http.post(url).json(&body).send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap())
    })
}

/// The server's Invocation, as the client receives it: `(invocation id, target, arguments)`.
async fn server_call(client: &mut HubClient) -> (String, String, RawJson) {
    match client.next_message().await {
        HubMessage::Invocation {
            invocation_id: Some(id),
            target,
            arguments,
            ..
        } => (id, target, arguments.as_json().cloned().unwrap()),
        other => panic!("expected an Invocation with an id, got {other:?}"),
    }
}

async fn answer(client: &mut HubClient, invocation_id: String, completion: Completion) {
    client
        .send_message(&HubMessage::Completion {
            invocation_id,
            completion,
        })
        .await;
}

#[tokio::test]
async fn the_clients_result_is_the_answer() {
    let hub = TestHub::start().await;
    let mut client = hub.connect().await;
    let call = invoke_client(
        &hub,
        json!({ "connectionId": client.connection_id, "target": "GetLocation", "arguments": ["j1"] }),
    );
    let (id, target, arguments) = server_call(&mut client).await;
    assert_eq!(
        (target.as_str(), arguments.as_str()),
        ("GetLocation", "[\"j1\"]")
    );
    answer(
        &mut client,
        id,
        Completion::Result(RawJson::parse(r#"{"lat":1}"#).unwrap().into()),
    )
    .await;
    assert_eq!(
        call.await.unwrap(),
        (200, json!({ "result": { "lat": 1 } }))
    );
}

#[tokio::test]
async fn without_a_connection_id_the_newest_connection_is_called() {
    let hub = TestHub::start().await;
    let _older = hub.connect().await;
    let mut newest = hub.connect().await;
    let call = invoke_client(&hub, json!({ "target": "Ping" }));
    let (id, _, _) = server_call(&mut newest).await;
    answer(&mut newest, id, Completion::Void).await;
    assert_eq!(call.await.unwrap(), (200, json!({ "result": null })));
}

#[tokio::test]
async fn the_clients_error_is_the_answer() {
    let hub = TestHub::start().await;
    let mut client = hub.connect().await;
    let call = invoke_client(&hub, json!({ "target": "GetLocation" }));
    let (id, _, _) = server_call(&mut client).await;
    answer(
        &mut client,
        id,
        Completion::Error("Client didn't provide a result.".into()),
    )
    .await;
    assert_eq!(
        call.await.unwrap(),
        (200, json!({ "error": "Client didn't provide a result." }))
    );
}

#[tokio::test]
async fn no_answer_in_time_gets_504() {
    let hub = TestHub::start().await;
    let mut client = hub.connect().await;
    let call = invoke_client(&hub, json!({ "target": "GetLocation", "timeoutMs": 50 }));
    server_call(&mut client).await;
    let (status, body) = call.await.unwrap();
    assert_eq!(status, 504);
    assert!(body["error"].is_string());
}

#[tokio::test]
async fn a_connection_that_ends_first_gets_502() {
    let hub = TestHub::start().await;
    let mut client = hub.connect().await;
    let call = invoke_client(&hub, json!({ "target": "GetLocation" }));
    server_call(&mut client).await;
    hub.post("/control/drop", None).await;
    assert_eq!(call.await.unwrap().0, 502);
}

#[tokio::test]
async fn an_unknown_connection_gets_404() {
    let hub = TestHub::start().await;
    let (status, _) = hub
        .post(
            "/control/invoke-client",
            Some(json!({ "connectionId": "nobody", "target": "X" })),
        )
        .await;
    assert_eq!(status, 404);
}
