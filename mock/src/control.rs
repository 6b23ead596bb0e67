//! The control API: JSON over HTTP under `/control`, for tests and the demo to steer the hub.
//!
//! Owns the routes, their request and response bodies and their error answers (400 with
//! `{ "error": "..." }`). Each route is a thin call into [`Hub`]; the behaviour lives there.
//! A later fault control (refuse WebSockets, refuse the next N connects, fail polls, send the
//! next event twice) is one more route here that sets a field of the hub's state.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use hubwire::protocol::{HubMessage, RawJson};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{json, Value};

use crate::hub::{Audience, ConnectionInfo, Hub};
use crate::log::LogEntry;

/// The control routes, to be merged into the app.
pub fn routes() -> Router<Hub> {
    Router::new()
        .route("/control/publish", post(publish))
        .route("/control/drop", post(drop_connections))
        .route("/control/close", post(close_connections))
        .route("/control/connections", get(connections))
        .route("/control/log", get(read_log).delete(clear_log))
}

/// Body of `POST /control/publish`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PublishRequest {
    /// The client method to invoke.
    target: String,
    /// Its arguments, a JSON array kept as sent (key order included); none when absent.
    #[serde(default)]
    arguments: Option<Box<RawValue>>,
    /// Only this group's members receive it; everyone when absent.
    #[serde(default)]
    group: Option<String>,
}

/// Body of `POST /control/close`; an empty body means a clean close.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct CloseRequest {
    /// The error the Close message carries.
    #[serde(default)]
    error: Option<String>,
    /// Whether the Close message lets the client reconnect.
    #[serde(default)]
    allow_reconnect: bool,
}

/// A refused control request: answered with 400 and `{ "error": ... }`.
struct ControlError(String);

impl IntoResponse for ControlError {
    fn into_response(self) -> Response {
        (StatusCode::BAD_REQUEST, Json(json!({ "error": self.0 }))).into_response()
    }
}

/// Parses a required JSON body. The body is read as bytes rather than with axum's `Json`, so a
/// missing `Content-Type` is not an error and every failure gets the same JSON error shape.
fn required_body<T: DeserializeOwned>(body: &Bytes) -> Result<T, ControlError> {
    serde_json::from_slice(body)
        .map_err(|error| ControlError(format!("invalid request body: {error}")))
}

/// Parses an optional JSON body: empty means the defaults.
fn optional_body<T: DeserializeOwned + Default>(body: &Bytes) -> Result<T, ControlError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        Ok(T::default())
    } else {
        required_body(body)
    }
}

/// `POST /control/publish`: invokes `target` on every connection, or on one group's members.
/// Answers `{ "delivered": n }`.
async fn publish(State(hub): State<Hub>, body: Bytes) -> Result<Json<Value>, ControlError> {
    let request: PublishRequest = required_body(&body)?;
    if request.target.is_empty() {
        return Err(ControlError("'target' must not be empty".to_string()));
    }
    let arguments = match request.arguments {
        None => RawJson::empty_array(),
        Some(raw) if raw.get().starts_with('[') => RawJson::parse(raw.get())
            .map_err(|error| ControlError(format!("'arguments': {error}")))?,
        Some(_) => return Err(ControlError("'arguments' must be an array".to_string())),
    };
    let message = HubMessage::Invocation {
        invocation_id: None,
        target: request.target,
        arguments,
        stream_ids: Vec::new(),
    };
    let audience = match &request.group {
        Some(group) => Audience::Group(group),
        None => Audience::All,
    };
    Ok(Json(
        json!({ "delivered": hub.send_to(audience, &message) }),
    ))
}

/// `POST /control/drop`: cuts every connection with nothing sent. Answers `{ "dropped": n }`.
async fn drop_connections(State(hub): State<Hub>) -> Json<Value> {
    Json(json!({ "dropped": hub.drop_all() }))
}

/// `POST /control/close`: sends every connection a Close message, then closes it.
/// Answers `{ "closed": n }`.
async fn close_connections(
    State(hub): State<Hub>,
    body: Bytes,
) -> Result<Json<Value>, ControlError> {
    let request: CloseRequest = optional_body(&body)?;
    Ok(Json(
        json!({ "closed": hub.close_all(request.error, request.allow_reconnect) }),
    ))
}

/// `GET /control/connections`: the live hub connections.
async fn connections(State(hub): State<Hub>) -> Json<Vec<ConnectionInfo>> {
    Json(hub.connections())
}

/// `GET /control/log`: what the hub received, oldest first.
async fn read_log(State(hub): State<Hub>) -> Json<Vec<LogEntry>> {
    Json(hub.log_entries())
}

/// `DELETE /control/log`: empties the log. Answers `{ "cleared": n }`.
async fn clear_log(State(hub): State<Hub>) -> Json<Value> {
    Json(json!({ "cleared": hub.clear_log() }))
}
