//! The browser shell (wasm32 only): performs the I/O the core asks for and exposes the JS API.
//!
//! It owns the browser resources — WebSocket, fetch, one timer — and moves events between them
//! and the engine in [`crate::core`]; it makes no protocol decisions. One [`driver`] per
//! connection: feed an input, drain the engine's outputs, perform them, re-arm the single timer.
//!
//! - [`connection`]: the `#[wasm_bindgen]` class the npm package's `HubConnection` wraps.
//! - [`driver`]: the loop between the engine and the browser.
//! - [`codec`]: app values to payloads and back (JSON, or the app's MessagePack codec).
//! - [`telemetry`]: telemetry records to the app's callback and batched to a URL.
//! - [`subscription`]: the live-subscription class (push or polling by flag and health, deduped).
//! - [`plain`]: the plain JSON WebSocket connection class (same supervisor, no SignalR).
//! - [`settings`], [`json_get`]: reading the app's settings objects; GET of JSON documents.
//! - [`wake`]: a driver's one timer, set to the engine's next deadline.
//! - [`websocket`], [`event_source`], [`http`], [`events`], [`clock`]: thin RAII wrappers over
//!   the browser APIs.
//! - [`platform`]: where the host classes come from (the globals, or what the JS entry hands
//!   over in Node: `ws`, `eventsource`, Node's own `fetch`).
//!
//! Everything binds to the global scope (not `window`), and clock and timer globals are read at
//! each use, so workers, Node and fake-timer libraries work too.

pub mod clock;
pub mod codec;
pub mod connection;
pub mod console;
pub mod driver;
pub mod event_source;
pub mod events;
pub mod http;
#[cfg(feature = "live")]
pub mod json_get;
#[cfg(feature = "live")]
pub mod plain;
pub mod platform;
pub mod settings;
#[cfg(feature = "live")]
pub mod subscription;
pub mod telemetry;
pub mod wake;
pub mod websocket;

use wasm_bindgen::prelude::*;

/// The library's version, as built.
#[wasm_bindgen(js_name = version)]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}
