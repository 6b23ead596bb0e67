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
//! | `--pkg DIR` | none | serve the built npm package at `/pkg/` |
//! | `--keep-alive-ms N` | 15000 | send a Ping after this long without sending anything |
//! | `--client-timeout-ms N` | 30000 | close a connection whose client sent nothing this long |
//! | `--max-lifetime-secs N` | none | exit by itself after N seconds |
//! | `--exit-on-stdin-close` | off | exit when stdin reaches end of file |
//!
//! Tests spawn it with `--port 0 --exit-on-stdin-close --max-lifetime-secs N`, so it can never
//! outlive them. CORS is permissive (the request's origin is reflected, credentials and any
//! requested headers allowed) so apps and test pages on other origins can reach it.
//!
//! # The hub: `/hub`
//!
//! - `POST /hub/negotiate?negotiateVersion=1`: version 1 answer (`connectionId`,
//!   `connectionToken`, `negotiateVersion`, `availableTransports`); version 0 without the
//!   parameter. Offers WebSockets with the Text format. The `Authorization: Bearer` token is
//!   recorded.
//! - `GET /hub?id=<token>`: WebSocket upgrade; unknown or used tokens get 404; without `id` a new
//!   connection is made (skip negotiation). The `access_token` query parameter (browsers) or
//!   an `Authorization: Bearer` header (Node clients) is recorded.
//! - Handshake: JSON hub protocol version 1 only; anything else gets an error handshake response.
//! - The hub Pings after each keep-alive interval without traffic and closes clients silent for
//!   the client timeout (Close with an error and `allowReconnect: true`). A malformed frame gets
//!   a Close message with the error, then the socket closes.
//! - Methods (names case-insensitive), the `methods` module has the table: `Echo(x)`,
//!   `Fail(message)`, `JoinWorkflow(id)`, `LeaveWorkflow(id)`, `SendMessage(text)`,
//!   `JoinDispatchGroup(region)`, `LeaveDispatchGroup(region)`, `JoinContractorGroup(id)`,
//!   `LeaveContractorGroup(id)`. Groups: `workflow:<id>`, `dispatch:<region>`,
//!   `contractor:<id>`. `Echo` answers with the argument's JSON text exactly as sent; methods
//!   without a return value complete with `"result": null`, as ASP.NET Core's do. Stream
//!   invocations get an error Completion (no method streams yet).
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
//!
//! Timestamps are ISO 8601 UTC strings; `score` is a number from 0 to 1.
//!
//! # Control API: `/control` (JSON)
//!
//! | Request | Body | Answer |
//! | --- | --- | --- |
//! | `POST /control/publish` | `{ "target", "arguments"?: [..], "group"?: "dispatch:north" }` | `{ "delivered": n }`: arguments passed on as sent |
//! | `POST /control/drop` | none | `{ "dropped": n }`: every socket cut, nothing sent |
//! | `POST /control/close` | `{ "error"?: string, "allowReconnect"?: bool }` or none | `{ "closed": n }`: Close message, then close |
//! | `GET /control/connections` | | `[{ connectionId, transport, groups, accessToken? }]` |
//! | `GET /control/log` | | `[{ kind, at, ... }]` oldest first |
//! | `DELETE /control/log` | | `{ "cleared": n }` |
//!
//! Log entry kinds: `negotiate` `{ connectionId, negotiateVersion, accessToken? }`, `connect`
//! `{ connectionId, transport, accessToken? }` (after the handshake), `disconnect`
//! `{ connectionId, reason }`, `invocation` `{ connectionId, invocationId?, target, arguments }`
//! and `streamInvocation`. Bad request bodies get 400 with `{ "error": "..." }`.
//!
//! # Layout
//!
//! - `main.rs`: flags, binding, lifetime. [`app`] builds everything else and is what tests use.
//! - `hub`: shared state (connections, groups, log) and every cross-connection operation.
//! - `session`: one connection's protocol decisions, transport-agnostic.
//! - `transport`: the `GET /hub` route and the transports (`websocket` today).
//! - `methods`: the hub methods. `negotiate`, `control`: their HTTP routes.
//! - `payloads`, `log`: wire shapes of events and log entries. `credentials`, `stamp`: helpers.
//!
//! # Testing
//!
//! `cargo test -p hubwire-mock` runs unit tests and `mock/tests/`, which start [`app`] on
//! 127.0.0.1:0 inside the test and talk to it with real HTTP and WebSocket clients.
//! `node --test tests/js/official-client.test.mjs` runs the official `@microsoft/signalr` client
//! against the built binary.

use std::path::PathBuf;
use std::time::Duration;

use axum::http::Method;
use axum::routing::{get, post};
use axum::Router;
use tower_http::cors::{AllowHeaders, AllowOrigin, CorsLayer};
use tower_http::services::ServeDir;

pub mod payloads;

mod control;
mod credentials;
mod hub;
mod log;
mod methods;
mod negotiate;
mod session;
mod stamp;
mod transport;

pub use hub::HubTimings;

/// Everything [`app`] needs.
#[derive(Debug, Clone, Default)]
pub struct MockConfig {
    /// Keep-alive and client timeout.
    pub timings: HubTimings,
    /// Folder served at `/`, if any.
    pub www_dir: Option<PathBuf>,
    /// Folder served at `/pkg/`, if any.
    pub pkg_dir: Option<PathBuf>,
}

impl MockConfig {
    /// The default configuration with other keep-alive and client-timeout intervals.
    pub fn with_timings(keep_alive: Duration, client_timeout: Duration) -> Self {
        MockConfig {
            timings: HubTimings {
                keep_alive,
                client_timeout,
            },
            ..MockConfig::default()
        }
    }
}

/// The whole mock server: hub, control API, static folders and CORS, around a fresh hub state.
pub fn app(config: MockConfig) -> Router {
    let hub = hub::Hub::new(config.timings);
    let mut router = Router::new()
        .route("/hub/negotiate", post(negotiate::negotiate))
        .route("/hub", get(transport::connect))
        .merge(control::routes())
        .with_state(hub);
    if let Some(pkg_dir) = config.pkg_dir {
        router = router.nest_service("/pkg", ServeDir::new(pkg_dir));
    }
    if let Some(www_dir) = config.www_dir {
        router = router.fallback_service(ServeDir::new(www_dir));
    }
    router.layer(permissive_cors())
}

/// CORS for callers on any origin, with cookies and `Authorization`: the origin is reflected
/// (a wildcard is not allowed together with credentials) and so are the requested headers,
/// which covers `Authorization`, `X-Requested-With` and `X-SignalR-User-Agent`.
fn permissive_cors() -> CorsLayer {
    CorsLayer::new()
        .allow_origin(AllowOrigin::mirror_request())
        .allow_credentials(true)
        .allow_headers(AllowHeaders::mirror_request())
        .allow_methods([Method::GET, Method::POST, Method::DELETE, Method::OPTIONS])
}
