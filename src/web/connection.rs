//! The `#[wasm_bindgen]` class behind the npm package's `HubConnection`.
//!
//! The package's JavaScript entry (`pkg-template/index.js`) keeps the official client's shape
//! — the builder, rest-parameter `invoke(name, ...args)` — and hands each call to this class,
//! which turns settings into core configuration and calls into commands on the [`Driver`].

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Function, Promise};
use wasm_bindgen::prelude::*;

use super::driver::{to_js_error, Driver, JsDedupe, JsHandler, ShellOptions};
use super::settings::{flag, function, get, js_error, millis, number, reconnect_options, stable_connection_threshold};
use super::platform::string_form;
use super::telemetry::{Record, TelemetryOptions};
use crate::core::dedupe::{DedupeFilter, DedupeWindow};
use crate::core::limits::{duration_from_millis, MAX_TIMER};
use crate::core::session::HubSession;
use crate::core::supervisor::GroupSpec;
use crate::core::HubConfig;
use crate::protocol::negotiate::TransportKind;
use super::codec::PayloadCodec;
use crate::protocol::Payload;

/// The connection object the JS `HubConnection` delegates to.
#[wasm_bindgen(js_name = HubConnectionCore)]
pub struct HubConnectionCore {
    driver: Driver,
}

/// The `transport` setting as bit flags: a number (`HttpTransportType`) or a transport name.
fn transport_flags(transport: &JsValue) -> Result<u8, JsValue> {
    if transport.is_object() {
        // A deliberate difference (package README, "Migrating"): the transports live in the
        // core, so an app-made transport object has nothing to plug into.
        return Err(js_error(
            "hubwire does not take a custom ITransport object as 'transport': pass HttpTransportType flags or a transport name.",
        ));
    }
    if let Some(flags) = transport.as_f64() {
        return Ok(flags as u8 & 7);
    }
    let name = transport.as_string().unwrap_or_default();
    match TransportKind::from_name(&name) {
        Some(TransportKind::WebSockets) => Ok(1),
        Some(TransportKind::ServerSentEvents) => Ok(2),
        Some(TransportKind::LongPolling) => Ok(4),
        None => Err(js_error(&["Unknown transport '", &name, "'."].concat())),
    }
}

fn arguments_payload(codec: &PayloadCodec, arguments: &JsValue) -> Result<Payload, JsValue> {
    codec.encode(arguments, "arguments").map_err(|e| to_js_error(&e.into()))
}

fn telemetry_options(setting: Option<JsValue>) -> Result<TelemetryOptions, JsValue> {
    let mut options = TelemetryOptions::default();
    let Some(setting) = setting else { return Ok(options) };
    if setting.is_function() {
        options.on_event = setting.dyn_into().ok();
        return Ok(options);
    }
    options.on_event = function(&setting, "onEvent")?;
    options.url = get(&setting, "url").and_then(|v| v.as_string());
    if let Some(size) = number(&setting, "batchSize") {
        options.batch_size = size.max(1.0) as usize;
    }
    if let Some(interval) = millis(&setting, "flushIntervalMs")? {
        options.flush_interval_ms = u32::try_from(interval.as_millis()).unwrap_or(u32::MAX);
    }
    if let Some(fields) = get(&setting, "latencyFields") {
        options.latency_fields = string_pairs(fields, "'latencyFields' must map event names to field names.")?;
    }
    Ok(options)
}

/// An object's string-valued properties as (name, value) pairs (others are skipped); anything
/// but an object is an `Error` with `error`. One reader for `headers` and `latencyFields`.
#[inline(never)]
fn string_pairs(value: JsValue, error: &str) -> Result<Vec<(String, String)>, JsValue> {
    let object: js_sys::Object = value.dyn_into().map_err(|_| js_error(error))?;
    let mut pairs = Vec::new();
    for entry in js_sys::Object::entries(&object).iter() {
        let pair = js_sys::Array::from(&entry);
        if let (Some(name), Some(value)) = (pair.get(0).as_string(), pair.get(1).as_string()) {
            pairs.push((name, value));
        }
    }
    Ok(pairs)
}

fn ids_object(id: Option<u64>, stream_ids: &[String], result: Option<Promise>) -> JsValue {
    // Built as telemetry records are (direct assignments with cached key strings).
    let mut object = Record::empty();
    if let Some(id) = id {
        object = object.with("id", id as f64);
    }
    let ids: js_sys::Array = stream_ids.iter().map(|id| JsValue::from_str(id)).collect();
    object = object.with("streamIds", ids);
    if let Some(result) = result {
        object = object.with("result", result);
    }
    object.to_object()
}

fn group_spec(codec: &PayloadCodec, spec: &JsValue) -> Result<GroupSpec, JsValue> {
    let name = |key: &str| {
        get(spec, key)
            .and_then(|v| v.as_string())
            .filter(|s| !s.is_empty())
            .ok_or_else(|| js_error(&["A group needs a '", key, "' hub method name."].concat()))
    };
    let args = match get(spec, "args") {
        None => codec.empty_arguments(),
        Some(args) if js_sys::Array::is_array(&args) => arguments_payload(codec, &args)?,
        Some(single) => arguments_payload(codec, &js_sys::Array::of1(&single))?,
    };
    Ok(GroupSpec { join: name("join")?, leave: name("leave")?, args })
}

#[wasm_bindgen(js_class = HubConnectionCore)]
impl HubConnectionCore {
    /// Builds a connection from the JS builder's settings object: `url` (required),
    /// `skipNegotiation`, `accessTokenFactory`, `withCredentials`, `logLevel`, `transport`,
    /// `keepAliveIntervalInMilliseconds`, `serverTimeoutInMilliseconds`, `reconnect`,
    /// `browserLifecycle`, `telemetry`, `headers`, `timeout`, `statefulReconnect`, `hubProtocol`.
    #[wasm_bindgen(constructor)]
    pub fn new(settings: JsValue) -> Result<HubConnectionCore, JsValue> {
        let url = get(&settings, "url")
            .and_then(|v| v.as_string())
            .ok_or_else(|| js_error("The 'url' setting is required."))?;
        let mut config = HubConfig::new(url);
        let (protocol, codec) = PayloadCodec::from_settings(&settings)?;
        config.protocol = protocol;
        config.skip_negotiation = flag(&settings, "skipNegotiation", false);
        let access_token_factory = function(&settings, "accessTokenFactory")?;
        config.uses_access_token = access_token_factory.is_some();
        if let Some(transport) = get(&settings, "transport") {
            config.allowed_transports = transport_flags(&transport)?;
        }
        if let Some(headers) = get(&settings, "headers") {
            config.headers = string_pairs(headers, "'headers' must be an object of header names to values.")?;
        }
        // As in the official client, a `timeout` of 0 means no request timeout.
        if number(&settings, "timeout") == Some(0.0) {
            config.request_timeout = MAX_TIMER;
        } else if let Some(timeout) = millis(&settings, "timeout")? {
            config.request_timeout = timeout;
        }
        if let Some(stateful) = get(&settings, "statefulReconnect") {
            config.stateful_reconnect = stateful.is_truthy();
            if let Some(size) = number(&stateful, "bufferSize") {
                config.replay_buffer_bytes = size.max(1.0) as usize;
            }
        }
        if let Some(interval) = millis(&settings, "keepAliveIntervalInMilliseconds")? {
            config.keep_alive_interval = interval;
        }
        if let Some(timeout) = millis(&settings, "serverTimeoutInMilliseconds")? {
            config.server_timeout = timeout;
            // The official client waits for the handshake answer under the server timeout; a
            // shorter server timeout bounds hubwire's handshake wait too.
            config.handshake_timeout = config.handshake_timeout.min(timeout);
        }
        let reconnect = match get(&settings, "reconnect") {
            Some(setting) => {
                if let Some(threshold) = stable_connection_threshold(&setting)? {
                    config.stable_connection_threshold = threshold;
                }
                reconnect_options(&setting)?
            }
            None => None,
        };
        // Every interval, timeout and size checked once, so a bad one is an Error at build().
        config.validate().map_err(|error| js_error(&error.message()))?;
        let options = ShellOptions {
            access_token_factory,
            with_credentials: flag(&settings, "withCredentials", true),
            // Without configureLogging only warnings and errors reach the console (a deliberate
            // difference: the official client also prints its Information lines by default).
            log_level: number(&settings, "logLevel").map_or(3, |n| n as u8),
            browser_lifecycle: flag(&settings, "browserLifecycle", true),
            telemetry: telemetry_options(get(&settings, "telemetry"))?,
            owner: get(&settings, "owner").unwrap_or(JsValue::UNDEFINED),
            logger: match get(&settings, "logger") {
                Some(logger) if function(&logger, "log")?.is_some() => Some(logger),
                Some(_) => return Err(js_error("'logger' must have a log(logLevel, message) method.")),
                None => None,
            },
            log_message_content: flag(&settings, "logMessageContent", false),
            http_client: match get(&settings, "httpClient") {
                Some(client) if function(&client, "send")?.is_some() => Some(client),
                Some(_) => return Err(js_error("'httpClient' must have a send(request) method.")),
                None => None,
            },
            web_socket: function(&settings, "WebSocket")?,
            event_source: function(&settings, "EventSource")?,
            codec: std::rc::Rc::new(codec),
        };
        Ok(HubConnectionCore { driver: Driver::new(HubSession::new(config, reconnect), options) })
    }

    /// Starts the connection.
    pub fn start(&self) -> Promise {
        self.driver.start()
    }

    /// Stops the connection.
    pub fn stop(&self) -> Promise {
        self.driver.stop()
    }

    /// A hub call whose arguments may include `uploads` client-to-server streams the JS side
    /// feeds; `mode` 0 a send (returns `{ streamIds }`), 1 an invoke (`{ result: Promise,
    /// streamIds }`), 2 a server-to-client stream whose items go to `sink` (`{ next, error,
    /// complete }`; returns `{ id, streamIds }`). One export for the three, with or without
    /// uploads: each export carries its own conversion code.
    #[wasm_bindgen(js_name = callWithUploads)]
    pub fn call_with_uploads(&self, method_name: &str, arguments: JsValue, uploads: u32, mode: u32, sink: JsValue) -> Result<JsValue, JsValue> {
        let arguments = arguments_payload(&self.driver.codec(), &arguments)?;
        let uploads = uploads as usize;
        let called = match mode {
            0 => self.driver.send_with_uploads(method_name, arguments, uploads).map(|ids| (None, None, ids)),
            1 => self.driver.invoke_with_uploads(method_name, arguments, uploads).map(|(promise, ids)| (None, Some(promise), ids)),
            _ => self.driver.stream(method_name, arguments, uploads, sink).map(|(id, ids)| (Some(id), None, ids)),
        };
        let (id, promise, stream_ids) = called.map_err(|e| to_js_error(&e))?;
        Ok(ids_object(id, &stream_ids, promise))
    }

    /// Feeds an upload stream: sends `value` as its next item, or with `done` ends it, with
    /// `value` the error message when its source failed (undefined or null when it did not).
    /// One export for both: each export carries its own conversion code.
    pub fn upload(&self, stream_id: &str, value: JsValue, done: bool) -> Result<(), JsValue> {
        let result = if done {
            let error = (!value.is_undefined() && !value.is_null()).then(|| string_form(&value).unwrap_or_default());
            self.driver.complete_upload(stream_id, error)
        } else {
            let item = self.driver.codec().encode(&value, "a stream item").map_err(|e| to_js_error(&e.into()))?;
            self.driver.stream_item(stream_id, item)
        };
        result.map_err(|e| to_js_error(&e))
    }

    /// Registers a handler for a client method; `options.dedupe` = `{ key?, version?, window?:
    /// { count?, ms? } }` drops repeats and stale updates before the handler sees them.
    pub fn on(&self, method_name: &str, handler: Function, options: JsValue) -> Result<(), JsValue> {
        let dedupe = match get(&options, "dedupe") {
            None => None,
            Some(dedupe) => {
                let key = function(&dedupe, "key")?;
                let version = function(&dedupe, "version")?;
                if key.is_none() && version.is_none() {
                    return Err(js_error("'dedupe' needs a 'key' or a 'version' function."));
                }
                let mut window = DedupeWindow::default();
                if let Some(limits) = get(&dedupe, "window") {
                    if let Some(count) = number(&limits, "count") {
                        window.max_entries = count.max(1.0) as usize;
                    }
                    window.max_age = millis(&limits, "ms")?.or(window.max_age);
                    if let Some(count) = number(&limits, "maxVersions") {
                        window.max_versions = count.max(1.0) as usize;
                    }
                }
                window.validate().map_err(|error| js_error(&error.message()))?;
                Some(Rc::new(RefCell::new(JsDedupe { key, version, filter: DedupeFilter::new(window) })))
            }
        };
        let handler = JsHandler { function: handler, dedupe };
        self.driver.with(|s| s.session.on(method_name, handler));
        Ok(())
    }

    /// Removes one handler of a method, or all of them when `handler` is omitted.
    pub fn off(&self, method_name: &str, handler: Option<Function>) {
        let handler = handler.map(|function| JsHandler { function, dedupe: None });
        self.driver.with(|s| s.session.off(method_name, handler.as_ref()));
    }

    /// Adds an app callback: `kind` 0 `onclose`, 1 `onreconnecting`, 2 `onreconnected` (with
    /// the new id), 3 `onstatechange` (every state change), 4 `onrejoinfailed` (a membership
    /// whose re-join failed after a reconnect: `{ join, leave, args, error }`). One export for
    /// the five: each export carries its own conversion code.
    #[wasm_bindgen(js_name = addCallback)]
    pub fn add_callback(&self, kind: u32, callback: Function) {
        self.driver.add_callback(kind, callback);
    }

    /// `join`: declares a membership (`{ join, leave, args }`), kept across reconnects; else
    /// drops the membership and leaves the group.
    pub fn group(&self, spec: JsValue, join: bool) -> Promise {
        match group_spec(&self.driver.codec(), &spec) {
            Ok(spec) => self.driver.group(spec, join),
            Err(error) => Promise::reject(&error),
        }
    }

    /// What the JS class reads: `which` 0 the state's name, 1 the hub URL (the official
    /// `baseUrl`), 2 the server's id for this connection (undefined when not connected), 3 the
    /// server timeout and 4 the keep-alive interval in ms (the official
    /// `serverTimeoutInMilliseconds` and `keepAliveIntervalInMilliseconds`), 5 a health
    /// snapshot. One export for all of them: each export carries its own conversion code.
    pub fn read(&self, which: u32) -> JsValue {
        let text = match which {
            0 => Some(self.driver.state_name().to_string()),
            1 => Some(self.driver.with(|s| s.session.config().url.clone())),
            2 => self.driver.with(|s| s.session.connection_id().map(str::to_string)),
            3 | 4 => {
                let timing = self.driver.with(|s| {
                    let config = s.session.config();
                    if which == 4 { config.keep_alive_interval } else { config.server_timeout }
                });
                return JsValue::from_f64(timing.as_millis() as f64);
            }
            _ => return self.driver.health(),
        };
        text.map_or(JsValue::UNDEFINED, |text| JsValue::from_str(&text))
    }

    /// What the JS class changes or asks for: `which` 0 the hub URL `value` for the next start
    /// or reconnect attempt (only while Disconnected or Reconnecting, as in the official
    /// client), 1 the server timeout and 2 the keep-alive interval in ms (from the next message
    /// sent or received on, as in the official client; a value out of bounds, 0, negative, NaN
    /// or over 2^31 - 1, throws and changes nothing), 3 dispose the stream with id `value`
    /// (started by `callWithUploads` mode 2), 4 send waiting telemetry now. One export for all
    /// of them: each export carries its own conversion code.
    pub fn write(&self, which: u32, value: JsValue) -> Result<(), JsValue> {
        match which {
            0 => {
                let url = value.as_string().unwrap_or_default();
                self.driver.with(|s| {
                    let state = s.session.state().name();
                    if state != "Disconnected" && state != "Reconnecting" {
                        return Err(js_error(
                            "The HubConnection must be in the Disconnected or Reconnecting state to change the url.",
                        ));
                    }
                    s.session.config_mut().url = url;
                    Ok(())
                })
            }
            1 | 2 => {
                let keep_alive = which == 2;
                let name = if keep_alive { "keepAliveIntervalInMilliseconds" } else { "serverTimeoutInMilliseconds" };
                let milliseconds = value.as_f64().unwrap_or(f64::NAN);
                let timing = duration_from_millis(name, milliseconds).map_err(|e| js_error(&e.message()))?;
                self.driver.with(|s| {
                    let config = s.session.config_mut();
                    *(if keep_alive { &mut config.keep_alive_interval } else { &mut config.server_timeout }) = timing;
                });
                Ok(())
            }
            3 => {
                self.driver.cancel_stream(value.as_f64().unwrap_or(f64::NAN) as u64);
                Ok(())
            }
            _ => {
                self.driver.flush_telemetry(false);
                Ok(())
            }
        }
    }
}
