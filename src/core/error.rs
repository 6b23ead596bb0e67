//! Errors the engine reports to the app. Each becomes a JavaScript `Error` with the
//! [`Display`](std::fmt::Display) text as its message.

use std::fmt;
use std::time::Duration;

use super::limits::ConfigError;
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

impl fmt::Display for HubError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HubError::Protocol(error) => error.fmt(f),
            HubError::NotConnected => {
                write!(f, "Cannot send data if the connection is not in the 'Connected' State.")
            }
            HubError::AlreadyStarted => {
                write!(f, "Cannot start a HubConnection that is not in the 'Disconnected' state.")
            }
            HubError::Negotiate(detail) => {
                write!(f, "Failed to complete negotiation with the server: {detail}")
            }
            HubError::TooManyRedirects(hops) => {
                write!(f, "Negotiate redirection limit exceeded ({hops} redirects).")
            }
            HubError::NoTransport(detail) => {
                write!(f, "Unable to connect to the server with any of the available transports. {detail}")
            }
            HubError::AccessToken(detail) => write!(f, "accessTokenFactory failed: {detail}"),
            HubError::Transport(detail) => write!(f, "{detail}"),
            HubError::HandshakeTimeout(after) => write!(
                f,
                "Handshake timed out: the server did not answer within {} ms.",
                after.as_millis()
            ),
            HubError::ServerTimeout(_) => {
                write!(f, "Server timeout elapsed without receiving a message from the server.")
            }
            HubError::ServerClosed(error) => write!(f, "Server returned an error on close: {error}"),
            HubError::Server(error) => write!(f, "{error}"),
            HubError::ConnectionClosed => {
                write!(f, "Invocation canceled due to the underlying connection being closed.")
            }
            // The official client's retry reason (its spelling) for a loss without an error.
            HubError::LostWithoutError => write!(f, "Attempting to reconnect due to a unknown error."),
            // The official client's texts for the two moments a start can be stopped at.
            HubError::StoppedDuringStart => write!(f, "The connection was stopped during negotiation."),
            HubError::StoppedDuringHandshake => {
                write!(f, "The connection was stopped before the hub handshake could complete.")
            }
            HubError::GroupLeft => write!(f, "The group was left before its join completed."),
            HubError::UnknownStream(id) => write!(f, "No open upload stream with id '{id}'."),
            HubError::InvalidSetting(error) => error.fmt(f),
        }
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
