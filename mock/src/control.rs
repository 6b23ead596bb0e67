//! The control API: JSON over HTTP under `/control`, for tests and the demo to steer the hub.
//!
//! Owns the routes, their request and response bodies and their error answers (400 with
//! `{ "error": "..." }`). Each route is a thin call into [`Hub`]; the behaviour lives there
//! (fault rules in [`crate::faults`]). The telemetry sink's routes are in [`crate::telemetry`].

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use hubwire::protocol::negotiate::TransportKind;
use hubwire::protocol::{Completion, HubMessage, RawJson};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;
use serde_json::{json, Value};

use crate::faults::{HostileHandshake, MethodFault, DEFAULT_METHOD_ERROR, MAX_NEGOTIATE_DELAY};
use crate::hub::{Audience, ConnectionInfo, Hub};
use crate::log::{DisconnectReason, LogEntry};
use crate::methods;
use crate::scenario::{PollFaults, Scenario};
use crate::stamp::new_id;
use crate::AppState;

/// How long `POST /control/invoke-client` waits for the client when the body says nothing.
const DEFAULT_CLIENT_RESULT_TIMEOUT: Duration = Duration::from_secs(10);
/// The longest it may be told to wait.
const MAX_CLIENT_RESULT_TIMEOUT: Duration = Duration::from_secs(120);

/// The control routes, to be merged into the app.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/control/publish", post(publish))
        .route("/control/drop", post(drop_connections))
        .route("/control/close", post(close_connections))
        .route("/control/connections", get(connections))
        .route("/control/log", get(read_log).delete(clear_log))
        .route(
            "/control/faults",
            get(read_faults).post(set_faults).delete(clear_faults),
        )
        .route("/control/invoke-client", post(invoke_client))
        .route("/control/auth", get(read_auth).post(set_auth))
        .route("/control/redirect", get(read_redirect).post(set_redirect))
}

/// Body of `POST /control/invoke-client`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct InvokeClientRequest {
    /// The connection to call; the newest one when absent.
    #[serde(default)]
    connection_id: Option<String>,
    /// The client method.
    target: String,
    /// Its arguments, a JSON array kept as sent; none when absent.
    #[serde(default)]
    arguments: Option<Box<RawValue>>,
    /// How long to wait for the answer (default 10 000, at most 120 000).
    #[serde(default)]
    timeout_ms: Option<u64>,
}

/// Body of `POST /control/auth`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct AuthRequest {
    /// A string: require it; `null`: require nothing; absent: leave as is.
    #[serde(default, deserialize_with = "present")]
    token: Option<Option<String>>,
    /// Require a fresh random token instead (the old one stops working).
    #[serde(default)]
    rotate: bool,
}

/// Body of `POST /control/redirect`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RedirectRequest {
    /// Redirect mode on or off.
    enabled: bool,
    /// The token the redirect hands out and `/hub2` requires; fresh when absent.
    #[serde(default)]
    access_token: Option<String>,
}

/// Deserializes a field that was present (even as `null`) into `Some`, so a missing field
/// (`None`, from `default`) and an explicit `null` (`Some(None)`) can be told apart.
fn present<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
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

/// Body of `POST /control/faults`: every field is optional; those present are applied, all or
/// none (a bad field refuses the whole request).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct FaultsRequest {
    /// Cut every live connection right after this many more messages are sent to it.
    drop_after_messages: Option<u32>,
    /// Cut every connection live this many milliseconds from now.
    drop_after_ms: Option<u64>,
    /// Answer the next N negotiates with 503.
    refuse_negotiations: Option<u32>,
    /// Answer the next N transport connects with 503.
    refuse_connects: Option<u32>,
    /// Transports to switch off (replaces the set; `[]` switches all back on).
    refuse_transports: Option<Vec<String>>,
    /// A hub method to answer with an error (adds a rule).
    fail_method: Option<MethodFaultRequest>,
    /// Send each of the next N events twice.
    duplicate_next_events: Option<u32>,
    /// Answer the next N data polls (`/api/obligations/*`, `/api/stats/*`) with 500.
    fail_polls: Option<u32>,
    /// Hold every data poll this long before answering (0 turns it off).
    poll_delay_ms: Option<u64>,
    /// `true`: every transport connect of a new connection gets 503 until cleared; `false`
    /// undoes it.
    refuse_all_connects: Option<bool>,
    /// A hostile handshake mode by name (see [`HostileHandshake`]); `null` switches it off.
    #[serde(default, deserialize_with = "present")]
    hostile: Option<Option<String>>,
    /// `true`: every WebSocket resuming a stateful connection is accepted and closed at once;
    /// `false` undoes it.
    close_resumes: Option<bool>,
    /// Hold every negotiate this long before answering it (0 turns it off; at most 60 000).
    negotiate_delay_ms: Option<u64>,
}

/// The `failMethod` field of [`FaultsRequest`].
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MethodFaultRequest {
    /// The hub method, any case.
    method: String,
    /// Only calls with this first argument fail.
    #[serde(default)]
    argument: Option<Value>,
    /// How many calls fail; all until cleared when absent.
    #[serde(default)]
    times: Option<u32>,
    /// The text after `HubException: `.
    #[serde(default)]
    error: Option<String>,
}

/// A refused control request: answered with 400 and `{ "error": ... }`.
struct ControlError(String);

impl IntoResponse for ControlError {
    fn into_response(self) -> Response {
        failure(StatusCode::BAD_REQUEST, &self.0)
    }
}

/// An answer with `status` and `{ "error": message }`.
fn failure(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "error": message }))).into_response()
}

/// A JSON array argument list, as sent; an empty one when absent.
fn argument_list(arguments: Option<Box<RawValue>>) -> Result<RawJson, ControlError> {
    match arguments {
        None => Ok(RawJson::empty_array()),
        Some(raw) if raw.get().starts_with('[') => {
            RawJson::parse(raw.get()).map_err(|error| ControlError(format!("'arguments': {error}")))
        }
        Some(_) => Err(ControlError("'arguments' must be an array".to_string())),
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
    let arguments = argument_list(request.arguments)?;
    let message = HubMessage::Invocation {
        invocation_id: None,
        target: request.target,
        arguments: arguments.into(),
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

/// `POST /control/drop`: cuts every connection's transport with nothing sent. Answers
/// `{ "dropped": n }`, the number of transports cut.
async fn drop_connections(State(hub): State<Hub>) -> Json<Value> {
    Json(json!({ "dropped": hub.drop_all(DisconnectReason::DroppedByControl) }))
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

/// The hub's faults and the scenario's poll faults as one document.
fn faults_view(mut hub_faults: Value, poll_faults: PollFaults) -> Value {
    hub_faults["failPolls"] = json!(poll_faults.fail_polls);
    hub_faults["pollDelayMs"] = json!(poll_faults.poll_delay_ms);
    hub_faults
}

/// `GET /control/faults`: the standing faults.
async fn read_faults(State(hub): State<Hub>, State(scenario): State<Scenario>) -> Json<Value> {
    Json(faults_view(
        hub.update_faults(|_| {}),
        scenario.update_poll_faults(|_| {}),
    ))
}

/// `POST /control/faults`: injects faults (see [`FaultsRequest`]). Answers the standing faults
/// as `GET` shows them, plus `armedConnections` when `dropAfterMessages` was given.
async fn set_faults(
    State(hub): State<Hub>,
    State(scenario): State<Scenario>,
    body: Bytes,
) -> Result<Json<Value>, ControlError> {
    let request: FaultsRequest = required_body(&body)?;
    // Everything is checked before anything is applied.
    let refused_transports = match &request.refuse_transports {
        None => None,
        Some(names) => Some(
            names
                .iter()
                .map(|name| {
                    TransportKind::from_name(name)
                        .ok_or_else(|| ControlError(format!("unknown transport '{name}'")))
                })
                .collect::<Result<Vec<_>, _>>()?,
        ),
    };
    let method_fault = match request.fail_method {
        None => None,
        Some(rule) => {
            let method = methods::canonical_name(&rule.method)
                .ok_or_else(|| ControlError(format!("unknown hub method '{}'", rule.method)))?;
            if rule.times == Some(0) {
                return Err(ControlError("'times' must be at least 1".to_string()));
            }
            Some(MethodFault {
                method: method.to_string(),
                argument: rule.argument,
                times: rule.times,
                error: rule
                    .error
                    .unwrap_or_else(|| DEFAULT_METHOD_ERROR.to_string()),
            })
        }
    };
    let hostile = match &request.hostile {
        None => None,
        Some(None) => Some(None),
        Some(Some(name)) => Some(Some(hostile_mode(name)?)),
    };
    let negotiate_delay = match request.negotiate_delay_ms.map(Duration::from_millis) {
        Some(delay) if delay > MAX_NEGOTIATE_DELAY => {
            return Err(ControlError(format!(
                "'negotiateDelayMs' must be at most {}",
                MAX_NEGOTIATE_DELAY.as_millis()
            )))
        }
        delay => delay,
    };
    let answer = hub.update_faults(|faults| {
        if let Some(delay) = negotiate_delay {
            faults.negotiate_delay = delay;
        }
        if let Some(hostile) = hostile {
            faults.hostile = hostile;
        }
        if let Some(always) = request.refuse_all_connects {
            faults.refuse_all_connects = always;
        }
        if let Some(close) = request.close_resumes {
            faults.close_resumes = close;
        }
        if let Some(count) = request.refuse_negotiations {
            faults.refuse_negotiations = count;
        }
        if let Some(count) = request.refuse_connects {
            faults.refuse_connects = count;
        }
        if let Some(transports) = refused_transports {
            faults.refused_transports = transports;
        }
        if let Some(rule) = method_fault {
            faults.method_faults.push(rule);
        }
        if let Some(count) = request.duplicate_next_events {
            faults.duplicate_next_events = count;
        }
    });
    let poll_faults = scenario.update_poll_faults(|faults| {
        if let Some(count) = request.fail_polls {
            faults.fail_polls = count;
        }
        if let Some(delay) = request.poll_delay_ms {
            faults.poll_delay_ms = delay;
        }
    });
    let mut answer = faults_view(answer, poll_faults);
    if let Some(count) = request.drop_after_messages {
        answer["armedConnections"] = json!(hub.drop_after_messages(count));
    }
    if let Some(delay) = request.drop_after_ms {
        hub.drop_after_delay(Duration::from_millis(delay));
    }
    Ok(Json(answer))
}

/// The hostile handshake mode called `name`, or a 400 listing the known names.
fn hostile_mode(name: &str) -> Result<HostileHandshake, ControlError> {
    HostileHandshake::from_name(name).ok_or_else(|| {
        let known: Vec<&str> = HostileHandshake::ALL
            .iter()
            .map(|mode| mode.name())
            .collect();
        ControlError(format!(
            "unknown hostile fault '{name}' (expected one of {}, or null)",
            known.join(", ")
        ))
    })
}

/// `DELETE /control/faults`: no standing faults, no pending delayed drop, no poll faults.
async fn clear_faults(State(hub): State<Hub>, State(scenario): State<Scenario>) -> Json<Value> {
    let poll_faults = scenario.update_poll_faults(|faults| *faults = PollFaults::default());
    Json(faults_view(hub.clear_faults(), poll_faults))
}

/// `POST /control/invoke-client`: the hub invokes a client method with an invocation id and
/// waits for the client's Completion. Answers 200 with `{ "result": value }` (the client's
/// value as sent; `null` for a void Completion) or `{ "error": text }` (the client's error),
/// 404 when there is no such connection, 502 when the connection ended first, 504 when the
/// client did not answer in time.
async fn invoke_client(State(hub): State<Hub>, body: Bytes) -> Response {
    let request: InvokeClientRequest = match required_body(&body) {
        Ok(request) => request,
        Err(error) => return error.into_response(),
    };
    if request.target.is_empty() {
        return ControlError("'target' must not be empty".to_string()).into_response();
    }
    let arguments = match argument_list(request.arguments) {
        Ok(arguments) => arguments,
        Err(error) => return error.into_response(),
    };
    let wait = request
        .timeout_ms
        .map_or(DEFAULT_CLIENT_RESULT_TIMEOUT, Duration::from_millis)
        .min(MAX_CLIENT_RESULT_TIMEOUT);
    let Ok((invocation_id, answer)) =
        hub.call_client(request.connection_id.as_deref(), &request.target, arguments)
    else {
        return failure(StatusCode::NOT_FOUND, "no such connection");
    };
    match tokio::time::timeout(wait, answer).await {
        // The client's value goes back exactly as it sent it.
        Ok(Ok(Completion::Result(value))) => (
            [(axum::http::header::CONTENT_TYPE, "application/json")],
            format!("{{\"result\":{}}}", value.as_json().map_or("null", RawJson::as_str)),
        )
            .into_response(),
        Ok(Ok(Completion::Void)) => Json(json!({ "result": null })).into_response(),
        Ok(Ok(Completion::Error(error))) => Json(json!({ "error": error })).into_response(),
        Ok(Err(_)) => failure(
            StatusCode::BAD_GATEWAY,
            "the connection ended before the client answered",
        ),
        Err(_) => {
            hub.forget_client_call(&invocation_id);
            failure(
                StatusCode::GATEWAY_TIMEOUT,
                &format!("the client did not answer within {} ms", wait.as_millis()),
            )
        }
    }
}

/// `GET /control/auth`: `{ "token": the token /hub requires, or null }`.
async fn read_auth(State(hub): State<Hub>) -> Json<Value> {
    Json(json!({ "token": hub.auth_token() }))
}

/// `POST /control/auth`: switches auth mode (see [`AuthRequest`]); answers like `GET`.
/// Connections already open stay open when the token changes.
async fn set_auth(State(hub): State<Hub>, body: Bytes) -> Result<Json<Value>, ControlError> {
    let request: AuthRequest = optional_body(&body)?;
    match (request.rotate, request.token) {
        (true, Some(_)) => {
            return Err(ControlError(
                "give either 'token' or 'rotate', not both".to_string(),
            ))
        }
        (true, None) => hub.set_auth_token(Some(new_id())),
        (false, Some(Some(token))) if token.is_empty() => {
            return Err(ControlError("'token' must not be empty".to_string()))
        }
        (false, Some(token)) => hub.set_auth_token(token),
        (false, None) => {}
    }
    Ok(Json(json!({ "token": hub.auth_token() })))
}

/// `GET /control/redirect`: `{ "enabled", "accessToken"? }`.
async fn read_redirect(State(hub): State<Hub>) -> Json<Value> {
    Json(redirect_view(&hub))
}

/// `POST /control/redirect`: switches redirect mode; answers like `GET`.
async fn set_redirect(State(hub): State<Hub>, body: Bytes) -> Result<Json<Value>, ControlError> {
    let request: RedirectRequest = required_body(&body)?;
    let token = match (request.enabled, request.access_token) {
        (false, _) => None,
        (true, Some(token)) if token.is_empty() => {
            return Err(ControlError("'accessToken' must not be empty".to_string()))
        }
        (true, token) => Some(token.unwrap_or_else(new_id)),
    };
    hub.set_redirect_token(token);
    Ok(Json(redirect_view(&hub)))
}

fn redirect_view(hub: &Hub) -> Value {
    match hub.redirect_token() {
        Some(token) => json!({ "enabled": true, "accessToken": token }),
        None => json!({ "enabled": false }),
    }
}
