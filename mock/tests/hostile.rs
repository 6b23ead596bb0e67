//! Hostile-server faults (`/control/faults`: `hostile`, `refuseAllConnects`, `closeResumes`):
//! what a client sees on the wire on each transport, and that the log counts every attempt
//! (negotiate, transport opened, handshake) so tests can count a client's reconnects.

mod support;

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use hubwire::protocol::handshake::{encode_response, HandshakeRequest};
use hubwire::protocol::HubMessage;
use hubwire_mock::{HubTimings, MockConfig};
use serde_json::{json, Value};
use support::{post_to_hub, EventStream, Sse, TestHub, WAIT};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// How long a transport must stay without a frame to count as silent. Several keep-alive
/// intervals and poll timeouts of [`hostile_hub`], so a leaked Ping or an early close shows.
const QUIET: Duration = Duration::from_millis(500);

/// The documented error of the `handshakeError` answer.
const HANDSHAKE_ERROR: &str = "The server refused the handshake (injected fault).";
/// The documented error of the `closeWithReconnectAfterHandshake` Close message.
const CLOSE_ERROR: &str = "Server closed the connection (injected fault).";

/// A hub that Pings every 100 ms and answers empty long polls after 100 ms, so silence is
/// observable quickly; its client timeout stays long so the hub never ends a quiet test itself.
async fn hostile_hub() -> TestHub {
    TestHub::start_with(MockConfig {
        timings: HubTimings {
            keep_alive: Duration::from_millis(100),
            long_poll_timeout: Duration::from_millis(100),
            ..HubTimings::default()
        },
        ..MockConfig::default()
    })
    .await
}

async fn set_faults(hub: &TestHub, body: Value) -> Value {
    let (status, answer) = hub.post("/control/faults", Some(body)).await;
    assert_eq!(status, 200, "{answer}");
    answer
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Transport {
    WebSockets,
    ServerSentEvents,
    LongPolling,
}

const TRANSPORTS: [Transport; 3] = [
    Transport::WebSockets,
    Transport::ServerSentEvents,
    Transport::LongPolling,
];

impl Transport {
    fn name(self) -> &'static str {
        match self {
            Transport::WebSockets => "WebSockets",
            Transport::ServerSentEvents => "ServerSentEvents",
            Transport::LongPolling => "LongPolling",
        }
    }
}

/// How a transport's stream of frames ended, as a client sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    /// Cleanly: a WebSocket close frame, an event stream that ended, a poll answered 204 (or
    /// 404 once the connection is gone).
    Closed,
    /// Without a clean end: the socket or response failed.
    Cut,
    /// It did not end: nothing arrived for [`QUIET`] and the transport is still open.
    Quiet,
}

/// A client of one transport, driven by hand with frames as raw text.
enum Wire {
    WebSockets(Box<WebSocketStream<MaybeTlsStream<TcpStream>>>),
    ServerSentEvents { events: EventStream, token: String },
    LongPolling { token: String },
}

/// One long poll: the status and body, or `None` when the response was cut.
async fn poll(hub: &TestHub, token: &str) -> Option<(u16, String)> {
    let response = hub
        .http()
        .get(hub.url(&format!("/hub?id={token}&_=1")))
        .send()
        .await
        .ok()?;
    let status = response.status().as_u16();
    Some((status, response.text().await.ok()?))
}

impl Wire {
    /// Opens `transport` for a connection token; the error is the HTTP status of a refusal.
    async fn open(hub: &TestHub, transport: Transport, token: &str) -> Result<Wire, u16> {
        match transport {
            Transport::WebSockets => {
                let connecting = tokio_tungstenite::connect_async(hub.socket_url(token));
                match tokio::time::timeout(WAIT, connecting)
                    .await
                    .expect("in time")
                {
                    Ok((socket, _)) => Ok(Wire::WebSockets(Box::new(socket))),
                    Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                        Err(response.status().as_u16())
                    }
                    Err(other) => panic!("WebSocket failed: {other}"),
                }
            }
            Transport::ServerSentEvents => Ok(Wire::ServerSentEvents {
                events: EventStream::open(hub, token).await?,
                token: token.to_string(),
            }),
            Transport::LongPolling => match poll(hub, token).await {
                Some((200, body)) if body.is_empty() => Ok(Wire::LongPolling {
                    token: token.to_string(),
                }),
                Some((status, _)) => Err(status),
                None => panic!("the first poll was cut"),
            },
        }
    }

    /// Sends the JSON version 1 handshake request.
    async fn send_handshake(&mut self, hub: &TestHub) {
        let handshake = HandshakeRequest::json(1).encode();
        match self {
            Wire::WebSockets(socket) => socket
                .send(Message::text(handshake))
                .await
                .expect("send the handshake"),
            Wire::ServerSentEvents { token, .. } | Wire::LongPolling { token } => {
                assert_eq!(post_to_hub(hub, token, &handshake).await, 200);
            }
        }
    }

    /// The next frame's text, or how the transport ended (or that it stayed quiet).
    async fn next(&mut self, hub: &TestHub) -> Result<String, End> {
        let deadline = tokio::time::Instant::now() + QUIET;
        match self {
            Wire::WebSockets(socket) => loop {
                let Ok(next) = tokio::time::timeout_at(deadline, socket.next()).await else {
                    return Err(End::Quiet);
                };
                match next {
                    Some(Ok(Message::Text(text))) => return Ok(text.to_string()),
                    Some(Ok(Message::Close(_))) => return Err(End::Closed),
                    Some(Ok(Message::Binary(_))) => panic!("the hub sent a binary frame"),
                    Some(Ok(_)) => continue,
                    Some(Err(_)) | None => return Err(End::Cut),
                }
            },
            Wire::ServerSentEvents { events, .. } => {
                match tokio::time::timeout_at(deadline, events.next()).await {
                    Err(_) => Err(End::Quiet),
                    Ok(Sse::Data(data)) => Ok(data),
                    Ok(Sse::Ended) => Err(End::Closed),
                    Ok(Sse::Failed) => Err(End::Cut),
                }
            }
            Wire::LongPolling { token } => loop {
                let Ok(answer) = tokio::time::timeout_at(deadline, poll(hub, token)).await else {
                    return Err(End::Quiet);
                };
                match answer {
                    // A poll timeout with nothing to send: poll again.
                    Some((200, body)) if body.is_empty() => continue,
                    Some((200, body)) => return Ok(body),
                    Some((204 | 404, _)) => return Err(End::Closed),
                    Some((status, body)) => panic!("unexpected poll answer {status}: {body}"),
                    None => return Err(End::Cut),
                }
            },
        }
    }

    /// Every frame's text, joined (transports may split or join records differently), until
    /// the transport ends or stays quiet; and how that was.
    async fn read_to_end(&mut self, hub: &TestHub) -> (String, End) {
        let mut text = String::new();
        loop {
            match self.next(hub).await {
                Ok(frame) => text.push_str(&frame),
                Err(end) => return (text, end),
            }
        }
    }
}

/// The log's entries about one connection, as their kinds.
fn kinds_for(log: &[Value], connection_id: &str) -> Vec<String> {
    log.iter()
        .filter(|entry| entry["connectionId"] == connection_id)
        .map(|entry| entry["kind"].as_str().unwrap().to_string())
        .collect()
}

/// One hostile handshake mode and everything a client must see under it.
struct Case {
    mode: &'static str,
    /// The frames' text the client receives, joined.
    frames: String,
    /// How the transport ends after them.
    end: End,
    /// The `answer` of the `handshake` log entry.
    answer: &'static str,
    /// The connection's log entries, as kinds.
    kinds: &'static [&'static str],
}

/// Runs `case` on every transport, two attempts each (two negotiates, two transports, two
/// handshakes), and checks the wire and the log for each attempt.
async fn run_case(case: Case) {
    for transport in TRANSPORTS {
        let hub = hostile_hub().await;
        set_faults(&hub, json!({ "hostile": case.mode })).await;
        for attempt in 1..=2 {
            let context = format!("{} on {} (attempt {attempt})", case.mode, transport.name());
            let (id, token) = hub.negotiate_token().await;
            let mut wire = Wire::open(&hub, transport, &token)
                .await
                .unwrap_or_else(|status| panic!("{context}: refused with {status}"));
            wire.send_handshake(&hub).await;
            hub.wait_for_log("handshake", &id).await;
            // An event published once the handshake was handled must not reach a silent (or
            // closed) connection either.
            hub.post(
                "/control/publish",
                Some(json!({ "target": "Tick", "arguments": [attempt] })),
            )
            .await;
            assert_eq!(
                wire.read_to_end(&hub).await,
                (case.frames.clone(), case.end),
                "{context}"
            );

            let log = hub.log().await;
            assert_eq!(kinds_for(&log, &id), case.kinds, "{context}: {log:#?}");
            let entry = |kind: &str| {
                log.iter()
                    .find(|entry| entry["kind"] == kind && entry["connectionId"] == id.as_str())
                    .cloned()
                    .unwrap()
            };
            let opened = entry("transportOpened");
            assert_eq!(opened["transport"], transport.name(), "{context}");
            assert_eq!(opened["resume"], false, "{context}");
            let handshake = entry("handshake");
            assert_eq!(handshake["transport"], transport.name(), "{context}");
            assert_eq!(handshake["answer"], case.answer, "{context}");
            if case.kinds.contains(&"disconnect") {
                assert_eq!(
                    entry("disconnect")["reason"],
                    "closed by fault",
                    "{context}"
                );
            }
        }
        let log = hub.log().await;
        let count = |kind: &str| log.iter().filter(|entry| entry["kind"] == kind).count();
        assert_eq!(
            [
                count("negotiate"),
                count("transportOpened"),
                count("handshake")
            ],
            [2, 2, 2],
            "{} on {}: every attempt counted",
            case.mode,
            transport.name()
        );
    }
}

#[tokio::test]
async fn close_before_handshake_closes_every_transport_without_an_answer() {
    run_case(Case {
        mode: "closeBeforeHandshake",
        frames: String::new(),
        end: End::Closed,
        answer: "none",
        kinds: &["negotiate", "transportOpened", "handshake"],
    })
    .await;
}

#[tokio::test]
async fn close_after_handshake_answers_then_closes_without_a_close_message() {
    run_case(Case {
        mode: "closeAfterHandshake",
        frames: "{}\u{1e}".into(),
        end: End::Closed,
        answer: "accepted",
        kinds: &[
            "negotiate",
            "transportOpened",
            "handshake",
            "connect",
            "disconnect",
        ],
    })
    .await;
}

#[tokio::test]
async fn never_answer_handshake_keeps_the_transport_open_and_silent() {
    run_case(Case {
        mode: "neverAnswerHandshake",
        frames: String::new(),
        end: End::Quiet,
        answer: "none",
        kinds: &["negotiate", "transportOpened", "handshake"],
    })
    .await;
}

#[tokio::test]
async fn handshake_error_answers_with_an_error_then_closes() {
    run_case(Case {
        mode: "handshakeError",
        frames: encode_response(Some(HANDSHAKE_ERROR)),
        end: End::Closed,
        answer: "error",
        kinds: &["negotiate", "transportOpened", "handshake"],
    })
    .await;
}

#[tokio::test]
async fn close_with_reconnect_sends_a_close_allowing_reconnect_after_the_answer() {
    let close = HubMessage::Close {
        error: Some(CLOSE_ERROR.into()),
        allow_reconnect: true,
    };
    run_case(Case {
        mode: "closeWithReconnectAfterHandshake",
        frames: format!("{{}}\u{1e}{}", close.encode()),
        end: End::Closed,
        answer: "accepted",
        kinds: &[
            "negotiate",
            "transportOpened",
            "handshake",
            "connect",
            "disconnect",
        ],
    })
    .await;
}

#[tokio::test]
async fn one_frame_then_silent_sends_only_the_answer_and_stays_open() {
    run_case(Case {
        mode: "oneFrameThenSilent",
        frames: "{}\u{1e}".into(),
        end: End::Quiet,
        answer: "accepted",
        kinds: &["negotiate", "transportOpened", "handshake", "connect"],
    })
    .await;
}

#[tokio::test]
async fn a_silent_connection_is_still_listed_and_still_closable() {
    let hub = hostile_hub().await;
    set_faults(&hub, json!({ "hostile": "oneFrameThenSilent" })).await;
    let (id, token) = hub.negotiate_token().await;
    let mut wire = Wire::open(&hub, Transport::WebSockets, &token)
        .await
        .unwrap();
    wire.send_handshake(&hub).await;
    assert_eq!(wire.next(&hub).await, Ok("{}\u{1e}".into()));
    assert_eq!(hub.connections().await[0]["connectionId"], id.as_str());
    let (status, _) = hub.post("/control/drop", None).await;
    assert_eq!(status, 200);
    assert_eq!(wire.next(&hub).await, Err(End::Cut));
}

#[tokio::test]
async fn refuse_all_connects_refuses_every_transport_every_time_until_cleared() {
    let hub = hostile_hub().await;
    let answer = set_faults(&hub, json!({ "refuseAllConnects": true })).await;
    assert_eq!(answer["refuseAllConnects"], true);
    for transport in TRANSPORTS {
        let (_, token) = hub.negotiate_token().await;
        for _ in 0..3 {
            assert_eq!(
                Wire::open(&hub, transport, &token).await.err(),
                Some(503),
                "{}",
                transport.name()
            );
        }
    }
    let log = hub.log().await;
    let refused: Vec<(&str, u64)> = log
        .iter()
        .filter(|entry| entry["kind"] == "refused")
        .map(|entry| {
            assert_eq!(entry["request"], "connect");
            (
                entry["transport"].as_str().unwrap(),
                entry["status"].as_u64().unwrap(),
            )
        })
        .collect();
    let expected: Vec<(&str, u64)> = TRANSPORTS
        .iter()
        .flat_map(|transport| [(transport.name(), 503); 3])
        .collect();
    assert_eq!(refused, expected);
    assert!(!log.iter().any(|entry| entry["kind"] == "transportOpened"));
    assert_eq!(
        hub.get("/control/faults").await.1["refuseConnects"],
        0,
        "the counter is untouched"
    );

    set_faults(&hub, json!({ "refuseAllConnects": false })).await;
    let (_, token) = hub.negotiate_token().await;
    let mut wire = Wire::open(&hub, Transport::WebSockets, &token)
        .await
        .expect("connects again");
    wire.send_handshake(&hub).await;
    assert_eq!(wire.next(&hub).await, Ok("{}\u{1e}".into()));
}

/// A stateful connection whose socket was dropped: the client and its connection token.
async fn dropped_stateful_connection(hub: &TestHub) -> (String, String) {
    let (client, token) = hub.connect_stateful().await;
    let id = client.connection_id.clone();
    let (status, _) = hub.post("/control/drop", None).await;
    assert_eq!(status, 200);
    hub.wait_for_log("transportLost", &id).await;
    (id, token)
}

#[tokio::test]
async fn close_resumes_accepts_each_resume_and_closes_it_before_sending_anything() {
    let hub = hostile_hub().await;
    let (id, token) = dropped_stateful_connection(&hub).await;
    assert_eq!(
        set_faults(&hub, json!({ "closeResumes": true })).await["closeResumes"],
        true
    );
    for attempt in 1..=2 {
        let mut wire = Wire::open(&hub, Transport::WebSockets, &token)
            .await
            .unwrap_or_else(|status| panic!("resume {attempt} refused with {status}"));
        assert_eq!(
            wire.read_to_end(&hub).await,
            (String::new(), End::Closed),
            "attempt {attempt}: a close frame, no Sequence"
        );
    }
    let connections = hub.connections().await;
    assert_eq!(connections[0]["connectionId"], id.as_str());
    assert_eq!(
        connections[0]["attached"], false,
        "still waiting to be resumed"
    );
    let log = hub.log().await;
    let resumes: Vec<&Value> = log
        .iter()
        .filter(|entry| entry["kind"] == "transportOpened" && entry["resume"] == true)
        .collect();
    assert_eq!(resumes.len(), 2, "{log:#?}");
    assert!(resumes
        .iter()
        .all(|entry| entry["connectionId"] == id.as_str() && entry["transport"] == "WebSockets"));
    assert!(!log.iter().any(|entry| entry["kind"] == "resumed"));

    hub.delete("/control/faults").await;
    let mut wire = Wire::open(&hub, Transport::WebSockets, &token)
        .await
        .expect("resumes once healed");
    let sequence = HubMessage::Sequence { sequence_id: 1 }.encode();
    assert_eq!(wire.next(&hub).await, Ok(sequence));
    hub.wait_for_log("resumed", &id).await;
}

#[tokio::test]
async fn a_healthy_resume_is_logged_as_a_resumed_transport_open() {
    let hub = hostile_hub().await;
    let (id, token) = dropped_stateful_connection(&hub).await;
    let _resumed = Wire::open(&hub, Transport::WebSockets, &token)
        .await
        .expect("resumes");
    hub.wait_for_log("resumed", &id).await;
    let log = hub.log().await;
    let tail: Vec<Value> = log
        .iter()
        .filter(|entry| entry["connectionId"] == id.as_str())
        .skip_while(|entry| entry["kind"] != "transportLost")
        .map(|entry| json!([entry["kind"], entry.get("resume")]))
        .collect();
    assert_eq!(
        tail,
        [
            json!(["transportLost", null]),
            json!(["transportOpened", true]),
            json!(["resumed", null])
        ]
    );
}

#[tokio::test]
async fn hostile_faults_show_in_get_and_are_cleared_by_null_or_delete() {
    let hub = hostile_hub().await;
    let healthy = hub.get("/control/faults").await.1;
    assert_eq!(healthy["hostile"], Value::Null);
    assert_eq!(healthy["closeResumes"], false);
    assert_eq!(healthy["refuseAllConnects"], false);
    let answer = set_faults(
        &hub,
        json!({ "hostile": "handshakeError", "closeResumes": true, "refuseAllConnects": true }),
    )
    .await;
    assert_eq!(answer, hub.get("/control/faults").await.1);
    assert_eq!(answer["hostile"], "handshakeError");
    let answer = set_faults(&hub, json!({ "hostile": null })).await;
    assert_eq!(answer["hostile"], Value::Null);
    assert_eq!(
        answer["closeResumes"], true,
        "null clears only the hostile mode"
    );
    let (_, healed) = hub.delete("/control/faults").await;
    assert_eq!(healed, healthy);
}

#[tokio::test]
async fn bad_hostile_fields_get_400_and_change_nothing() {
    let hub = hostile_hub().await;
    let before = hub.get("/control/faults").await.1;
    for body in [
        json!({ "hostile": "closeEverything" }),
        json!({ "hostile": "closebeforehandshake" }),
        json!({ "hostile": true }),
        json!({ "refuseAllConnects": true, "hostile": "nope" }),
        json!({ "closeResumes": "yes" }),
        json!({ "refuseAllConnects": 1 }),
    ] {
        let (status, answer) = hub.post("/control/faults", Some(body.clone())).await;
        assert_eq!(status, 400, "{body}");
        assert!(answer["error"].is_string(), "{answer}");
    }
    let (_, answer) = hub
        .post(
            "/control/faults",
            Some(json!({ "hostile": "closeEverything" })),
        )
        .await;
    let error = answer["error"].as_str().unwrap();
    assert!(
        error.contains("unknown hostile fault 'closeEverything'")
            && error.contains("oneFrameThenSilent"),
        "{error}"
    );
    assert_eq!(hub.get("/control/faults").await.1, before);
}
