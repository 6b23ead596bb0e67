//! Redirect mode: negotiate at `/hub` answers `{ url, accessToken }` pointing at `/hub2`, which
//! requires exactly that token.

mod support;

use hubwire_mock::MockConfig;
use serde_json::{json, Value};
use support::{HubClient, TestHub};

async fn redirecting() -> TestHub {
    TestHub::start_with(MockConfig {
        redirect_token: Some("azure-like".into()),
        ..MockConfig::default()
    })
    .await
}

async fn negotiate_hub2(hub: &TestHub, bearer: Option<&str>) -> (u16, Value) {
    let mut request = hub
        .http()
        .post(hub.url("/hub2/negotiate?negotiateVersion=1"));
    if let Some(token) = bearer {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn negotiate_answers_the_second_hub_url_and_its_token() {
    let hub = redirecting().await;
    let (status, body) = hub.negotiate(Some(1), None).await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        json!({ "url": format!("{}/hub2", hub.base), "accessToken": "azure-like" })
    );
    assert_eq!(hub.log().await[0]["kind"], "redirect");
}

#[tokio::test]
async fn the_second_hub_requires_exactly_the_redirect_token() {
    let hub = redirecting().await;
    assert_eq!(negotiate_hub2(&hub, None).await.0, 401);
    assert_eq!(negotiate_hub2(&hub, Some("other")).await.0, 401);
    assert_eq!(negotiate_hub2(&hub, Some("azure-like")).await.0, 200);
}

#[tokio::test]
async fn a_client_that_follows_the_redirect_connects_on_the_second_hub() {
    let hub = redirecting().await;
    let (_, negotiated) = negotiate_hub2(&hub, Some("azure-like")).await;
    let token = negotiated["connectionToken"].as_str().unwrap();
    let url = format!(
        "{}/hub2?id={token}&access_token=azure-like",
        hub.base.replacen("http", "ws", 1)
    );
    let mut client = HubClient::open(&url).await.expect("connects on /hub2");
    client.handshake().await;
    assert_eq!(hub.connections().await[0]["endpoint"], "/hub2");
}

#[tokio::test]
async fn a_token_negotiated_on_one_hub_path_is_unknown_on_the_other() {
    let hub = redirecting().await;
    let (_, negotiated) = negotiate_hub2(&hub, Some("azure-like")).await;
    let token = negotiated["connectionToken"].as_str().unwrap();
    let refused = HubClient::open(&hub.socket_url(token)).await.err();
    assert_eq!(refused.as_deref(), Some("404"));
}

#[tokio::test]
async fn without_redirect_mode_the_second_hub_refuses_everyone() {
    let hub = TestHub::start().await;
    assert_eq!(negotiate_hub2(&hub, None).await.0, 401);
    assert_eq!(negotiate_hub2(&hub, Some("")).await.0, 401);
}

#[tokio::test]
async fn redirect_mode_is_switched_by_the_control_api() {
    let hub = TestHub::start().await;
    let (_, on) = hub
        .post("/control/redirect", Some(json!({ "enabled": true })))
        .await;
    let token = on["accessToken"].as_str().unwrap().to_string();
    assert_eq!(
        hub.negotiate(Some(1), None).await.1["accessToken"],
        token.as_str()
    );
    let (_, off) = hub
        .post("/control/redirect", Some(json!({ "enabled": false })))
        .await;
    assert_eq!(off, json!({ "enabled": false }));
    assert!(hub.negotiate(Some(1), None).await.1["connectionId"].is_string());
}
