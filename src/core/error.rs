//! Errors the engine reports to the app. Each becomes a JavaScript `Error` with
//! [`HubError::message`] (the same text as `Display`) as its message.

use std::fmt;
use std::time::Duration;

use super::limits::ConfigError;
use super::text::decimal;
use crate::protocol::ProtocolError;

/// Why a connection or an invocation failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HubError {
    /// The server sent data that breaks the protocol.
    Protocol(ProtocolError),
    /// An operation that needs a connected hub was called in another state.
    NotConnected,
    /// `start()` was called while the connection was not disconnected.
    AlreadyStarted,
    /// The negotiate request failed (HTTP status or network error).
    Negotiate(String),
    /// The server redirected negotiate more often than allowed.
    TooManyRedirects(u32),
    /// The server offers no transport this client can use.
    NoTransport(String),
    /// The app's access token factory failed.
    AccessToken(String),
    /// The transport failed or closed underneath the connection.
    Transport(String),
    /// The handshake was not answered in time.
    HandshakeTimeout(Duration),
    /// Nothing arrived from the server within the server timeout.
    ServerTimeout(Duration),
    /// The server closed the connection with an error.
    ServerClosed(String),
    /// A hub method failed on the server; the text is the server's.
    Server(String),
    /// A pending invocation was cancelled because the connection closed.
    ConnectionClosed,
    /// The retry reason of a reconnect after a loss that carried no error.
    LostWithoutError,
    /// `stop()` was called while the connection was fetching its token or negotiating.
    StoppedDuringStart,
    /// `stop()` was called while the transport was opening or the handshake was under way.
    StoppedDuringHandshake,
    /// `leaveGroup` was called while the same membership's join was still pending.
    GroupLeft,
    /// A client-to-server stream id that is not open.
    UnknownStream(String),
    /// A setting is out of its bounds (zero, negative, NaN or too long an interval).
    InvalidSetting(ConfigError),
}

impl HubError {
    /// The message the app sees (also what `Display` writes), built without `core::fmt`.
    pub fn message(&self) -> String {
        let text: &str = match self {
            // The protocol's texts are its own module's.
            HubError::Protocol(error) => return error.message(),
            HubError::NotConnected => "Cannot send data if the connection is not in the 'Connected' State.",
            HubError::AlreadyStarted => "Cannot start a HubConnection that is not in the 'Disconnected' state.",
            HubError::Negotiate(detail) => {
                return ["Failed to complete negotiation with the server: ", detail].concat()
            }
            HubError::TooManyRedirects(hops) => {
                return ["Negotiate redirection limit exceeded (", &decimal(*hops), " redirects)."].concat()
            }
            HubError::NoTransport(detail) => {
                return ["Unable to connect to the server with any of the available transports. ", detail].concat()
            }
            HubError::AccessToken(detail) => return ["accessTokenFactory failed: ", detail].concat(),
            HubError::Transport(detail) => detail,
            HubError::HandshakeTimeout(after) => {
                return [
                    "Handshake timed out: the server did not answer within ",
                    &decimal(after.as_millis()),
                    " ms.",
                ]
                .concat()
            }
            HubError::ServerTimeout(_) => "Server timeout elapsed without receiving a message from the server.",
            HubError::ServerClosed(error) => return ["Server returned an error on close: ", error].concat(),
            HubError::Server(error) => error,
            HubError::ConnectionClosed => "Invocation canceled due to the underlying connection being closed.",
            // The official client's retry reason (its spelling) for a loss without an error.
            HubError::LostWithoutError => "Attempting to reconnect due to a unknown error.",
            // The official client's texts for the two moments a start can be stopped at.
            HubError::StoppedDuringStart => "The connection was stopped during negotiation.",
            HubError::StoppedDuringHandshake => "The connection was stopped before the hub handshake could complete.",
            HubError::GroupLeft => "The group was left before its join completed.",
            HubError::UnknownStream(id) => return ["No open upload stream with id '", id, "'."].concat(),
            HubError::InvalidSetting(error) => return error.message(),
        };
        text.to_string()
    }
}

impl fmt::Display for HubError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

impl std::error::Error for HubError {}

impl From<ConfigError> for HubError {
    fn from(error: ConfigError) -> Self {
        HubError::InvalidSetting(error)
    }
}

impl From<ProtocolError> for HubError {
    fn from(error: ProtocolError) -> Self {
        HubError::Protocol(error)
    }
}
