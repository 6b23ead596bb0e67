//! The wire format of plain JSON WebSocket endpoints (servers that never adopted SignalR): each
//! text frame is one JSON object `{ "type": "stats:tasks", "payload": { ... } }`.
//!
//! There is no negotiate, no handshake and no record separator: one frame, one message. This
//! module only turns frame text into a typed [`PlainMessage`] and back; it knows nothing of
//! sockets, reconnects or subscriptions.

use serde::Deserialize;
use serde_json::value::RawValue;

use super::{ProtocolError, RawJson};

/// The largest plain message accepted by default, in bytes (as the hub's frame limit).
pub const DEFAULT_MAX_MESSAGE_BYTES: usize = 1024 * 1024;

/// One message of a plain JSON WebSocket endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlainMessage {
    /// What the message is about, e.g. `stats:tasks`; subscriptions select by it (exact match).
    pub kind: String,
    /// The payload as JSON text (`null` when the server sent none).
    pub payload: RawJson,
}

#[derive(Deserialize)]
struct Envelope<'a> {
    // `present` keeps an explicit `"type": null` apart from a missing field.
    #[serde(rename = "type", borrow, default, deserialize_with = "present")]
    kind: Option<&'a RawValue>,
    #[serde(borrow, default)]
    payload: Option<&'a RawValue>,
}

fn present<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<&'de RawValue>, D::Error> {
    <&RawValue>::deserialize(deserializer).map(Some)
}

const MESSAGE: &str = "PlainMessage";

/// Parses one text frame. Fails on text that is not a JSON object, on a missing or non-string
/// `type`, and on frames larger than `max_bytes`. Unknown fields are ignored.
pub fn parse_message(text: &str, max_bytes: usize) -> Result<PlainMessage, ProtocolError> {
    if text.len() > max_bytes {
        return Err(ProtocolError::TooLarge { size: text.len(), limit: max_bytes });
    }
    let envelope: Envelope<'_> =
        serde_json::from_str(text).map_err(|e| ProtocolError::MalformedJson(e.to_string()))?;
    let kind = envelope.kind.ok_or(ProtocolError::MissingField { message: MESSAGE, field: "type" })?;
    let kind: String = serde_json::from_str(kind.get()).map_err(|_| ProtocolError::InvalidField {
        message: MESSAGE,
        field: "type",
        expected: "a string",
    })?;
    let payload = envelope.payload.map_or_else(RawJson::null, |raw| {
        // The text came out of a successful parse, so it is one valid JSON value.
        RawJson::parse(raw.get()).unwrap_or_else(|_| RawJson::null())
    });
    Ok(PlainMessage { kind, payload })
}

/// Encodes a message as the text of one frame.
pub fn encode_message(message: &PlainMessage) -> String {
    let kind = serde_json::to_string(&message.kind).unwrap_or_else(|_| "\"\"".to_string());
    format!("{{\"type\":{kind},\"payload\":{}}}", message.payload.as_str())
}

