//! Keeping connections honest: server Pings, the client timeout, and protocol errors.

mod support;

use std::time::Duration;

use hubwire::protocol::HubMessage;
use hubwire_mock::MockConfig;
use serde_json::json;
use support::{result_of, HubClient, Received, TestHub};

#[tokio::test]
async fn a_malformed_frame_gets_close_with_an_error_and_the_server_survives() {
    let hub = TestHub::start().await;
    let mut client = hub.connect().await;
    client.send_text("this is not json\u{1e}").await;
    let (close, close_frame) = client.read_to_end().await;
    match close {
        Some(HubMessage::Close {
            error: Some(error),
            allow_reconnect: false,
        }) => {
            assert!(
                error.starts_with("Connection closed with an error. InvalidDataException:"),
                "{error}"
            )
        }
        other => panic!("expected a Close with an error, got {other:?}"),
    }
    assert!(
        close_frame,
        "the socket is closed cleanly after the Close message"
    );

    let mut next = hub.connect().await;
    assert_eq!(
        result_of(next.invoke("Echo", json!(["still here"])).await),
        json!("still here")
    );
}

#[tokio::test]
async fn a_record_without_separator_is_a_protocol_error() {
    let hub = TestHub::start().await;
    let mut client = hub.connect().await;
    client.send_text("{\"type\":6}").await;
    assert!(matches!(
        client.read_to_end().await,
        (Some(HubMessage::Close { error: Some(_), .. }), _)
    ));
    let last = hub.log().await.pop().unwrap();
    assert!(
        last["reason"]
            .as_str()
            .unwrap()
            .starts_with("protocol error"),
        "{last}"
    );
}

#[tokio::test]
async fn the_server_pings_after_a_quiet_keep_alive_interval() {
    let config = MockConfig::with_timings(Duration::from_millis(100), Duration::from_secs(30));
    let hub = TestHub::start_with(config).await;
    // Taken before connecting: the server arms its Ping when it sends the handshake response,
    // which is later still, and tokio timers never fire early; so the full interval is a
    // lower bound by causality, whatever the scheduling delays, with no slack needed.
    let started = tokio::time::Instant::now();
    let mut client = hub.connect().await;
    assert!(matches!(
        client.receive().await,
        Received::Message(HubMessage::Ping)
    ));
    assert!(
        started.elapsed() >= Duration::from_millis(100),
        "not before the interval"
    );
}

#[tokio::test]
async fn no_ping_is_sent_before_the_handshake_completes() {
    let config = MockConfig::with_timings(Duration::from_millis(50), Duration::from_secs(30));
    let hub = TestHub::start_with(config).await;
    let (_, body) = hub.negotiate(Some(1), None).await;
    let mut client = HubClient::open(&hub.socket_url(body["connectionToken"].as_str().unwrap()))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    // The first thing on the wire must still be the handshake response.
    client.handshake().await;
}

#[tokio::test]
async fn a_silent_client_is_closed_after_the_client_timeout() {
    let config = MockConfig::with_timings(Duration::from_secs(30), Duration::from_millis(200));
    let hub = TestHub::start_with(config).await;
    // Taken before connecting: the silence is counted from the handshake request, later still.
    let started = tokio::time::Instant::now();
    let mut client = hub.connect().await;
    let (close, close_frame) = client.read_to_end().await;
    assert!(
        started.elapsed() >= Duration::from_millis(200),
        "not before the timeout"
    );
    assert!(
        matches!(
            close,
            Some(HubMessage::Close {
                error: Some(_),
                allow_reconnect: true
            })
        ),
        "{close:?}"
    );
    assert!(close_frame);
    let last = hub.log().await.pop().unwrap();
    assert_eq!(last["reason"], "client timeout");
}

#[tokio::test]
async fn client_pings_keep_a_connection_alive() {
    let config = MockConfig::with_timings(Duration::from_secs(30), Duration::from_millis(1000));
    let hub = TestHub::start_with(config).await;
    let mut client = hub.connect().await;
    // Silent for 1.5 s in total, never for more than 250 ms at a time.
    for _ in 0..6 {
        tokio::time::sleep(Duration::from_millis(250)).await;
        client.send_text("{\"type\":6}\u{1e}").await;
    }
    assert_eq!(result_of(client.invoke("Echo", json!([1])).await), json!(1));
}

#[tokio::test]
async fn a_client_close_message_ends_the_connection() {
    let hub = TestHub::start().await;
    let mut client = hub.connect().await;
    client.send_text("{\"type\":7}\u{1e}").await;
    assert_eq!(client.read_to_end().await, (None, true));
    hub.wait_for_connections(0).await;
    assert_eq!(hub.log().await.pop().unwrap()["reason"], "client closed");
}

#[tokio::test]
async fn each_client_ping_is_logged_with_its_connection() {
    let hub = TestHub::start().await;
    let mut client = hub.connect().await;
    let id = hub.connections().await[0]["connectionId"]
        .as_str()
        .unwrap()
        .to_string();
    for _ in 0..2 {
        client.send_text("{\"type\":6}\u{1e}").await;
    }
    // An Echo after the Pings: once it is answered, both Pings were handled.
    assert_eq!(result_of(client.invoke("Echo", json!([1])).await), json!(1));
    let pings: Vec<_> = hub
        .log()
        .await
        .into_iter()
        .filter(|entry| entry["kind"] == "ping")
        .collect();
    assert_eq!(pings.len(), 2, "{pings:?}");
    assert!(pings
        .iter()
        .all(|entry| entry["connectionId"] == id.as_str()));
}
