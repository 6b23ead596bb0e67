//! The wire format of plain JSON WebSocket endpoints (servers that never adopted SignalR): each
//! text frame is one JSON object `{ "type": "stats:tasks", "payload": { ... } }`.
//!
//! There is no negotiate, no handshake and no record separator: one frame, one message. This
//! module only turns frame text into a typed [`PlainMessage`] and back; it knows nothing of
//! sockets, reconnects or subscriptions.

use super::json::{self, Members, Rules};
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

const MESSAGE: &str = "PlainMessage";

/// Parses one text frame. Fails on text that is not a JSON object, on a missing or non-string
/// `type`, on a property given twice, and on frames larger than `max_bytes`. Unknown fields are
/// ignored.
pub fn parse_message(text: &str, max_bytes: usize) -> Result<PlainMessage, ProtocolError> {
    if text.len() > max_bytes {
        return Err(ProtocolError::TooLarge { size: text.len(), limit: max_bytes });
    }
    let malformed = |e: json::JsonError| ProtocolError::MalformedJson(e.describe());
    let mut members = Members::of(text, Rules::RAW).map_err(malformed)?;
    // Raw values; an explicit `"type": null` is kept apart from a missing `type`.
    let (mut kind, mut payload) = (None, None);
    while let Some((name, value)) = members.next().map_err(malformed)? {
        let (slot, field) = if name.is("type") {
            (&mut kind, "type")
        } else if name.is("payload") {
            (&mut payload, "payload")
        } else {
            continue;
        };
        if slot.is_some() {
            return Err(ProtocolError::MalformedJson(["the '", field, "' property is given twice"].concat()));
        }
        *slot = Some(value);
    }
    let kind = kind.ok_or(ProtocolError::MissingField { message: MESSAGE, field: "type" })?;
    let kind = json::string_value(kind).ok_or(ProtocolError::InvalidField {
        message: MESSAGE,
        field: "type",
        expected: "a string",
    })?;
    // The reader delimited the payload as one valid value.
    let payload = payload.map_or_else(RawJson::null, RawJson::from_raw);
    Ok(PlainMessage { kind, payload })
}

/// Encodes a message as the text of one frame.
pub fn encode_message(message: &PlainMessage) -> String {
    let mut out = String::with_capacity(message.kind.len() + message.payload.as_str().len() + 24);
    out.push_str("{\"type\":");
    json::push_string(&mut out, &message.kind);
    out.push_str(",\"payload\":");
    out.push_str(message.payload.as_str());
    out.push('}');
    out
}

