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

impl ProtocolError {
    /// The error as text for people (and JavaScript `Error` messages), built by joining static
    /// text and values, without the formatting machinery (it stays out of the wasm build).
    pub fn message(&self) -> String {
        let number = |value: usize| {
            let mut out = String::new();
            super::json::push_u64(&mut out, value as u64);
            out
        };
        match self {
            ProtocolError::IncompleteRecord => {
                "Message is incomplete: it does not end with the record separator.".to_string()
            }
            ProtocolError::TooLarge { size, limit } => [
                "Message of ",
                &number(*size),
                " bytes exceeds the maximum of ",
                &number(*limit),
                " bytes.",
            ]
            .concat(),
            ProtocolError::MalformedJson(detail) => ["Malformed message: ", detail].concat(),
            ProtocolError::MalformedMessagePack(detail) => ["Malformed MessagePack message: ", detail].concat(),
            ProtocolError::MissingField { message, field } => {
                ["Invalid ", message, " message: the '", field, "' property is missing."].concat()
            }
            ProtocolError::InvalidField { message, field, expected } => {
                ["Invalid ", message, " message: '", field, "' must be ", expected, "."].concat()
            }
            ProtocolError::HandshakeRejected(error) => ["Server returned handshake error: ", error].concat(),
            ProtocolError::UnexpectedMessage(detail) => ["Unexpected message: ", detail].concat(),
            ProtocolError::NegotiateRejected(error) => ["Server rejected negotiate: ", error].concat(),
            ProtocolError::ClassicAspNetSignalR => "Detected a connection attempt to an ASP.NET SignalR Server. \
                This client only supports connecting to an ASP.NET Core SignalR Server."
                .to_string(),
            ProtocolError::InvalidUrl(detail) => ["Invalid URL: ", detail].concat(),
        }
    }
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

impl std::error::Error for ProtocolError {}
