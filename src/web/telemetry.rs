//! Telemetry delivery: records as plain JS objects to the app's callback, and optionally
//! batched to a URL (POSTed when a batch fills or its interval passes, sent with
//! `navigator.sendBeacon` when the page is hidden).
//!
//! Records never carry tokens or payloads: they are built from the core's [`Telemetry`] and a
//! few shell-side measurements (message latency, dropped duplicates) that carry only names and
//! numbers.

use std::cell::RefCell;

use js_sys::{Array, Function, Object, Reflect};
use wasm_bindgen::prelude::*;

use crate::core::supervisor::Telemetry;

/// Where telemetry goes.
pub struct TelemetryOptions {
    /// Called with each record.
    pub on_event: Option<Function>,
    /// POST batches of records here.
    pub url: Option<String>,
    /// Records per batch.
    pub batch_size: usize,
    /// Longest a record waits in a batch, in ms.
    pub flush_interval_ms: u32,
    /// Per event name (matched as method names are: ASCII letters case-insensitively): the
    /// payload field holding the time it was produced.
    pub latency_fields: Vec<(String, String)>,
}

impl Default for TelemetryOptions {
    fn default() -> Self {
        TelemetryOptions { on_event: None, url: None, batch_size: 20, flush_interval_ms: 5_000, latency_fields: Vec::new() }
    }
}

/// A record's fields, in order.
pub struct Record(Vec<(&'static str, JsValue)>);

impl Record {
    /// An object with no fields yet.
    pub fn empty() -> Self {
        Record(Vec::new())
    }

    /// A record of `kind` with the current wall-clock time.
    pub fn new(kind: &str) -> Self {
        Record(vec![("type", JsValue::from_str(kind)), ("at", JsValue::from_f64(js_sys::Date::now()))])
    }

    /// Adds a field.
    pub fn with(mut self, name: &'static str, value: impl Into<JsValue>) -> Self {
        self.0.push((name, value.into()));
        self
    }

    /// The record as a JS object.
    pub fn to_object(&self) -> JsValue {
        let object: PlainObject = Object::new().unchecked_into();
        PROPERTY_NAMES.with(|names| {
            let mut names = names.borrow_mut();
            for (name, value) in &self.0 {
                object.set(names.get(name), value);
            }
        });
        object.into()
    }
}

#[wasm_bindgen]
extern "C" {
    /// A fresh `{}` that records fill in.
    #[wasm_bindgen(extends = Object)]
    type PlainObject;

    /// `object[key] = value`, called directly: `Reflect::set` goes through the glue's
    /// exception wrapper, which costs more than the assignment. Assigning a string key of a
    /// plain object cannot throw.
    #[wasm_bindgen(method, indexing_setter)]
    fn set(this: &PlainObject, key: &JsValue, value: &JsValue);
}

thread_local! {
    /// The JS strings of the field names records have used so far.
    static PROPERTY_NAMES: RefCell<PropertyNames> = const { RefCell::new(PropertyNames(Vec::new())) };
}

/// Field names as JS strings, each made once and reused: making a JS string from Rust text
/// goes through the glue's `TextDecoder`, and doing that for every key was most of the cost of
/// building a record (bench/size/serde-wasm-bindgen.md). Names are `&'static str` written in
/// the code, so the table holds a few dozen entries at most; it is searched by address (a name
/// written twice may be stored twice, which is harmless).
struct PropertyNames(Vec<(&'static str, JsValue)>);

impl PropertyNames {
    fn get(&mut self, name: &'static str) -> &JsValue {
        let index = match self.0.iter().position(|(known, _)| std::ptr::eq(*known, name)) {
            Some(index) => index,
            None => {
                self.0.push((name, JsValue::from_str(name)));
                self.0.len() - 1
            }
        };
        &self.0[index].1
    }
}

fn optional(value: Option<String>) -> JsValue {
    value.map_or(JsValue::NULL, |v| JsValue::from_str(&v))
}

/// The JS record for a core telemetry event.
pub fn from_core(telemetry: &Telemetry) -> Record {
    match telemetry {
        Telemetry::ConnectionOpened { connection_id } => {
            Record::new("connectionOpened").with("connectionId", optional(connection_id.clone()))
        }
        Telemetry::ConnectionClosed { reason } => {
            Record::new("connectionClosed").with("reason", optional(reason.clone()))
        }
        Telemetry::ReconnectAttempt { attempt, delay, reason } => Record::new("reconnectAttempt")
            .with("attempt", *attempt)
            .with("delayMs", delay.as_millis() as f64)
            .with("reason", reason.as_str()),
        Telemetry::Reconnected { recovery, groups_rejoined, attempts } => Record::new("reconnected")
            .with("recoveryMs", recovery.as_millis() as f64)
            .with("groupsRejoined", *groups_rejoined as u32)
            .with("attempts", *attempts),
        Telemetry::TransportFallback { from, reason } => {
            Record::new("transportFallback").with("from", *from).with("reason", reason.as_str())
        }
        Telemetry::RejoinFailed { join, error } => {
            Record::new("rejoinFailed").with("join", join.as_str()).with("error", error.as_str())
        }
    }
}

/// Records waiting to be POSTed.
#[derive(Default)]
pub struct Batch {
    records: Vec<JsValue>,
}

impl Batch {
    /// Adds a record; returns the full batch when it reached `size`.
    pub fn push(&mut self, record: JsValue, size: usize) -> Option<Array> {
        self.records.push(record);
        (self.records.len() >= size.max(1)).then(|| self.take())
    }

    /// Whether nothing is waiting.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// Everything waiting, as an array.
    pub fn take(&mut self) -> Array {
        std::mem::take(&mut self.records).into_iter().collect()
    }
}

/// Sends a batch as JSON, fire and forget (telemetry must never break the app): with
/// `navigator.sendBeacon` when the page is going away (`page_leaving`: a beacon survives it)
/// and the scope has one, else POSTed by `fetch`. One function for both, so the batch is
/// turned into JSON in one place.
pub fn send(url: &str, batch: &Array, page_leaving: bool) {
    let Ok(body) = js_sys::JSON::stringify(batch) else { return };
    if page_leaving {
        let navigator = Reflect::get(&js_sys::global(), &JsValue::from_str("navigator")).ok();
        let send = navigator
            .as_ref()
            .and_then(|n| Reflect::get(n, &JsValue::from_str("sendBeacon")).ok())
            .and_then(|f| f.dyn_into::<Function>().ok());
        if let (Some(navigator), Some(send)) = (navigator, send) {
            let _ = send.call2(&navigator, &JsValue::from_str(url), &body);
            return;
        }
    }
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    init.set_body(&body);
    let _ = Reflect::set(&init, &JsValue::from_str("keepalive"), &JsValue::TRUE);
    if let Ok(headers) = super::platform::construct("Headers", &Array::new()) {
        let headers: web_sys::Headers = headers.unchecked_into();
        let _ = headers.set("Content-Type", "application/json");
        init.set_headers(&headers);
    }
    let Ok(request) = super::platform::construct("Request", &Array::of2(&JsValue::from_str(url), &init)) else { return };
    if let Ok(promise) = super::platform::fetch(&request) {
        // Swallow rejections (offline, CORS): telemetry is best effort.
        super::platform::after(Some(promise), Box::new(|_| {}));
    }
}
