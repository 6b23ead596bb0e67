//! Negotiate: the HTTP exchange before a transport opens, and the URLs built from its answer.
//!
//! The client POSTs to `<hub url>/negotiate?negotiateVersion=1`; the server answers with a
//! connection id and token and the transports it offers, or redirects the client elsewhere
//! (Azure SignalR Service), or refuses with an error.

use super::json::{self, JsonError, Members, Rules};
use super::ProtocolError;

/// The negotiate protocol version this client asks for.
pub const NEGOTIATE_VERSION: u32 = 1;

/// A transport named by the server in `availableTransports`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TransportKind {
    /// WebSockets.
    WebSockets,
    /// Server-Sent Events.
    ServerSentEvents,
    /// Long Polling.
    LongPolling,
}

impl TransportKind {
    /// The transport's name on the wire.
    pub fn name(self) -> &'static str {
        match self {
            TransportKind::WebSockets => "WebSockets",
            TransportKind::ServerSentEvents => "ServerSentEvents",
            TransportKind::LongPolling => "LongPolling",
        }
    }

    /// The transport of a wire name, if this client knows it.
    pub fn from_name(name: &str) -> Option<Self> {
        [TransportKind::WebSockets, TransportKind::ServerSentEvents, TransportKind::LongPolling]
            .into_iter()
            .find(|kind| kind.name() == name)
    }
}

/// One entry of `availableTransports`.
// The serde derives are for the mock hub, which writes negotiate responses with serde_json.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "json-values", derive(serde::Serialize, serde::Deserialize))]
pub struct AvailableTransport {
    /// Transport name as the server wrote it (unknown names are kept and skipped by callers).
    pub transport: String,
    /// Transfer formats the server accepts on it (`Text`, `Binary`).
    #[cfg_attr(feature = "json-values", serde(rename = "transferFormats", default))]
    pub transfer_formats: Vec<String>,
}

/// What the server decided: connect here, or go elsewhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NegotiateResponse {
    /// Connect with these details.
    Connect(ConnectionDetails),
    /// Negotiate again at `url`, with `access_token` as the bearer token when given.
    Redirect {
        /// The URL to negotiate with next.
        url: String,
        /// The token to use from now on.
        access_token: Option<String>,
    },
}

/// A successful negotiate answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionDetails {
    /// The connection id the server reports (shown to the app as `connectionId`).
    pub connection_id: String,
    /// The token sent back as `id=` on the transport URL. Version 0 servers use the id.
    pub connection_token: String,
    /// The negotiate version the server chose.
    pub negotiate_version: u32,
    /// Transports the server offers, in its order of preference.
    pub available_transports: Vec<AvailableTransport>,
    /// Whether the server agreed to stateful reconnect.
    pub use_stateful_reconnect: bool,
}

/// The properties of a negotiate response this client reads; every other one is skipped.
#[derive(Default)]
struct ResponseWire {
    connection_id: Option<String>,
    connection_token: Option<String>,
    negotiate_version: u32,
    available_transports: Option<Vec<AvailableTransport>>,
    url: Option<String>,
    access_token: Option<String>,
    error: Option<String>,
    /// Set by classic ASP.NET SignalR servers: any value but `null` is one.
    has_protocol_version: bool,
    use_stateful_reconnect: bool,
}

const CONTEXT: &str = "negotiate response";

fn malformed(error: JsonError) -> ProtocolError {
    ProtocolError::MalformedJson([CONTEXT, ": ", &error.describe()].concat())
}

fn wrong(name: &str, expected: &str) -> ProtocolError {
    ProtocolError::MalformedJson([CONTEXT, ": '", name, "' must be ", expected].concat())
}

fn twice(name: &str) -> ProtocolError {
    ProtocolError::MalformedJson([CONTEXT, ": the '", name, "' property is given twice"].concat())
}

/// Records `name` as seen, failing when it was seen before (`seen` holds one bit per name).
fn first_time(seen: &mut u16, bit: u16, name: &str) -> Result<(), ProtocolError> {
    if *seen & bit != 0 {
        return Err(twice(name));
    }
    *seen |= bit;
    Ok(())
}

/// A string property where `null` means absent.
fn optional_string(raw: &str, name: &str) -> Result<Option<String>, ProtocolError> {
    if raw == "null" {
        return Ok(None);
    }
    json::string_value(raw).map(Some).ok_or_else(|| wrong(name, "a string or null"))
}

fn string_list(raw: &str, name: &str) -> Result<Vec<String>, ProtocolError> {
    json::string_array(raw).ok_or_else(|| wrong(name, "an array of strings"))
}

/// One entry of `availableTransports`: an object with a string `transport` and an optional
/// array of strings `transferFormats`.
fn read_transport(raw: &str) -> Result<AvailableTransport, ProtocolError> {
    const ENTRY: &str = "availableTransports[]";
    let mut members = Members::of(raw, Rules::RAW).map_err(|_| wrong(ENTRY, "an object"))?;
    let (mut transport, mut transfer_formats, mut seen) = (None, None, 0u16);
    while let Some((name, value)) = members.next().map_err(malformed)? {
        if name.is("transport") {
            first_time(&mut seen, 1, "transport")?;
            transport = Some(json::string_value(value).ok_or_else(|| wrong("transport", "a string"))?);
        } else if name.is("transferFormats") {
            first_time(&mut seen, 2, "transferFormats")?;
            transfer_formats = Some(string_list(value, "transferFormats")?);
        }
    }
    Ok(AvailableTransport {
        transport: transport.ok_or_else(|| wrong("transport", "given in every entry"))?,
        transfer_formats: transfer_formats.unwrap_or_default(),
    })
}

fn read_response(body: &str) -> Result<ResponseWire, ProtocolError> {
    // The body is one object; `ProtocolVersion` is checked as a value tree one level inside it.
    let mut members = Members::of(body, Rules::RAW).map_err(malformed)?;
    let mut wire = ResponseWire::default();
    let mut seen = 0u16;
    while let Some((name, value)) = members.next().map_err(malformed)? {
        if name.is("connectionId") {
            first_time(&mut seen, 1, "connectionId")?;
            wire.connection_id = optional_string(value, "connectionId")?;
        } else if name.is("connectionToken") {
            first_time(&mut seen, 1 << 1, "connectionToken")?;
            wire.connection_token = optional_string(value, "connectionToken")?;
        } else if name.is("negotiateVersion") {
            first_time(&mut seen, 1 << 2, "negotiateVersion")?;
            let version = json::u64_value(value).and_then(|v| u32::try_from(v).ok());
            wire.negotiate_version = version.ok_or_else(|| wrong("negotiateVersion", "a non-negative integer"))?;
        } else if name.is("availableTransports") {
            first_time(&mut seen, 1 << 3, "availableTransports")?;
            if value != "null" {
                let entries = json::array_elements(value).ok_or_else(|| wrong("availableTransports", "an array"))?;
                // A plain loop: collecting into a Result was its own ~1.2 KB iterator instance.
                let mut transports = Vec::with_capacity(entries.len());
                for entry in entries {
                    transports.push(read_transport(entry)?);
                }
                wire.available_transports = Some(transports);
            }
        } else if name.is("url") {
            first_time(&mut seen, 1 << 4, "url")?;
            wire.url = optional_string(value, "url")?;
        } else if name.is("accessToken") {
            first_time(&mut seen, 1 << 5, "accessToken")?;
            wire.access_token = optional_string(value, "accessToken")?;
        } else if name.is("error") {
            first_time(&mut seen, 1 << 6, "error")?;
            wire.error = optional_string(value, "error")?;
        } else if name.is("ProtocolVersion") {
            first_time(&mut seen, 1 << 7, "ProtocolVersion")?;
            let tree = Rules { max_depth: Rules::TREE.max_depth - 1, ..Rules::TREE };
            // Offsets of the value's own errors count from the start of the body.
            let offset = value.as_ptr() as usize - body.as_ptr() as usize;
            json::whole_value(value, tree).map_err(|e| malformed(JsonError { at: e.at + offset, ..e }))?;
            wire.has_protocol_version = value != "null";
        } else if name.is("useStatefulReconnect") {
            first_time(&mut seen, 1 << 8, "useStatefulReconnect")?;
            wire.use_stateful_reconnect =
                json::bool_value(value).ok_or_else(|| wrong("useStatefulReconnect", "a boolean"))?;
        }
    }
    Ok(wire)
}

/// Parses the body of a negotiate response.
pub fn parse_response(body: &str) -> Result<NegotiateResponse, ProtocolError> {
    let wire = read_response(body)?;
    if let Some(error) = wire.error {
        return Err(ProtocolError::NegotiateRejected(error));
    }
    if wire.has_protocol_version {
        return Err(ProtocolError::ClassicAspNetSignalR);
    }
    if let Some(url) = wire.url {
        return Ok(NegotiateResponse::Redirect { url, access_token: wire.access_token });
    }
    let missing = |field| ProtocolError::MissingField { message: "negotiate response", field };
    let connection_id = wire.connection_id.ok_or_else(|| missing("connectionId"))?;
    // Version 0 servers have no separate token: the id doubles as the token.
    let connection_token = match wire.negotiate_version {
        0 => connection_id.clone(),
        _ => wire.connection_token.ok_or_else(|| missing("connectionToken"))?,
    };
    Ok(NegotiateResponse::Connect(ConnectionDetails {
        connection_id,
        connection_token,
        negotiate_version: wire.negotiate_version,
        available_transports: wire.available_transports.unwrap_or_default(),
        use_stateful_reconnect: wire.use_stateful_reconnect,
    }))
}

/// Splits a URL into the part before the query, the query (without `?`) and the fragment.
fn split_url(url: &str) -> (&str, Option<&str>) {
    let url = url.split('#').next().unwrap_or(url);
    match url.split_once('?') {
        Some((path, query)) => (path, Some(query).filter(|q| !q.is_empty())),
        None => (url, None),
    }
}

fn check_http_url(url: &str) -> Result<(), ProtocolError> {
    // Compared in place, ASCII case-insensitively, without a lower-cased copy.
    let scheme = |prefix: &str| {
        url.as_bytes().get(..prefix.len()).is_some_and(|head| head.eq_ignore_ascii_case(prefix.as_bytes()))
    };
    if scheme("http://") || scheme("https://") {
        Ok(())
    } else {
        Err(ProtocolError::InvalidUrl(["'", url, "' must be an absolute http:// or https:// URL"].concat()))
    }
}

/// The negotiate URL for a hub URL: `/negotiate` appended to the path, the existing query kept,
/// `negotiateVersion` added unless the app already set it.
pub fn negotiate_url(hub_url: &str, use_stateful_reconnect: bool) -> Result<String, ProtocolError> {
    check_http_url(hub_url)?;
    let (path, query) = split_url(hub_url);
    let mut url = String::with_capacity(hub_url.len() + 40);
    url.push_str(path);
    if !path.ends_with('/') {
        url.push('/');
    }
    url.push_str("negotiate");
    let has = |name: &str| {
        query.is_some_and(|q| q.split('&').any(|p| p.split('=').next() == Some(name)))
    };
    // The parameters are appended in place, `&` before every one but the first.
    url.push('?');
    let mut separator = "";
    if let Some(query) = query {
        url.push_str(query);
        separator = "&";
    }
    if !has("negotiateVersion") {
        url.push_str(separator);
        url.push_str("negotiateVersion=");
        json::push_u64(&mut url, u64::from(NEGOTIATE_VERSION));
        separator = "&";
    }
    if use_stateful_reconnect && !has("useStatefulReconnect") {
        url.push_str(separator);
        url.push_str("useStatefulReconnect=true");
    }
    Ok(url)
}

/// The URL without its fragment: a fragment never reaches a server, and a parameter appended
/// after one would land inside it.
pub fn without_fragment(url: &str) -> &str {
    url.split('#').next().unwrap_or(url)
}

/// Appends one query parameter (`value` as given: callers encode what needs it), choosing `?` or
/// `&`; the URL's fragment is dropped.
pub fn append_query(url: &str, name: &str, value: &str) -> String {
    let url = without_fragment(url);
    let separator = if url.contains('?') { "&" } else { "?" };
    [url, separator, name, "=", value].concat()
}

/// The transport URL after negotiate: the hub URL (fragment dropped) with
/// `id=<connection token>`, the token percent-encoded.
///
/// A deliberate difference from the official client, which appends the token as the server sent
/// it: a token holding `#`, `&` or a space would end the query value there, and the browser's
/// WebSocket constructor then throws an error quoting the whole URL, access token included.
pub fn connect_url(hub_url: &str, connection_token: &str) -> String {
    append_query(hub_url, "id", &encode_query_value(connection_token))
}

/// Turns an http(s) URL into the ws(s) URL of the same resource.
pub fn websocket_url(url: &str) -> Result<String, ProtocolError> {
    check_http_url(url)?;
    let url = without_fragment(url);
    // check_http_url guarantees the scheme prefix, so the slices below are in bounds.
    Ok(if url[..5].eq_ignore_ascii_case("https") {
        ["wss", &url[5..]].concat()
    } else {
        ["ws", &url[4..]].concat()
    })
}

/// Percent-encodes a query value the way JavaScript's `encodeURIComponent` does.
pub fn encode_query_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'!' | b'~' | b'*'
            | b'\'' | b'(' | b')' => out.push(byte as char),
            _ => {
                const HEX: &[u8; 16] = b"0123456789ABCDEF";
                out.push('%');
                out.push(HEX[(byte >> 4) as usize] as char);
                out.push(HEX[(byte & 15) as usize] as char);
            }
        }
    }
    out
}
