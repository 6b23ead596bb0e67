//! The browser shell (wasm32 only): performs the I/O the core asks for and exposes the JS API.
//! Placeholder until the WebSocket driver lands.

use wasm_bindgen::prelude::*;

/// The library's version, as built.
#[wasm_bindgen(js_name = version)]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}
