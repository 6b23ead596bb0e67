//! Payloads between JavaScript values and the connection's wire encoding.
//!
//! Owns the one place where app values become [`Payload`]s and back: JSON through the engine's
//! own `JSON.stringify`/`JSON.parse`, MessagePack through the codec the app's
//! `MessagePackHubProtocol` (the `hubwire/msgpack` entry) hands over in the settings, which
//! encodes and decodes with `@msgpack/msgpack` and the app's options, exactly as the official
//! package does. It decides nothing about messages: the core reads the envelopes.
//!
//! It also holds the text frame being processed ([`hold_frame`]): a JSON payload that lies in
//! that frame, when the frame is all ASCII, is parsed from a slice of the frame's own JS string
//! (byte offsets are UTF-16 offsets there), so its text is never turned back from UTF-8.

#[cfg(feature = "msgpack")]
use js_sys::{Function, Uint8Array};
use wasm_bindgen::prelude::*;
#[cfg(feature = "msgpack")]
use wasm_bindgen::JsCast;

use super::platform::describe_js_error;
use super::settings::{get, js_error};
use crate::protocol::{HubProtocol, Payload, ProtocolError, RawJson, SharedText};
#[cfg(feature = "msgpack")]
use crate::protocol::RawMessagePack;

#[wasm_bindgen]
extern "C" {
    /// `JSON.parse` of a JS string (js_sys's takes Rust text, which is copied over).
    #[wasm_bindgen(js_namespace = JSON, js_name = parse, catch)]
    fn parse_js(text: &js_sys::JsString) -> Result<JsValue, JsValue>;
}

thread_local! {
    /// The text frame being processed and its JS string, when the frame is all ASCII.
    static FRAME: std::cell::Cell<Option<(SharedText, js_sys::JsString)>> = const { std::cell::Cell::new(None) };
}

/// Makes `text`, received as the JS string `js`, the frame being processed (`None`: no frame).
/// The transports hold a frame while they hand it to the core and the events it causes are
/// delivered, which all happens before they return to the event loop.
pub fn hold_frame(frame: Option<(&SharedText, JsValue)>) {
    let held = frame.and_then(|(text, js)| {
        let js: js_sys::JsString = js.unchecked_into();
        // UTF-8 is as long as UTF-16 only when every character is ASCII; only then are the
        // offsets the same. Any other frame is decoded from its payloads' text.
        (js.length() as usize == text.len()).then(|| (text.clone(), js))
    });
    FRAME.with(|frame| frame.set(held));
}

/// The JS string of a JSON payload that lies in the frame being processed: a slice of the
/// frame's JS string, which engines share rather than copy. `None` for any other payload (one
/// of an earlier frame, or one built here), which is matched by identity, never by address.
fn held_slice(json: &RawJson) -> Option<js_sys::JsString> {
    let (text, start) = json.frame();
    FRAME.with(|frame| {
        let held = frame.take();
        let slice = match &held {
            Some((held, js)) if std::sync::Arc::ptr_eq(held, text) => {
                Some(js.substring(start as u32, (start + json.as_str().len()) as u32))
            }
            _ => None,
        };
        frame.set(held);
        slice
    })
}

/// How this connection turns values into payloads and back.
pub enum PayloadCodec {
    /// JSON text.
    Json,
    /// MessagePack bytes through the app's protocol object.
    #[cfg(feature = "msgpack")]
    MessagePack {
        /// `encode(value) -> Uint8Array`.
        encode: Function,
        /// `decode(Uint8Array) -> value`.
        decode: Function,
    },
}

impl PayloadCodec {
    /// Reads the `hubProtocol` setting: absent for JSON, or `{ name: "messagepack", encode,
    /// decode }` as the JS entry builds it from a `MessagePackHubProtocol`.
    pub fn from_settings(settings: &JsValue) -> Result<(HubProtocol, PayloadCodec), JsValue> {
        let Some(protocol) = get(settings, "hubProtocol") else {
            return Ok((HubProtocol::Json, PayloadCodec::Json));
        };
        let name = get(&protocol, "name").and_then(|v| v.as_string()).unwrap_or_default();
        match HubProtocol::from_name(&name) {
            Some(HubProtocol::Json) => Ok((HubProtocol::Json, PayloadCodec::Json)),
            #[cfg(feature = "msgpack")]
            Some(HubProtocol::MessagePack) => {
                let function = |key: &str| {
                    get(&protocol, key)
                        .and_then(|v| v.dyn_into::<Function>().ok())
                        .ok_or_else(|| js_error(&["The 'messagepack' protocol needs its '", key, "' function."].concat()))
                };
                Ok((HubProtocol::MessagePack, PayloadCodec::MessagePack { encode: function("encode")?, decode: function("decode")? }))
            }
            // This module was built without the codec; the package's loader gives connections
            // with a MessagePack protocol the other module, so only a hand-made protocol object
            // gets here.
            #[cfg(not(feature = "msgpack"))]
            None if name == "messagepack" => Err(js_error(
                "The 'messagepack' protocol needs MessagePackHubProtocol from 'hubwire/msgpack'.",
            )),
            None => Err(js_error(&["The hub protocol '", &name, "' is not supported."].concat())),
        }
    }

    /// A JavaScript value (an argument list, an item, a result) as a payload; `what` names it
    /// in the error ("arguments").
    pub fn encode(&self, value: &JsValue, what: &str) -> Result<Payload, ProtocolError> {
        match self {
            PayloadCodec::Json => {
                let text = js_sys::JSON::stringify(value)
                    .map_err(|thrown| {
                        ProtocolError::MalformedJson(
                            [what, " cannot be serialized to JSON: ", &describe_js_error(&thrown)].concat(),
                        )
                    })?
                    .as_string()
                    .unwrap_or_else(|| "[]".to_string());
                RawJson::parse(text).map(Payload::from)
            }
            #[cfg(feature = "msgpack")]
            PayloadCodec::MessagePack { encode, .. } => {
                let encoded = encode.call1(&JsValue::UNDEFINED, value).map_err(|thrown| {
                    ProtocolError::MalformedMessagePack(
                        [what, " cannot be encoded as MessagePack: ", &describe_js_error(&thrown)].concat(),
                    )
                })?;
                let bytes = encoded
                    .dyn_into::<Uint8Array>()
                    .map_err(|_| ProtocolError::MalformedMessagePack("the encoder did not return a Uint8Array".into()))?
                    .to_vec();
                RawMessagePack::parse(bytes).map(Payload::from)
            }
        }
    }

    /// A payload as a JavaScript value.
    pub fn decode(&self, payload: &Payload) -> Result<JsValue, String> {
        match (self, payload) {
            (_, Payload::Json(json)) => match held_slice(json) {
                Some(text) => parse_js(&text),
                None => js_sys::JSON::parse(json.as_str()),
            }
            .map_err(|thrown| describe_js_error(&thrown)),
            #[cfg(feature = "msgpack")]
            (PayloadCodec::MessagePack { decode, .. }, Payload::MessagePack(bytes)) => {
                let array = Uint8Array::from(bytes.as_bytes());
                decode
                    .call1(&JsValue::UNDEFINED, &array)
                    .map_err(|thrown| ["a MessagePack payload cannot be decoded: ", &describe_js_error(&thrown)].concat())
            }
            (PayloadCodec::Json, Payload::MessagePack(_)) => {
                Err("a MessagePack payload on a JSON connection".to_string())
            }
        }
    }

    /// The payload of a call without arguments.
    pub fn empty_arguments(&self) -> Payload {
        match self {
            PayloadCodec::Json => RawJson::empty_array().into(),
            #[cfg(feature = "msgpack")]
            PayloadCodec::MessagePack { .. } => RawMessagePack::empty_array().into(),
        }
    }
}
