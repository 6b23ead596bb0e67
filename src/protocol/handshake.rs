//! The handshake that opens a hub connection: the client names its hub protocol and version,
//! the server answers with an empty object or an error.
//!
//! The server may send hub messages in the same transport frame right after its handshake
//! response, so parsing returns whatever text followed the response.

use super::framing::{write_record, RECORD_SEPARATOR};
use super::json::{self, JsonError, Members, Rules};
use super::ProtocolError;

/// The client's opening message.
#[derive(Debug, Clone, PartialEq, Eq)]
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
        let mut out = String::with_capacity(32 + self.protocol.len());
        out.push_str("{\"protocol\":");
        json::push_string(&mut out, &self.protocol);
        out.push_str(",\"version\":");
        json::push_u64(&mut out, u64::from(self.version));
        out.push('}');
        write_record(out)
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

fn malformed(context: &str, error: JsonError) -> ProtocolError {
    ProtocolError::MalformedJson([context, ": ", &error.describe()].concat())
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
    // Read as a whole value tree would be (strings decoded, depth bounded), and, as in such a
    // tree, a property given twice counts with its last value.
    let mut members = Members::of(record, Rules::TREE).map_err(|e| match e.what {
        "an object was expected" => ProtocolError::MalformedJson("handshake response is not an object".into()),
        _ => malformed("handshake response", e),
    })?;
    let mut has_type = false;
    let mut error = None;
    while let Some((name, value)) = members.next().map_err(|e| malformed("handshake response", e))? {
        if name.is("type") {
            has_type = true;
        } else if name.is("error") {
            error = Some(value);
        }
    }
    // A hub message where the handshake response belongs means the server skipped the handshake.
    if has_type {
        return Err(ProtocolError::UnexpectedMessage(
            "expected a handshake response but got a hub message".into(),
        ));
    }
    match error.filter(|raw| *raw != "null") {
        None => Ok(HandshakeParse::Accepted { rest }),
        Some(raw) => Err(json::string_value(raw).map_or(
            ProtocolError::InvalidField { message: "handshake response", field: "error", expected: "a string" },
            ProtocolError::HandshakeRejected,
        )),
    }
}

/// Parses a client's handshake request (the server's side, used by the mock hub). Returns the
/// request and whatever data followed it.
pub fn parse_request(data: &str) -> Result<Option<(HandshakeRequest, &str)>, ProtocolError> {
    let Some(end) = data.find(RECORD_SEPARATOR) else {
        return Ok(None);
    };
    Ok(Some((read_request(&data[..end])?, &data[end + RECORD_SEPARATOR.len_utf8()..])))
}

/// Reads the `{ "protocol": string, "version": integer }` object of a handshake request; other
/// properties are skipped, a property given twice is an error.
fn read_request(record: &str) -> Result<HandshakeRequest, ProtocolError> {
    const CONTEXT: &str = "handshake request";
    let invalid = |what: &'static str| ProtocolError::MalformedJson([CONTEXT, ": ", what].concat());
    let mut members = Members::of(record, Rules::RAW).map_err(|e| malformed(CONTEXT, e))?;
    let (mut protocol, mut version) = (None, None);
    while let Some((name, value)) = members.next().map_err(|e| malformed(CONTEXT, e))? {
        if name.is("protocol") {
            if protocol.is_some() {
                return Err(invalid("the 'protocol' property is given twice"));
            }
            protocol = Some(json::string_value(value).ok_or_else(|| invalid("'protocol' must be a string"))?);
        } else if name.is("version") {
            if version.is_some() {
                return Err(invalid("the 'version' property is given twice"));
            }
            let number = json::u64_value(value).and_then(|v| u32::try_from(v).ok());
            version = Some(number.ok_or_else(|| invalid("'version' must be a non-negative integer"))?);
        }
    }
    Ok(HandshakeRequest {
        protocol: protocol.ok_or_else(|| invalid("the 'protocol' property is missing"))?,
        version: version.ok_or_else(|| invalid("the 'version' property is missing"))?,
    })
}

/// A handshake response record: `{}` for success, `{"error": ...}` for a refusal.
pub fn encode_response(error: Option<&str>) -> String {
    match error {
        None => write_record("{}".to_string()),
        Some(error) => {
            let mut out = String::with_capacity(error.len() + 12);
            out.push_str("{\"error\":");
            json::push_string(&mut out, error);
            out.push('}');
            write_record(out)
        }
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
