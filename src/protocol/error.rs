//! The one error type of the wire layer.

use std::fmt;

/// Why a piece of wire data could not be understood.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProtocolError {
    /// Text that ends without the 0x1E record separator: a record was cut off.
    IncompleteRecord,
    /// A frame or record larger than the configured maximum.
    TooLarge {
        /// Size of the rejected data in bytes.
        size: usize,
        /// The maximum that was allowed.
        limit: usize,
    },
    /// A record that is not valid JSON, or JSON of the wrong overall shape.
    MalformedJson(String),
    /// A binary message that is not valid MessagePack, or MessagePack of the wrong shape.
    MalformedMessagePack(String),
    /// A message whose required field is absent.
    MissingField {
        /// The message kind being parsed (e.g. "Invocation").
        message: &'static str,
        /// The JSON property that was expected.
        field: &'static str,
    },
    /// A field present with the wrong JSON type or an out-of-range value.
    InvalidField {
        /// The message kind being parsed.
        message: &'static str,
        /// The JSON property.
        field: &'static str,
        /// What was expected instead.
        expected: &'static str,
    },
    /// The server's handshake response carried an error.
    HandshakeRejected(String),
    /// Data arrived that the current protocol phase does not allow (e.g. hub messages before
    /// the handshake completed).
    UnexpectedMessage(String),
    /// The negotiate response carried an `error` property.
    NegotiateRejected(String),
    /// The server speaks classic ASP.NET SignalR, not ASP.NET Core SignalR.
    ClassicAspNetSignalR,
    /// A URL the protocol must build on could not be used.
    InvalidUrl(String),
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProtocolError::IncompleteRecord => {
                write!(f, "Message is incomplete: it does not end with the record separator.")
            }
            ProtocolError::TooLarge { size, limit } => {
                write!(f, "Message of {size} bytes exceeds the maximum of {limit} bytes.")
            }
            ProtocolError::MalformedJson(detail) => write!(f, "Malformed message: {detail}"),
            ProtocolError::MalformedMessagePack(detail) => write!(f, "Malformed MessagePack message: {detail}"),
            ProtocolError::MissingField { message, field } => {
                write!(f, "Invalid {message} message: the '{field}' property is missing.")
            }
            ProtocolError::InvalidField { message, field, expected } => {
                write!(f, "Invalid {message} message: '{field}' must be {expected}.")
            }
            ProtocolError::HandshakeRejected(error) => {
                write!(f, "Server returned handshake error: {error}")
            }
            ProtocolError::UnexpectedMessage(detail) => write!(f, "Unexpected message: {detail}"),
            ProtocolError::NegotiateRejected(error) => {
                write!(f, "Server rejected negotiate: {error}")
            }
            ProtocolError::ClassicAspNetSignalR => write!(
                f,
                "Detected a connection attempt to an ASP.NET SignalR Server. This client only \
                 supports connecting to an ASP.NET Core SignalR Server."
            ),
            ProtocolError::InvalidUrl(detail) => write!(f, "Invalid URL: {detail}"),
        }
    }
}

impl std::error::Error for ProtocolError {}
