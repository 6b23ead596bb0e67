//! `hubwire-mock`: a mock ASP.NET Core SignalR hub for hubwire's tests and demo. It speaks real
//! SignalR on the wire (through the `hubwire::protocol` functions the SDK itself uses) and
//! lets tests steer it over a small JSON control API.
//!
//! # Running
//!
//! ```text
//! cargo run -p hubwire-mock -- --port 0 --www www --pkg pkg
//! ```
//!
//! The first line on stdout is the base URL (`http://127.0.0.1:<port>/`); human-readable notes
//! follow. It binds 127.0.0.1 only. Flags:
//!
//! | Flag | Default | Meaning |
//! | --- | --- | --- |
//! | `--port N` | 0 | port on 127.0.0.1; 0 picks a free one |
//! | `--www DIR` | none | serve this folder at `/` (`index.html` for folders) |
//! | `--pkg DIR` | none | serve the built npm package at `/pkg/` (and its dependency `@msgpack/msgpack`'s ES modules from `DIR/../node_modules` at `/vendor/msgpack/`) |
//! | `--demo` | off | run the demo scenario (below) |
//! | `--auth-token TOKEN` | none | auth mode: `/hub` requires this bearer token (below) |
//! | `--redirect` | off | redirect mode: `/hub/negotiate` sends clients to `/hub2` (below) |
//! | `--cors-origin ORIGIN` | any | allow only this origin, with credentials; repeatable |
//! | `--keep-alive-ms N` | 15000 | send a Ping after this long without sending anything |
//! | `--client-timeout-ms N` | 30000 | close a connection whose client sent nothing this long |
//! | `--stateful-grace-ms N` | 15000 | keep a stateful-reconnect connection this long after its socket is lost |
//! | `--poll-timeout-ms N` | 90000 | answer a long poll with no data after this long |
//! | `--max-lifetime-secs N` | none | exit by itself after N seconds |
//! | `--exit-on-stdin-close` | off | exit when stdin reaches end of file |
//!
//! Tests spawn it with `--port 0 --exit-on-stdin-close --max-lifetime-secs N`, so it can never
//! outlive them. Without `--cors-origin`, CORS is permissive (the request's origin is
//! reflected, credentials and any requested headers allowed) so apps and test pages on other
//! origins can reach it. `GET /health` answers `{ "status": "ok", "connections": n }`.
//!
//! # The hub: `/hub`
//!
//! - `POST /hub/negotiate?negotiateVersion=1`: version 1 answer (`connectionId`,
//!   `connectionToken`, `negotiateVersion`, `availableTransports`); version 0 without the
//!   parameter. Offers `WebSockets`, `ServerSentEvents`, `LongPolling` in that order (minus
//!   transports a fault refuses), WebSockets and Long Polling with the Text and Binary formats,
//!   Server-Sent Events with Text. `useStatefulReconnect=true` in the
//!   query is answered with `"useStatefulReconnect": true`. The `Authorization: Bearer` token is
//!   recorded.
//! - `GET /hub?id=<token>` is, by the request: a WebSocket upgrade (without `id`: a new
//!   connection, skip negotiation); with `Accept: text/event-stream`, a Server-Sent Events
//!   stream (`data:` lines, a Ping after each keep-alive interval); otherwise a long poll (the
//!   first answered at once with 200 and no data; later ones with 200 and every queued record,
//!   200 and no data after the poll timeout, or 204 once the connection ended or a newer poll
//!   replaced it). Unknown or used tokens get 404, a GET without `id` that is no upgrade 400.
//!   The `access_token` query parameter (browsers) or an `Authorization: Bearer` header (Node
//!   clients) is recorded.
//! - `POST /hub?id=<token>`: the client's messages for Server-Sent Events and Long Polling
//!   (200; 404 for an unknown or ended connection; 409 while another POST is in progress; 405
//!   for a WebSocket connection). `DELETE /hub?id=<token>` ends a Long Polling connection (202;
//!   its pending poll gets 204).
//! - Handshake: the `json` or `messagepack` protocol, version 1 or 2; anything else gets an
//!   error handshake response (and so does `messagepack` on Server-Sent Events, which carries
//!   text only). A MessagePack connection's binary frames and bodies are translated to and from
//!   the JSON records the rest of the hub works with (`binary`).
//! - Stateful reconnect: after a negotiate with `useStatefulReconnect=true` and a version 2
//!   handshake over WebSockets, the hub numbers what it sends (Invocation, StreamItem,
//!   Completion, StreamInvocation, CancelInvocation), keeps it until the client Acks it, Acks
//!   what the client sends (once per frame) and drops the client's replayed duplicates (the
//!   last of them is Acked again, its first Ack may have been lost with the socket). When
//!   the socket is lost (or cut by `/control/drop` or a fault) the connection stays, detached,
//!   for the grace period; a WebSocket to `/hub?id=<same token>` resumes it: the hub sends
//!   `Sequence` with the first unacknowledged id and replays every unacknowledged message, and
//!   expects the client's own `Sequence` before its next messages. A second socket while one is
//!   attached gets 409; a connection not resumed in time ends ("not resumed within the grace
//!   period").
//! - The hub Pings after each keep-alive interval without traffic (WebSockets, Server-Sent
//!   Events) and closes clients silent for the client timeout (Close with an error and
//!   `allowReconnect: true`; for the HTTP transports any request counts, and a held long poll
//!   too). A malformed frame gets a Close message with the error, then the transport closes.
//! - Methods (names case-insensitive), the `methods` module has the table: `Echo(x)`,
//!   `Fail(message)`, `JoinWorkflow(id)`, `LeaveWorkflow(id)`, `SendMessage(text)`,
//!   `JoinDispatchGroup(region)`, `LeaveDispatchGroup(region)`, `JoinContractorGroup(id)`,
//!   `LeaveContractorGroup(id)`, `JoinUserGroup(userId)`, `LeaveUserGroup(userId)`,
//!   `Count(count, delayMs?)` (a stream: `0 … count-1`, one item
//!   every `delayMs`; CancelInvocation stops it with a Completion), `UploadSum(stream)` (an
//!   Invocation with one client stream of numbers; completes with their total when the stream
//!   completes). Groups: `workflow:<id>`, `dispatch:<region>`, `contractor:<id>`,
//!   `user:<userId>`. `Echo`
//!   answers with the argument's JSON text exactly as sent; methods without a return value
//!   complete with `"result": null`, as ASP.NET Core's do.
//!
//! # Modes: auth and redirect
//!
//! - Auth mode (`--auth-token`, or `POST /control/auth`): negotiate and every `/hub` request
//!   (upgrade, event stream, poll, POST, DELETE) must carry the token, as `Authorization:
//!   Bearer` or `access_token=`; otherwise 401 with `WWW-Authenticate: Bearer` (logged as
//!   `refused`). Connections already open survive a change of token.
//! - Redirect mode (`--redirect`, or `POST /control/redirect`): `/hub/negotiate` answers
//!   `{ "url": "http://<host>/hub2", "accessToken": <token> }`, as Azure SignalR Service does.
//!   `/hub2` is the same hub on a second path (same groups and events), and it requires exactly
//!   that token on every request (401 otherwise; when redirect mode is off it admits nobody).
//!   Connection tokens are good only on the path they were negotiated on.
//!
//! # Events and their payloads
//!
//! Each event is one client method invoked with one object argument ([`payloads`]):
//!
//! - `ReceiveMessage` `{ workflowId, connectionId, text, sentAt }`: sent by the hub to each
//!   `workflow:*` group of a `SendMessage` caller.
//! - `RecommendationReady` `{ jobId, region, contractorId, score, recommendedAt }`: published
//!   by tests and the demo, usually to `dispatch:<region>`.
//! - `JobAssigned` `{ jobId, region, contractorId, assignedAt }`: published by tests and the
//!   demo, usually to `dispatch:<region>` or `contractor:<contractorId>`.
//! - `LongTermObligationsUpdated` `{ userId, obligationsSummary: { open, overdue, dueThisWeek },
//!   nextDueDate, totalEstimate, updatedAt }`: pushed by the scenario to `user:<userId>`.
//!
//! Timestamps are ISO 8601 UTC strings (dates `YYYY-MM-DD`); `score` is a number from 0 to 1.
//!
//! # Dashboard scenario: `/api`, `/ws`
//!
//! State that changes in one step for polling and for push (the `scenario` module):
//!
//! - `GET /api/obligations/<userId>`: the user's obligations summary (made up on first sight,
//!   stable per user id). Every change (`POST /control/obligations/<userId>`, or the demo) gives
//!   it a later `updatedAt` and pushes it as `LongTermObligationsUpdated` to `user:<userId>`.
//! - `/ws`: a plain WebSocket (no SignalR) sending JSON text `{ "type": "stats:tasks" |
//!   "stats:approvals" | "stats:conversations", "payload": {...} }`: all three on connect, then
//!   each change. Payloads: tasks `{ open, completedToday, overdue, updatedAt }`, approvals
//!   `{ pending, approvedToday, rejectedToday, updatedAt }`, conversations `{ active, unread,
//!   updatedAt }`. `?access_token=` is recorded (and required in auth mode). The same messages
//!   poll at `GET /api/stats/<tasks|approvals|conversations>`.
//! - `GET /api/flags`: `{ "dashboard_wave4_signalr_enabled": true }` until changed.
//!
//! Obligations and stats GETs are data polls: the `failPolls` and `pollDelayMs` faults apply to
//! them. All three GETs are logged as `poll` entries.
//!
//! # Demo scenario (`--demo`)
//!
//! Every 2–3 s, for the next region in turn (`north-america`, `europe`, `asia-pacific`): a
//! `RecommendationReady` for a new job (`job-1001`, `job-1002`, …) to `dispatch:<region>`,
//! and a `JobAssigned` for that region's previously recommended job to `dispatch:<region>` and
//! `contractor:<contractorId>`. Contractors are `contractor-1`/`-2` (north-america), `-3`/`-4`
//! (europe), `-5`/`-6` (asia-pacific). Every third tick a bot (`connectionId: "demo-bot"`)
//! sends a `ReceiveMessage` to `workflow:wf-demo`. Every other tick, every user the scenario
//! knows (polled, changed, or with a member in `user:<userId>`) gets a new obligations summary;
//! every tick one of the three stats changes. Faults apply to these events as to any.
//!
//! # Control API: `/control` (JSON)
//!
//! | Request | Body | Answer |
//! | --- | --- | --- |
//! | `POST /control/publish` | `{ "target", "arguments"?: [..], "group"?: "dispatch:north" }` | `{ "delivered": n }`: arguments passed on as sent |
//! | `POST /control/drop` | none | `{ "dropped": n }`: every socket cut, nothing sent |
//! | `POST /control/close` | `{ "error"?: string, "allowReconnect"?: bool }` or none | `{ "closed": n }`: Close message, then close |
//! | `GET /control/connections` | | `[{ connectionId, transport, endpoint, groups, accessToken?, stateful, attached, unacknowledged, heldPolls? }]` |
//! | `GET /control/log` | | `[{ kind, at, ... }]` oldest first |
//! | `DELETE /control/log` | | `{ "cleared": n }` |
//! | `GET /control/faults` | | the standing faults (below) |
//! | `POST /control/faults` | any of the fields below | the standing faults, plus `armedConnections` when `dropAfterMessages` was given |
//! | `DELETE /control/faults` | | all standing faults off, a pending `dropAfterMs` cancelled |
//! | `POST /control/invoke-client` | `{ "connectionId"?, "target", "arguments"?: [..], "timeoutMs"?: 10000 }` | the hub invokes `target` with an invocation id on that connection (default: the newest) and waits: `{ "result": value }` or `{ "error": text }` from the client; 404 no such connection, 502 it closed first, 504 no answer in time |
//! | `GET /control/auth` | | `{ "token": string or null }`: what `/hub` requires |
//! | `POST /control/auth` | `{ "token": "t" }`, `{ "token": null }` (off) or `{ "rotate": true }` (a fresh random token) | like `GET` |
//! | `GET /control/redirect` | | `{ "enabled", "accessToken"? }` |
//! | `POST /control/redirect` | `{ "enabled": bool, "accessToken"?: string }` (fresh when absent) | like `GET` |
//! | `POST /control/obligations/<userId>` | none, or any of `{ "obligationsSummary": { "open"?, "overdue"?, "dueThisWeek"? }, "nextDueDate", "totalEstimate", "push": true }` | `{ "summary", "delivered": n }`: the summary changed (made-up change without fields), pushed unless `push` is false |
//! | `POST /control/stats/<kind>` | none, or any of the kind's counts | `{ "message", "delivered": n }`: changed and sent to every `/ws` socket |
//! | `GET /control/flags` | | the flags document (not logged) |
//! | `POST /control/flags` | `{ "<flag>": bool, ... }` | the whole document after the change |
//! | `POST /control/ws/drop` | none | `{ "dropped": n }`: every `/ws` socket cut, no close frame |
//! | `POST /control/ws/close` | `{ "code"?: 1000, "reason"?: "" }` or none | `{ "closed": n }`: close frame with that code |
//! | `GET /control/ws/sockets` | | `[{ socketId, accessToken? }]` |
//! | `GET /control/telemetry` | | every event POSTed to `/api/telemetry`, oldest first, as sent |
//! | `DELETE /control/telemetry` | | `{ "cleared": n }` |
//!
//! Log entry kinds: `negotiate` `{ connectionId, negotiateVersion, accessToken? }`,
//! `transportOpened` `{ connectionId, transport, resume }` (a transport let in: WebSocket
//! upgrade, event stream, first long poll, or with `resume: true` a WebSocket resuming a stateful
//! connection), `handshake` `{ connectionId, transport, answer: "accepted" | "error" | "none" }`
//! (a handshake request arrived, and what the hub sent back), `connect`
//! `{ connectionId, transport, accessToken? }` (after the handshake), `disconnect`
//! `{ connectionId, reason }`, `invocation` `{ connectionId, invocationId?, target, arguments }`,
//! `streamInvocation`, `ping` `{ connectionId }` (a Ping from the client), `refused` `{ request: "negotiate" | "connect" | "send" | "close",
//! transport?, status }` for requests a fault (503, 404) or auth mode (401) turned away,
//! `redirect` `{ url }`, for stateful reconnect `transportLost` `{ connectionId, reason }` and
//! `resumed` `{ connectionId }`, and for the scenario `poll` `{ path, status }`,
//! `statsConnect` `{ socketId, accessToken? }` and `statsDisconnect` `{ socketId, reason }`.
//! Bad request bodies get 400 with `{ "error": "..." }`.
//!
//! Counting a client's attempts: negotiates are `negotiate` plus `refused` with
//! `request: "negotiate"`; transport attempts are `transportOpened` (new ones with `resume:
//! false`, stateful resumes with `resume: true`) plus `refused` with `request: "connect"`;
//! handshakes are `handshake` entries.
//!
//! # Faults: `POST /control/faults`
//!
//! Every field is optional; a request applies all of its fields or, if any is invalid, none.
//! Counters are set (not added to); `GET` shows what is left of them.
//!
//! | Field | Effect |
//! | --- | --- |
//! | `dropAfterMessages: n` | each connection live now is cut (like `/control/drop`) right after n more Invocations, StreamItems or Completions are sent to it (Pings do not count; 0 cuts at once) |
//! | `dropAfterMs: ms` | every connection live ms from now is cut then (a later request replaces a pending one) |
//! | `refuseNegotiations: n` | the next n negotiates get 503 |
//! | `refuseConnects: n` | the next n transport connects (WebSocket upgrade, event stream, first long poll) get 503; the connection token stays usable |
//! | `refuseTransports: ["WebSockets", ...]` | those transports are left out of negotiate and a direct attempt gets 404 (`[]` switches them back on) |
//! | `failMethod: { method, argument?, times?, error? }` | calls of `method` (any case; with `argument`: only calls whose first argument equals it) are answered with `An unexpected error occurred invoking '<method>' on the server. HubException: <error>` (default `Injected failure`) and do nothing; `times` calls, or all until cleared. Adds a rule |
//! | `duplicateNextEvents: n` | the next n events (publishes, chat messages, scenario pushes) go to each recipient twice |
//! | `failPolls: n` | the next n data polls (`/api/obligations/*`, `/api/stats/*`) get 500 |
//! | `pollDelayMs: ms` | every data poll is held ms before it is answered (0 turns it off) |
//! | `refuseAllConnects: true` | every transport connect of a new connection gets 503 (like `refuseConnects`, without end) until `false` or cleared; resumes are not affected |
//! | `hostile: "<mode>"` | every new connection's handshake is mistreated, on every transport, once its request has arrived (modes below); `null` switches it off |
//! | `negotiateDelayMs: ms` | every negotiate is held ms before it is answered (0 turns it off; at most 60000), so a client's request timeout can cut it off |
//! | `closeResumes: true` | every WebSocket resuming a stateful connection is accepted and closed at once (close frame 1000, no SignalR frame, no `Sequence`); the connection stays detached and its grace period runs on; `false` undoes it |
//!
//! `hostile` modes (resumes have no handshake and are not affected):
//!
//! | Mode | The client sees |
//! | --- | --- |
//! | `closeBeforeHandshake` | no answer; the transport closes (close frame; event stream ends; the next poll gets 204) |
//! | `closeAfterHandshake` | `{}`, then the transport closes with no Close message (a connection for a moment: `connect`, then `disconnect` "closed by fault") |
//! | `neverAnswerHandshake` | nothing at all, no Pings; the transport stays open (long polls get 200 with no data at each poll timeout) until the client leaves or the hub's client timeout |
//! | `handshakeError` | `{"error":"The server refused the handshake (injected fault)."}`, then the transport closes |
//! | `closeWithReconnectAfterHandshake` | `{}`, then `{"type":7,"error":"Server closed the connection (injected fault).","allowReconnect":true}`, then the transport closes |
//! | `oneFrameThenSilent` | exactly one frame, the handshake answer `{}`; then nothing (no Pings, no messages: events sent to it are dropped), the transport stays open; it is listed as a connection and `/control/drop` or `/control/close` still end it |
//!
//! Drops are logged as `disconnect` with reason `dropped by fault`; refusals as `refused`;
//! connections a hostile mode closes as `disconnect` with reason `closed by fault`.
//!
//! # Telemetry sink: `POST /api/telemetry`
//!
//! Takes a JSON array of event objects or one object, whatever the `Content-Type` (a
//! `navigator.sendBeacon` string arrives as `text/plain`), answers `{ "accepted": n }` and keeps
//! the newest 10,000 for `GET /control/telemetry`. Anything else gets 400.
//!
//! # Layout
//!
//! - `main.rs`: flags, binding, lifetime. [`app`] builds everything else and is what tests use.
//! - `hub`: shared state (connections, groups, log, faults) and every cross-connection
//!   operation. `faults`: the standing faults and how each is used up.
//! - `session`: one connection's protocol decisions, transport-agnostic. `outbox`: one
//!   connection's way out (drop-after-N counting, stateful reconnect's sequence and replay).
//! - `transport`: the `/hub` routes and the transports (`websocket`, `sse`, `long_polling`).
//! - `credentials`: reading access tokens, and the guard that requires one on the hub paths.
//! - `methods`: the hub methods. `negotiate`, `control`: their HTTP routes.
//! - `payloads`, `log`: wire shapes of events and log entries. `credentials`, `stamp`: helpers.
//! - `scenario`: the dashboard state (obligations, stats and `/ws`, flags), its routes and poll
//!   faults. `demo`: the `--demo` script.
//! - `telemetry`: the telemetry sink and its routes.
//!
//! # Testing
//!
//! `cargo test -p hubwire-mock` runs unit tests and `mock/tests/`, which start [`app`] on
//! 127.0.0.1:0 inside the test and talk to it with real HTTP and WebSocket clients.
//! `node --test tests/js/official-*.test.mjs` runs the official `@microsoft/signalr` client
//! against the built binary: on each transport, with stateful reconnect, faults and modes.

use std::path::PathBuf;
use std::time::Duration;

use axum::extract::{FromRef, State};
use axum::http::{HeaderValue, Method};
use axum::middleware::from_fn_with_state;
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use serde_json::{json, Value};
use tower_http::cors::{AllowHeaders, AllowOrigin, CorsLayer};
use tower_http::services::ServeDir;

pub mod payloads;

mod bench;
mod binary;
mod control;
mod credentials;
mod demo;
mod faults;
mod hub;
mod log;
mod methods;
mod negotiate;
mod outbox;
mod scenario;
mod session;
mod stamp;
mod telemetry;
mod transport;

pub use demo::DemoConfig;
pub use hub::HubTimings;
pub use stamp::new_id as new_token;

use hub::{Endpoint, Hub};

/// Everything [`app`] needs.
#[derive(Debug, Clone, Default)]
pub struct MockConfig {
    /// Keep-alive, client timeout, stateful-reconnect grace, long-poll hold.
    pub timings: HubTimings,
    /// Folder served at `/`, if any.
    pub www_dir: Option<PathBuf>,
    /// Folder served at `/pkg/`, if any.
    pub pkg_dir: Option<PathBuf>,
    /// Run the demo scenario with these intervals (`--demo`); off when `None`.
    pub demo: Option<DemoConfig>,
    /// Auth mode from the start: `/hub` requires this bearer token (`--auth-token`).
    pub auth_token: Option<String>,
    /// Redirect mode from the start: negotiate sends clients to `/hub2` with this token
    /// (`--redirect`).
    pub redirect_token: Option<String>,
    /// CORS: only these origins may call, with credentials (`--cors-origin`); empty means any
    /// origin (reflected).
    pub cors_origins: Vec<String>,
}

impl MockConfig {
    /// The default configuration with other keep-alive and client-timeout intervals.
    pub fn with_timings(keep_alive: Duration, client_timeout: Duration) -> Self {
        MockConfig {
            timings: HubTimings {
                keep_alive,
                client_timeout,
                ..HubTimings::default()
            },
            ..MockConfig::default()
        }
    }
}

/// The state every route shares; each handler extracts the part it needs.
#[derive(Clone)]
struct AppState {
    hub: Hub,
    scenario: scenario::Scenario,
    telemetry: telemetry::TelemetrySink,
}

impl FromRef<AppState> for scenario::Scenario {
    fn from_ref(state: &AppState) -> Self {
        state.scenario.clone()
    }
}

impl FromRef<AppState> for Hub {
    fn from_ref(state: &AppState) -> Self {
        state.hub.clone()
    }
}

impl FromRef<AppState> for telemetry::TelemetrySink {
    fn from_ref(state: &AppState) -> Self {
        state.telemetry.clone()
    }
}

/// The whole mock server: hub paths, control API, scenario, static folders and CORS, around a
/// fresh hub state.
///
/// With `config.demo` set it also starts the demo script on the current tokio runtime (so call
/// it inside one); the script stops by itself once the returned router is dropped.
pub fn app(config: MockConfig) -> Router {
    let hub = Hub::new(config.timings);
    hub.set_auth_token(config.auth_token);
    hub.set_redirect_token(config.redirect_token);
    let state = AppState {
        hub: hub.clone(),
        scenario: scenario::Scenario::new(hub),
        telemetry: telemetry::TelemetrySink::default(),
    };
    if let Some(demo) = config.demo {
        tokio::spawn(demo::run(state.scenario.downgrade(), demo));
    }
    let mut router = Router::new()
        .merge(hub_routes(Endpoint::Main, &state))
        .merge(hub_routes(Endpoint::Redirected, &state))
        .route("/health", get(health))
        .merge(control::routes())
        .merge(bench::routes())
        .merge(scenario::routes())
        .merge(telemetry::routes())
        .with_state(state);
    if let Some(pkg_dir) = config.pkg_dir {
        // The package's one runtime dependency (imported by `hubwire/msgpack`), for pages that
        // load the package without a bundler: an import map points `@msgpack/msgpack` here.
        let msgpack = pkg_dir
            .join("../node_modules/@msgpack/msgpack/dist.es5+esm")
            .canonicalize()
            .ok();
        if let Some(msgpack) = msgpack {
            router = router.nest_service("/vendor/msgpack", ServeDir::new(msgpack));
        }
        router = router.nest_service("/pkg", ServeDir::new(pkg_dir));
    }
    if let Some(www_dir) = config.www_dir {
        router = router.fallback_service(ServeDir::new(www_dir));
    }
    router.layer(cors(&config.cors_origins))
}

/// One hub path's routes: negotiate and the connection endpoint, behind the access-token guard.
fn hub_routes(endpoint: Endpoint, state: &AppState) -> Router<AppState> {
    let path = endpoint.path();
    Router::new()
        .route(&format!("{path}/negotiate"), post(negotiate::negotiate))
        .route(
            path,
            get(transport::get)
                .post(transport::send)
                .delete(transport::delete),
        )
        .route_layer(from_fn_with_state(
            state.clone(),
            credentials::require_token,
        ))
        // Outermost, so the guard and the handlers both see which path this is.
        .route_layer(Extension(endpoint))
}

/// `GET /health`: `{ "status": "ok", "connections": n }`.
async fn health(State(hub): State<Hub>) -> Json<Value> {
    Json(json!({ "status": "ok", "connections": hub.connections().len() }))
}

/// CORS with credentials: for the listed origins only, or, when none are listed, for any
/// origin (reflected, since a wildcard is not allowed together with credentials). Requested
/// headers are reflected too, which covers `Authorization`, `X-Requested-With` and
/// `X-SignalR-User-Agent`.
fn cors(origins: &[String]) -> CorsLayer {
    let allow_origin = if origins.is_empty() {
        AllowOrigin::mirror_request()
    } else {
        // Origins that are not valid header values can never match a request; skip them.
        AllowOrigin::list(
            origins
                .iter()
                .filter_map(|origin| HeaderValue::from_str(origin).ok()),
        )
    };
    CorsLayer::new()
        .allow_origin(allow_origin)
        .allow_credentials(true)
        .allow_headers(AllowHeaders::mirror_request())
        .allow_methods([Method::GET, Method::POST, Method::DELETE, Method::OPTIONS])
}

/// Makes an accepted socket send at once (TCP_NODELAY), as ASP.NET Core's Kestrel does by
/// default; the binary and the tests serve with `axum::serve(listener.tap_io(send_without_delay), ...)`.
/// With Nagle's algorithm on, the second of several small frames written back to back (the
/// completions of pipelined invocations, such as a reconnect's group re-joins) waits for the
/// client's delayed ACK, about 40 ms on Linux.
pub fn send_without_delay(socket: &mut tokio::net::TcpStream) {
    // A socket that refuses the option still works, only slower.
    let _ = socket.set_nodelay(true);
}
