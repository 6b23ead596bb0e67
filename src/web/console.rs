//! The console lines hubwire writes, all through one function, so every line carries the
//! `[hubwire]` prefix and passes the core's redaction (no `access_token=` or `id=` value, no
//! Bearer credentials) whatever text it quotes.

use wasm_bindgen::JsValue;

use crate::core::redact::redact;

/// How loud a console line is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsoleLevel {
    /// `console.debug`.
    Debug,
    /// `console.warn`.
    Warning,
}

/// Writes `message` to the console at `level`, redacted.
pub fn write(level: ConsoleLevel, message: &str) {
    let line = JsValue::from_str(&format!("[hubwire] {}", redact(message, &[])));
    match level {
        ConsoleLevel::Debug => web_sys::console::debug_1(&line),
        ConsoleLevel::Warning => web_sys::console::warn_1(&line),
    }
}
