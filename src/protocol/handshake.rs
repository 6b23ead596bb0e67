//! The handshake that opens a hub connection: the client names its hub protocol and version,
//! the server answers with an empty object or an error.
//!
//! The server may send hub messages in the same transport frame right after its handshake
//! response, so parsing returns whatever text followed the response.

use serde::{Deserialize, Serialize};

use super::framing::{write_record, RECORD_SEPARATOR};
use super::ProtocolError;

/// The client's opening message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HandshakeRequest {
    /// Hub protocol name, e.g. `json`.
    pub protocol: String,
    /// Hub protocol version: 1, or 2 when stateful reconnect was negotiated.
    pub version: u32,
}

impl HandshakeRequest {
    /// The JSON hub protocol at the given version.
    pub fn json(version: u32) -> Self {
        HandshakeRequest { protocol: "json".to_string(), version }
    }

    /// The request as one framed record, ready to send.
    pub fn encode(&self) -> String {
        // Serializing a struct of a string and an integer cannot fail.
        write_record(serde_json::to_string(self).unwrap_or_default())
    }
}

/// The outcome of parsing the server's handshake response from the start of received data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HandshakeParse<'a> {
    /// No complete record yet: keep the data and wait for more.
    Incomplete,
    /// The server accepted the handshake; `rest` is the data that followed the response.
    Accepted {
        /// Text after the handshake record (zero or more hub message records).
        rest: &'a str,
    },
}

#[derive(Deserialize)]
struct ResponseWire {
    error: Option<String>,
}

/// Parses the handshake response at the start of `data`.
///
/// Returns [`ProtocolError::HandshakeRejected`] when the server answered with an error, and a
/// parse error for anything that is not a handshake response.
pub fn parse_response(data: &str) -> Result<HandshakeParse<'_>, ProtocolError> {
    let Some(end) = data.find(RECORD_SEPARATOR) else {
        return Ok(HandshakeParse::Incomplete);
    };
    let record = &data[..end];
    let rest = &data[end + RECORD_SEPARATOR.len_utf8()..];
    let value: serde_json::Value = serde_json::from_str(record)
        .map_err(|e| ProtocolError::MalformedJson(format!("handshake response: {e}")))?;
    if !value.is_object() {
        return Err(ProtocolError::MalformedJson("handshake response is not an object".into()));
    }
    // A hub message where the handshake response belongs means the server skipped the handshake.
    if value.get("type").is_some() {
        return Err(ProtocolError::UnexpectedMessage(
            "expected a handshake response but got a hub message".into(),
        ));
    }
    let wire: ResponseWire = serde_json::from_value(value).map_err(|_| ProtocolError::InvalidField {
        message: "handshake response",
        field: "error",
        expected: "a string",
    })?;
    match wire.error {
        Some(error) => Err(ProtocolError::HandshakeRejected(error)),
        None => Ok(HandshakeParse::Accepted { rest }),
    }
}

/// Parses a client's handshake request (the server's side, used by the mock hub). Returns the
/// request and whatever data followed it.
pub fn parse_request(data: &str) -> Result<Option<(HandshakeRequest, &str)>, ProtocolError> {
    let Some(end) = data.find(RECORD_SEPARATOR) else {
        return Ok(None);
    };
    let request: HandshakeRequest = serde_json::from_str(&data[..end])
        .map_err(|e| ProtocolError::MalformedJson(format!("handshake request: {e}")))?;
    Ok(Some((request, &data[end + RECORD_SEPARATOR.len_utf8()..])))
}

/// A handshake response record: `{}` for success, `{"error": ...}` for a refusal.
pub fn encode_response(error: Option<&str>) -> String {
    match error {
        None => write_record("{}".to_string()),
        Some(error) => write_record(serde_json::json!({ "error": error }).to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_is_json_with_record_separator() {
        assert_eq!(HandshakeRequest::json(1).encode(), "{\"protocol\":\"json\",\"version\":1}\u{1e}");
    }

    #[test]
    fn empty_object_is_acceptance() {
        assert_eq!(parse_response("{}\u{1e}"), Ok(HandshakeParse::Accepted { rest: "" }));
    }

    #[test]
    fn hub_messages_after_the_response_in_the_same_frame_are_returned() {
        let data = "{}\u{1e}{\"type\":6}\u{1e}{\"type\":1,\"target\":\"x\",\"arguments\":[]}\u{1e}";
        assert_eq!(
            parse_response(data),
            Ok(HandshakeParse::Accepted {
                rest: "{\"type\":6}\u{1e}{\"type\":1,\"target\":\"x\",\"arguments\":[]}\u{1e}"
            })
        );
    }

    #[test]
    fn error_response_is_a_rejection_with_the_server_text() {
        assert_eq!(
            parse_response("{\"error\":\"Requested protocol 'x' is not available.\"}\u{1e}"),
            Err(ProtocolError::HandshakeRejected("Requested protocol 'x' is not available.".into()))
        );
    }

    #[test]
    fn data_without_separator_is_incomplete() {
        assert_eq!(parse_response("{"), Ok(HandshakeParse::Incomplete));
    }

    #[test]
    fn malformed_or_misplaced_responses_are_errors() {
        for bad in ["nope\u{1e}", "[]\u{1e}", "{\"error\":5}\u{1e}", "{\"type\":1}\u{1e}"] {
            assert!(parse_response(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn server_side_round_trip() {
        let (request, rest) = parse_request("{\"protocol\":\"json\",\"version\":1}\u{1e}{\"type\":6}\u{1e}")
            .unwrap()
            .unwrap();
        assert_eq!(request, HandshakeRequest::json(1));
        assert_eq!(rest, "{\"type\":6}\u{1e}");
        assert_eq!(encode_response(Some("no")), "{\"error\":\"no\"}\u{1e}");
    }
}
