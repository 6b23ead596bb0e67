//! Shared helpers for the mock hub's integration tests: start [`hubwire_mock::app`] on
//! 127.0.0.1:0 inside the test's runtime (it stops when the test ends), call the control API
//! over HTTP, and talk SignalR over a real WebSocket.
//!
//! Server frames are decoded with `hubwire::protocol`, the same functions the SDK uses. Every
//! wait is bounded by [`WAIT`], so a broken hub fails a test instead of hanging it.

#![allow(dead_code)] // Each test file uses a different subset of these helpers.

use axum::serve::ListenerExt as _;
use std::collections::VecDeque;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use hubwire::protocol::framing::DEFAULT_MAX_FRAME_BYTES;
use hubwire::protocol::handshake::HandshakeRequest;
use hubwire::protocol::message::parse_frame;
use hubwire::protocol::{Completion, HubMessage};
use hubwire_mock::{app, MockConfig};
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// The longest any single wait in a test may take.
pub const WAIT: Duration = Duration::from_secs(5);

/// A mock hub running inside the current test.
pub struct TestHub {
    /// `http://127.0.0.1:<port>` (no trailing slash).
    pub base: String,
    http: reqwest::Client,
}

impl TestHub {
    /// Starts a hub with the default configuration.
    pub async fn start() -> TestHub {
        TestHub::start_with(MockConfig::default()).await
    }

    /// Starts a hub with `config`.
    pub async fn start_with(config: MockConfig) -> TestHub {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let address = listener.local_addr().expect("local address");
        tokio::spawn(async move {
            let _ = axum::serve(listener.tap_io(hubwire_mock::send_without_delay), app(config)).await;
        });
        let http = reqwest::Client::builder()
            .no_proxy()
            .timeout(WAIT)
            .build()
            .expect("http client");
        TestHub {
            base: format!("http://{address}"),
            http,
        }
    }

    /// `POST /hub/negotiate`, with `?negotiateVersion=` when `version` is given; returns the
    /// status and the body (JSON, or the text as a JSON string).
    pub async fn negotiate(&self, version: Option<u32>, bearer: Option<&str>) -> (u16, Value) {
        let url = match version {
            Some(version) => format!("{}/hub/negotiate?negotiateVersion={version}", self.base),
            None => format!("{}/hub/negotiate", self.base),
        };
        let mut request = self.http.post(url);
        if let Some(token) = bearer {
            request = request.bearer_auth(token);
        }
        read(request).await
    }

    /// A GET on a path of this server.
    pub async fn get(&self, path: &str) -> (u16, Value) {
        read(self.http.get(format!("{}{path}", self.base))).await
    }

    /// A POST of a JSON body (none when `body` is `None`) to a path of this server.
    pub async fn post(&self, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut request = self.http.post(format!("{}{path}", self.base));
        if let Some(body) = body {
            request = request.json(&body);
        }
        read(request).await
    }

    /// The HTTP client the helpers use (no proxy, bounded by [`WAIT`]).
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// A full URL on this server.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Negotiates (version 1) and returns `(connectionId, connectionToken)`.
    pub async fn negotiate_token(&self) -> (String, String) {
        let (status, body) = self.negotiate(Some(1), None).await;
        assert_eq!(status, 200, "{body}");
        (
            body["connectionId"]
                .as_str()
                .expect("connectionId")
                .to_string(),
            body["connectionToken"]
                .as_str()
                .expect("connectionToken")
                .to_string(),
        )
    }

    /// Negotiates with stateful reconnect, opens the WebSocket and completes a version 2
    /// handshake; returns the client and its connection token (to resume with).
    pub async fn connect_stateful(&self) -> (HubClient, String) {
        let (status, negotiated) = self
            .post(
                "/hub/negotiate?negotiateVersion=1&useStatefulReconnect=true",
                None,
            )
            .await;
        assert_eq!(status, 200, "{negotiated}");
        assert_eq!(negotiated["useStatefulReconnect"], true);
        let token = negotiated["connectionToken"].as_str().unwrap().to_string();
        let mut client = HubClient::open(&self.socket_url(&token))
            .await
            .expect("WebSocket opens");
        client.connection_id = negotiated["connectionId"].as_str().unwrap().to_string();
        client.handshake_version(2).await;
        (client, token)
    }

    /// Waits until the log has an entry of `kind` for `connection_id`; returns it.
    pub async fn wait_for_log(&self, kind: &str, connection_id: &str) -> Value {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let found = self
                .log()
                .await
                .into_iter()
                .find(|entry| entry["kind"] == kind && entry["connectionId"] == connection_id);
            if let Some(entry) = found {
                return entry;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "no '{kind}' log entry for {connection_id}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// A DELETE on a path of this server.
    pub async fn delete(&self, path: &str) -> (u16, Value) {
        read(self.http.delete(format!("{}{path}", self.base))).await
    }

    /// The control API's list of connections.
    pub async fn connections(&self) -> Vec<Value> {
        let (status, body) = self.get("/control/connections").await;
        assert_eq!(status, 200, "{body}");
        body.as_array().cloned().expect("connections is an array")
    }

    /// The control API's event log.
    pub async fn log(&self) -> Vec<Value> {
        let (status, body) = self.get("/control/log").await;
        assert_eq!(status, 200, "{body}");
        body.as_array().cloned().expect("log is an array")
    }

    /// The WebSocket URL of the hub for a connection token.
    pub fn socket_url(&self, token: &str) -> String {
        format!("{}/hub?id={token}", self.base.replacen("http", "ws", 1))
    }

    /// Negotiates (version 1), opens the WebSocket and completes the JSON handshake.
    pub async fn connect(&self) -> HubClient {
        let (status, negotiated) = self.negotiate(Some(1), None).await;
        assert_eq!(status, 200, "{negotiated}");
        let token = negotiated["connectionToken"]
            .as_str()
            .expect("connectionToken");
        let mut client = HubClient::open(&self.socket_url(token))
            .await
            .expect("WebSocket opens");
        client.connection_id = negotiated["connectionId"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        client.handshake().await;
        client
    }

    /// Waits until `GET /control/connections` lists exactly `count` connections.
    pub async fn wait_for_connections(&self, count: usize) {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let connections = self.connections().await;
            if connections.len() == count {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "expected {count} connections: {connections:?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

async fn read(request: reqwest::RequestBuilder) -> (u16, Value) {
    let response = request.send().await.expect("request reaches the hub");
    let status = response.status().as_u16();
    let text = response.text().await.expect("response body");
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, body)
}

/// What a test client saw next on its socket.
#[derive(Debug)]
pub enum Received {
    /// A hub message.
    Message(HubMessage),
    /// A WebSocket close frame.
    CloseFrame(Option<CloseFrame>),
    /// The socket ended without a close frame (or failed).
    Ended,
}

/// A SignalR client over a real WebSocket, driven by hand.
pub struct HubClient {
    socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
    pending: VecDeque<HubMessage>,
    /// The connection id from negotiate.
    pub connection_id: String,
}

impl HubClient {
    /// Opens the WebSocket; the error is the HTTP status when the upgrade was refused.
    pub async fn open(url: &str) -> Result<HubClient, String> {
        let connecting = tokio_tungstenite::connect_async(url);
        match tokio::time::timeout(WAIT, connecting)
            .await
            .expect("connect in time")
        {
            Ok((socket, _)) => Ok(HubClient {
                socket,
                pending: VecDeque::new(),
                connection_id: String::new(),
            }),
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                Err(response.status().as_u16().to_string())
            }
            Err(other) => Err(other.to_string()),
        }
    }

    /// Sends raw text as one WebSocket text frame.
    pub async fn send_text(&mut self, text: &str) {
        self.socket
            .send(Message::text(text))
            .await
            .expect("send a frame");
    }

    /// Sends the JSON v1 handshake and expects the empty-object answer.
    pub async fn handshake(&mut self) {
        self.handshake_version(1).await;
    }

    /// Sends a JSON handshake of `version` and expects the empty-object answer.
    pub async fn handshake_version(&mut self, version: u32) {
        self.send_text(&HandshakeRequest::json(version).encode())
            .await;
        assert_eq!(
            self.next_text().await.as_deref(),
            Some("{}\u{1e}"),
            "handshake accepted"
        );
    }

    /// The next text frame as it came, or `None` if the socket closed or ended instead.
    pub async fn next_text(&mut self) -> Option<String> {
        loop {
            let next = tokio::time::timeout(WAIT, self.socket.next())
                .await
                .expect("a frame in time");
            match next {
                Some(Ok(Message::Text(text))) => return Some(text.to_string()),
                Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => continue,
                _ => return None,
            }
        }
    }

    /// The next thing on the socket, Pings included.
    pub async fn receive(&mut self) -> Received {
        loop {
            if let Some(message) = self.pending.pop_front() {
                return Received::Message(message);
            }
            let next = tokio::time::timeout(WAIT, self.socket.next())
                .await
                .expect("a frame in time");
            match next {
                Some(Ok(Message::Text(text))) => {
                    let messages = parse_frame(text.as_str(), DEFAULT_MAX_FRAME_BYTES)
                        .unwrap_or_else(|error| panic!("hub sent bad frame {text:?}: {error}"));
                    self.pending.extend(messages);
                }
                Some(Ok(Message::Close(frame))) => return Received::CloseFrame(frame),
                Some(Ok(Message::Binary(_))) => panic!("the hub sent a binary frame"),
                Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => {}
                Some(Err(_)) | None => return Received::Ended,
            }
        }
    }

    /// The next hub message that is not a Ping; panics on anything else.
    pub async fn next_message(&mut self) -> HubMessage {
        loop {
            match self.receive().await {
                Received::Message(HubMessage::Ping) => continue,
                Received::Message(message) => return message,
                other => panic!("expected a hub message, got {other:?}"),
            }
        }
    }

    /// Sends one hub message as its own frame.
    pub async fn send_message(&mut self, message: &HubMessage) {
        self.send_text(&message.encode()).await;
    }

    /// Closes the socket abruptly: no close frame, the TCP connection just goes.
    pub fn cut(self) {
        drop(self.socket);
    }

    /// Sends an Invocation; `invocation_id` `None` makes it a non-blocking `send`.
    pub async fn send_invocation(
        &mut self,
        invocation_id: Option<&str>,
        target: &str,
        arguments: Value,
    ) {
        let mut invocation = json!({ "type": 1, "target": target, "arguments": arguments });
        if let Some(id) = invocation_id {
            invocation["invocationId"] = json!(id);
        }
        self.send_text(&format!("{invocation}\u{1e}")).await;
    }

    /// Invokes `target` and returns its Completion, skipping other messages that arrive first
    /// (tests that care about those read messages themselves).
    pub async fn invoke(&mut self, target: &str, arguments: Value) -> Completion {
        let id = format!("inv-{}", next_invocation_number());
        self.send_invocation(Some(&id), target, arguments).await;
        loop {
            match self.next_message().await {
                HubMessage::Completion {
                    invocation_id,
                    completion,
                } if invocation_id == id => return completion,
                _ => continue,
            }
        }
    }

    /// Reads until the socket is closed or ends; returns the Close message seen on the way, if
    /// any, and whether a WebSocket close frame arrived.
    pub async fn read_to_end(&mut self) -> (Option<HubMessage>, bool) {
        let mut close = None;
        loop {
            match self.receive().await {
                Received::Message(message @ HubMessage::Close { .. }) => close = Some(message),
                Received::Message(_) => {}
                Received::CloseFrame(_) => return (close, true),
                Received::Ended => return (close, false),
            }
        }
    }
}

fn next_invocation_number() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// The JSON of a Completion's result, or a panic saying what came instead.
pub fn result_of(completion: Completion) -> Value {
    match completion {
        Completion::Result(result) => result.as_json().expect("a JSON result").to_value(),
        other => panic!("expected a result, got {other:?}"),
    }
}

/// The error text of a Completion, or a panic saying what came instead.
pub fn error_of(completion: Completion) -> String {
    match completion {
        Completion::Error(error) => error,
        other => panic!("expected an error, got {other:?}"),
    }
}

/// What an event-stream reader got next.
#[derive(Debug, PartialEq, Eq)]
pub enum Sse {
    /// One event's data (its `data:` lines joined with `\n`).
    Data(String),
    /// The response ended cleanly.
    Ended,
    /// The response failed (the connection was cut).
    Failed,
}

/// Reads a `text/event-stream` response event by event.
pub struct EventStream {
    response: reqwest::Response,
    buffer: String,
}

impl EventStream {
    /// Opens `GET /hub?id=<token>` with `Accept: text/event-stream`; the error is the status.
    pub async fn open(hub: &TestHub, token: &str) -> Result<EventStream, u16> {
        let response = reqwest::Client::builder()
            .no_proxy()
            .build()
            .expect("http client")
            .get(hub.url(&format!("/hub?id={token}")))
            .header("accept", "text/event-stream")
            .send()
            .await
            .expect("request reaches the hub");
        if response.status() != 200 {
            return Err(response.status().as_u16());
        }
        assert_eq!(
            response.headers()["content-type"],
            "text/event-stream",
            "event stream content type"
        );
        Ok(EventStream {
            response,
            buffer: String::new(),
        })
    }

    /// The next event with data (comments and empty events are skipped).
    pub async fn next(&mut self) -> Sse {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let data: Vec<&str> = block
                    .lines()
                    .filter_map(|line| line.strip_prefix("data: "))
                    .collect();
                if !data.is_empty() {
                    return Sse::Data(data.join("\n"));
                }
                continue;
            }
            let chunk = tokio::time::timeout(WAIT, self.response.chunk())
                .await
                .expect("an event in time");
            match chunk {
                Ok(Some(bytes)) => self.buffer.push_str(&String::from_utf8_lossy(&bytes)),
                Ok(None) => return Sse::Ended,
                Err(_) => return Sse::Failed,
            }
        }
    }

    /// The next event's hub messages, Pings skipped (an event with only Pings is skipped).
    pub async fn next_messages(&mut self) -> Vec<HubMessage> {
        loop {
            match self.next().await {
                Sse::Data(data) => {
                    let messages: Vec<HubMessage> = parse_frame(&data, DEFAULT_MAX_FRAME_BYTES)
                        .expect("the hub sends whole records")
                        .into_iter()
                        .filter(|message| *message != HubMessage::Ping)
                        .collect();
                    if !messages.is_empty() {
                        return messages;
                    }
                }
                other => panic!("expected an event, got {other:?}"),
            }
        }
    }
}

/// `POST /hub?id=<token>` with `body`; returns the status.
pub async fn post_to_hub(hub: &TestHub, token: &str, body: &str) -> u16 {
    hub.http()
        .post(hub.url(&format!("/hub?id={token}")))
        .body(body.to_string())
        .send()
        .await
        .expect("request reaches the hub")
        .status()
        .as_u16()
}
