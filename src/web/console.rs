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
    /// `console.info`.
    Information,
    /// `console.warn`.
    Warning,
    /// `console.error`.
    Error,
}

/// Writes `message` to the console at `level`, redacted.
pub fn write(level: ConsoleLevel, message: &str) {
    let line = JsValue::from_str(&["[hubwire] ", redact(message, &[]).as_str()].concat());
    match level {
        ConsoleLevel::Debug => web_sys::console::debug_1(&line),
        ConsoleLevel::Information => web_sys::console::info_1(&line),
        ConsoleLevel::Warning => web_sys::console::warn_1(&line),
        ConsoleLevel::Error => web_sys::console::error_1(&line),
    }
}

/// Hands `message`, redacted, to the app's `ILogger` as `logger.log(level, message)` (`level` an
/// official `LogLevel` number). A logger that throws or has no `log` is ignored: logging must
/// never break the connection.
pub fn to_logger(logger: &JsValue, level: u8, message: &str) {
    let log = js_sys::Reflect::get(logger, &JsValue::from_str("log")).unwrap_or(JsValue::UNDEFINED);
    if let Some(log) = wasm_bindgen::JsCast::dyn_ref::<js_sys::Function>(&log) {
        let _ = log.call2(logger, &JsValue::from(level), &JsValue::from_str(&redact(message, &[])));
    }
}
