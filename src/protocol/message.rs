//! Hub messages (types 1–9 of the SignalR hub protocol) and their JSON encoding.
//!
//! Payloads (invocation arguments, results, stream items) stay in their wire encoding as a
//! [`Payload`]: [`RawJson`] text for the JSON protocol, [`RawMessagePack`] bytes for MessagePack
//! (see [`super::msgpack`]). The core routes messages by their envelope and never needs a value
//! tree of the app's data, and the browser shell hands the payload to JavaScript's own decoder
//! (`JSON.parse`, or the app's MessagePack codec). A JSON payload parsed from a received frame
//! is a range of that frame ([`SharedText`]), not a copy of its text.

use std::sync::Arc;

use super::framing::{records, write_record};
use super::json::{self, Members, Rules};
use super::ProtocolError;

/// A received text frame, shared by every payload parsed out of it (see [`RawJson`]).
pub type SharedText = Arc<String>;

/// A piece of JSON text known to be valid JSON.
///
/// The text is a byte range of a shared string: a payload parsed from a received frame points
/// into that frame instead of copying its text out, and the browser shell can tell by
/// [`RawJson::frame`] which frame (and where in it) a payload lies.
#[derive(Clone)]
pub struct RawJson {
    text: SharedText,
    start: usize,
    end: usize,
}

impl RawJson {
    /// Checks that `text` is one valid JSON value and wraps it.
    pub fn parse(text: impl Into<String>) -> Result<Self, ProtocolError> {
        let text = text.into();
        json::whole_value(&text, Rules::RAW).map_err(|e| ProtocolError::MalformedJson(e.describe()))?;
        Ok(RawJson::owned(text))
    }

    fn owned(text: String) -> Self {
        let end = text.len();
        RawJson { text: Arc::new(text), start: 0, end }
    }

    /// Serializes a Rust value (for callers that build payloads natively, such as the mock hub).
    #[cfg(feature = "json-values")]
    pub fn from_value<T: serde::Serialize + ?Sized>(value: &T) -> Self {
        // Serializing to a String only fails for maps with non-string keys, which our callers do
        // not build; fall back to null rather than panic.
        RawJson::owned(serde_json::to_string(value).unwrap_or_else(|_| "null".to_string()))
    }

    /// The JSON `null`.
    pub fn null() -> Self {
        RawJson::owned("null".to_string())
    }

    /// An empty JSON array, the argument list of a call without arguments.
    pub fn empty_array() -> Self {
        RawJson::owned("[]".to_string())
    }

    /// The JSON text.
    pub fn as_str(&self) -> &str {
        // The range was taken from this very text at a value's ASCII delimiters.
        self.text.get(self.start..self.end).unwrap_or("null")
    }

    /// The shared text this value lies in and its byte offset there: for a payload parsed from
    /// a received frame, that frame.
    pub fn frame(&self) -> (&SharedText, usize) {
        (&self.text, self.start)
    }

    /// Parses the text into a `serde_json::Value` (for native callers that inspect payloads).
    #[cfg(feature = "json-values")]
    pub fn to_value(&self) -> serde_json::Value {
        // The text was validated on construction.
        serde_json::from_str(self.as_str()).unwrap_or(serde_json::Value::Null)
    }

    /// Wraps a slice the envelope reader already delimited as one valid value (a copy).
    #[cfg(feature = "live")]
    pub(crate) fn from_raw(raw: &str) -> Self {
        RawJson::owned(raw.to_string())
    }

    /// Wraps `raw`, a slice of `frame` the envelope reader already delimited as one valid
    /// value, without copying it: the range is where the slice lies in the frame.
    fn within(frame: &SharedText, raw: &str) -> Self {
        // A slice of `frame` starts at or after it; should one not (it cannot), `as_str` finds
        // the range outside the text and reads `null` rather than panic.
        let start = (raw.as_ptr() as usize).wrapping_sub(frame.as_ptr() as usize);
        RawJson { text: frame.clone(), start, end: start.wrapping_add(raw.len()) }
    }
}

impl PartialEq for RawJson {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for RawJson {}

impl std::hash::Hash for RawJson {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state)
    }
}

impl std::fmt::Debug for RawJson {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("RawJson").field(&self.as_str()).finish()
    }
}

/// One value of the MessagePack encoding, kept as its bytes: exactly one complete value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RawMessagePack(Vec<u8>);

impl RawMessagePack {
    /// Checks that `bytes` hold exactly one complete MessagePack value and wraps them.
    #[cfg(feature = "msgpack")]
    pub fn parse(bytes: impl Into<Vec<u8>>) -> Result<Self, ProtocolError> {
        let bytes = bytes.into();
        super::msgpack::check_one_value(&bytes)?;
        Ok(RawMessagePack(bytes))
    }

    /// Wraps bytes the MessagePack reader already delimited as one value.
    #[cfg(feature = "msgpack")]
    pub(crate) fn from_checked(bytes: &[u8]) -> Self {
        RawMessagePack(bytes.to_vec())
    }

    /// The MessagePack `nil`.
    pub fn nil() -> Self {
        RawMessagePack(vec![0xc0])
    }

    /// An empty MessagePack array, the argument list of a call without arguments.
    pub fn empty_array() -> Self {
        RawMessagePack(vec![0x90])
    }

    /// The encoded bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

/// A payload (arguments, a result, a stream item) in the encoding of the connection's hub
/// protocol. A connection only ever carries payloads of its own protocol: the shell builds them
/// with the protocol's codec. Should one of the other kind reach an encoder anyway, the encoder
/// writes that protocol's null in its place (documented there) rather than fail.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Payload {
    /// JSON text.
    Json(RawJson),
    /// MessagePack bytes.
    MessagePack(RawMessagePack),
}

impl Payload {
    /// The JSON text, when this is a JSON payload.
    pub fn as_json(&self) -> Option<&RawJson> {
        match self {
            Payload::Json(json) => Some(json),
            Payload::MessagePack(_) => None,
        }
    }

    /// The MessagePack bytes, when this is a MessagePack payload.
    pub fn as_msgpack(&self) -> Option<&RawMessagePack> {
        match self {
            Payload::MessagePack(bytes) => Some(bytes),
            Payload::Json(_) => None,
        }
    }

    /// Size of the encoded payload in bytes.
    pub fn len(&self) -> usize {
        match self {
            Payload::Json(json) => json.as_str().len(),
            Payload::MessagePack(bytes) => bytes.as_bytes().len(),
        }
    }

    /// Whether the encoded payload is empty (never, for a payload that was parsed).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl From<RawJson> for Payload {
    fn from(json: RawJson) -> Self {
        Payload::Json(json)
    }
}

impl From<RawMessagePack> for Payload {
    fn from(bytes: RawMessagePack) -> Self {
        Payload::MessagePack(bytes)
    }
}

impl PartialEq<RawJson> for Payload {
    fn eq(&self, other: &RawJson) -> bool {
        self.as_json() == Some(other)
    }
}

/// How an invocation ended, as carried by a Completion message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Completion {
    /// Completed without a result (a void hub method, or the end of a stream).
    Void,
    /// Completed with a result value.
    Result(Payload),
    /// Failed with an error message from the other side.
    Error(String),
}

/// One hub protocol message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HubMessage {
    /// Type 1: call a method on the other side. Without an id, no Completion is expected.
    Invocation {
        /// Set when the caller expects a Completion.
        invocation_id: Option<String>,
        /// The method name.
        target: String,
        /// The arguments, an array.
        arguments: Payload,
        /// Ids of client-to-server streams passed as arguments.
        stream_ids: Vec<String>,
    },
    /// Type 2: one item of a stream.
    StreamItem {
        /// The stream's invocation id.
        invocation_id: String,
        /// The item.
        item: Payload,
    },
    /// Type 3: the end of an invocation or stream.
    Completion {
        /// The invocation this completes.
        invocation_id: String,
        /// Its outcome.
        completion: Completion,
    },
    /// Type 4: call a streaming method on the other side.
    StreamInvocation {
        /// The stream's id.
        invocation_id: String,
        /// The method name.
        target: String,
        /// The arguments, an array.
        arguments: Payload,
        /// Ids of client-to-server streams passed as arguments.
        stream_ids: Vec<String>,
    },
    /// Type 5: stop a stream (or a non-streaming invocation) early.
    CancelInvocation {
        /// The invocation to cancel.
        invocation_id: String,
    },
    /// Type 6: keep-alive.
    Ping,
    /// Type 7: the sender is closing the connection.
    Close {
        /// Why, if it was an error.
        error: Option<String>,
        /// Whether the client may reconnect.
        allow_reconnect: bool,
    },
    /// Type 8: stateful reconnect acknowledgement of all messages up to `sequence_id`.
    Ack {
        /// The highest sequence id received.
        sequence_id: u64,
    },
    /// Type 9: stateful reconnect: the sequence id of the next message to be sent.
    Sequence {
        /// The sequence id.
        sequence_id: u64,
    },
}

impl HubMessage {
    /// The message type number on the wire.
    pub fn type_id(&self) -> u8 {
        match self {
            HubMessage::Invocation { .. } => 1,
            HubMessage::StreamItem { .. } => 2,
            HubMessage::Completion { .. } => 3,
            HubMessage::StreamInvocation { .. } => 4,
            HubMessage::CancelInvocation { .. } => 5,
            HubMessage::Ping => 6,
            HubMessage::Close { .. } => 7,
            HubMessage::Ack { .. } => 8,
            HubMessage::Sequence { .. } => 9,
        }
    }

    /// The message as one framed JSON record.
    pub fn encode(&self) -> String {
        let mut out = String::with_capacity(64);
        out.push_str("{\"type\":");
        json::push_u64(&mut out, u64::from(self.type_id()));
        match self {
            HubMessage::Invocation { invocation_id, target, arguments, stream_ids } => {
                if let Some(id) = invocation_id {
                    push_string_field(&mut out, "invocationId", id);
                }
                push_string_field(&mut out, "target", target);
                push_raw_field(&mut out, "arguments", arguments);
                push_stream_ids(&mut out, stream_ids);
            }
            HubMessage::StreamInvocation { invocation_id, target, arguments, stream_ids } => {
                push_string_field(&mut out, "invocationId", invocation_id);
                push_string_field(&mut out, "target", target);
                push_raw_field(&mut out, "arguments", arguments);
                push_stream_ids(&mut out, stream_ids);
            }
            HubMessage::StreamItem { invocation_id, item } => {
                push_string_field(&mut out, "invocationId", invocation_id);
                push_raw_field(&mut out, "item", item);
            }
            HubMessage::Completion { invocation_id, completion } => {
                push_string_field(&mut out, "invocationId", invocation_id);
                match completion {
                    Completion::Void => {}
                    Completion::Result(result) => push_raw_field(&mut out, "result", result),
                    Completion::Error(error) => push_string_field(&mut out, "error", error),
                }
            }
            HubMessage::CancelInvocation { invocation_id } => {
                push_string_field(&mut out, "invocationId", invocation_id);
            }
            HubMessage::Ping => {}
            HubMessage::Close { error, allow_reconnect } => {
                if let Some(error) = error {
                    push_string_field(&mut out, "error", error);
                }
                if *allow_reconnect {
                    out.push_str(",\"allowReconnect\":true");
                }
            }
            HubMessage::Ack { sequence_id } | HubMessage::Sequence { sequence_id } => {
                out.push_str(",\"sequenceId\":");
                json::push_u64(&mut out, *sequence_id);
            }
        }
        out.push('}');
        write_record(out)
    }
}

fn push_name(out: &mut String, name: &str) {
    out.push_str(",\"");
    out.push_str(name);
    out.push_str("\":");
}

fn push_string_field(out: &mut String, name: &str, value: &str) {
    push_name(out, name);
    json::push_string(out, value);
}

/// Writes a payload field. A MessagePack payload has no JSON text: it is written as `null`
/// (a connection never mixes protocols; see [`Payload`]).
fn push_raw_field(out: &mut String, name: &str, raw: &Payload) {
    push_name(out, name);
    out.push_str(raw.as_json().map_or("null", RawJson::as_str));
}

fn push_stream_ids(out: &mut String, stream_ids: &[String]) {
    if !stream_ids.is_empty() {
        push_name(out, "streamIds");
        json::push_string_array(out, stream_ids);
    }
}

/// Every property any message type may carry, each kept as its raw text (`null` included) so
/// that a wrong type becomes a precise error instead of a generic one. Unknown properties (such
/// as `headers`) are skipped unread.
#[derive(Default)]
struct Envelope<'a> {
    kind: Option<&'a str>,
    invocation_id: Option<&'a str>,
    target: Option<&'a str>,
    arguments: Option<&'a str>,
    stream_ids: Option<&'a str>,
    item: Option<&'a str>,
    result: Option<&'a str>,
    error: Option<&'a str>,
    allow_reconnect: Option<&'a str>,
    sequence_id: Option<&'a str>,
}

/// The envelope's property names, in the order of [`Envelope::slot`].
const ENVELOPE_NAMES: [&str; 10] = [
    "type", "invocationId", "target", "arguments", "streamIds", "item", "result", "error",
    "allowReconnect", "sequenceId",
];

impl<'a> Envelope<'a> {
    fn slot(&mut self, index: usize) -> Option<&mut Option<&'a str>> {
        Some(match index {
            0 => &mut self.kind,
            1 => &mut self.invocation_id,
            2 => &mut self.target,
            3 => &mut self.arguments,
            4 => &mut self.stream_ids,
            5 => &mut self.item,
            6 => &mut self.result,
            7 => &mut self.error,
            8 => &mut self.allow_reconnect,
            9 => &mut self.sequence_id,
            _ => return None,
        })
    }

    /// Reads the envelope of a record that must be one JSON object. A property given twice is
    /// an error (which of the two would count is not for a reader to guess).
    fn read(record: &'a str) -> Result<Self, ProtocolError> {
        let malformed = |e: json::JsonError| ProtocolError::MalformedJson(e.describe());
        let mut envelope = Envelope::default();
        let mut members = Members::of(record, Rules::RAW).map_err(|e| match e.what {
            "an object was expected" => ProtocolError::MalformedJson(NOT_AN_OBJECT.into()),
            _ => malformed(e),
        })?;
        while let Some((name, value)) = members.next().map_err(malformed)? {
            let Some(index) = ENVELOPE_NAMES.iter().position(|known| name.is(known)) else {
                continue;
            };
            if let Some(slot) = envelope.slot(index) {
                if slot.is_some() {
                    return Err(ProtocolError::MalformedJson(
                        ["a hub message has the '", ENVELOPE_NAMES[index], "' property twice"].concat(),
                    ));
                }
                *slot = Some(value);
            }
        }
        Ok(envelope)
    }
}

const NOT_AN_OBJECT: &str = "a hub message must be a JSON object";

/// A raw property with `null` read as absent (every envelope property but `result`).
fn given(raw: Option<&str>) -> Option<&str> {
    raw.filter(|raw| *raw != "null")
}

/// Field access for one message kind, turning absence and wrong types into precise errors.
struct Fields<'e, 'a> {
    message: &'static str,
    envelope: &'e Envelope<'a>,
    /// The frame the record lies in, which payloads point into.
    frame: &'e SharedText,
}

impl Fields<'_, '_> {
    fn payload(&self, raw: &str) -> RawJson {
        RawJson::within(self.frame, raw)
    }

    fn invalid(&self, field: &'static str, expected: &'static str) -> ProtocolError {
        ProtocolError::InvalidField { message: self.message, field, expected }
    }

    fn missing(&self, field: &'static str) -> ProtocolError {
        ProtocolError::MissingField { message: self.message, field }
    }

    fn optional_string(&self, raw: Option<&str>, field: &'static str) -> Result<Option<String>, ProtocolError> {
        match given(raw) {
            None => Ok(None),
            Some(raw) => json::string_value(raw).map(Some).ok_or_else(|| self.invalid(field, "a string")),
        }
    }

    fn string(&self, raw: Option<&str>, field: &'static str) -> Result<String, ProtocolError> {
        self.optional_string(raw, field)?.ok_or_else(|| self.missing(field))
    }

    fn invocation_id(&self) -> Result<String, ProtocolError> {
        self.string(self.envelope.invocation_id, "invocationId")
    }

    fn target(&self) -> Result<String, ProtocolError> {
        self.string(self.envelope.target, "target")
    }

    fn arguments(&self) -> Result<Payload, ProtocolError> {
        let raw = given(self.envelope.arguments).ok_or_else(|| self.missing("arguments"))?;
        if !raw.starts_with('[') {
            return Err(self.invalid("arguments", "an array"));
        }
        Ok(self.payload(raw).into())
    }

    fn stream_ids(&self) -> Result<Vec<String>, ProtocolError> {
        match given(self.envelope.stream_ids) {
            None => Ok(Vec::new()),
            Some(raw) => json::string_array(raw).ok_or_else(|| self.invalid("streamIds", "an array of strings")),
        }
    }

    fn sequence_id(&self) -> Result<u64, ProtocolError> {
        let raw = given(self.envelope.sequence_id).ok_or_else(|| self.missing("sequenceId"))?;
        json::u64_value(raw).ok_or_else(|| self.invalid("sequenceId", "a non-negative integer"))
    }
}

/// Parses one record (without its separator). Returns `Ok(None)` for a message type this
/// client does not know: the protocol asks receivers to ignore those.
/// The payloads share one copy of the record.
pub fn parse_record(record: &str) -> Result<Option<HubMessage>, ProtocolError> {
    let frame = SharedText::new(record.to_string());
    parse_record_in(&frame, &frame)
}

/// [`parse_record`] for a record that lies in `frame`: its payloads point into the frame.
fn parse_record_in(record: &str, frame: &SharedText) -> Result<Option<HubMessage>, ProtocolError> {
    let envelope = Envelope::read(record)?;
    let kind_raw = given(envelope.kind).ok_or(ProtocolError::MissingField { message: "hub", field: "type" })?;
    let kind = json::u64_value(kind_raw).ok_or(ProtocolError::InvalidField {
        message: "hub",
        field: "type",
        expected: "an integer",
    })?;
    let message = match kind {
        1 => {
            let f = Fields { message: "Invocation", envelope: &envelope, frame };
            HubMessage::Invocation {
                invocation_id: f.optional_string(envelope.invocation_id, "invocationId")?,
                target: f.target()?,
                arguments: f.arguments()?,
                stream_ids: f.stream_ids()?,
            }
        }
        2 => {
            let f = Fields { message: "StreamItem", envelope: &envelope, frame };
            HubMessage::StreamItem {
                invocation_id: f.invocation_id()?,
                item: given(envelope.item).map_or_else(RawJson::null, |raw| f.payload(raw)).into(),
            }
        }
        3 => {
            let f = Fields { message: "Completion", envelope: &envelope, frame };
            let invocation_id = f.invocation_id()?;
            let error = f.optional_string(envelope.error, "error")?;
            let completion = match (error, envelope.result) {
                // A null result next to an error is no result (the official client reads it so).
                (Some(error), Some("null")) => Completion::Error(error),
                (Some(_), Some(_)) => {
                    return Err(ProtocolError::MalformedJson(
                        "a Completion cannot carry both 'result' and 'error'".into(),
                    ))
                }
                (Some(error), None) => Completion::Error(error),
                (None, Some(result)) => Completion::Result(f.payload(result).into()),
                (None, None) => Completion::Void,
            };
            HubMessage::Completion { invocation_id, completion }
        }
        4 => {
            let f = Fields { message: "StreamInvocation", envelope: &envelope, frame };
            HubMessage::StreamInvocation {
                invocation_id: f.invocation_id()?,
                target: f.target()?,
                arguments: f.arguments()?,
                stream_ids: f.stream_ids()?,
            }
        }
        5 => {
            let f = Fields { message: "CancelInvocation", envelope: &envelope, frame };
            HubMessage::CancelInvocation { invocation_id: f.invocation_id()? }
        }
        6 => HubMessage::Ping,
        7 => {
            let f = Fields { message: "Close", envelope: &envelope, frame };
            let allow_reconnect = match given(envelope.allow_reconnect) {
                None => false,
                Some(raw) => json::bool_value(raw).ok_or_else(|| f.invalid("allowReconnect", "a boolean"))?,
            };
            HubMessage::Close { error: f.optional_string(envelope.error, "error")?, allow_reconnect }
        }
        8 => HubMessage::Ack {
            sequence_id: Fields { message: "Ack", envelope: &envelope, frame }.sequence_id()?,
        },
        9 => HubMessage::Sequence {
            sequence_id: Fields { message: "Sequence", envelope: &envelope, frame }.sequence_id()?,
        },
        _ => return Ok(None),
    };
    Ok(Some(message))
}

/// Parses a whole transport frame of the JSON protocol: every record in order, unknown message
/// types skipped. The first bad record fails the frame.
/// The payloads share one copy of the frame (made after the size check).
pub fn parse_frame(frame: &str, max_bytes: usize) -> Result<Vec<HubMessage>, ProtocolError> {
    if frame.len() > max_bytes {
        return Err(ProtocolError::TooLarge { size: frame.len(), limit: max_bytes });
    }
    parse_shared_frame(&SharedText::new(frame.to_string()), 0, max_bytes)
}

/// [`parse_frame`] for a received frame kept as shared text: the payloads point into it (no
/// copy of their text). `start` skips what came before (a handshake response).
pub fn parse_shared_frame(frame: &SharedText, start: usize, max_bytes: usize) -> Result<Vec<HubMessage>, ProtocolError> {
    let mut messages = Vec::new();
    for record in records(frame.get(start..).unwrap_or(""), max_bytes)? {
        if let Some(message) = parse_record_in(record, frame)? {
            messages.push(message);
        }
    }
    Ok(messages)
}
