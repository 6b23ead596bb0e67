//! hubwire: a SignalR client SDK for the browser, written in Rust and compiled to WebAssembly.
//!
//! The crate is layered so that data flows one way:
//!
//! - [`protocol`]: wire formats as pure functions (bytes and text in, typed values out, and back):
//!   record framing, handshake, JSON hub messages, negotiate.
//! - [`core`]: the sans-IO engine. State machines that take inputs (with the current time passed
//!   in) and produce outputs (bytes to send, HTTP requests to make, events for the app, the next
//!   time to be woken). No I/O, no clock, no browser types.
//! - `web` (wasm32 only): the I/O shell and the JavaScript API. It performs what the core asks
//!   for (WebSocket, fetch, timers) and feeds the results back; it makes no protocol decisions.
//!
//! `protocol` knows nothing of connections; `core` knows nothing of browsers.

pub mod core;
pub mod protocol;

#[cfg(target_arch = "wasm32")]
pub mod web;

/// The wasm module's allocator: talc instead of std's dlmalloc (smaller; BENCHMARKS.md,
/// "The allocator"). The module is single-threaded (no `atomics` target feature), which is
/// what this allocator variant assumes.
#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();
