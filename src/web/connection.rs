//! The `#[wasm_bindgen]` class behind the npm package's `HubConnection`.
//!
//! The package's JavaScript entry (`pkg-template/index.js`) keeps the official client's shape
//! — the builder, rest-parameter `invoke(name, ...args)` — and hands each call to this class,
//! which turns it into an engine command through the [`Driver`].

use js_sys::{Function, Promise, Reflect};
use wasm_bindgen::prelude::*;

use super::driver::{to_js_error, Driver, ShellOptions};
use crate::core::{HubConfig, HubConnection, HubError};
use crate::protocol::{ProtocolError, RawJson};

/// The connection object the JS `HubConnection` delegates to.
#[wasm_bindgen(js_name = HubConnectionCore)]
pub struct HubConnectionCore {
    driver: Driver,
}

fn get(options: &JsValue, key: &str) -> Option<JsValue> {
    if !options.is_object() {
        return None;
    }
    Reflect::get(options, &JsValue::from_str(key)).ok().filter(|v| !v.is_undefined() && !v.is_null())
}

fn millis(options: &JsValue, key: &str) -> Option<std::time::Duration> {
    get(options, key)
        .and_then(|v| v.as_f64())
        .filter(|ms| ms.is_finite() && *ms >= 0.0)
        .map(|ms| std::time::Duration::from_millis(ms as u64))
}

/// The `transport` setting as bit flags: a number (`HttpTransportType`) or a transport name.
fn transport_flags(transport: &JsValue) -> Result<u8, JsValue> {
    use crate::protocol::negotiate::TransportKind;
    if let Some(flags) = transport.as_f64() {
        return Ok(flags as u8 & 7);
    }
    let name = transport.as_string().unwrap_or_default();
    match TransportKind::from_name(&name) {
        Some(TransportKind::WebSockets) => Ok(1),
        Some(TransportKind::ServerSentEvents) => Ok(2),
        Some(TransportKind::LongPolling) => Ok(4),
        None => Err(js_sys::Error::new(&format!("Unknown transport '{name}'.")).into()),
    }
}

fn arguments_json(arguments: &JsValue) -> Result<RawJson, JsValue> {
    let text = js_sys::JSON::stringify(arguments)
        .map_err(|thrown| {
            to_js_error(&HubError::Protocol(ProtocolError::MalformedJson(format!(
                "arguments cannot be serialized to JSON: {}",
                super::http::describe_js_error(&thrown)
            ))))
        })?
        .as_string()
        .unwrap_or_else(|| "[]".to_string());
    RawJson::parse(text).map_err(|e| to_js_error(&e.into()))
}

#[wasm_bindgen(js_class = HubConnectionCore)]
impl HubConnectionCore {
    /// Builds a connection from the JS builder's settings object: `url` (required),
    /// `skipNegotiation`, `accessTokenFactory`, `withCredentials`, `logLevel`,
    /// `transport`, `keepAliveIntervalInMilliseconds`, `serverTimeoutInMilliseconds`.
    #[wasm_bindgen(constructor)]
    pub fn new(settings: JsValue) -> Result<HubConnectionCore, JsValue> {
        let url = get(&settings, "url")
            .and_then(|v| v.as_string())
            .ok_or_else(|| JsValue::from(js_sys::Error::new("The 'url' setting is required.")))?;
        let mut config = HubConfig::new(url);
        config.skip_negotiation = get(&settings, "skipNegotiation").is_some_and(|v| v.is_truthy());
        let access_token_factory = match get(&settings, "accessTokenFactory") {
            None => None,
            Some(factory) => Some(factory.dyn_into::<Function>().map_err(|_| {
                JsValue::from(js_sys::Error::new("'accessTokenFactory' must be a function."))
            })?),
        };
        config.uses_access_token = access_token_factory.is_some();
        if let Some(transport) = get(&settings, "transport") {
            config.allowed_transports = transport_flags(&transport)?;
        }
        if let Some(interval) = millis(&settings, "keepAliveIntervalInMilliseconds") {
            config.keep_alive_interval = interval;
        }
        if let Some(timeout) = millis(&settings, "serverTimeoutInMilliseconds") {
            config.server_timeout = timeout;
        }
        let options = ShellOptions {
            access_token_factory,
            with_credentials: get(&settings, "withCredentials").map_or(true, |v| v.is_truthy()),
            log_level: get(&settings, "logLevel").and_then(|v| v.as_f64()).map_or(2, |n| n as u8),
        };
        Ok(HubConnectionCore { driver: Driver::new(HubConnection::new(config), options) })
    }

    /// Starts the connection.
    pub fn start(&self) -> Promise {
        self.driver.start()
    }

    /// Stops the connection.
    pub fn stop(&self) -> Promise {
        self.driver.stop()
    }

    /// Calls a hub method with an array of arguments; resolves with its result.
    pub fn invoke(&self, method_name: &str, arguments: JsValue) -> Promise {
        match arguments_json(&arguments) {
            Ok(arguments) => self.driver.invoke(method_name, arguments),
            Err(error) => Promise::reject(&error),
        }
    }

    /// Calls a hub method with an array of arguments without waiting for a result.
    pub fn send(&self, method_name: &str, arguments: JsValue) -> Promise {
        match arguments_json(&arguments) {
            Ok(arguments) => self.driver.send(method_name, arguments),
            Err(error) => Promise::reject(&error),
        }
    }

    /// Registers a handler for a client method the server calls.
    pub fn on(&self, method_name: &str, handler: Function) {
        self.driver.with(|s| s.engine.on(method_name, handler));
    }

    /// Removes one handler of a method, or all of them when `handler` is omitted.
    pub fn off(&self, method_name: &str, handler: Option<Function>) {
        self.driver.with(|s| s.engine.off(method_name, handler.as_ref()));
    }

    /// Registers a callback for when the connection closes.
    pub fn onclose(&self, callback: Function) {
        self.driver.add_onclose(callback);
    }

    /// The connection state's name (`Disconnected`, `Connecting`, `Connected`, `Disconnecting`).
    #[wasm_bindgen(getter)]
    pub fn state(&self) -> String {
        self.driver.with(|s| s.engine.state().name().to_string())
    }

    /// The server's id for this connection, or `null` when not connected.
    #[wasm_bindgen(getter, js_name = connectionId)]
    pub fn connection_id(&self) -> Option<String> {
        self.driver.with(|s| s.engine.connection_id().map(str::to_string))
    }
}
