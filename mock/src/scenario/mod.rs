//! The dashboard scenario: state that apps can both poll over REST and receive as pushes, and
//! that changes in one step for both, so a client mixing the two can be checked for gaps,
//! duplicates and going backwards.
//!
//! Owns three pieces of state and every route around them:
//!
//! - obligations summaries per user ([`obligations`]): polled at
//!   `GET /api/obligations/<userId>`, pushed as `LongTermObligationsUpdated` to the hub group
//!   `user:<userId>` (joined with the hub method `JoinUserGroup`), changed by
//!   `POST /control/obligations/<userId>`;
//! - task, approval and conversation stats ([`stats`]): sent as `{ type, payload }` JSON
//!   messages on the plain WebSocket endpoint `/ws` (not SignalR; all three on connect, then
//!   each change), polled at `GET /api/stats/<kind>`, changed by `POST /control/stats/<kind>`;
//! - a flags document: `GET /api/flags`, changed by `POST /control/flags`.
//!
//! It also owns the poll faults (`failPolls`, `pollDelayMs` of `POST /control/faults`), which
//! perturb the two data polls (obligations and stats, not flags), and logs every poll and every
//! `/ws` socket in the hub's event log. Pushes go out through the [`Hub`] like any event (so
//! hub faults such as doubled events apply); the hub knows nothing of this module.

pub mod obligations;
pub mod stats;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use hubwire::protocol::{HubMessage, RawJson};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Map, Value};

use crate::hub::{Audience, Hub};
use crate::log::LogEntry;
use crate::payloads::ObligationsSummary;
use crate::stamp::{now_iso8601, now_unix_millis};
use crate::AppState;
use obligations::Book;
use stats::{Board, Sockets, StatsKind};

/// The flag dashboards read to decide between push and polling.
pub const SIGNALR_FLAG: &str = "dashboard_wave4_signalr_enabled";

/// The hub method that pushes obligations summaries.
pub const OBLIGATIONS_EVENT: &str = "LongTermObligationsUpdated";

/// The group of one user, where that user's obligations are pushed.
pub fn user_group(user_id: &str) -> String {
    format!("user:{user_id}")
}

/// A handle to the scenario; clones share it.
#[derive(Clone)]
pub struct Scenario {
    inner: Arc<Inner>,
}

/// A handle that does not keep the scenario alive (for the demo script).
#[derive(Clone)]
pub struct WeakScenario {
    inner: Weak<Inner>,
}

impl WeakScenario {
    /// The scenario, if it still exists.
    pub fn upgrade(&self) -> Option<Scenario> {
        self.inner.upgrade().map(|inner| Scenario { inner })
    }
}

struct Inner {
    hub: Hub,
    state: Mutex<ScenarioState>,
}

struct ScenarioState {
    obligations: Book,
    stats: Board,
    sockets: Sockets,
    flags: BTreeMap<String, bool>,
    poll_faults: PollFaults,
}

/// Faults of the data polls.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PollFaults {
    /// How many more polls get 500.
    pub fail_polls: u32,
    /// How long every poll waits before it is answered.
    pub poll_delay_ms: u64,
}

impl Scenario {
    /// A fresh scenario pushing through `hub`: no users yet, stats at their starting values,
    /// the SignalR flag on.
    pub fn new(hub: Hub) -> Self {
        let now = now_unix_millis();
        Scenario {
            inner: Arc::new(Inner {
                hub,
                state: Mutex::new(ScenarioState {
                    obligations: Book::default(),
                    stats: Board::new(now),
                    sockets: Sockets::default(),
                    flags: BTreeMap::from([(SIGNALR_FLAG.to_string(), true)]),
                    poll_faults: PollFaults::default(),
                }),
            }),
        }
    }

    /// A handle that does not keep the scenario alive.
    pub fn downgrade(&self) -> WeakScenario {
        WeakScenario {
            inner: Arc::downgrade(&self.inner),
        }
    }

    /// The hub the scenario pushes through.
    pub fn hub(&self) -> &Hub {
        &self.inner.hub
    }

    fn state(&self) -> MutexGuard<'_, ScenarioState> {
        // Plain data; a panic in one request must not wedge the others.
        self.inner
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    // --- obligations ------------------------------------------------------------------------

    /// A user's summary (made up on first sight).
    pub fn obligations(&self, user_id: &str) -> ObligationsSummary {
        self.state()
            .obligations
            .get_or_create(user_id, now_unix_millis())
    }

    /// Changes a user's summary (a `patch` of its fields, or a plausible change when `None`)
    /// and, when `push` is set, pushes it to `user:<userId>`. Returns the new summary and how
    /// many connections it was pushed to.
    pub fn change_obligations(
        &self,
        user_id: &str,
        patch: Option<&Value>,
        push: bool,
    ) -> Result<(ObligationsSummary, usize), String> {
        let summary = {
            let mut state = self.state();
            let now = now_unix_millis();
            match patch {
                Some(patch) => state.obligations.patch(user_id, patch, now)?,
                None => state.obligations.bump(user_id, now),
            }
        };
        let delivered = if push {
            let event = HubMessage::Invocation {
                invocation_id: None,
                target: OBLIGATIONS_EVENT.to_string(),
                arguments: RawJson::from_value(&[&summary]).into(),
                stream_ids: Vec::new(),
            };
            self.hub()
                .send_to(Audience::Group(&user_group(user_id)), &event)
        } else {
            0
        };
        Ok((summary, delivered))
    }

    /// The demo's change: a new summary, pushed, for every user the scenario knows (polled or
    /// changed before) or that has a connection in its group.
    pub fn bump_known_obligations(&self) {
        let mut users = self.state().obligations.users();
        for group in self.hub().groups() {
            if let Some(user_id) = group.strip_prefix("user:") {
                users.insert(user_id.to_string());
            }
        }
        for user_id in users {
            // A bump without a patch cannot fail.
            let _ = self.change_obligations(&user_id, None, true);
        }
    }

    // --- stats --------------------------------------------------------------------------------

    /// One kind of stats, as `{ type, payload }`.
    pub fn stats_message(&self, kind: StatsKind) -> Value {
        self.state().stats.message(kind)
    }

    /// Changes one kind of stats (a `patch` of its fields, or a plausible change when `None`)
    /// and sends it to every `/ws` socket. Returns the message and how many sockets got it.
    pub fn change_stats(
        &self,
        kind: StatsKind,
        patch: Option<&Value>,
    ) -> Result<(Value, usize), String> {
        let mut state = self.state();
        let now = now_unix_millis();
        match patch {
            Some(patch) => state.stats.patch(kind, patch, now)?,
            None => state.stats.bump(kind, now),
        }
        let message = state.stats.message(kind);
        let delivered = state.sockets.broadcast(&message.to_string());
        Ok((message, delivered))
    }

    /// The demo's change for tick `tick`: the next kind of stats in turn.
    pub fn bump_stats_in_turn(&self, tick: u64) {
        let kind = StatsKind::ALL[(tick % StatsKind::ALL.len() as u64) as usize];
        // A bump without a patch cannot fail.
        let _ = self.change_stats(kind, None);
    }

    // --- flags and poll faults ------------------------------------------------------------

    /// The flags document.
    pub fn flags(&self) -> BTreeMap<String, bool> {
        self.state().flags.clone()
    }

    /// Sets the given flags (others keep their values); returns the whole document.
    pub fn set_flags(&self, changes: BTreeMap<String, bool>) -> BTreeMap<String, bool> {
        let mut state = self.state();
        state.flags.extend(changes);
        state.flags.clone()
    }

    /// Changes the poll faults; returns them.
    pub fn update_poll_faults(&self, change: impl FnOnce(&mut PollFaults)) -> PollFaults {
        let mut state = self.state();
        change(&mut state.poll_faults);
        state.poll_faults
    }

    /// Applies the poll faults to one data poll: waits the configured delay, then says whether
    /// this poll must fail (using one failure up).
    async fn poll_gate(&self) -> bool {
        let delay = self.state().poll_faults.poll_delay_ms;
        if delay > 0 {
            tokio::time::sleep(Duration::from_millis(delay)).await;
        }
        let mut state = self.state();
        if state.poll_faults.fail_polls > 0 {
            state.poll_faults.fail_polls -= 1;
            true
        } else {
            false
        }
    }

    fn log_poll(&self, path: String, status: StatusCode) {
        self.hub().record(LogEntry::Poll {
            at: now_iso8601(),
            path,
            status: status.as_u16(),
        });
    }

    /// Answers a data poll: the poll faults first, then `answer`; logged either way.
    async fn data_poll(&self, path: String, answer: impl FnOnce() -> Response) -> Response {
        if self.poll_gate().await {
            self.log_poll(path, StatusCode::INTERNAL_SERVER_ERROR);
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                Json(json!({ "error": "poll failed (injected fault)" })),
            )
                .into_response();
        }
        let response = answer();
        self.log_poll(path, response.status());
        response
    }
}

/// The scenario's routes, to be merged into the app.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/obligations/{user_id}", get(poll_obligations))
        .route("/api/stats/{kind}", get(poll_stats))
        .route("/api/flags", get(read_flags))
        .route("/ws", get(stats::socket))
        .route("/control/obligations/{user_id}", post(change_obligations))
        .route("/control/stats/{kind}", post(change_stats))
        .route("/control/flags", get(read_flags_quietly).post(set_flags))
        .route("/control/ws/drop", post(stats::drop_sockets))
        .route("/control/ws/close", post(stats::close_sockets))
        .route("/control/ws/sockets", get(stats::list_sockets))
}

/// A refused scenario request: 400 (or 404) with `{ "error": ... }`.
fn refused(status: StatusCode, error: &str) -> Response {
    (status, Json(json!({ "error": error }))).into_response()
}

/// Reads an optional JSON object body: `None` when empty; the error says what is wrong.
fn optional_object(body: &Bytes) -> Result<Option<Map<String, Value>>, String> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(object)) => Ok(Some(object)),
        Ok(_) => Err("the body must be a JSON object".to_string()),
        Err(error) => Err(format!("invalid request body: {error}")),
    }
}

/// `GET /api/obligations/<userId>`: the user's summary (a data poll).
async fn poll_obligations(
    State(scenario): State<Scenario>,
    Path(user_id): Path<String>,
) -> Response {
    let path = format!("/api/obligations/{user_id}");
    scenario
        .data_poll(path, || {
            Json(scenario.obligations(&user_id)).into_response()
        })
        .await
}

/// `GET /api/stats/<kind>`: one kind of stats as `{ type, payload }` (a data poll).
async fn poll_stats(State(scenario): State<Scenario>, Path(kind): Path<String>) -> Response {
    let path = format!("/api/stats/{kind}");
    scenario
        .data_poll(path, || match StatsKind::from_path(&kind) {
            Some(kind) => Json(scenario.stats_message(kind)).into_response(),
            None => refused(
                StatusCode::NOT_FOUND,
                "no such stats: use tasks, approvals or conversations",
            ),
        })
        .await
}

/// `GET /api/flags`: the flags document (logged as a poll, never failed by poll faults).
async fn read_flags(State(scenario): State<Scenario>) -> Json<BTreeMap<String, bool>> {
    scenario.log_poll("/api/flags".to_string(), StatusCode::OK);
    Json(scenario.flags())
}

/// `GET /control/flags`: the flags document, not logged.
async fn read_flags_quietly(State(scenario): State<Scenario>) -> Json<BTreeMap<String, bool>> {
    Json(scenario.flags())
}

/// `POST /control/flags` `{ "<name>": bool, ... }`: sets flags; answers the document.
async fn set_flags(State(scenario): State<Scenario>, body: Bytes) -> Response {
    match serde_json::from_slice::<BTreeMap<String, bool>>(&body) {
        Ok(changes) => Json(scenario.set_flags(changes)).into_response(),
        Err(error) => refused(
            StatusCode::BAD_REQUEST,
            &format!("expected an object of boolean flags: {error}"),
        ),
    }
}

/// `POST /control/obligations/<userId>`: changes the user's summary and pushes it. The body is
/// optional: fields to set (`obligationsSummary` with any of its counts, `nextDueDate`,
/// `totalEstimate`) and `push` (default true; false changes the state without a push, as a
/// lost event would). Answers `{ "summary": {...}, "delivered": n }`.
async fn change_obligations(
    State(scenario): State<Scenario>,
    Path(user_id): Path<String>,
    body: Bytes,
) -> Response {
    let mut patch = match optional_object(&body) {
        Ok(patch) => patch,
        Err(error) => return refused(StatusCode::BAD_REQUEST, &error),
    };
    let push = match patch.as_mut().and_then(|patch| patch.remove("push")) {
        None => true,
        Some(Value::Bool(push)) => push,
        Some(_) => return refused(StatusCode::BAD_REQUEST, "'push' must be a boolean"),
    };
    let patch = patch.filter(|patch| !patch.is_empty()).map(Value::Object);
    match scenario.change_obligations(&user_id, patch.as_ref(), push) {
        Ok((summary, delivered)) => {
            Json(json!({ "summary": summary, "delivered": delivered })).into_response()
        }
        Err(error) => refused(StatusCode::BAD_REQUEST, &error),
    }
}

/// `POST /control/stats/<kind>`: changes one kind of stats (body: fields to set, optional) and
/// sends it to every `/ws` socket. Answers `{ "message": {...}, "delivered": n }`.
async fn change_stats(
    State(scenario): State<Scenario>,
    Path(kind): Path<String>,
    body: Bytes,
) -> Response {
    let Some(kind) = StatsKind::from_path(&kind) else {
        return refused(
            StatusCode::NOT_FOUND,
            "no such stats: use tasks, approvals or conversations",
        );
    };
    let patch = match optional_object(&body) {
        Ok(patch) => patch.filter(|patch| !patch.is_empty()).map(Value::Object),
        Err(error) => return refused(StatusCode::BAD_REQUEST, &error),
    };
    match scenario.change_stats(kind, patch.as_ref()) {
        Ok((message, delivered)) => {
            Json(json!({ "message": message, "delivered": delivered })).into_response()
        }
        Err(error) => refused(StatusCode::BAD_REQUEST, &error),
    }
}

/// Applies a partial JSON object to a value of `T`: nested objects are merged, other fields
/// replaced; the result must still be a valid `T` (unknown fields and wrong types are refused).
/// Fields named in `fixed` may not be changed.
fn merge_patch<T: Serialize + DeserializeOwned>(
    current: &T,
    patch: &Value,
    fixed: &[&str],
) -> Result<T, String> {
    let Value::Object(changes) = patch else {
        return Err("the changes must be a JSON object".to_string());
    };
    if let Some(field) = fixed.iter().find(|field| changes.contains_key(**field)) {
        return Err(format!("'{field}' cannot be set"));
    }
    let mut value = serde_json::to_value(current).map_err(|error| error.to_string())?;
    merge(&mut value, patch);
    serde_json::from_value(value).map_err(|error| format!("invalid change: {error}"))
}

fn merge(target: &mut Value, patch: &Value) {
    match (target, patch) {
        (Value::Object(target), Value::Object(patch)) => {
            for (key, value) in patch {
                match target.get_mut(key) {
                    Some(existing) if existing.is_object() && value.is_object() => {
                        merge(existing, value)
                    }
                    _ => {
                        target.insert(key.clone(), value.clone());
                    }
                }
            }
        }
        (target, patch) => *target = patch.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hub::HubTimings;
    use crate::payloads::ObligationCounts;

    #[tokio::test(start_paused = true)]
    async fn a_poll_delay_holds_each_poll_that_long() {
        let scenario = Scenario::new(Hub::new(HubTimings::default()));
        scenario.update_poll_faults(|faults| faults.poll_delay_ms = 300);
        let start = tokio::time::Instant::now();
        assert!(!scenario.poll_gate().await, "delayed, not failed");
        assert_eq!(start.elapsed(), Duration::from_millis(300));
    }

    #[tokio::test]
    async fn failing_polls_are_used_up_one_by_one() {
        let scenario = Scenario::new(Hub::new(HubTimings::default()));
        scenario.update_poll_faults(|faults| faults.fail_polls = 2);
        let outcomes = [
            scenario.poll_gate().await,
            scenario.poll_gate().await,
            scenario.poll_gate().await,
        ];
        assert_eq!(outcomes, [true, true, false]);
    }

    #[test]
    fn a_patch_merges_nested_objects_and_refuses_unknown_or_fixed_fields() {
        let counts = ObligationCounts {
            open: 1,
            overdue: 2,
            due_this_week: 3,
        };
        let wrapped = json!({ "counts": counts });
        let merged: Value =
            merge_patch(&wrapped, &json!({ "counts": { "open": 9 } }), &[]).unwrap();
        assert_eq!(
            merged["counts"],
            json!({ "open": 9, "overdue": 2, "dueThisWeek": 3 })
        );
        assert!(merge_patch(&counts, &json!({ "opne": 1 }), &[]).is_err());
        assert!(merge_patch(&counts, &json!({ "open": -1 }), &[]).is_err());
        assert!(merge_patch(&counts, &json!({ "open": 1 }), &["open"]).is_err());
    }
}
