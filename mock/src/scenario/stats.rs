//! Task, approval and conversation stats, and the plain `/ws` WebSocket that carries them.
//!
//! Owns the [`Board`] of the three stats (their starting values, bumps and patches), their
//! `{ "type": "stats:<kind>", "payload": {...} }` messages, and the `/ws` endpoint: a plain
//! WebSocket with JSON text messages, no SignalR negotiate, handshake or framing. A socket gets
//! all three messages on connect, then every change; what the client sends is ignored. The
//! token may come as `?access_token=` (recorded; required to match in auth mode, else 401).
//! `/control/ws/*` drops the sockets abruptly or closes them with a close code, so clients can be
//! tested for reconnecting after a drop and not after a 1000 close.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use futures_util::{SinkExt, StreamExt};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tokio::sync::mpsc::{self, UnboundedReceiver, UnboundedSender};

use super::{merge_patch, Scenario};
use crate::log::LogEntry;
use crate::payloads::{ApprovalStats, ConversationStats, StatsMessage, TaskStats};
use crate::stamp::{iso8601_from_unix_millis, new_id, now_iso8601};

/// The three kinds of stats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatsKind {
    /// `stats:tasks`.
    Tasks,
    /// `stats:approvals`.
    Approvals,
    /// `stats:conversations`.
    Conversations,
}

impl StatsKind {
    /// All kinds, in the order a socket gets them on connect.
    pub const ALL: [StatsKind; 3] = [
        StatsKind::Tasks,
        StatsKind::Approvals,
        StatsKind::Conversations,
    ];

    /// The kind named by a path segment: `tasks`, `approvals` or `conversations`.
    pub fn from_path(segment: &str) -> Option<Self> {
        StatsKind::ALL
            .into_iter()
            .find(|kind| kind.segment() == segment)
    }

    fn segment(self) -> &'static str {
        match self {
            StatsKind::Tasks => "tasks",
            StatsKind::Approvals => "approvals",
            StatsKind::Conversations => "conversations",
        }
    }

    /// The message type on the wire, e.g. `stats:tasks`.
    pub fn message_type(self) -> String {
        format!("stats:{}", self.segment())
    }
}

/// The current stats.
#[derive(Debug)]
pub struct Board {
    tasks: TaskStats,
    approvals: ApprovalStats,
    conversations: ConversationStats,
    /// The last `updatedAt` handed out, in ms since the epoch (each change moves past it).
    updated_ms: i64,
    bumps: u32,
}

impl Board {
    /// Starting values at time `now` (ms since the epoch).
    pub fn new(now: i64) -> Self {
        let at = iso8601_from_unix_millis(now);
        Board {
            tasks: TaskStats {
                open: 12,
                completed_today: 3,
                overdue: 2,
                updated_at: at.clone(),
            },
            approvals: ApprovalStats {
                pending: 4,
                approved_today: 6,
                rejected_today: 1,
                updated_at: at.clone(),
            },
            conversations: ConversationStats {
                active: 5,
                unread: 9,
                updated_at: at,
            },
            updated_ms: now,
            bumps: 0,
        }
    }

    /// One kind as its `{ type, payload }` message.
    pub fn message(&self, kind: StatsKind) -> Value {
        let message_type = kind.message_type();
        let payload = match kind {
            StatsKind::Tasks => json!(self.tasks),
            StatsKind::Approvals => json!(self.approvals),
            StatsKind::Conversations => json!(self.conversations),
        };
        json!(StatsMessage {
            kind: message_type,
            payload,
        })
    }

    /// A plausible change of one kind.
    pub fn bump(&mut self, kind: StatsKind, now: i64) {
        self.bumps += 1;
        let at = self.next_stamp(now);
        let odd = self.bumps % 2 == 1;
        match kind {
            StatsKind::Tasks => {
                let tasks = &mut self.tasks;
                if odd || tasks.open == 0 {
                    tasks.open += 1;
                } else {
                    tasks.open -= 1;
                    tasks.completed_today += 1;
                }
                tasks.updated_at = at;
            }
            StatsKind::Approvals => {
                let approvals = &mut self.approvals;
                if odd || approvals.pending == 0 {
                    approvals.pending += 1;
                } else {
                    approvals.pending -= 1;
                    approvals.approved_today += 1;
                }
                approvals.updated_at = at;
            }
            StatsKind::Conversations => {
                let conversations = &mut self.conversations;
                conversations.unread = if odd {
                    conversations.unread + 2
                } else {
                    conversations.unread.saturating_sub(1)
                };
                conversations.active = 3 + self.bumps % 5;
                conversations.updated_at = at;
            }
        }
    }

    /// Sets the fields in `patch` (any of the kind's counts; not `updatedAt`).
    pub fn patch(&mut self, kind: StatsKind, patch: &Value, now: i64) -> Result<(), String> {
        const FIXED: &[&str] = &["updatedAt"];
        match kind {
            StatsKind::Tasks => self.tasks = merge_patch(&self.tasks, patch, FIXED)?,
            StatsKind::Approvals => self.approvals = merge_patch(&self.approvals, patch, FIXED)?,
            StatsKind::Conversations => {
                self.conversations = merge_patch(&self.conversations, patch, FIXED)?
            }
        }
        let at = self.next_stamp(now);
        match kind {
            StatsKind::Tasks => self.tasks.updated_at = at,
            StatsKind::Approvals => self.approvals.updated_at = at,
            StatsKind::Conversations => self.conversations.updated_at = at,
        }
        Ok(())
    }

    /// An `updatedAt` later than every one before it.
    fn next_stamp(&mut self, now: i64) -> String {
        self.updated_ms = now.max(self.updated_ms + 1);
        iso8601_from_unix_millis(self.updated_ms)
    }
}

/// What a socket's send task is asked to do.
#[derive(Debug)]
enum SocketItem {
    /// Send this JSON text.
    Text(String),
    /// Send a close frame with this code and reason, then end.
    Close(u16, String),
    /// End at once, no close frame.
    Abort,
}

/// The open `/ws` sockets.
#[derive(Default)]
pub struct Sockets {
    open: BTreeMap<String, StatsSocket>,
}

struct StatsSocket {
    access_token: Option<String>,
    outgoing: UnboundedSender<SocketItem>,
}

impl Sockets {
    /// Sends `text` to every socket; returns how many.
    pub fn broadcast(&self, text: &str) -> usize {
        self.open
            .values()
            .filter(|socket| {
                socket
                    .outgoing
                    .send(SocketItem::Text(text.to_string()))
                    .is_ok()
            })
            .count()
    }
}

/// One open socket as `GET /control/ws/sockets` shows it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct SocketInfo {
    socket_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    access_token: Option<String>,
}

impl Scenario {
    /// Opens a socket: queues the three stats messages first (under the lock, so no change
    /// can come between them and the socket's registration), then registers it.
    fn open_socket(&self, access_token: Option<String>) -> (String, UnboundedReceiver<SocketItem>) {
        let (outgoing, queue) = mpsc::unbounded_channel();
        let socket_id = new_id();
        {
            let mut state = self.state();
            for kind in StatsKind::ALL {
                let _ = outgoing.send(SocketItem::Text(state.stats.message(kind).to_string()));
            }
            state.sockets.open.insert(
                socket_id.clone(),
                StatsSocket {
                    access_token: access_token.clone(),
                    outgoing,
                },
            );
        }
        self.hub().record(LogEntry::StatsConnect {
            at: now_iso8601(),
            socket_id: socket_id.clone(),
            access_token,
        });
        (socket_id, queue)
    }

    fn close_socket(&self, socket_id: &str, reason: &str) {
        if self.state().sockets.open.remove(socket_id).is_some() {
            self.hub().record(LogEntry::StatsDisconnect {
                at: now_iso8601(),
                socket_id: socket_id.to_string(),
                reason: reason.to_string(),
            });
        }
    }

    /// Ends every socket with `item`; returns how many.
    fn end_sockets(&self, item: impl Fn() -> SocketItem, reason: &str) -> usize {
        let sockets = std::mem::take(&mut self.state().sockets.open);
        for (socket_id, socket) in &sockets {
            let _ = socket.outgoing.send(item());
            self.hub().record(LogEntry::StatsDisconnect {
                at: now_iso8601(),
                socket_id: socket_id.clone(),
                reason: reason.to_string(),
            });
        }
        sockets.len()
    }
}

/// The query of `/ws`.
#[derive(Debug, Deserialize)]
pub struct SocketQuery {
    access_token: Option<String>,
}

/// `GET /ws`: the plain stats WebSocket.
pub async fn socket(
    State(scenario): State<Scenario>,
    Query(query): Query<SocketQuery>,
    upgrade: WebSocketUpgrade,
) -> Response {
    if let Some(required) = scenario.hub().auth_token() {
        if query.access_token.as_deref() != Some(required.as_str()) {
            scenario.hub().log_unauthorized("connect");
            return (StatusCode::UNAUTHORIZED, "Unauthorized").into_response();
        }
    }
    upgrade.on_upgrade(move |socket| run(scenario, socket, query.access_token))
}

async fn run(scenario: Scenario, socket: WebSocket, access_token: Option<String>) {
    let (socket_id, mut queue) = scenario.open_socket(access_token);
    let (mut sink, mut stream) = socket.split();
    let sending = async {
        while let Some(item) = queue.recv().await {
            match item {
                SocketItem::Text(text) => {
                    if sink.send(Message::text(text)).await.is_err() {
                        return;
                    }
                }
                SocketItem::Close(code, reason) => {
                    let frame = CloseFrame {
                        code,
                        reason: reason.into(),
                    };
                    let _ = sink.send(Message::Close(Some(frame))).await;
                    return;
                }
                SocketItem::Abort => return,
            }
        }
    };
    // Whatever the client sends is read and ignored; its close or failure ends the socket.
    let receiving = async { while let Some(Ok(_)) = stream.next().await {} };
    tokio::select! {
        () = sending => {}
        () = receiving => {}
    }
    // A control drop or close has already removed and logged the socket.
    scenario.close_socket(&socket_id, "client closed");
}

/// Body of `POST /control/ws/close`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct CloseRequest {
    /// The close code (default 1000).
    #[serde(default)]
    code: Option<u16>,
    /// The close reason (default empty).
    #[serde(default)]
    reason: Option<String>,
}

/// `POST /control/ws/drop`: cuts every `/ws` socket, no close frame. `{ "dropped": n }`.
pub async fn drop_sockets(State(scenario): State<Scenario>) -> Json<Value> {
    Json(json!({ "dropped": scenario.end_sockets(|| SocketItem::Abort, "dropped by control") }))
}

/// `POST /control/ws/close` `{ code?, reason? }`: closes every `/ws` socket with a close frame
/// (code 1000 by default). `{ "closed": n }`.
pub async fn close_sockets(State(scenario): State<Scenario>, body: Bytes) -> Response {
    let request: CloseRequest = if body.iter().all(u8::is_ascii_whitespace) {
        CloseRequest::default()
    } else {
        match serde_json::from_slice(&body) {
            Ok(request) => request,
            Err(error) => {
                let error = format!("invalid request body: {error}");
                return (StatusCode::BAD_REQUEST, Json(json!({ "error": error }))).into_response();
            }
        }
    };
    let code = request.code.unwrap_or(1000);
    let reason = request.reason.unwrap_or_default();
    let closed = scenario.end_sockets(
        || SocketItem::Close(code, reason.clone()),
        &format!("closed by control ({code})"),
    );
    Json(json!({ "closed": closed })).into_response()
}

/// `GET /control/ws/sockets`: `[{ socketId, accessToken? }]`.
pub async fn list_sockets(State(scenario): State<Scenario>) -> Response {
    let sockets: Vec<SocketInfo> = scenario
        .state()
        .sockets
        .open
        .iter()
        .map(|(socket_id, socket)| SocketInfo {
            socket_id: socket_id.clone(),
            access_token: socket.access_token.clone(),
        })
        .collect();
    Json(sockets).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_772_357_400_000;

    #[test]
    fn messages_carry_the_type_and_the_payload() {
        let board = Board::new(NOW);
        assert_eq!(
            board.message(StatsKind::Approvals),
            json!({
                "type": "stats:approvals",
                "payload": { "pending": 4, "approvedToday": 6, "rejectedToday": 1,
                             "updatedAt": "2026-03-01T09:30:00.000Z" }
            })
        );
    }

    #[test]
    fn changes_move_updated_at_forward() {
        let mut board = Board::new(NOW);
        board.bump(StatsKind::Tasks, NOW);
        board
            .patch(StatsKind::Conversations, &json!({ "unread": 0 }), NOW)
            .unwrap();
        assert_eq!(
            board.message(StatsKind::Tasks)["payload"]["updatedAt"],
            "2026-03-01T09:30:00.001Z"
        );
        assert_eq!(
            board.message(StatsKind::Conversations)["payload"],
            json!({ "active": 5, "unread": 0, "updatedAt": "2026-03-01T09:30:00.002Z" })
        );
    }

    #[test]
    fn kinds_are_named_by_their_path_segment() {
        assert_eq!(StatsKind::from_path("tasks"), Some(StatsKind::Tasks));
        assert_eq!(StatsKind::from_path("stats:tasks"), None);
    }
}
