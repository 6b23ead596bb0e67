//! The telemetry sink: where clients POST their telemetry batches, and where tests read them.
//!
//! Owns `POST /api/telemetry` (a JSON array of event objects, or one object), the bounded store
//! and `GET` / `DELETE /control/telemetry`. Bodies are read as bytes whatever their
//! `Content-Type`: `navigator.sendBeacon` sends strings as `text/plain` and Blobs with the
//! Blob's type, and neither must be refused. Events are kept exactly as sent; this module does
//! not interpret them and touches no other state.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};

use crate::AppState;

/// Most events kept; the oldest are forgotten first.
pub const TELEMETRY_CAPACITY: usize = 10_000;

/// The stored telemetry events; clones share them.
#[derive(Clone, Default)]
pub struct TelemetrySink {
    events: Arc<Mutex<VecDeque<Value>>>,
}

impl TelemetrySink {
    /// Stores events in arrival order; returns how many were stored.
    pub fn store(&self, events: Vec<Value>) -> usize {
        let mut stored = self.events.lock().unwrap_or_else(PoisonError::into_inner);
        let count = events.len();
        for event in events {
            if stored.len() == TELEMETRY_CAPACITY {
                stored.pop_front();
            }
            stored.push_back(event);
        }
        count
    }

    /// Every stored event, oldest first.
    pub fn events(&self) -> Vec<Value> {
        let stored = self.events.lock().unwrap_or_else(PoisonError::into_inner);
        stored.iter().cloned().collect()
    }

    /// Forgets every event; returns how many there were.
    pub fn clear(&self) -> usize {
        let mut stored = self.events.lock().unwrap_or_else(PoisonError::into_inner);
        let count = stored.len();
        stored.clear();
        count
    }
}

/// The sink's routes, to be merged into the app.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/telemetry", post(receive))
        .route("/control/telemetry", get(read).delete(clear))
}

/// Why a telemetry body was refused.
#[derive(Debug, PartialEq, Eq)]
enum BatchError {
    NotJson(String),
    NotObjects,
}

impl IntoResponse for BatchError {
    fn into_response(self) -> Response {
        let error = match self {
            BatchError::NotJson(detail) => format!("the body is not JSON: {detail}"),
            BatchError::NotObjects => {
                "expected a JSON object or an array of JSON objects".to_string()
            }
        };
        (StatusCode::BAD_REQUEST, Json(json!({ "error": error }))).into_response()
    }
}

/// Reads a batch: an array of objects or a single object.
fn parse_batch(body: &[u8]) -> Result<Vec<Value>, BatchError> {
    let value: Value =
        serde_json::from_slice(body).map_err(|error| BatchError::NotJson(error.to_string()))?;
    let events = match value {
        Value::Array(events) => events,
        object @ Value::Object(_) => vec![object],
        _ => return Err(BatchError::NotObjects),
    };
    if events.iter().all(Value::is_object) {
        Ok(events)
    } else {
        Err(BatchError::NotObjects)
    }
}

/// `POST /api/telemetry`: stores a batch. Answers `{ "accepted": n }`.
async fn receive(
    State(sink): State<TelemetrySink>,
    body: Bytes,
) -> Result<Json<Value>, BatchError> {
    let events = parse_batch(&body)?;
    Ok(Json(json!({ "accepted": sink.store(events) })))
}

/// `GET /control/telemetry`: every stored event, oldest first, as sent.
async fn read(State(sink): State<TelemetrySink>) -> Json<Vec<Value>> {
    Json(sink.events())
}

/// `DELETE /control/telemetry`: forgets them. Answers `{ "cleared": n }`.
async fn clear(State(sink): State<TelemetrySink>) -> Json<Value> {
    Json(json!({ "cleared": sink.clear() }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_are_arrays_of_objects_or_one_object() {
        assert_eq!(
            parse_batch(br#"[{"type":"open"},{"type":"close"}]"#).map(|events| events.len()),
            Ok(2)
        );
        assert_eq!(parse_batch(br#"{"type":"open"}"#).map(|e| e.len()), Ok(1));
        assert_eq!(parse_batch(b"[1]"), Err(BatchError::NotObjects));
        assert_eq!(parse_batch(b"\"x\""), Err(BatchError::NotObjects));
        assert!(matches!(parse_batch(b"{nope"), Err(BatchError::NotJson(_))));
    }

    #[test]
    fn a_full_sink_forgets_its_oldest_event() {
        let sink = TelemetrySink::default();
        sink.store(
            (0..=TELEMETRY_CAPACITY)
                .map(|n| json!({ "n": n }))
                .collect(),
        );
        let events = sink.events();
        assert_eq!(events.len(), TELEMETRY_CAPACITY);
        assert_eq!(events[0], json!({ "n": 1 }));
    }
}
