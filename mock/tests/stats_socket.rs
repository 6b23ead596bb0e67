//! The plain `/ws` stats WebSocket (not SignalR): `{ type, payload }` messages, initial stats on
//! connect, changes, drops and closes.

mod support;

use futures_util::StreamExt;
use hubwire_mock::MockConfig;
use serde_json::{json, Value};
use support::{TestHub, WAIT};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// What the socket delivered next.
#[derive(Debug, PartialEq)]
enum Next {
    Json(Value),
    Closed(Option<u16>),
    Ended,
}

async fn open(hub: &TestHub, query: &str) -> Result<Socket, u16> {
    let url = format!("{}/ws{query}", hub.base.replacen("http", "ws", 1));
    match tokio_tungstenite::connect_async(url).await {
        Ok((socket, _)) => Ok(socket),
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            Err(response.status().as_u16())
        }
        Err(other) => panic!("connect failed: {other}"),
    }
}

async fn next(socket: &mut Socket) -> Next {
    loop {
        let frame = tokio::time::timeout(WAIT, socket.next())
            .await
            .expect("a frame in time");
        return match frame {
            Some(Ok(Message::Text(text))) => Next::Json(serde_json::from_str(&text).unwrap()),
            Some(Ok(Message::Close(frame))) => Next::Closed(frame.map(|f| u16::from(f.code))),
            Some(Ok(_)) => continue,
            Some(Err(_)) | None => Next::Ended,
        };
    }
}

async fn next_json(socket: &mut Socket) -> Value {
    match next(socket).await {
        Next::Json(value) => value,
        other => panic!("expected a message, got {other:?}"),
    }
}

/// Opens a socket and reads past its three initial messages.
async fn open_settled(hub: &TestHub) -> Socket {
    let mut socket = open(hub, "").await.expect("opens");
    for _ in 0..3 {
        next_json(&mut socket).await;
    }
    socket
}

#[tokio::test]
async fn a_socket_gets_all_three_stats_on_connect() {
    let hub = TestHub::start().await;
    let mut socket = open(&hub, "").await.expect("opens");
    let mut types = Vec::new();
    for _ in 0..3 {
        let message = next_json(&mut socket).await;
        assert!(message["payload"]["updatedAt"].is_string(), "{message}");
        types.push(message["type"].as_str().unwrap().to_string());
    }
    assert_eq!(
        types,
        ["stats:tasks", "stats:approvals", "stats:conversations"]
    );
}

#[tokio::test]
async fn a_change_reaches_every_socket_and_the_poll() {
    let hub = TestHub::start().await;
    let mut first = open_settled(&hub).await;
    let mut second = open_settled(&hub).await;
    let (status, answer) = hub
        .post("/control/stats/tasks", Some(json!({ "open": 40 })))
        .await;
    assert_eq!((status, answer["delivered"].clone()), (200, json!(2)));
    let message = next_json(&mut first).await;
    assert_eq!(message["type"], "stats:tasks");
    assert_eq!(message["payload"]["open"], 40);
    assert_eq!(next_json(&mut second).await, message);
    assert_eq!(hub.get("/api/stats/tasks").await.1, message);
}

#[tokio::test]
async fn a_drop_ends_every_socket_without_a_close_frame() {
    let hub = TestHub::start().await;
    let mut socket = open_settled(&hub).await;
    let (_, answer) = hub.post("/control/ws/drop", None).await;
    assert_eq!(answer, json!({ "dropped": 1 }));
    assert_eq!(next(&mut socket).await, Next::Ended);
}

#[tokio::test]
async fn a_close_sends_code_1000_by_default() {
    let hub = TestHub::start().await;
    let mut socket = open_settled(&hub).await;
    hub.post("/control/ws/close", None).await;
    assert_eq!(next(&mut socket).await, Next::Closed(Some(1000)));
}

#[tokio::test]
async fn a_close_may_use_another_code() {
    let hub = TestHub::start().await;
    let mut socket = open_settled(&hub).await;
    hub.post(
        "/control/ws/close",
        Some(json!({ "code": 1012, "reason": "restart" })),
    )
    .await;
    assert_eq!(
        next(&mut socket).await,
        Next::Closed(Some(u16::from(CloseCode::Restart)))
    );
}

#[tokio::test]
async fn the_query_token_is_recorded() {
    let hub = TestHub::start().await;
    let _socket = open(&hub, "?access_token=abc").await.expect("opens");
    let (_, sockets) = hub.get("/control/ws/sockets").await;
    assert_eq!(sockets[0]["accessToken"], "abc");
    let connect = hub
        .log()
        .await
        .into_iter()
        .find(|entry| entry["kind"] == "statsConnect")
        .expect("logged");
    assert_eq!(connect["accessToken"], "abc");
}

#[tokio::test]
async fn in_auth_mode_a_socket_needs_the_token() {
    let hub = TestHub::start_with(MockConfig {
        auth_token: Some("s3cret".into()),
        ..MockConfig::default()
    })
    .await;
    assert_eq!(open(&hub, "").await.err(), Some(401));
    assert!(open(&hub, "?access_token=s3cret").await.is_ok());
}

#[tokio::test]
async fn unknown_stats_get_404() {
    let hub = TestHub::start().await;
    assert_eq!(hub.get("/api/stats/weather").await.0, 404);
    assert_eq!(hub.post("/control/stats/weather", None).await.0, 404);
}
