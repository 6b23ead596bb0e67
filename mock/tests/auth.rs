//! Auth mode: `/hub` requires a bearer token on negotiate and on every transport request;
//! `/control/auth` sets, rotates and clears it.

mod support;

use hubwire_mock::MockConfig;
use serde_json::json;
use support::{post_to_hub, EventStream, HubClient, TestHub};

async fn with_token(token: &str) -> TestHub {
    TestHub::start_with(MockConfig {
        auth_token: Some(token.into()),
        ..MockConfig::default()
    })
    .await
}

/// Negotiates with the bearer token; returns the connection token.
async fn negotiate_with(hub: &TestHub, bearer: &str) -> String {
    let (status, body) = hub.negotiate(Some(1), Some(bearer)).await;
    assert_eq!(status, 200, "{body}");
    body["connectionToken"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn negotiate_without_the_token_gets_401() {
    let hub = with_token("s3cret").await;
    assert_eq!(hub.negotiate(Some(1), None).await.0, 401);
    assert_eq!(hub.negotiate(Some(1), Some("wrong")).await.0, 401);
}

#[tokio::test]
async fn a_401_says_bearer_and_is_logged() {
    let hub = with_token("s3cret").await;
    let response = hub
        .http()
        .post(hub.url("/hub/negotiate?negotiateVersion=1"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(response.headers()["www-authenticate"], "Bearer");
    let log = hub.log().await;
    assert_eq!(log[0]["kind"], "refused");
    assert_eq!(log[0]["request"], "negotiate");
    assert_eq!(log[0]["status"], 401);
}

#[tokio::test]
async fn a_websocket_needs_the_token_in_its_query() {
    let hub = with_token("s3cret").await;
    let token = negotiate_with(&hub, "s3cret").await;
    let url = hub.socket_url(&token);
    assert_eq!(HubClient::open(&url).await.err().as_deref(), Some("401"));
    let mut client = HubClient::open(&format!("{url}&access_token=s3cret"))
        .await
        .expect("the token in the query lets it in");
    client.handshake().await;
}

#[tokio::test]
async fn an_event_stream_and_its_posts_need_the_token() {
    let hub = with_token("s3cret").await;
    let token = negotiate_with(&hub, "s3cret").await;
    assert_eq!(EventStream::open(&hub, &token).await.err(), Some(401));
    assert_eq!(post_to_hub(&hub, &token, "{}\u{1e}").await, 401);
    let authorized = hub
        .http()
        .post(hub.url(&format!("/hub?id={token}")))
        .bearer_auth("s3cret")
        .body("{\"protocol\":\"json\",\"version\":1}\u{1e}")
        .send()
        .await
        .unwrap();
    assert_eq!(
        authorized.status(),
        404,
        "past the guard: no stream was opened for it"
    );
}

#[tokio::test]
async fn a_rotated_token_replaces_the_old_one() {
    let hub = with_token("s3cret").await;
    let (status, body) = hub
        .post("/control/auth", Some(json!({ "rotate": true })))
        .await;
    assert_eq!(status, 200);
    let fresh = body["token"].as_str().unwrap().to_string();
    assert_ne!(fresh, "s3cret");
    assert_eq!(hub.negotiate(Some(1), Some("s3cret")).await.0, 401);
    assert_eq!(hub.negotiate(Some(1), Some(&fresh)).await.0, 200);
    assert_eq!(hub.get("/control/auth").await.1, json!({ "token": fresh }));
}

#[tokio::test]
async fn open_connections_survive_a_rotation() {
    let hub = with_token("s3cret").await;
    let token = negotiate_with(&hub, "s3cret").await;
    let mut client = HubClient::open(&format!("{}&access_token=s3cret", hub.socket_url(&token)))
        .await
        .unwrap();
    client.handshake().await;
    hub.post("/control/auth", Some(json!({ "rotate": true })))
        .await;
    assert_eq!(
        support::result_of(client.invoke("Echo", json!([1])).await),
        json!(1)
    );
}

#[tokio::test]
async fn auth_mode_can_be_switched_on_and_off() {
    let hub = TestHub::start().await;
    hub.post("/control/auth", Some(json!({ "token": "t1" })))
        .await;
    assert_eq!(hub.negotiate(Some(1), None).await.0, 401);
    hub.post("/control/auth", Some(json!({ "token": null })))
        .await;
    assert_eq!(hub.negotiate(Some(1), None).await.0, 200);
}

#[tokio::test]
async fn the_control_api_and_health_need_no_token() {
    let hub = with_token("s3cret").await;
    assert_eq!(hub.get("/control/connections").await.0, 200);
    assert_eq!(hub.get("/health").await.0, 200);
}
