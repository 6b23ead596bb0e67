//! The Long Polling transport: the poll loop down, POSTs up, DELETE to end.

mod support;

use std::time::Duration;

use hubwire::protocol::framing::DEFAULT_MAX_FRAME_BYTES;
use hubwire::protocol::handshake::HandshakeRequest;
use hubwire::protocol::message::parse_frame;
use hubwire::protocol::{HubMessage, RawJson};
use hubwire_mock::{HubTimings, MockConfig};
use serde_json::json;
use support::{post_to_hub, TestHub};
use tokio::io::AsyncWriteExt;

/// One poll: the status and the body text, or `None` when the response was cut.
async fn poll(hub: &TestHub, token: &str) -> Option<(u16, String)> {
    let response = hub
        .http()
        .get(hub.url(&format!("/hub?id={token}&_=1")))
        .send()
        .await
        .ok()?;
    let status = response.status().as_u16();
    let text = response.text().await.ok()?;
    Some((status, text))
}

/// Negotiates, makes the first poll and completes the handshake.
async fn open(hub: &TestHub) -> (String, String) {
    let (id, token) = hub.negotiate_token().await;
    assert_eq!(poll(hub, &token).await, Some((200, String::new())));
    let handshake = HandshakeRequest::json(1).encode();
    assert_eq!(post_to_hub(hub, &token, &handshake).await, 200);
    assert_eq!(poll(hub, &token).await, Some((200, "{}\u{1e}".into())));
    (id, token)
}

fn tick(n: u32) -> serde_json::Value {
    json!({ "target": "Tick", "arguments": [n] })
}

#[tokio::test]
async fn the_first_poll_is_answered_at_once_without_data() {
    let hub = TestHub::start().await;
    let (_, token) = hub.negotiate_token().await;
    assert_eq!(poll(&hub, &token).await, Some((200, String::new())));
}

#[tokio::test]
async fn a_poll_carries_everything_queued_since_the_last_one() {
    let hub = TestHub::start().await;
    let (_, token) = open(&hub).await;
    hub.post("/control/publish", Some(tick(1))).await;
    hub.post("/control/publish", Some(tick(2))).await;
    let (status, body) = poll(&hub, &token).await.unwrap();
    assert_eq!(status, 200);
    let targets: Vec<RawJson> = parse_frame(&body, DEFAULT_MAX_FRAME_BYTES)
        .unwrap()
        .into_iter()
        .map(|message| match message {
            HubMessage::Invocation { arguments, .. } => arguments.as_json().cloned().unwrap(),
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(
        targets,
        vec![
            RawJson::parse("[1]").unwrap(),
            RawJson::parse("[2]").unwrap()
        ]
    );
}

#[tokio::test]
async fn the_connection_is_listed_with_its_transport() {
    let hub = TestHub::start().await;
    let (id, _) = open(&hub).await;
    let connections = hub.connections().await;
    assert_eq!(connections[0]["connectionId"], id.as_str());
    assert_eq!(connections[0]["transport"], "LongPolling");
}

#[tokio::test]
async fn an_idle_poll_is_answered_200_without_data_after_the_poll_timeout() {
    let hub = TestHub::start_with(MockConfig {
        timings: HubTimings {
            long_poll_timeout: Duration::from_millis(50),
            ..HubTimings::default()
        },
        ..MockConfig::default()
    })
    .await;
    let (_, token) = open(&hub).await;
    assert_eq!(poll(&hub, &token).await, Some((200, String::new())));
}

#[tokio::test]
async fn delete_ends_the_connection_and_its_pending_poll_gets_204() {
    let hub = TestHub::start().await;
    let (id, token) = open(&hub).await;
    let pending = tokio::spawn({
        let url = hub.url(&format!("/hub?id={token}"));
        let http = hub.http().clone();
        async move { http.get(url).send().await.unwrap().status().as_u16() }
    });
    wait_for_held_polls(&hub, 1).await;
    let deleted = hub
        .http()
        .delete(hub.url(&format!("/hub?id={token}")))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 202);
    assert_eq!(pending.await.unwrap(), 204);
    assert_eq!(
        hub.wait_for_log("disconnect", &id).await["reason"],
        "client closed"
    );
    assert_eq!(
        poll(&hub, &token).await.map(|(status, _)| status),
        Some(404)
    );
}

#[tokio::test]
async fn a_newer_poll_makes_the_older_one_answer_204() {
    let hub = TestHub::start().await;
    let (_, token) = open(&hub).await;
    let older = tokio::spawn({
        let url = hub.url(&format!("/hub?id={token}"));
        let http = hub.http().clone();
        async move { http.get(url).send().await.unwrap().status().as_u16() }
    });
    wait_for_held_polls(&hub, 1).await;
    let newer = tokio::spawn({
        let url = hub.url(&format!("/hub?id={token}"));
        let http = hub.http().clone();
        async move { http.get(url).send().await.unwrap().text().await.unwrap() }
    });
    assert_eq!(older.await.unwrap(), 204);
    hub.post("/control/publish", Some(tick(7))).await;
    assert!(newer.await.unwrap().contains("\"Tick\""));
}

#[tokio::test]
async fn a_drop_cuts_the_pending_poll() {
    let hub = TestHub::start().await;
    let (_, token) = open(&hub).await;
    let pending = tokio::spawn({
        let url = hub.url(&format!("/hub?id={token}"));
        let http = hub.http().clone();
        async move {
            match http.get(url).send().await {
                Ok(response) => response.text().await.is_err(),
                Err(_) => true,
            }
        }
    });
    wait_for_held_polls(&hub, 1).await;
    hub.post("/control/drop", None).await;
    assert!(pending.await.unwrap(), "the poll's response was cut");
    assert_eq!(
        poll(&hub, &token).await.map(|(status, _)| status),
        Some(404)
    );
}

#[tokio::test]
async fn a_post_while_another_is_in_progress_gets_409() {
    let hub = TestHub::start().await;
    let (_, token) = open(&hub).await;
    // A POST whose body never finishes keeps the first request in progress.
    let address = hub.base.trim_start_matches("http://").to_string();
    let mut slow = tokio::net::TcpStream::connect(&address).await.unwrap();
    let head = format!(
        "POST /hub?id={token} HTTP/1.1\r\nHost: {address}\r\nContent-Length: 100\r\n\r\n{{"
    );
    slow.write_all(head.as_bytes()).await.unwrap();
    let deadline = tokio::time::Instant::now() + support::WAIT;
    loop {
        let status = post_to_hub(&hub, &token, "{\"type\":6}\u{1e}").await;
        if status == 409 {
            break;
        }
        assert_eq!(status, 200);
        assert!(tokio::time::Instant::now() < deadline, "never saw 409");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn delete_on_a_websocket_connection_is_refused() {
    let hub = TestHub::start().await;
    let (_, token) = hub.negotiate_token().await;
    let mut client = support::HubClient::open(&hub.socket_url(&token))
        .await
        .unwrap();
    client.handshake().await;
    let status = hub
        .http()
        .delete(hub.url(&format!("/hub?id={token}")))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 400);
}

/// Waits until the hub holds exactly `count` polls of the (only) connection open.
async fn wait_for_held_polls(hub: &TestHub, count: usize) {
    let deadline = tokio::time::Instant::now() + support::WAIT;
    loop {
        let connections = hub.connections().await;
        if connections[0]["heldPolls"] == count {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "expected {count} held polls: {connections:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
