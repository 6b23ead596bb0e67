//! Negotiate and connect: the HTTP side of opening a hub connection.

mod support;

use serde_json::json;
use support::{HubClient, TestHub};

#[tokio::test]
async fn negotiate_v1_answers_id_token_and_all_three_transports_best_first() {
    let hub = TestHub::start().await;
    let (status, body) = hub.negotiate(Some(1), None).await;
    assert_eq!(status, 200);
    assert_eq!(body["negotiateVersion"], 1);
    let id = body["connectionId"].as_str().expect("connectionId");
    let token = body["connectionToken"].as_str().expect("connectionToken");
    assert_ne!(id, token, "the token is a separate secret");
    assert_eq!(
        body["availableTransports"],
        json!([
            { "transport": "WebSockets", "transferFormats": ["Text", "Binary"] },
            { "transport": "ServerSentEvents", "transferFormats": ["Text"] },
            { "transport": "LongPolling", "transferFormats": ["Text", "Binary"] },
        ])
    );
    assert!(body.get("useStatefulReconnect").is_none(), "not asked for");
}

#[tokio::test]
async fn negotiate_without_a_version_answers_v0_without_a_token() {
    let hub = TestHub::start().await;
    let (status, body) = hub.negotiate(None, None).await;
    assert_eq!(status, 200);
    assert_eq!(body["negotiateVersion"], 0);
    assert!(body["connectionId"].is_string());
    assert!(body.get("connectionToken").is_none(), "{body}");
}

#[tokio::test]
async fn a_newer_negotiate_version_is_answered_with_version_1() {
    let hub = TestHub::start().await;
    let (_, body) = hub.negotiate(Some(7), None).await;
    assert_eq!(body["negotiateVersion"], 1);
}

#[tokio::test]
async fn v0_clients_connect_with_their_connection_id() {
    let hub = TestHub::start().await;
    let (_, body) = hub.negotiate(None, None).await;
    let id = body["connectionId"].as_str().unwrap();
    let mut client = HubClient::open(&hub.socket_url(id))
        .await
        .expect("v0 id is accepted");
    client.handshake().await;
}

#[tokio::test]
async fn an_unknown_connection_token_gets_404() {
    let hub = TestHub::start().await;
    let refused = HubClient::open(&hub.socket_url("no-such-token"))
        .await
        .err();
    assert_eq!(refused.as_deref(), Some("404"));
}

#[tokio::test]
async fn a_used_connection_token_gets_404() {
    let hub = TestHub::start().await;
    let (_, body) = hub.negotiate(Some(1), None).await;
    let url = hub.socket_url(body["connectionToken"].as_str().unwrap());
    let _first = HubClient::open(&url).await.expect("first connect succeeds");
    assert_eq!(HubClient::open(&url).await.err().as_deref(), Some("404"));
}

#[tokio::test]
async fn the_negotiate_bearer_token_is_logged() {
    let hub = TestHub::start().await;
    let (_, body) = hub.negotiate(Some(1), Some("secret-token")).await;
    let log = hub.log().await;
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!(log[0]["kind"], "negotiate");
    assert_eq!(log[0]["connectionId"], body["connectionId"]);
    assert_eq!(log[0]["negotiateVersion"], 1);
    assert_eq!(log[0]["accessToken"], "secret-token");
}

#[tokio::test]
async fn the_access_token_query_of_the_socket_is_recorded() {
    let hub = TestHub::start().await;
    let (_, body) = hub.negotiate(Some(1), None).await;
    let url = format!(
        "{}&access_token=from-query",
        hub.socket_url(body["connectionToken"].as_str().unwrap())
    );
    let mut client = HubClient::open(&url).await.expect("connects");
    client.handshake().await;
    let connections = hub.connections().await;
    assert_eq!(connections[0]["accessToken"], "from-query");
    let connect = hub
        .log()
        .await
        .into_iter()
        .find(|entry| entry["kind"] == "connect")
        .expect("connect logged");
    assert_eq!(connect["accessToken"], "from-query");
}

#[tokio::test]
async fn skipping_negotiate_opens_a_fresh_connection() {
    let hub = TestHub::start().await;
    let url = format!("{}/hub", hub.base.replacen("http", "ws", 1));
    let mut client = HubClient::open(&url)
        .await
        .expect("skip-negotiation connect");
    client.handshake().await;
    assert_eq!(hub.connections().await.len(), 1);
}

#[tokio::test]
async fn a_get_without_an_id_that_is_no_websocket_upgrade_gets_400() {
    let hub = TestHub::start().await;
    let (status, _) = hub.get("/hub").await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn negotiate_turns_stateful_reconnect_on_when_asked() {
    let hub = TestHub::start().await;
    let (status, body) = hub
        .post(
            "/hub/negotiate?negotiateVersion=1&useStatefulReconnect=true",
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["useStatefulReconnect"], true);
}
