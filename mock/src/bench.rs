//! Benchmark support: `POST /control/burst`, a fast way to push many invocations.
//!
//! Owns the burst route only. Publishing 100,000 events one control request at a time costs
//! 100,000 HTTP round trips, which would measure the control API instead of the client; a burst
//! is one request that makes the hub send `count` invocations in a row through the same path
//! every event takes ([`Hub::send_to`], so faults and groups apply as usual). It touches no
//! other state and is used by `scripts/bench.sh` (the browser benchmarks in `bench/` and the
//! load generator `bench/loadgen`), never by the demo.
//!
//! | Request | Body | Answer |
//! | --- | --- | --- |
//! | `POST /control/burst` | `{ "target", "count", "payloadBytes"?, "group"? }` | `{ "sent": count, "recipients": n, "elapsedMs": ms }` |
//!
//! Each invocation's one argument is a `JobAssigned`-shaped object whose `jobId` carries the
//! message's number (`{ "jobId": "job-<i>", "region", "contractorId", "assignedAt" }`, i from
//! 0); with `payloadBytes` a `padding` string is added so the argument's JSON is at least that
//! long. `group` limits the burst to that group's members (everyone when absent). `count` is 1
//! to 1,000,000 and `payloadBytes` at most 65,536, so a burst stays bounded.
//!
//! The hub queues each message for each recipient's transport as fast as it can encode them,
//! yielding to the runtime every few hundred messages so the sockets drain while it queues; the
//! answer comes once every message is queued (a connection's queue is unbounded, so its socket
//! takes them at its own pace and clients count what they receive). Test it with
//! `cargo test -p hubwire-mock` (the unit tests below).

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use hubwire::protocol::{HubMessage, RawJson};
use serde::Deserialize;
use serde_json::json;

use crate::hub::{Audience, Hub};
use crate::stamp::now_iso8601;
use crate::AppState;

/// The most invocations one burst may send.
const MAX_COUNT: u32 = 1_000_000;
/// The largest padded argument a burst may ask for.
const MAX_PAYLOAD_BYTES: usize = 64 * 1024;
/// Messages queued between two yields to the runtime.
const YIELD_EVERY: u32 = 256;

/// The burst route, to be merged into the app.
pub fn routes() -> Router<AppState> {
    Router::new().route("/control/burst", post(burst))
}

/// Body of `POST /control/burst`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct BurstRequest {
    /// The client method to invoke.
    target: String,
    /// How many invocations to send.
    count: u32,
    /// Pad each argument to at least this many bytes of JSON.
    #[serde(default)]
    payload_bytes: Option<usize>,
    /// Only this group's members receive them; everyone when absent.
    #[serde(default)]
    group: Option<String>,
}

/// `POST /control/burst`: sends `count` invocations of `target` (see the module doc).
async fn burst(State(hub): State<Hub>, body: Bytes) -> Response {
    let request: BurstRequest = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(error) => return refuse(&format!("invalid request body: {error}")),
    };
    if let Err(message) = check(&request) {
        return refuse(&message);
    }
    let started = std::time::Instant::now();
    let assigned_at = now_iso8601();
    let padding = request.payload_bytes.unwrap_or(0);
    let mut recipients = 0;
    for index in 0..request.count {
        let message = HubMessage::Invocation {
            invocation_id: None,
            target: request.target.clone(),
            arguments: argument(index, &assigned_at, padding).into(),
            stream_ids: Vec::new(),
        };
        let audience = match &request.group {
            Some(group) => Audience::Group(group),
            None => Audience::All,
        };
        recipients = hub.send_to(audience, &message);
        if index % YIELD_EVERY == YIELD_EVERY - 1 {
            tokio::task::yield_now().await;
        }
    }
    Json(json!({
        "sent": request.count,
        "recipients": recipients,
        "elapsedMs": started.elapsed().as_secs_f64() * 1000.0,
    }))
    .into_response()
}

/// The limits of a burst request; an error message when it breaks one.
fn check(request: &BurstRequest) -> Result<(), String> {
    if request.target.is_empty() {
        return Err("'target' must not be empty".to_string());
    }
    if request.count == 0 || request.count > MAX_COUNT {
        return Err(format!("'count' must be 1 to {MAX_COUNT}"));
    }
    if request
        .payload_bytes
        .is_some_and(|bytes| bytes > MAX_PAYLOAD_BYTES)
    {
        return Err(format!(
            "'payloadBytes' must be at most {MAX_PAYLOAD_BYTES}"
        ));
    }
    Ok(())
}

/// The argument list of message `index`: one `JobAssigned`-shaped object, padded to at least
/// `min_bytes` of JSON.
fn argument(index: u32, assigned_at: &str, min_bytes: usize) -> RawJson {
    let object = format!(
        "{{\"jobId\":\"job-{index}\",\"region\":\"north-america\",\"contractorId\":\"contractor-1\",\"assignedAt\":\"{assigned_at}\"}}"
    );
    // `,"padding":""` adds 13 bytes before any padding character.
    let text = if min_bytes > object.len() {
        let pad = min_bytes.saturating_sub(object.len() + 13);
        format!(
            "[{},\"padding\":\"{}\"}}]",
            &object[..object.len() - 1],
            "x".repeat(pad)
        )
    } else {
        format!("[{object}]")
    };
    // Built from fixed text, digits and an ISO timestamp: always valid JSON.
    RawJson::parse(text).unwrap_or_else(|_| RawJson::empty_array())
}

/// A refused burst: 400 with `{ "error": message }`.
fn refuse(message: &str) -> Response {
    (StatusCode::BAD_REQUEST, Json(json!({ "error": message }))).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(count: u32, payload_bytes: Option<usize>) -> BurstRequest {
        BurstRequest {
            target: "JobAssigned".to_string(),
            count,
            payload_bytes,
            group: None,
        }
    }

    #[test]
    fn the_argument_is_a_numbered_job_assigned_object() {
        let value = argument(7, "2026-01-01T00:00:00.000Z", 0).to_value();
        assert_eq!(value[0]["jobId"], "job-7");
        assert_eq!(value[0]["contractorId"], "contractor-1");
        assert!(value[0].get("padding").is_none());
    }

    #[test]
    fn padding_brings_the_argument_to_the_asked_size() {
        for min in [150, 200, 1000] {
            let raw = argument(1, "2026-01-01T00:00:00.000Z", min);
            let object_len = raw.as_str().len() - 2; // without the list's brackets
            assert_eq!(object_len, min, "{min}");
        }
    }

    #[test]
    fn counts_and_sizes_outside_the_limits_are_refused() {
        assert!(check(&request(0, None)).is_err());
        assert!(check(&request(MAX_COUNT + 1, None)).is_err());
        assert!(check(&request(10, Some(MAX_PAYLOAD_BYTES + 1))).is_err());
        assert!(check(&request(100_000, Some(200))).is_ok());
    }
}
