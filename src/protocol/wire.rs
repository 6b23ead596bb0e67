//! The two hub protocols side by side: which one a connection speaks, and the transport data
//! each produces (text for JSON, bytes for MessagePack).
//!
//! Owns the choice between [`super::message`] (JSON) and [`super::msgpack`] (MessagePack) for
//! encoding and parsing, so the core names a protocol once and never branches on it again.

use super::framing::RECORD_SEPARATOR;
use super::message::{self, HubMessage, SharedText};
#[cfg(feature = "msgpack")]
use super::msgpack;
use super::ProtocolError;

/// A hub protocol a connection can speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HubProtocol {
    /// The JSON protocol (`json`): text frames of 0x1E-separated records.
    #[default]
    Json,
    /// The MessagePack protocol (`messagepack`): binary frames of length-prefixed arrays. Only
    /// in builds with the `msgpack` feature (the package's second wasm module).
    #[cfg(feature = "msgpack")]
    MessagePack,
}

impl HubProtocol {
    /// The name the handshake carries.
    pub fn name(self) -> &'static str {
        match self {
            HubProtocol::Json => "json",
            #[cfg(feature = "msgpack")]
            HubProtocol::MessagePack => "messagepack",
        }
    }

    /// The protocol of a handshake name, if it is one this crate speaks.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "json" => Some(HubProtocol::Json),
            #[cfg(feature = "msgpack")]
            "messagepack" => Some(HubProtocol::MessagePack),
            _ => None,
        }
    }

    /// The transfer format a transport must offer for it, as negotiate names it.
    pub fn transfer_format(self) -> &'static str {
        match self {
            HubProtocol::Json => "Text",
            #[cfg(feature = "msgpack")]
            HubProtocol::MessagePack => "Binary",
        }
    }

    /// Whether the protocol sends binary data (binary WebSocket frames, byte bodies).
    pub fn is_binary(self) -> bool {
        self != HubProtocol::Json
    }

    /// One message, framed, ready for the transport.
    pub fn encode(self, message: &HubMessage) -> TransportData {
        match self {
            HubProtocol::Json => TransportData::Text(message.encode()),
            #[cfg(feature = "msgpack")]
            HubProtocol::MessagePack => TransportData::Binary(msgpack::encode(message)),
        }
    }

    /// Every message of one transport frame, unknown types skipped. JSON frames must be UTF-8.
    pub fn parse_frame(
        self,
        frame: &[u8],
        max_bytes: usize,
    ) -> Result<Vec<HubMessage>, ProtocolError> {
        match self {
            HubProtocol::Json => {
                if frame.len() > max_bytes {
                    return Err(ProtocolError::TooLarge {
                        size: frame.len(),
                        limit: max_bytes,
                    });
                }
                let text = std::str::from_utf8(frame).map_err(|_| {
                    ProtocolError::MalformedJson("a text frame that is not UTF-8".into())
                })?;
                message::parse_frame(text, max_bytes)
            }
            #[cfg(feature = "msgpack")]
            HubProtocol::MessagePack => msgpack::parse_frame(frame, max_bytes),
        }
    }

    /// [`Self::parse_frame`] for a received text frame from byte `start` on: JSON payloads point
    /// into the shared frame instead of copying their text.
    pub fn parse_shared_frame(
        self,
        frame: &SharedText,
        start: usize,
        max_bytes: usize,
    ) -> Result<Vec<HubMessage>, ProtocolError> {
        match self {
            HubProtocol::Json => message::parse_shared_frame(frame, start, max_bytes),
            #[cfg(feature = "msgpack")]
            HubProtocol::MessagePack => self.parse_frame(frame.as_bytes().get(start..).unwrap_or_default(), max_bytes),
        }
    }
}

/// Data for (or from) a transport: text, or bytes for binary frames and bodies.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TransportData {
    /// Text (the JSON protocol, and every handshake).
    Text(String),
    /// Bytes (MessagePack messages).
    Binary(Vec<u8>),
    /// Text the shell received and keeps shared (a response body): the payloads parsed from
    /// it point into it, as they do into a WebSocket frame.
    Shared(SharedText),
}

impl TransportData {
    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.as_bytes().len()
    }

    /// Whether there is no data.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The data as bytes (text as its UTF-8).
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            TransportData::Text(text) => text.as_bytes(),
            TransportData::Shared(text) => text.as_bytes(),
            TransportData::Binary(bytes) => bytes,
        }
    }

    /// The text, when this is text.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            TransportData::Text(text) => Some(text),
            TransportData::Shared(text) => Some(text),
            TransportData::Binary(_) => None,
        }
    }

    /// Appends `more` (one body of several sends): text stays text while both are text.
    pub fn append(&mut self, more: TransportData) {
        match (&mut *self, more) {
            (TransportData::Binary(bytes), more) => bytes.extend_from_slice(more.as_bytes()),
            (TransportData::Text(text), TransportData::Binary(more)) => {
                let mut bytes = std::mem::take(text).into_bytes();
                bytes.extend_from_slice(&more);
                *self = TransportData::Binary(bytes);
            }
            (TransportData::Text(text), more) => text.push_str(more.as_text().unwrap_or_default()),
            // Received text is not sent; should it be, the sum is text of its own.
            (TransportData::Shared(text), more) => {
                *self = TransportData::Text(String::clone(text));
                self.append(more);
            }
        }
    }
}

impl From<&str> for TransportData {
    fn from(text: &str) -> Self {
        TransportData::Text(text.to_string())
    }
}

impl From<String> for TransportData {
    fn from(text: String) -> Self {
        TransportData::Text(text)
    }
}

/// Where the text handshake ends in received data: the index just past its 0x1E, if present.
pub fn handshake_end(data: &[u8]) -> Option<usize> {
    data.iter()
        .position(|byte| *byte == RECORD_SEPARATOR as u8)
        .map(|index| index + 1)
}
