//! Reading the app's settings objects: optional fields, milliseconds, functions, and the
//! reconnect option (`true`, an array of delays, a policy object, or hubwire's options) as a
//! core [`ReconnectOptions`].
//!
//! The live-subscription and plain-WebSocket classes read their settings through here. It owns
//! no state and makes no decisions beyond turning JS values into core values; a value of the
//! wrong type is an `Error` for the app, never a panic.

use std::time::Duration;

use js_sys::{Function, Reflect};
use wasm_bindgen::prelude::*;

use crate::core::limits::duration_from_millis;
use crate::core::retry::{delay_from_millis, DelaySchedule, RetryContext, RetryPolicy, DEFAULT_DELAYS_MS};
use crate::core::supervisor::ReconnectOptions;

/// A JS `Error` with `message`.
pub fn js_error(message: &str) -> JsValue {
    js_sys::Error::new(message).into()
}

/// `options[key]`, or `None` when it is absent, `undefined` or `null` (or `options` is not an
/// object).
pub fn get(options: &JsValue, key: &str) -> Option<JsValue> {
    if !options.is_object() && !options.is_function() {
        return None;
    }
    Reflect::get(options, &JsValue::from_str(key)).ok().filter(|v| !v.is_undefined() && !v.is_null())
}

/// `options[key]` as a yes/no: its truthiness, or `absent` when it is absent, `undefined` or
/// `null`. One non-inlined reader for every flag, so each option costs a call.
#[inline(never)]
pub fn flag(options: &JsValue, key: &str, absent: bool) -> bool {
    get(options, key).map_or(absent, |v| v.is_truthy())
}

/// `options[key]` when it is a number.
#[inline(never)]
pub fn number(options: &JsValue, key: &str) -> Option<f64> {
    get(options, key).and_then(|v| v.as_f64())
}

/// `options[key]` as an interval or timeout in ms: absent gives `None`; anything but a number
/// above 0 and at most 2^31 - 1 (what a timer can wait) is an `Error` naming the option, so a
/// zero interval can never make a timer fire without time passing.
pub fn millis(options: &JsValue, key: &'static str) -> Result<Option<Duration>, JsValue> {
    match get(options, key) {
        None => Ok(None),
        Some(value) => {
            let ms = value.as_f64().unwrap_or(f64::NAN);
            duration_from_millis(key, ms).map(Some).map_err(|error| js_error(&error.message()))
        }
    }
}

/// `options[key]` as an interval where 0 means "never" (documented per option, e.g.
/// `flagRefreshMs`): absent gives `None`, 0 gives `Some(None)`, anything else as [`millis`].
pub fn millis_or_never(options: &JsValue, key: &'static str) -> Result<Option<Option<Duration>>, JsValue> {
    if number(options, key) == Some(0.0) {
        return Ok(Some(None));
    }
    Ok(millis(options, key)?.map(Some))
}

/// `options[key]` as a function; present but not a function is an error.
pub fn function(options: &JsValue, key: &str) -> Result<Option<Function>, JsValue> {
    match get(options, key) {
        None => Ok(None),
        Some(value) => value
            .dyn_into::<Function>()
            .map(Some)
            .map_err(|_| js_error(&["'", key, "' must be a function."].concat())),
    }
}

/// `options[key]` as a string; present but not a string is an error.
pub fn string(options: &JsValue, key: &str) -> Result<Option<String>, JsValue> {
    match get(options, key) {
        None => Ok(None),
        Some(value) => value.as_string().map(Some).ok_or_else(|| js_error(&["'", key, "' must be a string."].concat())),
    }
}

/// The app's `nextRetryDelayInMilliseconds(context)` as a core retry policy, called as a method
/// of the object it came from (a class-based `IRetryPolicy` reads its own fields through `this`).
struct JsRetryPolicy {
    function: Function,
    this: JsValue,
}

impl RetryPolicy for JsRetryPolicy {
    fn next_retry_delay(&mut self, context: &RetryContext) -> Option<Duration> {
        // The same error (class, `errorType`, `statusCode`) the app sees for this failure elsewhere.
        let reason = match &context.retry_error {
            Some(error) => super::driver::to_js_error(error),
            None => js_error(&context.retry_reason),
        };
        let argument = super::telemetry::Record::empty()
            .with("previousRetryCount", context.previous_retry_count)
            .with("elapsedMilliseconds", context.elapsed.as_millis() as f64)
            .with("retryReason", reason)
            .to_object();
        // A throwing policy, or anything but a non-negative number, means "stop retrying".
        let answer = self.function.call1(&self.this, &argument).ok()?;
        answer
            .as_f64()
            .filter(|ms| ms.is_finite() && *ms >= 0.0)
            .map(|ms| Duration::from_millis(ms as u64))
    }
}

/// The reconnect setting, shaped as `withAutomaticReconnect`'s argument: `true` (0, 2, 10, 30 s),
/// an array of delays in ms, an object with `nextRetryDelayInMilliseconds`, or
/// `{ delays?, jitter?, keepTrying?, retryFirstStart? }`; `false` turns reconnect off.
pub fn reconnect_options(setting: &JsValue) -> Result<Option<ReconnectOptions>, JsValue> {
    if setting.is_falsy() {
        return Ok(None);
    }
    let delays: Vec<u64> = if js_sys::Array::is_array(setting) {
        delays_from(setting)?
    } else if let Some(delays) = get(setting, "delays") {
        delays_from(&delays)?
    } else {
        DEFAULT_DELAYS_MS.to_vec()
    };
    let retry_first_start = flag(setting, "retryFirstStart", false);
    let policy: Box<dyn RetryPolicy> = match function(setting, "nextRetryDelayInMilliseconds")? {
        Some(function) => Box::new(JsRetryPolicy { function, this: setting.clone() }),
        None => {
            let jitter = number(setting, "jitter").unwrap_or(0.0);
            let seed = (js_sys::Math::random() * (u64::MAX as f64)) as u64;
            Box::new(
                DelaySchedule::from_millis(&delays)
                    .keep_trying(flag(setting, "keepTrying", false))
                    .with_jitter(jitter, seed),
            )
        }
    };
    Ok(Some(ReconnectOptions { policy, retry_first_start }))
}

fn delays_from(array: &JsValue) -> Result<Vec<u64>, JsValue> {
    let array: &js_sys::Array = array
        .dyn_ref()
        .ok_or_else(|| js_error("Retry delays must be an array of milliseconds."))?;
    // 0 is a valid delay (retry at once); negative, NaN, infinite and over 2^31 - 1 are not.
    let mut delays = Vec::new();
    for value in array.iter() {
        let delay = delay_from_millis(value.as_f64().unwrap_or(f64::NAN)).map_err(|error| js_error(&error.message()))?;
        delays.push(delay.as_millis() as u64);
    }
    Ok(delays)
}

/// hubwire's `stableConnectionThresholdInMilliseconds` in the reconnect options object: how long
/// a connection must have lasted for its loss to start a fresh retry schedule.
pub fn stable_connection_threshold(setting: &JsValue) -> Result<Option<Duration>, JsValue> {
    if js_sys::Array::is_array(setting) {
        return Ok(None);
    }
    millis(setting, "stableConnectionThresholdInMilliseconds")
}
